"""One Wine session for a pytest run of tests/e2e/wine/: a Wine prefix of the
tests' own and a persistent wineserver on it, started once and stopped at the
end (conftest.py's session fixture `wine`).

Why a prefix of its own (`wineprefix-e2e` beside rtether.exe, kept between
runs): a wineserver serves every Wine process of its prefix, and stopping it
ends them all. With a prefix nobody else uses, the processes it ends are ours
(the relays and the Wine services its first program started), and no other
user's wineserver can be running on it. Creating it (`wineboot --init`) takes
5-10 s, once; a fresh machine, as in CI, pays that in its first session.

Why a persistent wineserver (`--persistent`): without it the server exits a
few seconds after its last program, and the next `wine` pays for a new server
and Wine's services (1-2 s) again; with it a relay starts in ~0.3 s. Stopping
it by its PID with SIGINT makes it end every process of the prefix, then exit.
"""

import os
import signal
import subprocess
import time

import harness
from harness import TestFailure, check

PREFIX_DIR = "wineprefix-e2e"
START_LIMIT = 10.0
CREATE_LIMIT = 120.0


class WineSession:
    def __init__(self, exe, log_dir):
        self.exe = exe
        self.log_dir = log_dir
        self.prefix = os.path.join(os.path.dirname(exe), PREFIX_DIR)
        self.environment = dict(os.environ, WINEPREFIX=self.prefix, WINEDEBUG="-all")
        self.server = None

    def start(self):
        os.makedirs(self.prefix, exist_ok=True)
        self.server = harness.Proc("wineserver", ["wineserver", "--foreground", "--persistent"],
                                   os.path.join(self.log_dir, "wineserver.log"),
                                   env=self.environment, stop_signal=signal.SIGINT)
        self._wait_server()
        if not os.path.exists(os.path.join(self.prefix, "system.reg")):
            harness.log(f"creating the Wine prefix {self.prefix} (once)")
            self._run("wineboot", ["wineboot", "--init"], CREATE_LIMIT)
        # The first program of a server starts Wine's services (~1-2 s): here,
        # rather than in the first test's relay start.
        version = self._run("version", ["wine", self.exe, "--version"], 30).strip()
        check(version.startswith("rtether "), f"wine {self.exe} --version printed {version!r}")
        harness.log(f"Wine session: prefix {self.prefix}, wineserver pid {self.server.pid}, "
                    f"{version}")

    def _wait_server(self):
        # wineserver works in its server directory and listens on `socket`
        # there once it is ready; a `wine` started earlier would start a
        # server of its own.
        deadline = time.monotonic() + START_LIMIT
        while True:
            if not self.server.alive():
                raise TestFailure(f"wineserver exited with {self.server.returncode()} (one "
                                  f"already running for {self.prefix}?): "
                                  f"{self.server.log_text()}")
            try:
                if os.path.exists(os.path.join(os.readlink(f"/proc/{self.server.pid}/cwd"),
                                               "socket")):
                    return
            except OSError:
                pass
            check(time.monotonic() < deadline, f"wineserver not ready after {START_LIMIT} s")
            time.sleep(0.05)

    def _run(self, name, args, timeout):
        """Runs a Wine program to its end; returns its output. The output goes
        to a file, not a pipe: the Wine services the first program of a
        server starts inherit its handles and would hold a pipe open."""
        proc = harness.Proc(name, args, os.path.join(self.log_dir, f"{name}.log"),
                            env=self.environment)
        try:
            rc = proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"{args} still running after {timeout} s: {proc.log_text()}")
        finally:
            proc.close()
        output = proc.log_text()
        check(rc == 0, f"{args} failed ({rc}): {output}")
        check(self.server.alive(), f"wineserver exited during {args}")
        return output

    def close(self):
        """Stops our wineserver (by PID); it ends what still runs on the prefix."""
        if self.server is None:
            return
        rc, secs, killed = self.server.stop(timeout=20)
        self.server.close()
        check(not killed and rc == 0, f"wineserver pid {self.server.pid}: exit {rc} "
                                      f"{secs:.1f} s after SIGINT{' (killed)' if killed else ''}")
