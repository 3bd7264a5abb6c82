"""Shared pieces of the adb end-to-end tests: a fake adb server (fake_adb.py)
with Debian's real adb client in front of it, and the exact request sequences
adb 29 sends to the server for each adb command rtether runs; for the tests
with Debian's real adb server and virtual phones (test_real_adb_*.py), the
waits on an autorun and its phones (`start_autorun`)."""

import os
import shutil
import signal
import subprocess
import tempfile
import time

from fake_adb import FakeAdbServer, PACKAGE  # noqa: F401
import harness

ACTIVITY = "com.genymobile.gnirehtet/.GnirehtetActivity"
DUMPSYS = f"shell:dumpsys package {PACKAGE}"
STOP = f"shell:am start -a com.genymobile.gnirehtet.STOP -n {ACTIVITY}"
# What run/start/autostart/autorun give the app without -d: the relay's own
# resolver (wire/gnirehtet.hpp kDefaultDnsServer), not the app's 8.8.8.8;
# the one place the e2e tests name it.
DEFAULT_DNS = "10.0.2.3"


def start_request(dns=DEFAULT_DNS, routes=None):
    request = f"shell:am start -a com.genymobile.gnirehtet.START -n {ACTIVITY}"
    if dns:
        request += f" --esa dnsServers {dns}"
    if routes:
        request += f" --esa routes {routes}"
    return request


def transport(serial):
    """What adb sends to pick the device: one serial, or the only one."""
    return f"host:tport:serial:{serial}" if serial else "host:tport:any"


def features(serial):
    return f"host-serial:{serial}:features" if serial else "host:features"


# adb 29 client, per adb command (learned by logging its requests):
def adb_shell(serial, request):
    return ["host:version", features(serial), transport(serial), request]


def adb_reverse(serial, port):
    return ["host:version", transport(serial), f"reverse:forward:localabstract:gnirehtet;tcp:{port}"]


def adb_install(serial, apk_size):
    return ["host:version", features(serial), transport(serial),
            f"exec:cmd package 'install' '-r' -S {apk_size}"]


def adb_uninstall(serial):
    return adb_shell(serial, f"shell:cmd package 'uninstall' '{PACKAGE}'")


def adb_get_serialno():
    """`run` without SERIAL asks the only device's serial first."""
    return ["host:version", "host:get-serialno"]


def adb_start_sequence(serial, port=31416, install_size=None, dns=DEFAULT_DNS, routes=None):
    """`rtether start`: version check, install if needed, reverse, am start."""
    sequence = adb_shell(serial, DUMPSYS)
    if install_size is not None:
        sequence += adb_install(serial, install_size)
    return sequence + adb_reverse(serial, port) + adb_shell(serial, start_request(dns, routes))


class AdbWorld:
    """A fake adb server, an apk file and the environment rtether runs in."""

    def __init__(self, devices=None, installed=None, apk_size=4321):
        self.tmp = tempfile.mkdtemp(prefix=harness.unique_name("rtadb") + "-")
        self.apk = os.path.join(self.tmp, "gnirehtet.apk")
        with open(self.apk, "wb") as f:
            f.write(harness.deterministic_bytes(apk_size, 7))
        self.apk_size = apk_size
        self.server = FakeAdbServer(devices, installed)
        self.procs = []
        self.adb, self.adb_log = self.adb_wrapper()

    def env(self, **extra):
        env = dict(os.environ)
        env.pop("RTETHER_APK", None)
        env.pop("ANDROID_ADB_SERVER_PORT", None)
        env.update(ADB_SERVER_SOCKET=self.server.address(), GNIREHTET_APK=self.apk, ADB=self.adb)
        env.update(extra)
        return env

    def run(self, rtether, args, timeout=60, **extra_env):
        return subprocess.run([rtether] + args, env=self.env(**extra_env), capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def spawn(self, rtether, name, args, **extra_env):
        proc = harness.Proc(name, [rtether] + args, os.path.join(self.tmp, f"{name}.log"),
                            env=self.env(**extra_env))
        self.procs.append(proc)
        return proc

    def adb_wrapper(self):
        """The ADB every test runs: Debian's real adb, behind a guard that
        logs each command line, answers `start-server` itself, and refuses
        to run adb while the fake server is down, so that the real client
        never launches a real adb server of its own. Returns (path, log)."""
        path = os.path.join(self.tmp, "adb-guard")
        log_path = os.path.join(self.tmp, "adb-guard.log")
        real = shutil.which("adb")
        with open(path, "w") as f:
            f.write(f"""#!/usr/bin/env python3
import os, socket, sys
with open({log_path!r}, "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if sys.argv[1:] == ["start-server"]:
    sys.exit(0)
address = os.environ.get("ADB_SERVER_SOCKET", "")
if address.startswith("tcp:127.0.0.1:"):
    try:
        socket.create_connection(("127.0.0.1", int(address.rsplit(":", 1)[1])), timeout=5).close()
    except OSError:
        sys.stderr.write("adb: cannot connect to daemon (the fake adb server is down)\\n")
        sys.exit(1)
os.execv({real!r}, [{real!r}] + sys.argv[1:])
""")
        os.chmod(path, 0o755)
        return path, log_path

    def adb_calls(self):
        """The adb command lines run so far (arguments after the binary)."""
        try:
            with open(self.adb_log) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def adb_processes(self):
        """PIDs of adb clients still running against this world's server
        (started by rtether through the guard; found by their environment)."""
        marker = f"ADB_SERVER_SOCKET={self.server.address()}".encode()
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    program = f.read().split(b"\0")[0]
                if not program.endswith(b"adb") and b"adb-guard" not in program:
                    continue
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                continue
        return pids

    def check_no_adb_left(self, timeout=10):
        deadline = time.monotonic() + timeout
        while self.adb_processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        left = self.adb_processes()
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        harness.check(not left, f"adb processes left running: {left}")

    def close(self):
        for proc in self.procs:
            proc.close()
        self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_report(self):
        """The log of every rtether process started, as text."""
        return "\n".join(f"----- {proc.name} log -----\n{proc.log_text()}" for proc in self.procs)



# --- Debian's real adb server and virtual phones (tests/virtual_phone/) -------

def wait_log(proc, needle, count=1, timeout=20):
    """Until `proc` logged `count` lines with `needle` (it must stay alive)."""
    deadline = time.monotonic() + timeout
    while len(proc.log_lines(needle)) < count:
        harness.check(proc.alive() and time.monotonic() < deadline,
                      f"{proc.name} logged {needle!r} {len(proc.log_lines(needle))} of {count} "
                      f"time(s):\n{proc.log_text()}")
        time.sleep(0.05)


def wait_streams(phone, count, timeout=20):
    """Until `count` reverse streams reached the relay from `phone`."""
    deadline = time.monotonic() + timeout
    while len(phone.events("reverse-stream")) < count:
        harness.check(time.monotonic() < deadline,
                      f"{phone.serial}: {len(phone.events('reverse-stream'))} of {count} reverse "
                      f"streams; app log:\n{phone.app_log()}")
        time.sleep(0.05)


def wait_relaying(phones, timeout=30):
    """Until each phone's app runs, its tun is up and its first reverse
    stream reached the relay."""
    for phone in phones:
        phone.wait_app(True, timeout=timeout)
        phone.wait_tun(timeout=timeout)
        wait_streams(phone, 1, timeout=timeout)


def start_autorun(phone_farm, phones, args=(), timeout=30):
    """`rtether autorun -p PORT ARGS` on the farm's server, once it relays
    for every phone of `phones` (plugged already); returns (Proc, PORT)."""
    port = harness.free_tcp_port()
    proc = phone_farm.spawn("autorun", ["autorun", "-p", str(port)] + list(args))
    wait_relaying(phones, timeout=timeout)
    return proc, port


def reverse_port(phone):
    """The relay port the phone's latest reverse forward goes to."""
    remote = phone.events("reverse-forward")[-1]["remote"]
    harness.check(remote.startswith("tcp:"), f"{phone.serial}'s reverse forward goes to {remote}")
    return int(remote[len("tcp:"):])


def stop_cleanly(proc, timeout=20):
    """SIGINT: the way a user ends run/autorun; it must exit 0 by itself."""
    rc, _, killed = proc.stop(signal.SIGINT, timeout=timeout)
    harness.check(not killed and rc == 0, f"{proc.name} after SIGINT: exit {rc}, "
                                          f"killed={killed}\n{proc.log_text()}")
