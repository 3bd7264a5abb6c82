"""A Wine session for the rtether-wine column: a Wine prefix of the bench's
own (`wineprefix-bench` beside rtether.exe, made once with `wineboot --init`,
kept between runs) and a persistent wineserver on it.

The wineserver is part of what is measured: Wine's Winsock asks it about
every socket operation (creation, each poll, each receive and send that has
to wait), so its CPU counts with the relay's. A prefix of its own means no
other Wine program shares that server, and stopping it (SIGINT, by PID) ends
only what this session started: the relay and Wine's services."""

import os
import signal
import subprocess
import time

from .processes import log

PREFIX_DIR = "wineprefix-bench"


class WineSession:
    def __init__(self, exe, log_dir):
        self.exe = exe
        self.log_dir = log_dir
        self.prefix = os.path.join(os.path.dirname(exe), PREFIX_DIR)
        self.environment = dict(os.environ, WINEPREFIX=self.prefix, WINEDEBUG="-all")
        self.server = None

    def start(self):
        os.makedirs(self.prefix, exist_ok=True)
        with open(os.path.join(self.log_dir, "wineserver.log"), "wb") as log_file:
            self.server = subprocess.Popen(["wineserver", "--foreground", "--persistent"],
                                           stdout=log_file, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, env=self.environment)
        self._wait_ready()
        if not os.path.exists(os.path.join(self.prefix, "system.reg")):
            log("creating the Wine prefix %s (once)" % self.prefix)
            self._run("wineboot", ["wineboot", "--init"], 120)
        # The first program of a server starts Wine's services: before the relay.
        self._run("version", ["wine", self.exe, "--version"], 30)

    def _wait_ready(self):
        # wineserver works in its server directory and listens on `socket`
        # there once ready; a `wine` started before would start its own.
        deadline = time.monotonic() + 10
        while True:
            if self.server.poll() is not None:
                raise RuntimeError("wineserver exited with %s (one already running for %s?)"
                                   % (self.server.returncode, self.prefix))
            try:
                if os.path.exists(os.path.join(os.readlink("/proc/%d/cwd" % self.server.pid),
                                               "socket")):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("wineserver not ready after 10 s")
            time.sleep(0.05)

    def _run(self, name, args, timeout):
        # Output to a file: Wine's services inherit the handles of the first
        # program and would hold a pipe open.
        with open(os.path.join(self.log_dir, "wine-%s.log" % name), "wb") as log_file:
            process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=self.environment)
        try:
            rc = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise RuntimeError("%s still running after %d s" % (" ".join(args), timeout))
        if rc != 0:
            raise RuntimeError("%s failed (%d)" % (" ".join(args), rc))

    def command(self, args):
        return ["wine", self.exe] + [str(a) for a in args]

    def stop(self):
        """SIGINT to our wineserver: it ends every process of the prefix, then exits."""
        if self.server is None or self.server.poll() is not None:
            return
        self.server.send_signal(signal.SIGINT)
        try:
            self.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()
