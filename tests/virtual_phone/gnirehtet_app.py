"""The Gnirehtet "app" on a virtual phone: `rtether client` in the phone's
network namespace, relaying through the abstract socket @gnirehtet (the
device end of `adb reverse localabstract:gnirehtet tcp:PORT`), as the
Android app's VpnService does.

START runs it with the DNS servers and routes from the intent's extras
(none given: the client's own defaults, as the app's); a START while it runs
with the same settings changes nothing, with other settings restarts it.
STOP ends it with SIGTERM by its PID (SIGKILL after 10 s). Like an app, it
outlives the daemon: when the phone is unplugged (daemon stopped) it keeps
running and reconnecting, and the next daemon finds it through app.json."""

import json
import os
import signal
import subprocess
import time

STOP_TIMEOUT = 10.0


class GnirehtetApp:
    def __init__(self, state, rtether, netns, log):
        self.state = state
        self.rtether = rtether
        self.netns = netns
        self.log = log
        self.child = None  # the Popen when this daemon started it
        self.runs = 0

    def _record_path(self):
        return os.path.join(self.state.directory, "app.json")

    def _record(self):
        try:
            with open(self._record_path()) as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def _alive(self, pid):
        if self.child is not None and self.child.pid == pid:
            return self.child.poll() is None
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                program = f.read().split(b"\0")[0]
        except (OSError, IndexError):
            return False
        return state != "Z" and program == self.rtether.encode()

    def running(self):
        """The running client's record ({"pid", "args"}), or None."""
        record = self._record()
        if record is None:
            return None
        if not self._alive(record["pid"]):
            self.state.event("app-exit", pid=record["pid"], rc=self._exit_code(record["pid"]))
            os.unlink(self._record_path())
            return None
        return record

    def _exit_code(self, pid):
        if self.child is not None and self.child.pid == pid:
            return self.child.poll()
        return None  # started by an earlier daemon: not our child

    def arguments(self, dns, routes):
        args = [self.rtether, "client", "--relay", "unix:@gnirehtet", "--netns", self.netns]
        if dns:
            args += ["-d", dns]
        if routes:
            args += ["-r", routes]
        return args

    def start(self, dns, routes):
        args = self.arguments(dns, routes)
        record = self.running()
        if record is not None and record["args"] == args:
            self.state.event("app-already-running", pid=record["pid"], args=args)
            return
        self.stop()
        self.runs += 1
        log_path = os.path.join(self.state.directory, f"app-{os.getpid()}-{self.runs}.log")
        with open(log_path, "wb") as log_file:
            # A session of its own: a signal to the daemon's process group
            # (a Ctrl+C where it was started) does not reach the app.
            self.child = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log_file,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        # Written aside and renamed: the farm reads it at any time
        # (farm.VirtualPhone.app), and must never find it half written.
        with open(self._record_path() + ".new", "w") as f:
            json.dump({"pid": self.child.pid, "args": args, "log": log_path}, f)
        os.replace(self._record_path() + ".new", self._record_path())
        self.log(f"app started: pid {self.child.pid}: {' '.join(args)}")
        self.state.event("app-start", pid=self.child.pid, args=args, log=log_path)

    @staticmethod
    def _signal(pid, number):
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            pass  # it ended by itself meanwhile

    def stop(self):
        record = self.running()
        if record is None:
            return
        pid = record["pid"]
        self._signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self._alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        killed = self._alive(pid)
        if killed:
            self._signal(pid, signal.SIGKILL)
            deadline = time.monotonic() + STOP_TIMEOUT
            while self._alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
        rc = self._exit_code(pid)
        os.unlink(self._record_path())
        self.log(f"app stopped: pid {pid}, exit {rc}, killed {killed}")
        self.state.event("app-stop", pid=pid, rc=rc, killed=killed)
