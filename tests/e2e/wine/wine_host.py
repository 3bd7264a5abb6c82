"""rtether.exe's host commands under Wine: what tests/e2e/wine/test_wine_host_*.py
share, so that the Linux tests of the host commands (tests/e2e/test_adb_commands.py,
test_autorun.py, test_cli_errors.py) run unchanged against `wine rtether.exe`.

- `WinePrefix`: a Wine prefix of these tests' own (`wineprefix-e2e-host` beside
  rtether.exe, kept between runs; made once with `wineboot --init`, 5-10 s) and a
  persistent wineserver on it, started by the session and stopped by its PID at the
  end; with a prefix nobody else uses, what stopping it ends is ours. A persistent
  server makes each `wine rtether.exe` start in ~0.15 s instead of 1-2 s.
- `command(exe, prefix)`: a wrapper script that execs `wine rtether.exe "$@"`, so
  a test's `[rtether] + args` runs the Windows binary; `exec` keeps the PID, so the
  test's SIGINT reaches rtether.exe, which Wine turns into a console CTRL_C_EVENT
  for the handlers SetConsoleCtrlHandler installed (a terminal's Ctrl+C).
- `WineAdbWorld`: the Linux tests' AdbWorld with adb_stand_in.exe as ADB. Wine
  starts a Unix program (Debian's adb, the adb-guard script) outside Windows'
  view, without a process handle (rtether.exe then says "Request not supported"),
  so a Windows stand-in sends adb 29's requests to the same fake server and logs
  its arguments as adb-guard does (tests/e2e/wine/adb_stand_in.cpp).
"""

import functools
import os
import signal
import subprocess
import time

import pytest

import harness
from adb_env import AdbWorld
from harness import TestFailure, check

PREFIX_DIR = "wineprefix-e2e-host"
STAND_IN = os.path.join("tests", "adb_stand_in.exe")  # beside rtether.exe, in the build
SERVER_START_LIMIT = 10.0
CREATE_LIMIT = 120.0


def stand_in_path(exe):
    path = os.path.join(os.path.dirname(exe), STAND_IN)
    check(os.path.isfile(path), f"{path} is missing (the Windows build makes it: "
                                "cmake --build --preset windows)")
    return path


class WinePrefix:
    def __init__(self, exe, work_dir):
        self.exe = exe
        self.work_dir = work_dir
        self.prefix = os.path.join(os.path.dirname(exe), PREFIX_DIR)
        self.environment = {"WINEPREFIX": self.prefix, "WINEDEBUG": "-all"}
        self.server = None

    def start(self):
        os.makedirs(self.prefix, exist_ok=True)
        env = dict(os.environ, **self.environment)
        log = open(os.path.join(self.work_dir, "wineserver.log"), "wb")
        self.server = subprocess.Popen(["wineserver", "--foreground", "--persistent"], env=env,
                                       stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + SERVER_START_LIMIT
        while True:
            check(self.server.poll() is None,
                  f"wineserver exited with {self.server.returncode} (one already running "
                  f"for {self.prefix}?)")
            try:
                if os.path.exists(os.path.join(os.readlink(f"/proc/{self.server.pid}/cwd"),
                                               "socket")):
                    break
            except OSError:
                pass
            check(time.monotonic() < deadline, f"wineserver not ready in {SERVER_START_LIMIT} s")
            time.sleep(0.05)
        if not os.path.exists(os.path.join(self.prefix, "system.reg")):
            harness.log(f"creating the Wine prefix {self.prefix} (once)")
            self._run(["wineboot", "--init"], CREATE_LIMIT)
        # The first program of a server starts Wine's services: here, not in a test.
        version = self._run(["wine", self.exe, "--version"], 60)
        check(version.startswith("rtether "), f"wine rtether.exe --version: {version!r}")

    def _run(self, args, timeout):
        # To a file, not a pipe: the services the first program starts inherit its
        # handles and would hold a pipe open.
        path = os.path.join(self.work_dir, "wine-run.log")
        with open(path, "wb") as out:
            rc = subprocess.run(args, env=dict(os.environ, **self.environment), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                timeout=timeout).returncode
        with open(path, errors="replace") as f:
            output = f.read()
        check(rc == 0, f"{args}: exit {rc}: {output}")
        return output

    def close(self):
        """Stops our wineserver by its PID: SIGINT makes it end the prefix's processes."""
        if self.server is None or self.server.poll() is not None:
            return
        self.server.send_signal(signal.SIGINT)
        try:
            self.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait(timeout=10)
            raise TestFailure(f"wineserver {self.server.pid} ignored SIGINT for 20 s")


def command(exe, prefix, directory):
    """An executable that runs `wine EXE "$@"` in `prefix` (WinePrefix)."""
    path = os.path.join(directory, "wine-rtether")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                f"export WINEPREFIX='{prefix.prefix}' WINEDEBUG=-all\n"
                f"exec wine '{exe}' \"$@\"\n")
    os.chmod(path, 0o755)
    return path


class WineAdbWorld(AdbWorld):
    """AdbWorld with the Windows stand-in as ADB (see the top of this file)."""

    def __init__(self, stand_in, **options):
        self.stand_in = stand_in
        super().__init__(**options)

    def adb_wrapper(self):
        return self.stand_in, os.path.join(self.tmp, "adb-guard.log")

    def env(self, **extra):
        env = super().env(**extra)
        env.setdefault("ADB_STAND_IN_LOG", self.adb_log)
        return env

    def adb_processes(self):
        """PIDs of stand-ins still running against this world's server (Wine
        processes of the stand-in, found by its name and their environment)."""
        marker = f"ADB_SERVER_SOCKET={self.server.address()}".encode()
        name = os.path.basename(self.stand_in).encode()
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if name not in f.read():
                        continue
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                continue
        return pids


# --- fixtures (imported by the test modules) ------------------------------------

@pytest.fixture(scope="session")
def wine_prefix(pytestconfig, tmp_path_factory):
    # --rtether-exe read here, not through `rtether_exe`: that fixture asks for
    # `rtether`, which these modules override with the Wine wrapper.
    exe = pytestconfig.getoption("--rtether-exe")
    if not exe or not os.path.isfile(exe):
        pytest.exit(f"give the Windows binary under test with --rtether-exe PATH ({exe!r})",
                    returncode=2)
    prefix = WinePrefix(os.path.abspath(exe), str(tmp_path_factory.mktemp("wine")))
    try:
        prefix.start()
        yield prefix
    finally:
        prefix.close()


@pytest.fixture(scope="session")
def rtether(wine_prefix, tmp_path_factory):
    """The binary under test, for the Linux tests imported: `wine rtether.exe`."""
    return command(wine_prefix.exe, wine_prefix, str(tmp_path_factory.mktemp("bin")))


@pytest.fixture
def adb_world_class(wine_prefix):
    return functools.partial(WineAdbWorld, stand_in_path(wine_prefix.exe))
