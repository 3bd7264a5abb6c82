#!/usr/bin/env python3
"""Side-by-side benchmark: rtether vs pasta vs slirp4netns (plus a direct
host-loopback baseline).

Each translator gives a network namespace whose applications reach a server on
the host's loopback.  Servers run on 127.0.0.1 in the initial namespace, load
generators run inside the namespace (the Linux kernel is the device's TCP/IP
stack).  Python 3 standard library only; needs root, iperf3, iproute2,
nsenter; pasta (package passt) and slirp4netns for their columns.

    sudo python3 bench/run.py --rtether build/rtether [--quick]
        [--only rtether,pasta,slirp4netns] [--markdown FILE] [--json FILE]

Everything it creates (namespaces, processes) is removed on exit.  All traffic
stays on loopback and inside the namespaces it creates.
"""

import argparse
import asyncio
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SELF = os.path.abspath(__file__)
VERBOSE = False

REQ = b"GET /bench HTTP/1.0\r\n\r\n"          # 23 bytes
RESP = b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 45  # 64 bytes
HOLD_REQ = b"HOLD\r\n"


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


def vlog(*a):
    if VERBOSE:
        log(*a)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ValueError, OSError):
        pass


# ---------------------------------------------------------------------------
# Helper processes (servers and load generators), run as
#   python3 run.py _helper KIND ARGS...
# ---------------------------------------------------------------------------

class _EchoProto(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.hold = False

    def data_received(self, data):
        if self.hold:
            return
        if data.startswith(HOLD_REQ):
            self.hold = True
            self.t.write(RESP)
        else:
            # Answer and close first (HTTP/1.0 style); the client closes after
            # EOF, so no TIME_WAIT piles up on the client's ephemeral ports.
            self.t.write(RESP)
            self.t.close()

    def connection_lost(self, exc):
        pass


def helper_tcpserver(port):
    raise_nofile()

    async def main():
        loop = asyncio.get_running_loop()
        srv = await loop.create_server(_EchoProto, "127.0.0.1", port,
                                       backlog=4096, reuse_address=True)
        print("LISTENING", flush=True)
        async with srv:
            await srv.serve_forever()
    asyncio.run(main())


def helper_udpecho(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    print("LISTENING", flush=True)
    while True:
        data, addr = s.recvfrom(65535)
        s.sendto(data, addr)


def helper_cps(host, port, seconds, workers):
    """connect / request / response / close in a loop; prints JSON."""
    raise_nofile()
    seconds = float(seconds)
    workers = int(workers)
    port = int(port)

    async def worker(loop, deadline, st):
        addr = (host, port)
        while time.monotonic() < deadline:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                await asyncio.wait_for(loop.sock_connect(s, addr), 5)
                await loop.sock_sendall(s, REQ)
                got = 0
                while True:
                    d = await asyncio.wait_for(loop.sock_recv(s, 4096), 5)
                    if not d:
                        break
                    got += len(d)
                if got == len(RESP):
                    st["ok"] += 1
                else:
                    st["short"] += 1
            except (OSError, asyncio.TimeoutError) as e:
                st["err"] += 1
                st["last_err"] = repr(e)
                await asyncio.sleep(0.01)
            finally:
                s.close()

    async def main():
        loop = asyncio.get_running_loop()
        st = {"ok": 0, "err": 0, "short": 0, "last_err": None}
        t0 = time.monotonic()
        deadline = t0 + seconds
        await asyncio.gather(*(worker(loop, deadline, st) for _ in range(workers)))
        st["elapsed"] = time.monotonic() - t0
        ru = resource.getrusage(resource.RUSAGE_SELF)
        st["cpu_s"] = ru.ru_utime + ru.ru_stime
        print(json.dumps(st), flush=True)
    asyncio.run(main())


def helper_udprtt(host, port, count):
    count = int(count)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, int(port)))
    s.settimeout(1.0)
    payload = b"x" * 32
    rtts = []
    lost = 0
    deadline = time.monotonic() + 30
    for i in range(count):
        if time.monotonic() > deadline:
            break
        msg = i.to_bytes(4, "big") + payload
        t0 = time.perf_counter_ns()
        s.send(msg)
        try:
            while True:
                d = s.recv(2048)
                if d[:4] == msg[:4]:
                    break
            rtts.append((time.perf_counter_ns() - t0) / 1000.0)
        except socket.timeout:
            lost += 1
    out = {"n": len(rtts), "lost": lost}
    if rtts:
        rtts.sort()
        out["p50_us"] = rtts[len(rtts) // 2]
        out["p99_us"] = rtts[min(len(rtts) - 1, int(len(rtts) * 0.99))]
        out["mean_us"] = statistics.fmean(rtts)
    print(json.dumps(out), flush=True)


def helper_hold(host, port, count):
    """Open COUNT connections and keep them open; print READY n, wait for a
    line on stdin, close them all, print JSON."""
    raise_nofile()
    count = int(count)
    port = int(port)

    async def one(loop, sem, socks, st):
        async with sem:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                await asyncio.wait_for(loop.sock_connect(s, (host, port)), 10)
                await loop.sock_sendall(s, HOLD_REQ)
                got = 0
                while got < len(RESP):
                    d = await asyncio.wait_for(loop.sock_recv(s, 4096), 10)
                    if not d:
                        break
                    got += len(d)
                if got == len(RESP):
                    socks.append(s)
                    return
                st["err"] += 1
            except (OSError, asyncio.TimeoutError) as e:
                st["err"] += 1
                st["last_err"] = repr(e)
            s.close()

    async def main():
        loop = asyncio.get_running_loop()
        sem = asyncio.Semaphore(64)
        socks = []
        st = {"err": 0, "last_err": None}
        t0 = time.monotonic()
        await asyncio.gather(*(one(loop, sem, socks, st) for _ in range(count)))
        st["open"] = len(socks)
        st["open_s"] = time.monotonic() - t0
        print("READY %d" % len(socks), flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        for s in socks:
            s.close()
        print(json.dumps(st), flush=True)
    asyncio.run(main())


def helper_main(argv):
    kind, args = argv[0], argv[1:]
    fn = {"tcpserver": helper_tcpserver, "udpecho": helper_udpecho,
          "cps": helper_cps, "udprtt": helper_udprtt, "hold": helper_hold}[kind]
    if kind in ("tcpserver", "udpecho"):
        fn(int(args[0]))
    else:
        fn(*args)


# ---------------------------------------------------------------------------
# /proc helpers
# ---------------------------------------------------------------------------

def proc_children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rfind(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def descendants(pids):
    kids = proc_children_map()
    out, todo = [], list(pids)
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        fields = st[st.rfind(")") + 2:].split()
        return int(fields[11]) + int(fields[12])   # utime + stime
    except OSError:
        return None


def proc_start(pid):
    """(start time, state) identity of a live process, None if gone/zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        fields = st[st.rfind(")") + 2:].split()
        if fields[0] in ("Z", "X"):
            return None
        return fields[19]
    except OSError:
        return None


def status_kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


class CpuMeter:
    """utime+stime delta of a set of processes over a wall-clock window."""

    def __init__(self, pids):
        self.pids = list(pids)
        self.t0 = time.monotonic()
        self.c0 = {p: cpu_ticks(p) for p in self.pids}

    def per_pid(self):
        dt = time.monotonic() - self.t0
        out = {}
        for p in self.pids:
            a, b = self.c0.get(p), cpu_ticks(p)
            if a is not None and b is not None and dt > 0:
                out[p] = 100.0 * (b - a) / CLK_TCK / dt
        return out

    def percent(self):
        dt = time.monotonic() - self.t0
        total = 0
        for p in self.pids:
            a, b = self.c0.get(p), cpu_ticks(p)
            if a is not None and b is not None:
                total += b - a
        return 100.0 * total / CLK_TCK / dt if dt > 0 else None


def tcp_listening(port):
    want = ":%04X" % port
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(fn) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[1].endswith(want) and parts[3] == "0A":
                        return True
        except OSError:
            pass
    return False


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(cmd, timeout=10, check=False):
    vlog("run", " ".join(map(str, cmd)))
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(map(str, cmd)),
                                                    r.returncode, r.stderr.strip()[-300:]))
    return r


def kill_proc(p, grace=3.0):
    """Terminate a Popen we started (and its process group if it leads one)."""
    if p is None or p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        p.kill()
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    except ProcessLookupError:
        pass


def tail(path, n=400):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data[-n:].decode(errors="replace").replace("\n", " | ").strip()
    except OSError:
        return ""


# ---------------------------------------------------------------------------
# Environments: a namespace (or the host itself) reaching host loopback
# ---------------------------------------------------------------------------

class Env:
    name = "?"

    def __init__(self, opts, tag):
        self.opts = opts
        self.tag = tag
        self.prefix = []          # command prefix to run inside the namespace
        self.peer = "127.0.0.1"   # address of the host loopback seen from inside
        self.procs = []           # Popen objects we started (to stop)
        self.netns = None
        self.error = None
        self.logdir = opts.logdir

    # PIDs whose CPU/RSS count as "the translator"
    def translator_pids(self):
        return []

    def start(self):
        pass

    def stop(self):
        # Remember everything our processes started (e.g. the command of
        # `rtether shell`), so nothing is left behind if a parent does not
        # clean up its children on SIGTERM.
        kids = {p: proc_start(p) for p in descendants([x.pid for x in self.procs])}
        for p in reversed(self.procs):
            kill_proc(p)
        self.procs = []
        for sig in (signal.SIGTERM, signal.SIGKILL):
            left = [p for p, st in kids.items() if st is not None and proc_start(p) == st]
            for p in left:
                try:
                    os.kill(p, sig)
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
        self.prefix = ["ip", "netns", "exec", self.netns]

    def tune_ns(self):
        # Per-namespace sysctls, identical for every translator: wide ephemeral
        # port range so the connection test never runs out of ports.
        run(self.prefix + ["sysctl", "-q", "-w",
                           "net.ipv4.ip_local_port_range=1024 65000",
                           "net.ipv4.tcp_tw_reuse=1"])

    def wait_ready(self, probe_port, timeout=10.0):
        """Wait until the namespace has an IPv4 address + route to the peer and
        a TCP connection to the host's probe server works through it."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError("%s exited with status %s: %s" % (
                        " ".join(p.args[:2]) if isinstance(p.args, list) else p.args,
                        p.returncode, tail(getattr(p, "_logpath", ""))))
            r = run(self.prefix + ["ip", "route", "get", self.peer], timeout=5)
            if r.returncode == 0:
                r = run(self.prefix + [sys.executable, "-c",
                                       "import socket,sys;"
                                       "s=socket.create_connection((sys.argv[1],int(sys.argv[2])),2);"
                                       "s.sendall(sys.argv[3].encode());"
                                       "print(len(s.recv(100)))",
                                       self.peer, probe_port, REQ.decode()], timeout=6)
                if r.returncode == 0 and r.stdout.strip() not in ("", "0"):
                    return
                last = r.stderr.strip()[-200:]
            else:
                last = r.stderr.strip()[-200:]
            time.sleep(0.2)
        raise RuntimeError("namespace never reached 127.0.0.1 via %s: %s" % (self.peer, last))

    def popen(self, cmd, label, **kw):
        path = os.path.join(self.logdir, "%s-%s.log" % (self.tag, label))
        f = open(path, "wb")
        vlog("start", " ".join(map(str, cmd)))
        p = subprocess.Popen([str(c) for c in cmd], stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, **kw)
        f.close()
        p._logpath = path
        self.procs.append(p)
        return p


class DirectEnv(Env):
    name = "direct"

    def __init__(self, opts):
        super().__init__(opts, "direct")

    def start(self):
        self.prefix = []
        self.peer = "127.0.0.1"


class PastaEnv(Env):
    name = "pasta"

    def __init__(self, opts):
        super().__init__(opts, "pasta")
        self.p = None

    def start(self):
        if not shutil.which("pasta"):
            raise RuntimeError("pasta not installed (apt-get install passt)")
        self.make_netns()
        self.tune_ns()
        # --runas 0:0: as root pasta otherwise drops to nobody and then cannot
        # enter the namespace.  No port forwarding in either direction.
        self.p = self.popen(["pasta", "--config-net", "--netns", self.netns,
                             "-t", "none", "-u", "none", "-T", "none", "-U", "none",
                             "-m", self.opts.mtu, "-f", "-q", "--runas", "0:0"], "pasta")
        # Host loopback is reached at the namespace's default gateway address
        # (pasta maps the gateway to the host unless --no-map-gw).
        deadline = time.monotonic() + 10
        gw = None
        while time.monotonic() < deadline and gw is None:
            if self.p.poll() is not None:
                raise RuntimeError("pasta exited (%s): %s" % (self.p.returncode,
                                                              tail(self.p._logpath)))
            r = run(self.prefix + ["ip", "-4", "route", "show", "default"])
            parts = r.stdout.split()
            if "via" in parts:
                gw = parts[parts.index("via") + 1]
            else:
                time.sleep(0.1)
        if gw is None:
            raise RuntimeError("pasta: no default route appeared in the namespace")
        self.peer = gw

    def translator_pids(self):
        return descendants([self.p.pid]) if self.p else []


class SlirpEnv(Env):
    name = "slirp4netns"

    def __init__(self, opts):
        super().__init__(opts, "slirp")
        self.p = None

    def start(self):
        if not shutil.which("slirp4netns"):
            raise RuntimeError("slirp4netns not installed")
        self.make_netns()
        self.tune_ns()
        # Host loopback is allowed by default and reached at 10.0.2.2.
        self.p = self.popen(["slirp4netns", "--configure", "--mtu=%d" % self.opts.mtu,
                             "--netns-type=path", "/run/netns/" + self.netns, "tap0"],
                            "slirp4netns")
        self.peer = "10.0.2.2"

    def translator_pids(self):
        return descendants([self.p.pid]) if self.p else []


class RtetherEnv(Env):
    """Separate `rtether relay` + `rtether client --netns NS` (default), or
    `rtether shell -- sleep` as a fallback/option."""
    name = "rtether"

    def __init__(self, opts):
        super().__init__(opts, "rtether")
        self.relay = None
        self.client = None
        self.shell = None
        self.sleeper = None
        self.mode = None
        self.link = opts.rtether_link

    def start(self):
        exe = self.opts.rtether
        if not exe:
            raise RuntimeError("no --rtether PATH given")
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            raise RuntimeError("rtether binary not found or not executable: %s" % exe)
        modes = {"separate": ["separate"], "shell": ["shell"],
                 "auto": ["separate", "shell"]}[self.opts.rtether_mode]
        errors = []
        for m in modes:
            try:
                getattr(self, "start_" + m)()
                self.mode = m
                self.wait_ready(self.opts.probe_port)
                return
            except Exception as e:  # noqa: BLE001 - report any failure
                errors.append("%s mode: %s" % (m, e))
                log("rtether", errors[-1])
                Env.stop(self)
                self.relay = self.client = self.shell = self.sleeper = None
        raise RuntimeError("; ".join(errors))

    def start_separate(self):
        exe = self.opts.rtether
        self.make_netns()
        self.tune_ns()
        if self.link == "unix":
            name = "@rtether-bench-%d" % os.getpid()
            self.relay = self.popen([exe, "relay", "--unix", name, "--no-tcp"], "relay")
            link = "unix:" + name
            time.sleep(0.5)
        else:
            port = free_port()
            self.relay = self.popen([exe, "relay", "-p", port, "--bind", "127.0.0.1"], "relay")
            deadline = time.monotonic() + 5
            while not tcp_listening(port):
                if self.relay.poll() is not None:
                    raise RuntimeError("rtether relay exited (%s): %s" % (
                        self.relay.returncode, tail(self.relay._logpath)))
                if time.monotonic() > deadline:
                    raise RuntimeError("rtether relay not listening on %d" % port)
                time.sleep(0.05)
            link = "127.0.0.1:%d" % port
        self.client = self.popen([exe, "client", "--relay", link, "--netns", self.netns,
                                  "--mtu", self.opts.mtu], "client")
        self.peer = "10.0.2.2"

    def start_shell(self):
        exe = self.opts.rtether
        self.shell = self.popen([exe, "shell", "--mtu", self.opts.mtu, "--",
                                 "sleep", "3600"], "shell")
        my_ns = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.sleeper is None:
            if self.shell.poll() is not None:
                raise RuntimeError("rtether shell exited (%s): %s" % (
                    self.shell.returncode, tail(self.shell._logpath)))
            for p in descendants([self.shell.pid]):
                if comm(p) == "sleep":
                    try:
                        if os.readlink("/proc/%d/ns/net" % p) != my_ns:
                            self.sleeper = p
                    except OSError:
                        pass
            time.sleep(0.1)
        if self.sleeper is None:
            raise RuntimeError("rtether shell: command never started in a new namespace")
        self.prefix = ["nsenter", "-t", str(self.sleeper), "-n"]
        self.tune_ns()
        self.peer = "10.0.2.2"

    def translator_pids(self):
        roots = [p.pid for p in (self.relay, self.client, self.shell) if p]
        return [p for p in descendants(roots) if p != self.sleeper]

    def relay_pids(self):
        if self.relay:
            return descendants([self.relay.pid])
        return self.translator_pids()


class RtetherTcpLinkEnv(RtetherEnv):
    """The same relay + client, linked over TCP loopback as the Gnirehtet
    app is (through adb reverse), instead of the UNIX socket `rtether shell`
    uses."""
    name = "rtether-tcp"

    def __init__(self, opts):
        super().__init__(opts)
        self.tag = "rtether-tcp"
        self.link = "tcp"


ENV_CLASSES = {"rtether": RtetherEnv, "rtether-tcp": RtetherTcpLinkEnv, "pasta": PastaEnv,
               "slirp4netns": SlirpEnv}


# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------

def iperf(env, opts, reverse=False, streams=1, meter_pids=None):
    port = free_port()
    logp = os.path.join(opts.logdir, "%s-iperf3-server-%d.log" % (env.tag, port))
    with open(logp, "wb") as f:
        srv = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port)],
                               stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while not tcp_listening(port):
            if time.monotonic() > deadline or srv.poll() is not None:
                raise RuntimeError("iperf3 server did not start")
            time.sleep(0.02)
        cmd = env.prefix + ["iperf3", "-c", env.peer, "-p", str(port), "-t", str(opts.seconds),
                            "-J", "--connect-timeout", "3000"]
        if reverse:
            cmd.append("-R")
        if streams > 1:
            cmd += ["-P", str(streams)]
        meter = CpuMeter(meter_pids) if meter_pids else None
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=opts.seconds + 20)
        except subprocess.TimeoutExpired:
            raise RuntimeError("iperf3 client timed out")
        cpu = meter.percent() if meter else None
        cpu_pids = meter.per_pid() if meter else {}
        try:
            j = json.loads(r.stdout)
        except ValueError:
            raise RuntimeError("iperf3: %s" % (r.stderr.strip() or r.stdout.strip())[-200:])
        if "error" in j:
            raise RuntimeError("iperf3: %s" % j["error"])
        bps = j["end"]["sum_received"]["bits_per_second"]
        return {"gbps": bps / 1e9, "cpu_pct": cpu, "cpu_pct_by_pid": cpu_pids,
                "retransmits": j["end"].get("sum_sent", {}).get("retransmits")}
    finally:
        kill_proc(srv, 1)


def helper_cmd(kind, *args):
    return [sys.executable, SELF, "_helper", kind] + [str(a) for a in args]


def measure_cps(env, opts, meter_pids, server_pid):
    meter = CpuMeter(meter_pids) if meter_pids else None
    smeter = CpuMeter([server_pid])
    cmd = env.prefix + helper_cmd("cps", env.peer, opts.tcp_port, opts.seconds, opts.cps_workers)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=opts.seconds + 30)
    cpu = meter.percent() if meter else None
    scpu = smeter.percent()
    try:
        j = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError("cps client: %s" % r.stderr.strip()[-200:])
    out = {"cps": j["ok"] / j["elapsed"], "errors": j["err"] + j["short"],
           "last_err": j["last_err"], "cpu_pct": cpu, "server_cpu_pct": scpu,
           "client_cpu_pct": 100.0 * j["cpu_s"] / j["elapsed"]}
    return out


def measure_udp(env, opts):
    cmd = env.prefix + helper_cmd("udprtt", env.peer, opts.udp_port, opts.udp_count)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    try:
        j = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError("udp client: %s" % r.stderr.strip()[-200:])
    if not j.get("n"):
        raise RuntimeError("no UDP reply (%d lost)" % j.get("lost", 0))
    return j


def measure_hold(env, opts, rss_pids_fn):
    cmd = env.prefix + helper_cmd("hold", env.peer, opts.tcp_port, opts.hold)
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        import select
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            rd, _, _ = select.select([p.stdout], [], [], 1.0)
            if rd:
                line = p.stdout.readline()
                break
            if p.poll() is not None:
                break
        if not line.startswith("READY"):
            raise RuntimeError("hold client did not get ready: %s" % (p.stderr.read()[-200:]
                                                                     if p.poll() is not None else "timeout"))
        opened = int(line.split()[1])
        time.sleep(0.3)
        rss = {pid: status_kib(pid, "VmRSS") for pid in rss_pids_fn()}
        p.stdin.write("\n")
        p.stdin.flush()
        out, _ = p.communicate(timeout=30)
        j = json.loads(out.strip().splitlines()[-1])
        j["opened"] = opened
        j["rss_kib"] = rss
        return j
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def rss_of(pids, key):
    vals = [status_kib(p, key) for p in pids]
    vals = [v for v in vals if v is not None]
    return sum(vals) / 1024.0 if vals else None


def bench_env(env, opts, server_pid):
    res = {"name": env.name}
    t0 = time.monotonic()
    try:
        env.start()
        if not isinstance(env, RtetherEnv):
            env.wait_ready(opts.probe_port)
    except Exception as e:  # noqa: BLE001
        res["error"] = "failed to start: %s" % e
        log(env.name, res["error"])
        env.stop()
        return res
    try:
        res["peer"] = env.peer
        pids = env.translator_pids()
        res["pids"] = {p: comm(p) for p in pids}
        res["rss_start_mib"] = rss_of(pids, "VmRSS")
        if hasattr(env, "mode") and env.mode:
            res["mode"] = env.mode
        log(env.name, "ready (peer %s, translator pids %s)" % (env.peer, res["pids"]))

        def step(key, fn):
            try:
                res[key] = fn()
                vlog(env.name, key, res[key])
            except Exception as e:  # noqa: BLE001
                res[key] = {"error": str(e)}
                log(env.name, key, "failed:", e)

        step("dl1", lambda: iperf(env, opts, reverse=True, streams=1,
                                  meter_pids=env.translator_pids()))
        step("dl4", lambda: iperf(env, opts, reverse=True, streams=4,
                                  meter_pids=env.translator_pids()))
        step("ul1", lambda: iperf(env, opts, reverse=False, streams=1,
                                  meter_pids=env.translator_pids()))
        step("cps", lambda: measure_cps(env, opts, env.translator_pids(), server_pid))
        pids = env.translator_pids()
        res["hwm_after_cps_mib"] = rss_of(pids, "VmHWM")
        res["rss_after_cps_mib"] = rss_of(pids, "VmRSS")
        step("udp", lambda: measure_udp(env, opts))
        if isinstance(env, RtetherEnv) and env.relay:
            rel = set(env.relay_pids())
            for k in ("dl1", "dl4", "ul1"):
                d = res.get(k)
                if isinstance(d, dict) and "cpu_pct_by_pid" in d:
                    d["relay_cpu_pct"] = sum(v for p, v in d["cpu_pct_by_pid"].items()
                                             if p in rel)
        if opts.hold > 0:
            step("hold", lambda: measure_hold(env, opts, env.translator_pids))
            if isinstance(env, RtetherEnv) and env.relay:
                # relay alone, for the Gnirehtet comparison (client = device side)
                h = res.get("hold", {})
                if "rss_kib" in h:
                    rel = set(env.relay_pids())
                    h["relay_rss_mib"] = sum(v for k, v in h["rss_kib"].items()
                                             if k in rel and v) / 1024.0
        pids = env.translator_pids()
        res["hwm_end_mib"] = rss_of(pids, "VmHWM")
        res["alive_at_end"] = all(p.poll() is None for p in env.procs)
    finally:
        env.stop()
        res["wall_s"] = time.monotonic() - t0
    return res


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def g(res, *path):
    cur = res
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return None
        cur = cur[k]
    return cur


def cell_err(res, key):
    if "error" in res:
        return "n/a"
    v = res.get(key)
    if isinstance(v, dict) and "error" in v:
        return "fail"
    return "—"


ROWS = [
    # label, extractor(res) -> number, fmt, higher_is_better
    ("TCP download, 1 stream (Gbit/s)", lambda r: g(r, "dl1", "gbps"), "%.2f", "dl1"),
    ("TCP download, 4 streams (Gbit/s)", lambda r: g(r, "dl4", "gbps"), "%.2f", "dl4"),
    ("TCP upload, 1 stream (Gbit/s)", lambda r: g(r, "ul1", "gbps"), "%.2f", "ul1"),
    ("TCP connections/s (connect+req+resp+close)", lambda r: g(r, "cps", "cps"), "%.0f", "cps"),
    ("UDP request/response RTT p50 (µs)", lambda r: g(r, "udp", "p50_us"), "%.0f", "udp"),
    ("UDP request/response RTT p99 (µs)", lambda r: g(r, "udp", "p99_us"), "%.0f", "udp"),
    ("Translator CPU % during 1-stream download", lambda r: g(r, "dl1", "cpu_pct"), "%.0f", "dl1"),
    ("Translator CPU % per Gbit/s (1-stream download)",
     lambda r: (g(r, "dl1", "cpu_pct") / g(r, "dl1", "gbps"))
     if g(r, "dl1", "cpu_pct") is not None and g(r, "dl1", "gbps") else None, "%.1f", "dl1"),
    ("  of which rtether relay", lambda r: g(r, "dl1", "relay_cpu_pct"), "%.0f", "dl1"),
    ("Translator CPU % during 4-stream download", lambda r: g(r, "dl4", "cpu_pct"), "%.0f", "dl4"),
    ("Translator CPU % during upload", lambda r: g(r, "ul1", "cpu_pct"), "%.0f", "ul1"),
    ("Translator CPU % during connection test", lambda r: g(r, "cps", "cpu_pct"), "%.0f", "cps"),
    ("Translator CPU ms per 1,000 connections",
     lambda r: (g(r, "cps", "cpu_pct") * 10000.0 / g(r, "cps", "cps"))
     if g(r, "cps", "cpu_pct") is not None and g(r, "cps", "cps") else None, "%.0f", "cps"),
    ("Load generator CPU % (client / server) in connection test",
     lambda r: (g(r, "cps", "client_cpu_pct"), g(r, "cps", "server_cpu_pct"))
     if g(r, "cps", "client_cpu_pct") is not None else None, "%.0f / %.0f", "cps"),
    ("Translator RSS at start (MiB)", lambda r: r.get("rss_start_mib"), "%.1f", None),
    ("Translator peak RSS after connection test (MiB)", lambda r: r.get("hwm_after_cps_mib"), "%.1f", None),
    ("Translator RSS with N connections open (MiB)",
     lambda r: sum(v for v in g(r, "hold", "rss_kib").values() if v) / 1024.0
     if g(r, "hold", "rss_kib") else None, "%.1f", "hold"),
    ("  of which rtether relay (MiB)", lambda r: g(r, "hold", "relay_rss_mib"), "%.1f", "hold"),
    ("Translator peak RSS at end (MiB)", lambda r: r.get("hwm_end_mib"), "%.1f", None),
]


def build_table(results, order, hold_n):
    cols = [n for n in order if n in results]
    header = ["Metric"] + [("direct loopback" if c == "direct" else c) for c in cols]
    ratio = "rtether" in cols and "pasta" in cols
    if ratio:
        header.append("rtether÷pasta")
    rows = []
    for label, fn, fmt, key in ROWS:
        label = label.replace("N connections", "%d connections" % hold_n)
        if label.startswith("  of which") and "rtether" not in cols:
            continue
        row = [label]
        vals = {}
        for c in cols:
            r = results[c]
            try:
                v = fn(r)
            except (TypeError, ZeroDivisionError, KeyError):
                v = None
            vals[c] = v
            if v is None:
                row.append(cell_err(r, key) if key else ("n/a" if "error" in r else "—"))
            else:
                row.append(fmt % v)
        if ratio:
            a, b = vals.get("rtether"), vals.get("pasta")
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
                row.append("%.2f" % (a / b))
            else:
                row.append("—")
        rows.append(row)
    return header, rows


def text_table(header, rows):
    w = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    out = []
    for j, r in enumerate([header] + rows):
        out.append("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r)))
        if j == 0:
            out.append("  ".join("-" * x for x in w))
    return "\n".join(out)


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def notes(results, opts):
    n = []
    for name, r in results.items():
        if "error" in r:
            n.append("%s: %s" % (name, r["error"]))
            continue
        for k in ("dl1", "dl4", "ul1", "cps", "udp", "hold"):
            v = r.get(k)
            if isinstance(v, dict) and "error" in v:
                n.append("%s %s: %s" % (name, k, v["error"]))
        c = r.get("cps")
        if isinstance(c, dict) and c.get("errors"):
            n.append("%s connection test: %d failed connections (last: %s)" % (
                name, c["errors"], c.get("last_err")))
        u = r.get("udp")
        if isinstance(u, dict) and u.get("lost"):
            n.append("%s UDP: %d of %d requests lost" % (name, u["lost"], u["lost"] + u["n"]))
        h = r.get("hold")
        if isinstance(h, dict) and "opened" in h and h["opened"] < opts.hold:
            n.append("%s: only %d of %d held connections opened (last error: %s)" % (
                name, h["opened"], opts.hold, h.get("last_err")))
        if r.get("alive_at_end") is False:
            n.append("%s: a translator process exited during the run" % name)
        if r.get("mode"):
            n.append("%s ran in %s mode, peer %s" % (name, r["mode"], r.get("peer")))
    return n


def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
    except OSError:
        load = "?"
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "loadavg_end": load,
            "kernel": platform.release(), "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version()}


def versions(opts):
    v = {}
    for name, cmd in (("iperf3", ["iperf3", "--version"]),
                      ("slirp4netns", ["slirp4netns", "--version"])):
        try:
            v[name] = run(cmd).stdout.splitlines()[0].strip()
        except Exception:  # noqa: BLE001
            v[name] = "?"
    try:
        v["pasta"] = run(["dpkg-query", "-W", "-f", "${Version}", "passt"]).stdout.strip()
    except Exception:  # noqa: BLE001
        v["pasta"] = "?"
    if opts.rtether:
        try:
            r = run([opts.rtether, "--version"])
            v["rtether"] = (r.stdout or r.stderr).strip().splitlines()[0] if r.returncode == 0 else opts.rtether
        except Exception:  # noqa: BLE001
            v["rtether"] = opts.rtether
    return v


# ---------------------------------------------------------------------------

def main():
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rtether", help="path to the rtether binary")
    ap.add_argument("--only", default="rtether,rtether-tcp,pasta,slirp4netns",
                    help="comma list of translators (rtether,pasta,slirp4netns)")
    ap.add_argument("--no-direct", action="store_true",
                    help="skip the direct host-loopback baseline column")
    ap.add_argument("--quick", action="store_true", help="2 s per test instead of 6 s")
    ap.add_argument("--seconds", type=int, help="seconds per throughput/connection test")
    ap.add_argument("--mtu", type=int, default=65520, help="MTU for every translator")
    ap.add_argument("--rtether-mode", choices=["auto", "separate", "shell"], default="auto",
                    help="separate: relay + client --netns (default, falls back to shell)")
    ap.add_argument("--rtether-link", choices=["tcp", "unix"], default="unix",
                    help="relay link in separate mode (TCP 127.0.0.1 or abstract UNIX)")
    ap.add_argument("--cps-workers", type=int, default=16,
                    help="concurrent connections in the connection-rate client")
    ap.add_argument("--udp-count", type=int, default=None, help="UDP requests (default 2000)")
    ap.add_argument("--hold", type=int, default=1500,
                    help="connections held open for the RSS test (0 = skip)")
    ap.add_argument("--markdown", help="write the table (and notes) as Markdown to FILE")
    ap.add_argument("--json", help="write raw results as JSON to FILE")
    ap.add_argument("--logdir", help="directory for translator logs (default: temp dir)")
    ap.add_argument("-v", "--verbose", action="store_true")
    opts = ap.parse_args()
    VERBOSE = opts.verbose

    if os.geteuid() != 0:
        sys.exit("run.py needs root (network namespaces): sudo python3 bench/run.py ...")
    for tool in ("ip", "iperf3", "nsenter"):
        if not shutil.which(tool):
            sys.exit("missing tool: %s" % tool)
    names = [n.strip() for n in opts.only.split(",") if n.strip()]
    for n in names:
        if n not in ENV_CLASSES:
            sys.exit("unknown translator %r (choose from %s)" % (n, ", ".join(ENV_CLASSES)))
    if opts.seconds is None:
        opts.seconds = 2 if opts.quick else 6
    if opts.udp_count is None:
        opts.udp_count = 500 if opts.quick else 2000
    if opts.rtether:
        opts.rtether = os.path.abspath(opts.rtether)
    tmp_logdir = not opts.logdir
    if tmp_logdir:
        import tempfile
        opts.logdir = tempfile.mkdtemp(prefix="rtether-bench-")
    os.makedirs(opts.logdir, exist_ok=True)
    raise_nofile()

    # SIGTERM -> clean exit through the finally blocks.
    def on_term(*_):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)

    with open("/proc/loadavg") as f:
        load_start = " ".join(f.read().split()[:3])
    servers = []
    results = {}
    order = ([] if opts.no_direct else ["direct"]) + [
        n for n in ("rtether", "rtether-tcp", "pasta", "slirp4netns") if n in names]
    try:
        opts.tcp_port = free_port()
        opts.probe_port = opts.tcp_port
        opts.udp_port = free_port(socket.SOCK_DGRAM)
        for kind, port in (("tcpserver", opts.tcp_port), ("udpecho", opts.udp_port)):
            p = subprocess.Popen(helper_cmd(kind, port), stdout=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL, text=True)
            servers.append(p)
            if p.stdout.readline().strip() != "LISTENING":
                sys.exit("could not start the %s helper" % kind)
        tcp_server_pid = servers[0].pid
        log("servers on 127.0.0.1: tcp %d, udp %d; %d s per test; logs in %s" % (
            opts.tcp_port, opts.udp_port, opts.seconds, opts.logdir))
        for name in order:
            env = DirectEnv(opts) if name == "direct" else ENV_CLASSES[name](opts)
            log("=== %s" % name)
            results[name] = bench_env(env, opts, tcp_server_pid)
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
    finally:
        for p in servers:
            kill_proc(p, 1)

    header, rows = build_table(results, order, opts.hold)
    info = machine_info()
    vers = versions(opts)
    nts = notes(results, opts)
    print()
    info["loadavg_start"] = load_start
    print("rtether benchmark, %s, %s (%d cores), kernel %s, load average %s at start, %s at end" % (
        info["date"], info["cpu"], info["cores"], info["kernel"], load_start, info["loadavg_end"]))
    print("%d s per throughput/connection test, MTU %d, %d connection workers, "
          "%d UDP requests, %d held connections" % (
              opts.seconds, opts.mtu, opts.cps_workers, opts.udp_count, opts.hold))
    print()
    print(text_table(header, rows))
    if nts:
        print()
        for x in nts:
            print("note:", x)
    cmdline = "sudo python3 bench/run.py " + " ".join(sys.argv[1:])
    if opts.markdown:
        with open(opts.markdown, "w") as f:
            f.write("Measured %s on %s (%d cores), kernel %s; load average %s at start, "
                    "%s at end.\n\n" % (info["date"], info["cpu"], info["cores"], info["kernel"],
                                         load_start, info["loadavg_end"]))
            f.write("Command: `%s`\n\n" % cmdline)
            f.write("Versions: %s\n\n" % ", ".join("%s %s" % kv for kv in vers.items()))
            f.write("%d s per throughput/connection test, MTU %d, %d connection workers, "
                    "%d UDP requests, %d held connections.\n\n" % (
                        opts.seconds, opts.mtu, opts.cps_workers, opts.udp_count, opts.hold))
            f.write(md_table(header, rows) + "\n")
            if nts:
                f.write("\n" + "\n".join("- " + x for x in nts) + "\n")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"machine": info, "versions": vers, "command": cmdline,
                       "options": {k: v for k, v in vars(opts).items()},
                       "results": results, "table": {"header": header, "rows": rows},
                       "notes": nts}, f, indent=2, default=str)
    if tmp_logdir and not nts_errors(results):
        shutil.rmtree(opts.logdir, ignore_errors=True)
    else:
        print("logs: %s" % opts.logdir)
    return 0


def nts_errors(results):
    for r in results.values():
        if "error" in r or r.get("alive_at_end") is False:
            return True
        if any(isinstance(v, dict) and "error" in v for v in r.values()):
            return True
    return False


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_helper":
        try:
            helper_main(sys.argv[2:])
        except KeyboardInterrupt:
            pass
        sys.exit(0)
    sys.exit(main())
