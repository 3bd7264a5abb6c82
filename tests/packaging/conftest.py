"""pytest fixtures for the package tests (run as root, after a build).

- `build_dir`: the Linux build directory (`--build-dir PATH`), whose
  CPackConfig.cmake and rtether are tested.
- `deb`: the .deb `cpack -G DEB` makes from it, once per run, in a temp
  folder removed at the end.
- `unpacked`: that .deb's files, unpacked with dpkg-deb -x.
"""

import os
import shutil
import subprocess
import tempfile

import pytest


def pytest_addoption(parser):
    parser.addoption("--build-dir", metavar="PATH", help="the Linux build directory under test")


def pytest_sessionfinish(session, exitstatus):
    # Nothing here may skip: a skip fails the run, as in tests/e2e.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if exitstatus == pytest.ExitCode.OK and reporter and reporter.stats.get("skipped"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def build_dir(pytestconfig):
    path = pytestconfig.getoption("--build-dir")
    if not path:
        pytest.exit("give the build directory with --build-dir PATH", returncode=2)
    path = os.path.abspath(path)
    if not os.path.isfile(os.path.join(path, "CPackConfig.cmake")):
        pytest.exit(f"{path} has no CPackConfig.cmake (configure it first)", returncode=2)
    if os.geteuid() != 0:
        pytest.exit("the package tests need root (chroot, mount namespaces)", returncode=2)
    return path


@pytest.fixture(scope="session")
def workdir():
    path = tempfile.mkdtemp(prefix="rtether-package-test-")
    yield path
    shutil.rmtree(path)


@pytest.fixture(scope="session")
def deb(build_dir, workdir):
    out = os.path.join(workdir, "cpack")
    result = subprocess.run(["cpack", "-G", "DEB", "--config",
                             os.path.join(build_dir, "CPackConfig.cmake"), "-B", out],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"cpack failed:\n{result.stdout}\n{result.stderr}"
    debs = [name for name in os.listdir(out) if name.endswith(".deb")]
    assert len(debs) == 1, f"cpack made {debs}"
    return os.path.join(out, debs[0])


@pytest.fixture(scope="session")
def unpacked(deb, workdir):
    root = os.path.join(workdir, "unpacked")
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True, timeout=60)
    return root
