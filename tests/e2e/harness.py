"""Shared helpers for rtether end-to-end tests: the `Env` (a network
namespace of its own, whose name includes the PID, a relay on a free loopback
port or an abstract UNIX socket, and an `rtether client` that puts the tun
into the namespace), the relay launchers (`LinuxRelay`, the binary under test;
`WineRelay`, the Windows rtether.exe under Wine), the processes it starts and
the host servers (threads in the test process). conftest.py turns them into
pytest fixtures, which remove everything they made (namespace,
/etc/netns/NAME, processes, temp files) even on failure and show relay and
client logs when a test fails.

Only loopback (host servers on 127.0.0.1, reached from the namespace through
10.0.2.2) and namespaces created here are ever touched.

Environment knobs:
  RTETHER_E2E_VERBOSE=1   run relay and client with -v (debug logs)
  RTETHER_E2E_KEEP=1      keep the temp directory with logs
"""

import hashlib
import http.server
import json
import os
import random
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

TUN = "rtether0"
DEVICE_ADDRESS = "10.0.0.2"
HOST_ALIAS = "10.0.2.2"  # the relay dials 127.0.0.1 instead

_counter = 0


class TestFailure(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def unique_name(prefix="rte2e"):
    global _counter
    _counter += 1
    return f"{prefix}-{os.getpid()}-{_counter}"


def free_tcp_port():
    """A port nobody listens on right now on 127.0.0.1 (bind to 0, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, timeout=30, check_rc=True, input=None, capture=True):
    """Runs a command on the host; returns CompletedProcess (text)."""
    try:
        result = subprocess.run(args, input=input, timeout=timeout, text=True,
                                stdout=subprocess.PIPE if capture else None,
                                stderr=subprocess.PIPE if capture else None)
    except subprocess.TimeoutExpired as e:
        raise TestFailure(f"command timed out after {timeout}s: {args}\n"
                          f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}")
    if check_rc and result.returncode != 0:
        raise TestFailure(f"command failed ({result.returncode}): {args}\n"
                          f"stdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def netns_list():
    out = run(["ip", "netns", "list"]).stdout
    return sorted(line.split()[0] for line in out.splitlines() if line.strip())


def deterministic_bytes(size, seed):
    return random.Random(seed).randbytes(size)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def _tail(path, lines=150):
    try:
        with open(path, "r", errors="replace") as f:
            content = f.read().splitlines()
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    if len(content) > lines:
        return "\n".join([f"... ({len(content) - lines} earlier lines cut)"] + content[-lines:])
    return "\n".join(content)


def _tcp_listening(port):
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state = fields[1], fields[3]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


def _unix_listening(path):
    # /proc/net/unix: "... Flags Type St Inode Path"; abstract names show as @name.
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            fields = line.split()
            if len(fields) >= 8 and fields[7] == path and fields[5] == "01":
                return True
    return False


class Proc:
    """A subprocess started by the test, stdout+stderr captured to a file.
    `stop_signal` is the signal that asks it to exit cleanly."""

    def __init__(self, name, args, log_path, env=None, stop_signal=signal.SIGTERM,
                 stdin=subprocess.DEVNULL):
        self.name = name
        self.args = args
        self.log_path = log_path
        self.stop_signal = stop_signal
        self.log_file = open(log_path, "wb")
        self.started = time.monotonic()
        self.popen = subprocess.Popen(args, stdout=self.log_file, stderr=subprocess.STDOUT,
                                      stdin=stdin, env=env)
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def returncode(self):
        return self.popen.poll()

    def stop(self, sig=None, timeout=10):
        """Sends `sig` (by default `stop_signal`) to our own child (by PID) and
        waits; SIGKILL if stuck.

        Returns (returncode, seconds_to_exit, was_killed)."""
        sig = sig or self.stop_signal
        if self.popen.poll() is not None:
            return self.popen.returncode, 0.0, False
        t0 = time.monotonic()
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass
        try:
            rc = self.popen.wait(timeout=timeout)
            return rc, time.monotonic() - t0, False
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            rc = self.popen.wait(timeout=10)
            return rc, time.monotonic() - t0, True

    def close(self):
        if self.popen.poll() is None:
            self.stop(signal.SIGKILL, timeout=5)
        try:
            self.log_file.close()
        except OSError:
            pass

    def log_lines(self, needle):
        return [l for l in _tail(self.log_path, 100000).splitlines() if needle in l]

    def log_text(self, lines=150):
        if not self.log_file.closed:
            self.log_file.flush()
        return _tail(self.log_path, lines)


class LinuxRelay:
    """Starts the relay from the Linux rtether binary under test."""

    stop_signal = signal.SIGTERM
    environment = None  # the test's own

    def __init__(self, rtether):
        self.rtether = rtether

    def command(self, args):
        return [self.rtether] + list(args)


class WineRelay:
    """Starts the relay from the Windows rtether.exe under Wine
    (tests/e2e/wine/): `wine rtether.exe ARGS` in the `environment` of a Wine
    session (its WINEPREFIX, whose wineserver already runs). Its sockets are
    the kernel's, so it listens on 127.0.0.1 like the Linux relay.

    Wine turns SIGINT into CTRL_C_EVENT for the handlers a console program
    registers with SetConsoleCtrlHandler, the clean stop on Windows; SIGTERM
    would end the process at once (exit status 143)."""

    stop_signal = signal.SIGINT

    def __init__(self, exe, environment):
        self.exe = exe
        self.environment = environment

    def command(self, args):
        return ["wine", self.exe] + list(args)


class Env:
    """One namespace + relay + client. Use as a context manager. The relay is
    started by `relay_launcher` (a `LinuxRelay` of `rtether` unless given).

    `transport`: "tcp" or "unix", the stream between relay and client; or
    "direct", `rtether relay --netns NS` (direct mode: the relay opens the
    tun in the namespace itself, no client process), which then also brings
    the tun up and takes it away (client_args have nothing to apply to)."""

    def __init__(self, rtether, transport="tcp", mtu=None, client=True, relay=True,
                 client_args=(), relay_args=(), relay_launcher=None):
        self.rtether = os.path.abspath(rtether)
        self.relay_launcher = relay_launcher or LinuxRelay(self.rtether)
        self.transport = transport
        self.direct = transport == "direct"
        if self.direct and client_args:
            raise TestFailure(f"direct mode has no client for client_args {list(client_args)}")
        self.mtu = mtu
        self.want_client = client and not self.direct
        self.want_relay = relay
        self.client_args = list(client_args)
        self.relay_args = list(relay_args)
        self.ns = unique_name()
        self.tmp = tempfile.mkdtemp(prefix=f"{self.ns}-")
        self.procs = []
        self.relay = None
        self.client = None
        self.port = None
        self.unix_name = None
        self.ns_created = False
        self.teardown_problems = []
        self.verbose = os.environ.get("RTETHER_E2E_VERBOSE") == "1"

    # --- lifecycle -------------------------------------------------------
    def __enter__(self):
        try:
            self.setup()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False

    def setup(self):
        run(["ip", "netns", "add", self.ns])
        self.ns_created = True
        run(["ip", "-n", self.ns, "link", "set", "lo", "up"])
        if self.want_relay:
            self.start_relay()
        if self.want_client:
            self.start_client()
            self.wait_tun()

    def relay_address(self):
        if self.transport == "unix":
            return f"unix:@{self.unix_name}"
        return f"127.0.0.1:{self.port}"

    def _base(self):
        return [self.rtether] + (["-v"] if self.verbose else [])

    def direct_args(self):
        """The relay's options in direct mode: the namespace and the MTU."""
        return ["--netns", self.ns] + (["--mtu", str(self.mtu)] if self.mtu else [])

    def start_relay(self, port=None, log_name=None):
        """Starts (or restarts, on the same port/socket) the relay; waits until it
        listens, or in direct mode until its tun is up."""
        if self.direct:
            listen = self.direct_args()
        elif self.transport == "unix":
            if self.unix_name is None:
                self.unix_name = unique_name("rtether-e2e")
            listen = ["--unix", "@" + self.unix_name, "--no-tcp"]
        else:
            if port is not None:
                self.port = port
            if self.port is None:
                self.port = free_tcp_port()
            listen = ["-p", str(self.port)]
        launcher = self.relay_launcher
        args = launcher.command((["-v"] if self.verbose else []) + ["relay"] + listen
                                + self.relay_args)
        n = sum(1 for p in self.procs if p.name.startswith("relay"))
        name = log_name or ("relay" if n == 0 else f"relay#{n + 1}")
        proc = Proc(name, args, os.path.join(self.tmp, f"{name}.log"),
                    env=launcher.environment, stop_signal=launcher.stop_signal)
        self.procs.append(proc)
        self.relay = proc
        if self.direct:
            self.wait_tun()
            return proc
        deadline = time.monotonic() + 10
        while True:
            if not proc.alive():
                raise TestFailure(f"relay exited early with {proc.returncode()}: {args}")
            if self.transport == "unix":
                if _unix_listening("@" + self.unix_name):
                    break
            elif _tcp_listening(self.port):
                break
            if time.monotonic() > deadline:
                raise TestFailure(f"relay not listening after 10 s: {args}")
            time.sleep(0.05)
        return proc

    def start_client(self):
        args = self._base() + ["client", "--relay", self.relay_address(), "--netns", self.ns]
        if self.mtu:
            args += ["--mtu", str(self.mtu)]
        args += self.client_args
        proc = Proc("client", args, os.path.join(self.tmp, "client.log"))
        self.procs.append(proc)
        self.client = proc
        return proc

    def wait_tun(self, timeout=10):
        deadline = time.monotonic() + timeout
        last = ""
        # The process that brings the tun up: the relay in direct mode.
        carrier = self.relay if self.direct else self.client
        while time.monotonic() < deadline:
            if carrier is not None and not carrier.alive():
                raise TestFailure(f"{carrier.name} exited early with {carrier.returncode()}")
            r = run(["ip", "-n", self.ns, "-j", "addr", "show", "dev", TUN], check_rc=False)
            last = r.stdout + r.stderr
            if r.returncode == 0:
                try:
                    links = json.loads(r.stdout or "[]")
                except ValueError:
                    links = []
                for link in links:
                    up = "UP" in link.get("flags", [])
                    for a in link.get("addr_info", []):
                        if a.get("local") == DEVICE_ADDRESS and up:
                            routes = run(["ip", "-n", self.ns, "route", "show"],
                                         check_rc=False).stdout
                            if "default" in routes or "0.0.0.0/0" in routes:
                                return link
            time.sleep(0.05)
        raise TestFailure(f"tun {TUN} with {DEVICE_ADDRESS} (up, default route) not "
                          f"configured in {self.ns} within {timeout}s; last: {last.strip()}")

    def _stop(self, proc, label, expect_rc):
        if proc is None:
            return None
        rc, secs, killed = proc.stop(timeout=10)
        sig = signal.Signals(proc.stop_signal).name
        if killed:
            self.teardown_problems.append(f"{label} did not exit within 10 s of {sig} (killed)")
        elif expect_rc is not None and rc != expect_rc:
            self.teardown_problems.append(f"{label} exited with {rc} on {sig} (expected {expect_rc})")
        return rc

    def stop_client(self, expect_rc=0):
        return self._stop(self.client, "client", expect_rc)

    def stop_relay(self, expect_rc=0):
        return self._stop(self.relay, "relay", expect_rc)

    def session_counters(self, timeout=10):
        """Stops the client (in direct mode the relay, whose session closes
        with it) and returns the relay's counters of its session as
        {name: value}, from the line the relay logs when a client leaves:
        "client N closed (REASON): name=value ..." (non-zero ones only). In
        direct mode the device may be several sessions, one per queue of a
        multi-queue tun: their sum, which the relay logs as it stops, "relay
        stopped: name=value ..."."""
        if self.direct:
            self.stop_relay()
            closed = [line for line in self.relay.log_lines("relay stopped") if ": " in line]
            check(closed, "the relay logged no totals as it stopped")
        else:
            self.stop_client()
        deadline = time.monotonic() + timeout
        while not self.direct:
            closed = [line for line in self.relay.log_lines("client ") if " closed (" in line]
            if closed:
                break
            check(time.monotonic() < deadline, f"the relay logged no closed session within "
                                               f"{timeout} s of the client's exit")
            time.sleep(0.05)
        summary = closed[-1].split(": ", 1)[1] if self.direct else closed[-1].split("): ", 1)[1]
        pairs = [field.split("=", 1) for field in summary.split() if "=" in field]
        return {name: int(value) for name, value in pairs}

    def _check_device_gone(self, owner):
        """After the tun's owner (client, or the relay in direct mode) exited."""
        if self.ns_created:
            r = run(["ip", "-n", self.ns, "link", "show", TUN], check_rc=False)
            if r.returncode == 0:
                self.teardown_problems.append(f"tun {TUN} still present in {self.ns} "
                                              f"after {owner} exit")
        if os.path.exists(f"/etc/netns/{self.ns}/resolv.conf"):
            self.teardown_problems.append(f"/etc/netns/{self.ns}/resolv.conf left "
                                          f"behind by the {owner}")

    def teardown(self):
        # Client first (it owns the tun and /etc/netns/NS/resolv.conf), then relay
        # (the owner in direct mode).
        if self.client is not None and self.client.alive():
            self.stop_client()
            self._check_device_gone("client")
        if self.relay is not None and self.relay.alive():
            self.stop_relay()
            if self.direct:
                self._check_device_gone("relay")
        for p in self.procs:
            p.close()
        if self.ns_created:
            run(["ip", "netns", "del", self.ns], check_rc=False)
            self.ns_created = False
        shutil.rmtree(f"/etc/netns/{self.ns}", ignore_errors=True)

    def log_report(self):
        """Teardown problems and the log of every process started, as text."""
        parts = [f"teardown problem: {problem}" for problem in self.teardown_problems]
        for p in self.procs:
            rc = p.returncode()
            parts.append(f"----- {p.name} log ({' '.join(p.args)}; "
                         f"{'running' if rc is None else f'exit {rc}'}) -----")
            parts.append(p.log_text())
        return "\n".join(parts)

    def cleanup_tmp(self):
        if os.environ.get("RTETHER_E2E_KEEP") == "1":
            print(f"(logs kept in {self.tmp})")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- running things in the namespace ---------------------------------
    def ns_run(self, args, timeout=60, check_rc=True, input=None):
        return run(["ip", "netns", "exec", self.ns] + list(args), timeout=timeout,
                   check_rc=check_rc, input=input)

    def ns_python(self, code, args=(), timeout=60, check_rc=True, input=None):
        """Runs python3 code inside the namespace; returns the parsed last stdout
        line as JSON if it parses, else the CompletedProcess."""
        r = self.ns_run(["python3", "-c", code] + [str(a) for a in args], timeout=timeout,
                        check_rc=check_rc, input=input)
        return r

    def ns_python_json(self, code, args=(), timeout=60, input=None):
        r = self.ns_python(code, args, timeout=timeout, check_rc=False, input=input)
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        if r.returncode != 0 or not lines:
            raise TestFailure(f"python in namespace failed (rc {r.returncode})\n"
                              f"stdout: {r.stdout[-4000:]}\nstderr: {r.stderr[-4000:]}")
        try:
            return json.loads(lines[-1])
        except ValueError:
            raise TestFailure(f"python in namespace printed no JSON: {r.stdout[-4000:]}")

    def curl(self, args, timeout=120, check_rc=True):
        cmd = ["curl", "--noproxy", "*", "-sS", "--max-time", str(timeout - 5)] + list(args)
        return self.ns_run(cmd, timeout=timeout, check_rc=check_rc)

    def assert_alive(self):
        if self.relay is not None:
            check(self.relay.alive(), f"relay died (exit {self.relay.returncode()})")
        if self.client is not None:
            check(self.client.alive(), f"client died (exit {self.client.returncode()})")


# --- host servers (threads in the test process, on 127.0.0.1) --------------

class _ThreadingHTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    errors = None

    def handle_error(self, request, client_address):
        # Recorded, not printed: an aborted client (curl --max-time) is normal in
        # some tests; tests that care look at `errors`.
        if self.errors is None:
            self.errors = []
        self.errors.append(f"{client_address}: {sys.exc_info()[0].__name__}: {sys.exc_info()[1]}")


class HttpServer:
    """GET / serves `body`; PUT/POST (any path) store the SHA-256 of the request
    body (Content-Length or chunked) in `uploads` and answer it as text.
    `gate`: called by each GET before it answers (a threading.Barrier's wait,
    so that many downloads start at once)."""

    def __init__(self, body=b"hello from the host\n", read_delay=0.0, gate=None):
        self.body = body
        self.read_delay = read_delay  # seconds to sleep per 64 KiB read of an upload
        self.gate = gate
        self.uploads = []
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                outer.requests.append(fmt % args)

            def do_GET(self):
                if outer.gate is not None:
                    outer.gate()
                body = outer.body
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                view = memoryview(body)
                for i in range(0, len(body), 1 << 20):
                    self.wfile.write(view[i:i + (1 << 20)])

            def _read_body(self):
                h = hashlib.sha256()
                total = 0
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    while True:
                        line = self.rfile.readline()
                        size = int(line.split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            break
                        left = size
                        while left:
                            chunk = self.rfile.read(min(left, 1 << 20))
                            if not chunk:
                                raise ConnectionError("EOF inside chunk")
                            h.update(chunk)
                            total += len(chunk)
                            left -= len(chunk)
                        self.rfile.readline()
                else:
                    left = int(self.headers.get("Content-Length", "0"))
                    while left:
                        if outer.read_delay:
                            time.sleep(outer.read_delay)
                        chunk = self.rfile.read(min(left, 1 << 16 if outer.read_delay else 1 << 20))
                        if not chunk:
                            raise ConnectionError(f"EOF with {left} bytes still expected")
                        h.update(chunk)
                        total += len(chunk)
                        left -= len(chunk)
                return total, h.hexdigest()

            def do_PUT(self):
                total, digest = self._read_body()
                outer.uploads.append((total, digest))
                reply = f"{total} {digest}\n".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_POST = do_PUT

        self.server = _ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class UdpEchoServer:
    """Echoes every datagram back to its sender, on `host` (127.0.0.1 or ::1)."""

    def __init__(self, host="127.0.0.1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.received = []  # sizes
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.received.append(len(data))
            try:
                self.sock.sendto(data, peer)
            except OSError:
                pass

    def close(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


class TcpServer:
    """Accept loop on `host` (127.0.0.1 or ::1); `handler(conn, addr)` runs in
    a thread per connection (conn is closed after it returns). Results and
    exceptions of handlers are collected in `results` / `errors`."""

    def __init__(self, handler, host="127.0.0.1", backlog=1024):
        self.handler = handler
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.results = []
        self.errors = []
        self.accepted = 0
        self.lock = threading.Lock()
        self.stopping = False
        self.threads = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                conn, addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.accepted += 1
            t = threading.Thread(target=self._serve, args=(conn, addr), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, conn, addr):
        conn.settimeout(60)
        try:
            result = self.handler(conn, addr)
            with self.lock:
                self.results.append(result)
        except Exception as e:  # noqa: BLE001
            with self.lock:
                self.errors.append(f"{type(e).__name__}: {e}")
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def wait_results(self, count, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.results) + len(self.errors) >= count:
                    return True
            time.sleep(0.05)
        return False

    def close(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


def echo_handler(conn, addr):
    total = 0
    while True:
        data = conn.recv(65536)
        if not data:
            break
        conn.sendall(data)
        total += len(data)
    return total
