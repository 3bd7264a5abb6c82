"""A test management UI behaving like ics-openvpn (OpenVPN for Android), for
the end-to-end tests of `rtether client --management`: Python's
socket.sendmsg/recvmsg with SCM_RIGHTS, and a real tun built inside the
test's namespace by a short helper process (`ip netns exec NS python3 -c`)
that hands the tun fd back over a UNIX socket, as VpnService.establish()
hands one to the app."""

import array
import os
import select
import socket
import subprocess
import tempfile
import time

from harness import TestFailure, check

# Runs inside the namespace: creates the tun, configures it with ip(8), sends
# the fd to the UNIX socket argv[1], exits (the tun lives on in the fd).
_TUN_HELPER = r'''
import array, fcntl, json, os, socket, struct, subprocess, sys
path, name, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", name.encode(), 0x0001 | 0x1000))
def ip(*a):
    subprocess.run(["ip"] + list(a), check=True)
ip("link", "set", name, "mtu", str(config["mtu"]), "up")
for a in config["addresses"]:
    ip("addr", "add", a, "dev", name)
for r in config["routes"]:
    ip("-6" if ":" in r else "-4", "route", "replace", r, "dev", name)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendmsg([b"t"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
s.close()
'''


def make_tun(ns, name, config, timeout=10):
    """Builds tun `name` in namespace `ns`; returns its fd (ours to close)."""
    import json
    path = tempfile.mktemp(prefix="rtether-tunhelper-")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.settimeout(timeout)
    try:
        helper = subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", _TUN_HELPER, path,
                                 name, json.dumps(config)], capture_output=True, text=True,
                                timeout=timeout)
        if helper.returncode != 0:
            raise TestFailure(f"tun helper failed: {helper.stderr}")
        conn, _ = server.accept()
        with conn:
            _, ancillary, _, _ = conn.recvmsg(1, socket.CMSG_SPACE(4))
        fds = array.array("i")
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:4])
        check(len(fds) == 1, "tun helper sent no fd")
        return fds[0]
    finally:
        server.close()
        os.unlink(path)


def netmask_bits(mask):
    return sum(bin(int(part)).count("1") for part in mask.split("."))


class TestUi:
    """One management connection. Reads lines (with their descriptors), keeps
    every line received in `lines`, and answers NEED-OKs like ics-openvpn
    unless told otherwise."""

    __test__ = False  # a helper named Test*, not a pytest test class

    def __init__(self, sock, ns=None, tun_name="mgmt0"):
        self.sock = sock
        self.ns = ns
        self.tun_name = tun_name
        self.buffer = b""
        self.pending = []  # (line, [fds]) not yet consumed
        self.lines = []
        self.eof = False
        self.config = self.new_config()
        self.current = None
        self.tuns_opened = 0
        self.protected = []  # (family, type) of each PROTECTFD socket
        self.force_persist = None  # answer PERSIST_TUN_ACTION with this instead
        self.fds_seen = []

    @staticmethod
    def new_config():
        return {"addresses": [], "routes": [], "dns": [], "mtu": 1500}

    @classmethod
    def connect(cls, path, timeout=10, **kwargs):
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return cls(s, **kwargs)
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.monotonic() > deadline:
                    raise TestFailure(f"no management socket at {path}")
                time.sleep(0.05)

    def close(self):
        self.sock.close()

    def send(self, line, fd=None):
        data = line.encode() + b"\n"
        if fd is None:
            self.sock.sendall(data)
        else:
            self.sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                        array.array("i", [fd]))])

    def _fill(self, timeout):
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return False
        data, ancillary, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(4 * 8))
        fds = []
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                a = array.array("i")
                a.frombytes(payload[:len(payload) - len(payload) % 4])
                fds.extend(a)
        if not data:
            self.eof = True
            for fd in fds:
                os.close(fd)
            return True
        self.buffer += data
        # The daemon sends a line that carries a descriptor on its own, and
        # the kernel ends a read after the message that carries descriptors:
        # they belong to the last line completed by this read.
        complete = []
        while b"\r\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            complete.append(line.decode())
        for i, text in enumerate(complete):
            self.lines.append(text)
            self.pending.append((text, fds if i == len(complete) - 1 else []))
        if not complete:  # descriptors for a line not complete yet
            for fd in fds:
                os.close(fd)
        return True

    def next_line(self, timeout=10):
        """The next line and the descriptors that came with it."""
        deadline = time.monotonic() + timeout
        while not self.pending:
            if self.eof:
                raise TestFailure(f"management connection closed; last lines: {self.lines[-8:]}")
            left = deadline - time.monotonic()
            if left <= 0 or not self._fill(left):
                raise TestFailure(f"no line from the daemon within {timeout}s; "
                                  f"last lines: {self.lines[-8:]}")
        return self.pending.pop(0)

    def expect(self, predicate, what, timeout=10, handle_needok=True):
        """Reads lines until one satisfies predicate (answering NEED-OKs on
        the way unless handle_needok is False); returns (line, fds)."""
        deadline = time.monotonic() + timeout
        while True:
            left = max(0.01, deadline - time.monotonic())
            line, fds = self.next_line(left)
            if predicate(line):
                return line, fds
            if handle_needok and line.startswith(">NEED-OK:"):
                self.answer_needok(line, fds)
            else:
                for fd in fds:
                    os.close(fd)
            if time.monotonic() > deadline:
                raise TestFailure(f"did not see {what}; last lines: {self.lines[-8:]}")

    def expect_line(self, exact, timeout=10, handle_needok=True):
        return self.expect(lambda l: l == exact, repr(exact), timeout, handle_needok)[0]

    def wait_eof(self, timeout=10):
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("management connection not closed by the daemon")
            self._fill(left)
        self.pending = []

    def greeting(self):
        line, _ = self.next_line()
        check(line == ">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info",
              f"greeting: {line!r}")

    def on_hold(self):
        self.send("hold release")
        self.send("bytecount 2")
        self.send("state on")

    @staticmethod
    def needok_type(line):
        return line.split("'")[1]

    @staticmethod
    def needok_payload(line):
        return line.split(" MSG:", 1)[1]

    def answer_needok(self, line, fds, persist=None, opentun="ok"):
        """ics-openvpn's answers; persist/opentun override them for tests."""
        kind = self.needok_type(line)
        payload = self.needok_payload(line)
        parts = payload.split()
        if kind == "IFCONFIG":
            self.config = self.new_config()
            bits = netmask_bits(parts[1]) if len(parts) > 3 and parts[3] == "subnet" else 32
            self.config["addresses"].append(f"{parts[0]}/{bits}")
            self.config["mtu"] = int(parts[2])
        elif kind == "IFCONFIG6":
            self.config["addresses"].append(parts[0])
        elif kind == "ROUTE":
            self.config["routes"].append(f"{parts[0]}/{netmask_bits(parts[1])}")
        elif kind == "ROUTE6":
            self.config["routes"].append(parts[0])
        elif kind in ("DNSSERVER", "DNS6SERVER"):
            self.config["dns"].append(payload)
        elif kind == "PERSIST_TUN_ACTION":
            action = persist or self.force_persist or (
                "NOACTION" if self.current == self.config else "OPEN_BEFORE_CLOSE")
            self.send(f"needok '{kind}' {action}")
            return
        elif kind == "OPENTUN":
            if opentun != "ok":
                self.send(f"needok '{kind}' {opentun}")
                return
            name = self.tun_name if self.tuns_opened % 2 == 0 else self.tun_name + "b"
            fd = make_tun(self.ns, name, self.config)
            self.current = self.config
            self.tuns_opened += 1
            self.send(f"needok '{kind}' ok", fd)
            os.close(fd)
            return
        elif kind == "PROTECTFD":
            check(len(fds) == 1, f"PROTECTFD came with {len(fds)} descriptors")
            sock = socket.socket(fileno=os.dup(fds[0]))
            self.protected.append((sock.family, sock.type))
            sock.close()
        for fd in fds:
            os.close(fd)
        self.send(f"needok '{kind}' ok")

    def run_to_connected(self, timeout=15):
        """From a >HOLD (already read or not): release, answer everything,
        return the CONNECTED state line."""
        return self.expect(lambda l: l.startswith(">STATE:") and ",CONNECTED," in l,
                           "CONNECTED", timeout)[0]

