"""Translators: each gives a network namespace (or, for the direct baseline,
the host itself) whose applications reach the host's loopback at `peer`.
`start()` sets it up and waits until a TCP connection to the host's probe
server works through it; `stop()` removes every process and namespace it
made."""

import os
import shutil
import signal
import subprocess
import sys
import time

from . import pasta_anchor, procfs
from .load_generators import REQUEST
from .processes import free_port, log, log_tail, run, stop, verbose_log
from .wine import WineSession


class Translator:
    name = "?"

    def __init__(self, options, tag):
        self.options = options
        self.tag = tag                # names the namespace and the log files
        self.command_prefix = []      # runs a command inside the namespace
        self.peer = "127.0.0.1"       # the host's loopback as seen from inside
        self.processes = []           # Popen objects we started, to stop
        self.netns = None
        self.log_dir = options.logdir

    def translator_pids(self):
        """PIDs whose CPU and memory count as the translator's."""
        return []

    def start(self):
        self.wait_ready(self.options.probe_port)

    def stop(self):
        # Remember everything our processes started (e.g. the command of
        # `rtether shell`), so nothing is left behind if a parent does not
        # clean up its children on SIGTERM.
        started = {p: procfs.start_time(p)
                   for p in procfs.descendants([x.pid for x in self.processes])}
        for process in reversed(self.processes):
            stop(process)
        self.processes = []
        for sig in (signal.SIGTERM, signal.SIGKILL):
            left = [p for p, t in started.items() if t is not None and procfs.start_time(p) == t]
            for pid in left:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            if left:
                time.sleep(0.5)
        if self.netns:
            run(["ip", "netns", "del", self.netns])
            self.netns = None

    def make_netns(self):
        self.netns = "rtb%d%s" % (os.getpid(), self.tag)
        run(["ip", "netns", "add", self.netns], check=True)
        run(["ip", "-n", self.netns, "link", "set", "lo", "up"], check=True)
        self.command_prefix = ["ip", "netns", "exec", self.netns]

    def tune_netns(self):
        # Per-namespace sysctls, identical for every translator: wide ephemeral
        # port range so the connection test never runs out of ports.
        run(self.command_prefix + ["sysctl", "-q", "-w",
                                   "net.ipv4.ip_local_port_range=1024 65000",
                                   "net.ipv4.tcp_tw_reuse=1"])

    def wait_ready(self, probe_port, timeout=10.0):
        """Waits until the namespace has an IPv4 address + route to the peer
        and a TCP connection to the host's probe server works through it."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError("%s exited with status %s: %s" % (
                        " ".join(process.args[:2]) if isinstance(process.args, list)
                        else process.args, process.returncode,
                        log_tail(getattr(process, "log_path", ""))))
            r = run(self.command_prefix + ["ip", "route", "get", self.peer], timeout=5)
            if r.returncode == 0:
                r = run(self.command_prefix + [
                    sys.executable, "-c",
                    "import socket,sys;"
                    "s=socket.create_connection((sys.argv[1],int(sys.argv[2])),2);"
                    "s.sendall(sys.argv[3].encode());"
                    "print(len(s.recv(100)))",
                    self.peer, probe_port, REQUEST.decode()], timeout=6)
                if r.returncode == 0 and r.stdout.strip() not in ("", "0"):
                    return
            last = r.stderr.strip()[-200:]
            time.sleep(0.2)
        raise RuntimeError("namespace never reached 127.0.0.1 via %s: %s" % (self.peer, last))

    def spawn(self, cmd, label, **kwargs):
        """Starts CMD with its output in the log directory; stopped by stop()."""
        path = os.path.join(self.log_dir, "%s-%s.log" % (self.tag, label))
        with open(path, "wb") as log_file:
            verbose_log("start", " ".join(map(str, cmd)))
            process = subprocess.Popen([str(c) for c in cmd], stdout=log_file,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       **kwargs)
        process.log_path = path
        self.processes.append(process)
        return process


class DirectLoopback(Translator):
    """No translator: the load generators talk to 127.0.0.1 on the host."""
    name = "direct"

    def __init__(self, options):
        super().__init__(options, "direct")


class Pasta(Translator):
    """Debian's pasta (the passt package, 2023-03)."""
    name = "pasta"

    def __init__(self, options, tag="pasta"):
        super().__init__(options, tag)
        self.pasta = None

    def binary(self):
        path = shutil.which("pasta")
        if not path:
            raise RuntimeError("pasta not installed (apt-get install passt)")
        return path

    def start(self):
        binary = self.binary()
        self.make_netns()
        self.tune_netns()
        # --runas 0:0: as root pasta otherwise drops to nobody and then cannot
        # enter the namespace.  No port forwarding in either direction.
        self.pasta = self.spawn([binary, "--config-net", "--netns", self.netns,
                                 "-t", "none", "-u", "none", "-T", "none", "-U", "none",
                                 "-m", self.options.mtu, "-f", "-q", "--runas", "0:0"], "pasta")
        # Host loopback is reached at the namespace's default gateway address
        # (pasta maps the gateway to the host unless --no-map-gw).
        deadline = time.monotonic() + 10
        gateway = None
        while time.monotonic() < deadline and gateway is None:
            if self.pasta.poll() is not None:
                raise RuntimeError("pasta exited (%s): %s" % (self.pasta.returncode,
                                                              log_tail(self.pasta.log_path)))
            r = run(self.command_prefix + ["ip", "-4", "route", "show", "default"])
            parts = r.stdout.split()
            if "via" in parts:
                gateway = parts[parts.index("via") + 1]
            else:
                time.sleep(0.1)
        if gateway is None:
            raise RuntimeError("pasta: no default route appeared in the namespace")
        self.peer = gateway
        super().start()

    def translator_pids(self):
        return procfs.descendants([self.pasta.pid]) if self.pasta else []


class Pasta2025(Pasta):
    """Current pasta: passt 2c174f1 (2025-01-09), built from the anchor
    tarball with its own Makefile and cached (pasta_anchor.py)."""
    name = "pasta-2025"

    def __init__(self, options):
        super().__init__(options, "pasta25")

    def binary(self):
        return pasta_anchor.build(self.options.pasta_anchor)


class Slirp4netns(Translator):
    name = "slirp4netns"

    def __init__(self, options):
        super().__init__(options, "slirp")
        self.slirp = None

    def start(self):
        if not shutil.which("slirp4netns"):
            raise RuntimeError("slirp4netns not installed")
        self.make_netns()
        self.tune_netns()
        # Host loopback is allowed by default and reached at 10.0.2.2.
        self.slirp = self.spawn(["slirp4netns", "--configure", "--mtu=%d" % self.options.mtu,
                                 "--netns-type=path", "/run/netns/" + self.netns, "tap0"],
                                "slirp4netns")
        self.peer = "10.0.2.2"
        super().start()

    def translator_pids(self):
        return procfs.descendants([self.slirp.pid]) if self.slirp else []


class Rtether(Translator):
    """Separate `rtether relay` + `rtether client --netns NS` (default), or
    `rtether shell -- sleep` as a fallback or by option; linked by an
    abstract UNIX socket (as `rtether shell` is) or TCP loopback."""
    name = "rtether"

    def __init__(self, options):
        super().__init__(options, "rtether")
        self.relay = None
        self.client = None
        self.shell = None
        self.shell_command_pid = None   # the `sleep` under `rtether shell`
        self.mode = None
        self.link = options.rtether_link

    def start(self):
        binary = self.options.rtether
        if not binary:
            raise RuntimeError("no --rtether PATH given")
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise RuntimeError("rtether binary not found or not executable: %s" % binary)
        modes = {"separate": ["separate"], "shell": ["shell"],
                 "auto": ["separate", "shell"]}[self.options.rtether_mode]
        errors = []
        for mode in modes:
            try:
                {"separate": self.start_separate, "shell": self.start_shell}[mode]()
                self.mode = mode
                self.wait_ready(self.options.probe_port)
                return
            except Exception as e:  # noqa: BLE001 - report any failure
                errors.append("%s mode: %s" % (mode, e))
                log("rtether", errors[-1])
                Translator.stop(self)
                self.relay = self.client = self.shell = self.shell_command_pid = None
        raise RuntimeError("; ".join(errors))

    def start_separate(self):
        binary = self.options.rtether
        self.make_netns()
        self.tune_netns()
        if self.link == "unix":
            name = "@rtether-bench-%d" % os.getpid()
            self.relay = self.spawn([binary, "relay", "--unix", name, "--no-tcp"], "relay")
            link = "unix:" + name
            time.sleep(0.5)
        else:
            port = free_port()
            self.relay = self.spawn(self.relay_command(["relay", "-p", port, "--bind",
                                                        "127.0.0.1"]),
                                    "relay", env=self.relay_environment())
            deadline = time.monotonic() + 5
            while not procfs.tcp_listening(port):
                if self.relay.poll() is not None:
                    raise RuntimeError("rtether relay exited (%s): %s" % (
                        self.relay.returncode, log_tail(self.relay.log_path)))
                if time.monotonic() > deadline:
                    raise RuntimeError("rtether relay not listening on %d" % port)
                time.sleep(0.05)
            link = "127.0.0.1:%d" % port
        self.client = self.spawn([binary, "client", "--relay", link, "--netns", self.netns,
                                  "--mtu", self.options.mtu], "client")
        self.peer = "10.0.2.2"

    def relay_command(self, args):
        return [self.options.rtether] + args

    def relay_environment(self):
        return None  # the bench's own

    def start_shell(self):
        self.shell = self.spawn([self.options.rtether, "shell", "--mtu", self.options.mtu, "--",
                                 "sleep", "3600"], "shell")
        own_netns = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.shell_command_pid is None:
            if self.shell.poll() is not None:
                raise RuntimeError("rtether shell exited (%s): %s" % (
                    self.shell.returncode, log_tail(self.shell.log_path)))
            for pid in procfs.descendants([self.shell.pid]):
                if procfs.command_name(pid) == "sleep":
                    try:
                        if os.readlink("/proc/%d/ns/net" % pid) != own_netns:
                            self.shell_command_pid = pid
                    except OSError:
                        pass
            time.sleep(0.1)
        if self.shell_command_pid is None:
            raise RuntimeError("rtether shell: command never started in a new namespace")
        self.command_prefix = ["nsenter", "-t", str(self.shell_command_pid), "-n"]
        self.tune_netns()
        self.peer = "10.0.2.2"

    def translator_pids(self):
        roots = [p.pid for p in (self.relay, self.client, self.shell) if p]
        return [p for p in procfs.descendants(roots) if p != self.shell_command_pid]

    def relay_pids(self):
        """The relay alone (the client stands for the device side), or all of
        rtether in shell mode."""
        if self.relay:
            return procfs.descendants([self.relay.pid])
        return self.translator_pids()


class RtetherTcpLink(Rtether):
    """The same relay + client, linked over TCP loopback as the Gnirehtet
    app is (through adb reverse), instead of the UNIX socket `rtether shell`
    uses."""
    name = "rtether-tcp"

    def __init__(self, options):
        super().__init__(options)
        self.tag = "rtether-tcp"
        self.link = "tcp"


class RtetherDirect(Rtether):
    """Direct mode: `rtether relay --netns NS` opens the namespace's tun
    itself and serves it, with no client process and no stream between them
    (what `rtether shell` runs by default). The relay is the whole
    translator."""
    name = "rtether-direct"

    def __init__(self, options):
        super().__init__(options)
        self.tag = "rtether-direct"

    def thread_args(self):
        """The relay's default: a thread per core (at most 8), and as root
        a tun queue per thread."""
        return []

    def start(self):
        binary = self.options.rtether
        if not binary:
            raise RuntimeError("no --rtether PATH given")
        self.make_netns()
        self.tune_netns()
        self.relay = self.spawn([binary, "relay", "--netns", self.netns, "--mtu",
                                 self.options.mtu] + self.thread_args(), "relay")
        self.mode = "direct"
        self.peer = "10.0.2.2"
        self.wait_ready(self.options.probe_port)


class RtetherDirectOneThread(RtetherDirect):
    """Direct mode on one thread (`--threads 1`): a tun of one queue, the
    whole namespace on one loop; beside rtether-direct (a queue and a loop
    per core) it shows what the second core brings."""
    name = "rtether-direct-1t"

    def __init__(self, options):
        super().__init__(options)
        self.tag = "rtether-direct-1t"

    def thread_args(self):
        return ["--threads", "1"]


class RtetherWine(RtetherTcpLink):
    """The relay of the Windows build, rtether.exe, under Wine (`wine
    rtether.exe relay -p PORT --bind 127.0.0.1`, a Wine session of its own:
    rtether_bench/wine.py), with the Linux client over TCP loopback as in
    rtether-tcp. Its wineserver counts as part of the relay: Wine's Winsock
    has it poll and queue every socket operation."""
    name = "rtether-wine"

    def __init__(self, options):
        super().__init__(options)
        self.tag = "rtether-wine"
        self.wine = None

    def start(self):
        exe = self.options.rtether_exe
        if not exe:
            raise RuntimeError("no --rtether-exe PATH given")
        if not os.path.isfile(exe):
            raise RuntimeError("rtether.exe not found: %s" % exe)
        if not self.options.rtether:
            raise RuntimeError("no --rtether PATH given (the Linux client)")
        self.wine = WineSession(exe, self.log_dir)
        self.wine.start()
        self.start_separate()
        self.mode = "separate"
        self.wait_ready(self.options.probe_port)

    def relay_command(self, args):
        return self.wine.command(args)

    def relay_environment(self):
        return self.wine.environment

    def stop(self):
        # Ctrl+C (Wine turns SIGINT into CTRL_C_EVENT) is the relay's clean
        # stop on Windows; Wine would end it at once on SIGTERM.
        if self.relay is not None and self.relay.poll() is None:
            self.relay.send_signal(signal.SIGINT)
            try:
                self.relay.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        super().stop()
        if self.wine is not None:
            self.wine.stop()
            self.wine = None

    def translator_pids(self):
        server = [self.wine.server.pid] if self.wine and self.wine.server else []
        return super().translator_pids() + server

    def relay_pids(self):
        server = [self.wine.server.pid] if self.wine and self.wine.server else []
        return super().relay_pids() + server


TRANSLATORS = {t.name: t for t in (RtetherDirect, RtetherDirectOneThread, Rtether,
                                    RtetherTcpLink, RtetherWine, Pasta,
                                    Pasta2025, Slirp4netns)}
