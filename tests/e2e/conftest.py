"""pytest fixtures for the rtether end-to-end tests (run as root).

Every fixture removes what it made when its test ends, passed or not:
namespaces, processes (stopped by PID), host servers, temp files. When a test
fails, the relay/client logs of its environments are added to the report.

- `rtether`: the binary under test, given as `--rtether PATH`.
- `rtether_exe`: the Windows rtether.exe, `--rtether-exe PATH`; tests/e2e/wine/
  (its own conftest.py) runs the relay scenarios with it under Wine.
- `env`, `host_env`: a `harness.Env` (namespace + relay + client), or a
  `host_namespace.HostNsEnv` (the relay in a host namespace of the test's own,
  for ICMP). Options come from `@pytest.mark.env(...)` and, per case, from
  `@pytest.mark.parametrize("env", [{...}], indirect=True)`.
- `make_env`: a factory for tests that need an Env built in the test.
- `tcp_server`, `udp_echo_server`, `http_server`: factories of host servers
  on 127.0.0.1 or ::1, closed at the end.
- `world`: an `adb_env.AdbWorld`, the fake adb server with Debian's adb
  client in front (`@pytest.mark.world(devices=..., installed=...)`); at the
  end no adb process started by the test may be left running (the class is the
  `adb_world_class` fixture's, which tests/e2e/wine/ overrides).
- `phone_farm`: a `farm.PhoneFarm` (tests/virtual_phone/): Debian's real adb
  server on a port of its own and the virtual phones the test adds; at the
  end every phone (app, adbd, namespace, veth) and the server are gone.
"""

import os
import sys

import pytest

import harness
import host_namespace
from adb_env import AdbWorld

_VIRTUAL_PHONE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "virtual_phone")

# The environments and adb worlds a test made, for its failure report.
_made_key = pytest.StashKey[list]()


def pytest_addoption(parser):
    parser.addoption("--rtether", metavar="PATH", help="the rtether binary under test")
    parser.addoption("--rtether-exe", metavar="PATH",
                     help="the Windows rtether.exe under test (tests/e2e/wine/, run with Wine)")


@pytest.fixture(scope="session")
def rtether(pytestconfig):
    path = pytestconfig.getoption("--rtether")
    if not path:
        pytest.exit("give the binary under test with --rtether PATH", returncode=2)
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        pytest.exit(f"{path} is not an executable", returncode=2)
    if os.geteuid() != 0:
        pytest.exit("end-to-end tests need root (network namespaces)", returncode=2)
    return path


@pytest.fixture(scope="session")
def rtether_exe(pytestconfig, rtether):
    """The cross-built rtether.exe the tests in tests/e2e/wine/ run under Wine."""
    path = pytestconfig.getoption("--rtether-exe")
    if not path:
        pytest.exit("give the Windows binary under test with --rtether-exe PATH", returncode=2)
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        pytest.exit(f"{path} does not exist (scripts/build-windows.sh builds it)", returncode=2)
    return path


def pytest_ignore_collect(collection_path, config):
    # tests/e2e/wine/ tests a second binary: collected when one is given (as
    # ctest registers them only with RTETHER_WINDOWS_EXE), so that
    # `pytest tests/e2e --rtether PATH` still runs the Linux suite alone.
    # None, not False, otherwise: pytest's own ignore rules still apply.
    wine_tests = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wine")
    if str(collection_path) == wine_tests and not config.getoption("--rtether-exe"):
        return True
    return None


def pytest_sessionfinish(session, exitstatus):
    # No test is skipped in this suite: a skip means a fixture or a test did
    # not run what it should, so it fails the run like a failure would.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if exitstatus == pytest.ExitCode.OK and reporter and reporter.stats.get("skipped"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("setup", "call"):
        for made in item.stash.get(_made_key, []):
            report.sections.append((f"logs of {made.tmp}", made.log_report()))


def _options(request, marker_name):
    marker = request.node.get_closest_marker(marker_name)
    options = dict(marker.kwargs) if marker else {}
    options.update(getattr(request, "param", {}))
    return options


@pytest.fixture
def make_env(request, rtether):
    made = []

    def make(env_class=harness.Env, **options):
        env = env_class(rtether, **options)
        made.append(env)
        request.node.stash.setdefault(_made_key, []).append(env)
        env.__enter__()  # on a setup failure it has already torn itself down
        return env

    yield make
    problems = []
    for env in reversed(made):
        env.teardown()
        problems += env.teardown_problems
    report = "\n".join(env.log_report() for env in made) if problems else ""
    for env in made:
        env.cleanup_tmp()
    if problems:
        # A client/relay that exits badly on SIGTERM, or a tun / resolv.conf
        # left behind, fails the test even when its body passed.
        pytest.fail("teardown: " + "; ".join(problems) + "\n" + report, pytrace=False)


@pytest.fixture
def env(request, make_env):
    return make_env(**_options(request, "env"))


@pytest.fixture
def host_env(request, make_env):
    return make_env(host_namespace.HostNsEnv, **_options(request, "env"))


def _servers(server_class):
    """Yields a factory of `server_class` servers; closes them all after."""
    servers = []

    def make(*args, **kwargs):
        servers.append(server_class(*args, **kwargs))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def tcp_server():
    yield from _servers(harness.TcpServer)


@pytest.fixture
def udp_echo_server():
    yield from _servers(harness.UdpEchoServer)


@pytest.fixture
def http_server():
    yield from _servers(harness.HttpServer)


@pytest.fixture
def adb_world_class():
    """What `world` is made with; tests/e2e/wine/ gives its Windows adb's."""
    return AdbWorld


@pytest.fixture
def world(request, adb_world_class):
    world = adb_world_class(**_options(request, "world"))
    request.node.stash.setdefault(_made_key, []).append(world)
    try:
        yield world
        for proc in world.procs:
            proc.close()
        try:
            world.check_no_adb_left()
        except harness.TestFailure as e:
            pytest.fail(f"{e}\n{world.log_report()}", pytrace=False)
    finally:
        world.close()


@pytest.fixture
def phone_farm(request, rtether):
    """A private real adb server and virtual phones (tests/virtual_phone/farm.py)."""
    if _VIRTUAL_PHONE not in sys.path:
        sys.path.insert(0, _VIRTUAL_PHONE)
    from farm import PhoneFarm
    marker = request.node.get_closest_marker("farm")
    farm = PhoneFarm(rtether, **(marker.kwargs if marker else {}))
    request.node.stash.setdefault(_made_key, []).append(farm)
    try:
        yield farm
    finally:
        problems = farm.close()
        report = farm.log_report() if problems else ""
        farm.cleanup_tmp()
    if problems:
        pytest.fail("teardown: " + "; ".join(problems) + "\n" + report, pytrace=False)
