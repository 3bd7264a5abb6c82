"""The host side of virtual phones in end-to-end tests: a private adb server
(Debian's adb on a free loopback port, with a HOME of its own for its keys;
never the default server on 5037) and virtual phones attached to it.

Each VirtualPhone is a network namespace of its own (`rtvp-PID-N`) linked to
the test's namespace by a veth pair with a /30 of TEST-NET-2 (198.51.100.0/24:
the host end .4k+1, the phone .4k+2), its adbd (adbd.py) listening on PHONE:5555, so its
adb serial is "198.51.100.X:5555". `plug()` starts the daemon and runs
`adb connect`; `unplug()` stops the daemon and runs `adb disconnect` (the
server would otherwise keep the transport "offline" and retry it for a
minute, which a USB unplug does not do).

The /30 is claimed without a lock file: the host end of the veth is named
after it (`rtvpK`), and interface names are unique in the namespace, so of
two tests (in this process or another) that pick the same k, the second one's
`ip link add` fails and it tries the next k. A k whose host address some
other interface holds is skipped. `add_phones(n)` sets up n phones at once
(namespace, daemon, `adb connect`), for farms of tens of phones.

`PhoneFarm.close()` removes everything: each phone's app (by the PID in its
app.json), daemon and namespace, then the adb server (`adb kill-server`, then
by PID)."""

import concurrent.futures
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

import harness  # noqa: E402
from harness import check  # noqa: E402
from cpu_groups import CpuGroups  # noqa: E402

ADBD = os.path.join(HERE, "adbd.py")
ADBD_PORT = 5555
SUBNET = ipaddress.ip_network("198.51.100.0/24")
HOST_LINK_PREFIX = "rtvp"  # + the /30's index in SUBNET: the claim on it
SETUP_WORKERS = 8  # phones add_phones() sets up at once
KILL_TIMEOUT = 5  # seconds a SIGKILLed process may take to be gone


def _root_addresses():
    out = harness.run(["ip", "-j", "addr", "show"]).stdout
    return {a["local"] for link in json.loads(out or "[]") for a in link.get("addr_info", [])}


def _process_gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def stop_pid(pid, timeout=10):
    """SIGTERM to a process we started (not necessarily our child), SIGKILL
    if still there after `timeout`; True if it needed the SIGKILL."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while not _process_gone(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + KILL_TIMEOUT
            while not _process_gone(pid):
                check(time.monotonic() < deadline, f"pid {pid} outlived SIGKILL by {KILL_TIMEOUT} s")
                time.sleep(0.02)
            return True
        time.sleep(0.02)
    return False


class AdbServer:
    def __init__(self, tmp):
        self.adb_path = shutil.which("adb")
        check(self.adb_path is not None, "Debian's adb is not installed (apt-get install adb)")
        self.home = os.path.join(tmp, "adb-home")
        os.makedirs(self.home)
        self.port = harness.free_tcp_port()
        self.proc = harness.Proc("adb-server", [self.adb_path, "-L", f"tcp:localhost:{self.port}",
                                                "nodaemon", "server"],
                                 os.path.join(tmp, "adb-server.log"), env=self.env())
        deadline = time.monotonic() + 15
        while not harness._tcp_listening(self.port):
            check(self.proc.alive(), f"the adb server exited:\n{self.proc.log_text()}")
            check(time.monotonic() < deadline, "the adb server is not listening after 15 s")
            time.sleep(0.05)

    def env(self, **extra):
        """The environment of adb and rtether: this server only."""
        env = dict(os.environ)
        for name in ("ADB_SERVER_SOCKET", "ANDROID_SERIAL", "ADB_VENDOR_KEYS", "RTETHER_APK"):
            env.pop(name, None)
        env.update(ANDROID_ADB_SERVER_PORT=str(self.port), HOME=self.home,
                   ANDROID_SDK_HOME=self.home, ADB=self.adb_path)
        env.update(extra)
        return env

    def adb(self, *args, timeout=30):
        return subprocess.run([self.adb_path] + list(args), env=self.env(), capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def devices(self):
        """{serial: state} as `adb devices` lists them."""
        r = self.adb("devices")
        check(r.returncode == 0, f"adb devices: {r.returncode} {r.stderr}")
        lines = r.stdout.splitlines()[1:]
        return dict(line.split("\t", 1) for line in lines if "\t" in line)

    def wait_state(self, serial, state, timeout=15):
        """Until `adb devices` shows `serial` in `state` (None: not listed)."""
        deadline = time.monotonic() + timeout
        while True:
            devices = self.devices()
            if devices.get(serial) == state:
                return
            check(time.monotonic() < deadline,
                  f"{serial} not {state or 'gone'} within {timeout} s: adb devices {devices}")
            time.sleep(0.1)

    def forked_servers(self):
        """PIDs of adb servers on our port that adb forked itself (`adb
        start-server`, which rtether runs when the server went away):
        "adb -L tcp:PORT fork-server server ...". Ours only, by the port."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    args = f.read().split(b"\0")
            except OSError:
                continue
            if b"fork-server" in args and f"tcp:{self.port}".encode() in args:
                pids.append(int(entry))
        return pids

    def clients(self):
        """PIDs of adb clients still running against this server (started by
        the test or by rtether; found by their ANDROID_ADB_SERVER_PORT)."""
        marker = f"ANDROID_ADB_SERVER_PORT={self.port}".encode()
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    args = f.read().split(b"\0")
                if args[0] != self.adb_path.encode() or b"server" in args:
                    continue
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                continue
        return [pid for pid in pids if not _process_gone(pid)]

    def check_no_clients_left(self, timeout=10):
        """Waits for adb clients to finish; kills and names those that do not."""
        deadline = time.monotonic() + timeout
        while self.clients() and time.monotonic() < deadline:
            time.sleep(0.1)
        left = self.clients()
        for pid in left:
            stop_pid(pid, timeout=1)
        return [f"adb clients left running: {left}"] if left else []

    def kill(self):
        """The server goes away (as after `adb kill-server`), with it every
        transport and reverse forward."""
        rc, _, killed = self.proc.stop(signal.SIGTERM, timeout=10)
        check(not killed, "the adb server needed SIGKILL")

    def wait_listening(self, timeout=15):
        deadline = time.monotonic() + timeout
        while not harness._tcp_listening(self.port):
            check(time.monotonic() < deadline, f"no adb server on port {self.port} after {timeout} s")
            time.sleep(0.05)

    def stop(self):
        if self.proc.alive() or self.forked_servers():
            try:
                self.adb("kill-server", timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.proc.stop(signal.SIGTERM, timeout=5)
        self.proc.close()
        for pid in self.forked_servers():
            stop_pid(pid)


class VirtualPhone:
    def __init__(self, farm, mode="device", features="cmd", installed=None, model="Virtual_Phone",
                 answer_delays=None, skip_checksum=False):
        self.farm = farm
        self.skip_checksum = skip_checksum
        self.answer_delays = dict(answer_delays or {})
        self.rtether = farm.rtether
        self.mode = mode
        self.features = features
        self.model = model
        self.ns = harness.unique_name("rtvp")
        self.index = len(farm.phones)
        self.state_dir = os.path.join(farm.tmp, f"phone-{self.index}")
        os.makedirs(self.state_dir)
        if installed is not None:
            with open(os.path.join(self.state_dir, "state.json"), "w") as f:
                json.dump({"packages": {"com.genymobile.gnirehtet": {
                    "versionCode": installed, "size": 0, "sha256": ""}}}, f)
        self.daemon = None
        self.daemons = 0
        # With farm.cpu_per_phone: the cgroup.procs file of this phone's CPU
        # share (cpu_groups.py), which its daemon (and so its app) joins.
        self.cpu_group = farm.cpu_groups.new_group(f"phone-{self.index}") \
            if farm.cpu_groups else None
        self.ns_created = False
        self.host_link = self.host_address = self.address = self.serial = None
        self.link_created = False
        self.problems = []

    def make_namespace(self):
        harness.run(["ip", "netns", "add", self.ns])
        self.ns_created = True
        harness.run(["ip", "-n", self.ns, "link", "set", "lo", "up"])
        self._claim_subnet()
        harness.run(["ip", "link", "set", self.host_link, "up"])
        harness.run(["ip", "-n", self.ns, "addr", "add", f"{self.address}/30", "dev", "eth0"])
        harness.run(["ip", "-n", self.ns, "link", "set", "eth0", "up"])
        self.serial = f"{self.address}:{ADBD_PORT}"

    def _claim_subnet(self):
        """Creates the veth whose host end names a free /30 (see the module
        comment) and gives that end its address."""
        used = _root_addresses()
        for index, subnet in enumerate(SUBNET.subnets(new_prefix=30)):
            if str(subnet[1]) in used:
                continue
            link = f"{HOST_LINK_PREFIX}{index}"
            r = harness.run(["ip", "link", "add", link, "type", "veth", "peer", "name", "eth0",
                             "netns", self.ns], check_rc=False)
            if r.returncode != 0:
                check("File exists" in r.stderr, f"ip link add {link}: {r.stderr}")
                continue  # another phone's claim
            self.host_link, self.link_created = link, True
            self.host_address, self.address = str(subnet[1]), str(subnet[2])
            harness.run(["ip", "addr", "add", f"{self.host_address}/30", "dev", link])
            return
        check(False, "no /30 of 198.51.100.0/24 left for a virtual phone")

    # --- the daemon: plugged or not ------------------------------------------
    def start_daemon(self):
        self.daemons += 1
        args = ["ip", "netns", "exec", self.ns, sys.executable, ADBD,
                "--listen", f"{self.address}:{ADBD_PORT}", "--netns", self.ns,
                "--state", self.state_dir, "--rtether", self.rtether, "--mode", self.mode,
                "--features", self.features, "--model", self.model]
        if self.skip_checksum:
            args.append("--skip-checksum")
        for text, seconds in self.answer_delays.items():
            args += ["--answer-delay", f"{text}={seconds}"]
        self.daemon = harness.Proc(f"adbd-{self.index}-{self.daemons}", args,
                                   os.path.join(self.farm.tmp, f"adbd-{self.index}-"
                                                               f"{self.daemons}.log"))
        self.farm.procs.append(self.daemon)
        if self.cpu_group:
            # `ip netns exec` execs adbd in the same process; it starts
            # nothing before it listens, so all it starts is in the group.
            CpuGroups.join(self.cpu_group, self.daemon.popen.pid)
        deadline = time.monotonic() + 10
        while not self.daemon.log_lines("listening on"):
            check(self.daemon.alive(), f"adbd exited:\n{self.daemon.log_text()}")
            check(time.monotonic() < deadline, f"adbd not listening:\n{self.daemon.log_text()}")
            time.sleep(0.02)

    def stop_daemon(self):
        rc, _, killed = self.daemon.stop(signal.SIGTERM, timeout=10)
        if killed or rc != 0:
            self.problems.append(f"{self.daemon.name} exited with {rc} (killed={killed})")
        self.daemon = None

    def connect(self):
        r = self.farm.server.adb("connect", self.serial, timeout=20)
        check(f"connected to {self.serial}" in r.stdout,
              f"adb connect {self.serial}: {r.returncode} {r.stdout!r} {r.stderr!r}")
        self.farm.server.wait_state(self.serial, "device")

    def plug(self):
        self.start_daemon()
        self.connect()

    def unplug(self):
        self.stop_daemon()
        self.farm.server.adb("disconnect", self.serial)
        self.farm.server.wait_state(self.serial, None)

    # --- what happened on the phone -------------------------------------------
    def events(self, kind=None):
        try:
            with open(os.path.join(self.state_dir, "events.jsonl")) as f:
                records = [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []
        return [r for r in records if kind is None or r["kind"] == kind]

    def app(self):
        """The running app's record ({"pid", "args", "log"}), or None."""
        try:
            with open(os.path.join(self.state_dir, "app.json")) as f:
                record = json.load(f)
        except FileNotFoundError:
            return None
        pid = record["pid"]
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                program = f.read().split(b"\0")[0]
        except OSError:
            return None
        # The PID is the app's only while it runs our rtether (no reuse).
        return record if program == self.rtether.encode() and not _process_gone(pid) else None

    def wait_app(self, running, timeout=15):
        deadline = time.monotonic() + timeout
        while (self.app() is not None) != running:
            check(time.monotonic() < deadline,
                  f"the app on {self.serial} is {'not ' if running else ''}running after "
                  f"{timeout} s; events: {self.events()[-6:]}")
            time.sleep(0.05)
        return self.app()

    def wait_tun(self, timeout=15):
        """Until the app's tun is up in the phone's namespace."""
        deadline = time.monotonic() + timeout
        while True:
            r = harness.run(["ip", "-n", self.ns, "-j", "addr", "show", "dev", harness.TUN],
                            check_rc=False)
            if r.returncode == 0 and harness.DEVICE_ADDRESS in r.stdout and "UP" in r.stdout:
                return
            check(time.monotonic() < deadline, f"no tun in {self.ns} after {timeout} s; app "
                                               f"log:\n{self.app_log()}")
            time.sleep(0.05)

    def wait_app_log(self, needle, timeout=15):
        """Until the running app's log has a line with `needle`."""
        deadline = time.monotonic() + timeout
        while needle not in self.app_log():
            check(time.monotonic() < deadline, f"the app on {self.serial} logged no {needle!r} "
                                               f"within {timeout} s:\n{self.app_log()}")
            time.sleep(0.05)

    def app_log(self):
        starts = self.events("app-start")
        return harness._tail(starts[-1]["log"], 60) if starts else "(the app never started)"

    def ns_run(self, args, timeout=60, check_rc=True):
        return harness.run(["ip", "netns", "exec", self.ns] + list(args), timeout=timeout,
                           check_rc=check_rc)

    def resolv_conf(self):
        try:
            with open(f"/etc/netns/{self.ns}/resolv.conf") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def close(self):
        if self.daemon is not None:
            self.stop_daemon()
        record = self.app()
        if record is not None and stop_pid(record["pid"]):
            self.problems.append(f"the app on {self.serial} needed SIGKILL")
        if self.link_created:
            # Gone at once with its address, whereas a namespace lives on
            # unseen while a socket of its own lingers (an orphaned TCP
            # connection of the app's, FIN_WAIT after the tun went).
            harness.run(["ip", "link", "del", self.host_link], check_rc=False)
            self.link_created = False
        if self.ns_created:
            harness.run(["ip", "netns", "del", self.ns], check_rc=False)
            self.ns_created = False
        shutil.rmtree(f"/etc/netns/{self.ns}", ignore_errors=True)


class PhoneFarm:
    """A private adb server and the virtual phones a test adds to it."""

    def __init__(self, rtether, apk_size=54321, cpu_per_phone=None):
        """cpu_per_phone: each phone's processes run as one group limited to
        this fraction of one CPU (cpu_groups.py), as if each phone had a
        (slow) CPU of its own; None: no groups."""
        self.rtether = rtether
        self.cpu_groups = CpuGroups(cpu_per_phone) if cpu_per_phone else None
        self.tmp = tempfile.mkdtemp(prefix=harness.unique_name("rtfarm") + "-")
        self.procs = []
        self.phones = []
        self.apk = os.path.join(self.tmp, "gnirehtet.apk")
        with open(self.apk, "wb") as f:
            f.write(harness.deterministic_bytes(apk_size, 11))
        self.server = AdbServer(self.tmp)
        self.procs.append(self.server.proc)

    def add_phone(self, plugged=True, **options):
        phone = VirtualPhone(self, **options)
        self.phones.append(phone)
        phone.make_namespace()
        if plugged:
            phone.plug()
        return phone

    def add_phones(self, count, **options):
        """`count` phones set up and plugged in parallel (SETUP_WORKERS at a
        time), in the order of their index."""
        phones = []
        for _ in range(count):
            phones.append(VirtualPhone(self, **options))
            self.phones.append(phones[-1])

        def set_up(phone):
            phone.make_namespace()
            phone.plug()

        with concurrent.futures.ThreadPoolExecutor(SETUP_WORKERS) as pool:
            for future in [pool.submit(set_up, phone) for phone in phones]:
                future.result()  # the first failure, once all have finished
        return phones

    def env(self, **extra):
        return self.server.env(**{"GNIREHTET_APK": self.apk, **extra})

    def run(self, args, timeout=60, **extra_env):
        return subprocess.run([self.rtether] + args, env=self.env(**extra_env),
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def spawn(self, name, args, **extra_env):
        proc = harness.Proc(name, [self.rtether] + args, os.path.join(self.tmp, f"{name}.log"),
                            env=self.env(**extra_env))
        self.procs.append(proc)
        return proc

    def close(self):
        """Everything down; the problems met on the way (empty if none)."""
        problems = []
        for proc in self.procs:
            if proc.name.startswith(("adbd-", "adb-server")):
                continue
            proc.close()
        problems += self.server.check_no_clients_left()
        for phone in self.phones:
            phone.close()
            problems += phone.problems
        self.server.stop()
        for proc in self.procs:
            proc.close()
        if self.cpu_groups:
            problems += self.cpu_groups.close()
        return problems

    def cleanup_tmp(self):
        if os.environ.get("RTETHER_E2E_KEEP") == "1":
            print(f"(logs kept in {self.tmp})")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log_report(self):
        parts = []
        for proc in self.procs:
            parts.append(f"----- {proc.name} log ({' '.join(proc.args)}) -----")
            parts.append(proc.log_text())
        for phone in self.phones:
            parts.append(f"----- {phone.ns} ({phone.serial}) events -----")
            parts += [json.dumps(e) for e in phone.events()[-40:]]
            parts.append(f"----- {phone.ns} ({phone.serial}) app log -----")
            parts.append(phone.app_log())
        return "\n".join(parts)
