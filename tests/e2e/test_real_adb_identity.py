"""One identity per device, with Debian's real adb server and two virtual
phones under `rtether autorun`: each phone's reverse tunnel goes to a relay
port of its own, so the relay names each client by its adb serial (the
status shows one line per serial, with the model adb lists); `--forward HOSTPORT:DEVICEPORT@SERIAL`
reaches the phone named, not the most recent one; `--outbound-address
SERIAL=ADDR` gives each phone's host sockets their own source address
(127.0.0.2, 127.0.0.3: all of 127/8 is this host's), as a server on
127.0.0.1 sees it; and a phone unplugged and plugged back keeps its
totals, its egress and counts the reconnect."""

import re
import socket
import subprocess
import sys
import threading
import time

import pytest

import harness
from harness import check
from adb_env import reverse_port, start_autorun, stop_cleanly, wait_log, wait_streams

DEVICE_PORT = 7000
PADDING = 20000  # bytes after the serial: a change the status' rounded totals show
# Inside a phone's namespace: answers each of N connections on PORT with
# TEXT, a newline and PADDING bytes, then exits (bounded: 30 s without a
# connection ends it).
SERIAL_SERVER = (
    "import socket, sys\n"
    "s = socket.socket()\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('0.0.0.0', int(sys.argv[1])))\n"
    "s.listen(4)\n"
    "s.settimeout(30)\n"
    "print('listening', flush=True)\n"
    "for _ in range(int(sys.argv[3])):\n"
    "    c, _ = s.accept()\n"
    "    c.sendall(sys.argv[2].encode() + b'\\n' + b'x' * int(sys.argv[4]))\n"
    "    c.close()\n")


class PeerAddressServer:
    """A TCP server on 127.0.0.1 that answers with the peer's address."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                conn, peer = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                conn.sendall(peer[0].encode())

    def close(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


def source_seen(phone, server):
    """The source address the host server saw for the phone's connection to
    10.0.2.2 (the host's loopback)."""
    r = phone.ns_run([sys.executable, "-c", ASK_SOURCE, harness.HOST_ALIAS, str(server.port)],
                     timeout=20, check_rc=False)
    return r.stdout.strip()


ASK_SOURCE = (
    "import socket, sys\n"
    "s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)\n"
    "print(s.recv(100).decode())\n")


def serve_serial(phone, connections):
    """A server on DEVICE_PORT in the phone's namespace that answers with
    the phone's serial, once it listens."""
    server = subprocess.Popen(["ip", "netns", "exec", phone.ns, sys.executable, "-c",
                               SERIAL_SERVER, str(DEVICE_PORT), phone.serial, str(connections),
                               str(PADDING)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    check(line.strip() == "listening", f"{phone.serial}'s server: {line!r} "
                                       f"{server.stderr.read() if server.poll() is not None else ''}")
    return server


def answer_at(port):
    """The first line of what the forward on 127.0.0.1:`port` answers, once
    all of it came."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.settimeout(10)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                check(len(data) > PADDING, f"forward {port}: {len(data)} bytes")
                return data.decode(errors="replace").split("\n", 1)[0]
            data += chunk


UNITS = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def totals(proc, serial):
    """(bytes to the device, from it) of the last totals line of `serial`,
    as the status logged them (decimal units, rounded)."""
    lines = proc.log_lines(f"device {serial}: ")
    for line in reversed(lines):
        m = re.search(r"down ([0-9.]+) (B|kB|MB|GB) .*, up ([0-9.]+) (B|kB|MB|GB) ", line)
        if m:
            return (float(m.group(1)) * UNITS[m.group(2)], float(m.group(3)) * UNITS[m.group(4)])
    return None


def wait_totals(proc, serial, at_least, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        now = totals(proc, serial)
        if now and now[0] >= at_least[0] and now[1] >= at_least[1]:
            return now
        check(time.monotonic() < deadline, f"{serial}'s totals {now}, expected at least "
                                           f"{at_least}:\n{proc.log_text()}")
        time.sleep(0.1)


@pytest.mark.timeout(90)
def test_autorun_names_each_phone_by_serial_and_forwards_to_the_one_named(phone_farm):
    first = phone_farm.add_phone(installed=9, model="Phone_One")
    second = phone_farm.add_phone(installed=9, model="Phone_Two")
    to_first, to_second = harness.free_tcp_port(), harness.free_tcp_port()
    proc, port = start_autorun(phone_farm, (first, second), [
        "--status-interval", "1",
        "--forward", f"tcp:{to_first}:{DEVICE_PORT}@{first.serial}",
        "--forward", f"tcp:{to_second}:{DEVICE_PORT}@{second.serial}",
        "--outbound-address", f"{first.serial}=127.0.0.2",
        "--outbound-address", f"{second.serial}=127.0.0.3"])
    # Each tunnel has a relay port of its own, labelled with the serial.
    ports = {phone.serial: reverse_port(phone) for phone in (first, second)}
    check(len(set(ports.values())) == 2 and port not in ports.values(),
          f"reverse tunnel ports {ports} (base {port})")
    for phone in (first, second):
        own = ports[phone.serial]
        check(proc.log_lines(f"relay listening on 127.0.0.1:{own} for device {phone.serial}"),
              f"no listener for {phone.serial}:\n{proc.log_text()}")
        wait_log(proc, f"device {phone.serial}: connected, flows")
        # The model from the server's track-devices-l (the phone's banner).
        wait_log(proc, f"device {phone.serial} is a {phone.model}")
    check(len(proc.log_lines("connected (device ")) == 2,
          f"two clients with serials expected:\n{proc.log_text()}")
    check(not [line for line in proc.log_lines("client ") if ": flows " in line],
          f"a client without a serial has a status line:\n{proc.log_text()}")

    # The second phone connected last, yet @SERIAL picks each one.
    servers = [serve_serial(first, 2), serve_serial(second, 1)]
    peer_server = PeerAddressServer()
    try:
        check(source_seen(first, peer_server) == "127.0.0.2", "the first phone's egress")
        check(source_seen(second, peer_server) == "127.0.0.3", "the second phone's egress")
        check(answer_at(to_first) == first.serial, "the forward to the first phone's serial")
        check(answer_at(to_second) == second.serial, "the forward to the second phone's serial")
        # The answer went up from the phone: in its device's totals.
        before = wait_totals(proc, first.serial, (1, PADDING))

        # Unplugged and plugged back: the same port again, a new client of
        # the same serial, counted as a reconnect; the totals stay.
        first.unplug()
        wait_log(proc, f"device {first.serial} gone")
        first.plug()
        wait_log(proc, f"device {first.serial} started", count=2)
        wait_streams(first, 2)
        check(reverse_port(first) == ports[first.serial], "a new port after the replug")
        wait_log(proc, f"(device {first.serial}, reconnect 1)")
        wait_log(proc, "reconnects 1")
        check(answer_at(to_first) == first.serial, "the forward after the replug")
        check(source_seen(first, peer_server) == "127.0.0.2", "the egress after the replug")
        # Totals survive the reconnect: the first client's bytes, and more.
        wait_totals(proc, first.serial, (before[0], before[1] + PADDING))
    finally:
        peer_server.close()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    check([line for line in proc.log_lines(f"device {first.serial}: connected")
           if "reconnects 1" in line], f"no totals line counting the reconnect:\n{proc.log_text()}")
    check(not [line for line in proc.log_lines(f"device {second.serial}: ")
               if "reconnects 1" in line], "the second phone counted a reconnect")
    stop_cleanly(proc)
