"""Host -> device port forwarding: `rtether relay --forward tcp:HOSTPORT:DEVPORT`
and `udp:...`. Echo servers run inside the test's namespace (the device);
the test connects from the host to 127.0.0.1:HOSTPORT. Checked: many
concurrent TCP connections echoed byte-exact, a large one-way transfer
byte-exact both ways, UDP datagrams from many host peers echoed exactly
(boundaries kept), the same on an IPv6 host address ([::1]), a closed device
port resets the host connection, and a
forward naming a client id that is not connected resets too."""

import concurrent.futures
import hashlib
import os
import signal
import socket
import subprocess
import time

import pytest

import harness
from harness import check, log

DEVICE_TCP_PORT = 8000
DEVICE_UDP_PORT = 9000
CONNECTIONS = 64
BYTES_PER_CONNECTION = 256 << 10
UDP_PEERS = 16
UDP_SIZES = [1, 100, 1400, 8000, 30000]

# Threaded TCP echo and UDP echo inside the namespace; "ready" once listening.
DEVICE_SERVERS = r'''
import socket, sys, threading
tcp_port, udp_port = int(sys.argv[1]), int(sys.argv[2])
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", tcp_port)); t.listen(256)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
u.bind(("0.0.0.0", udp_port))
def echo(conn):
    try:
        while True:
            data = conn.recv(1 << 16)
            if not data:
                break
            conn.sendall(data)
    except OSError:
        pass
    conn.close()
def accept_loop():
    while True:
        conn, _ = t.accept()
        threading.Thread(target=echo, args=(conn,), daemon=True).start()
def udp_loop():
    while True:
        data, peer = u.recvfrom(65535)
        u.sendto(data, peer)
threading.Thread(target=accept_loop, daemon=True).start()
threading.Thread(target=udp_loop, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()  # until the test closes our stdin
'''


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DeviceServers:
    def __init__(self, env):
        self.popen = subprocess.Popen(
            ["ip", "netns", "exec", env.ns, "python3", "-c", DEVICE_SERVERS,
             str(DEVICE_TCP_PORT), str(DEVICE_UDP_PORT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.popen.stdout.readline().strip()
        if line != "ready":
            self.close()
            raise harness.TestFailure(f"device servers did not start: {line!r}")

    def close(self):
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)
        self.popen.stdin.close()
        self.popen.stdout.close()


def forwarding_env(make_env, host, transport="tcp"):
    """An env whose relay forwards a TCP and a UDP host port (on `host`) to the
    device servers, and one TCP port to client id 7 (never connected). In
    direct mode (transport="direct") the namespace's tun is client 0 too."""
    tcp_port = harness.free_tcp_port()
    udp_port = free_udp_port()
    missing_port = harness.free_tcp_port()
    while missing_port == tcp_port:
        missing_port = harness.free_tcp_port()
    bind = "[::1]:" if host == "::1" else ""
    args = ["--forward", f"tcp:{bind}{tcp_port}:{DEVICE_TCP_PORT}@0",
            "--forward", f"udp:{bind or '127.0.0.1:'}{udp_port}:{DEVICE_UDP_PORT}",
            "--forward", f"tcp:{missing_port}:{DEVICE_TCP_PORT}@7"]
    env = make_env(relay_args=args, transport=transport)
    env.forward_host = host
    env.forward_tcp = tcp_port
    env.forward_udp = udp_port
    env.forward_missing = missing_port
    return env


@pytest.fixture
def env(request, make_env):
    """Here, a `forwarding_env` on the host address given as the fixture's
    parameter, 127.0.0.1 by default; "ADDRESS/direct" for direct mode."""
    host, _, transport = getattr(request, "param", "127.0.0.1").partition("/")
    return forwarding_env(make_env, host, transport or "tcp")


@pytest.fixture
def device_servers(env):
    servers = DeviceServers(env)
    yield servers
    servers.close()


def echo_once(port, index, host="127.0.0.1"):
    data = harness.deterministic_bytes(BYTES_PER_CONNECTION, 1000 + index)
    with socket.create_connection((host, port), timeout=30) as s:
        s.settimeout(60)
        received = bytearray()

        def reader():
            while len(received) < len(data):
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                received.extend(chunk)

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            future = pool.submit(reader)
            s.sendall(data)
            future.result(90)
    return hashlib.sha256(bytes(received)).hexdigest() == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("env", ["127.0.0.1", "::1", "127.0.0.1/direct"], indirect=True,
                         ids=["ipv4", "ipv6", "ipv4-direct"])
def test_forwarded_tcp_echoes_concurrently_byte_exact(env, device_servers):
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CONNECTIONS) as pool:
        results = list(pool.map(lambda i: echo_once(env.forward_tcp, i, env.forward_host),
                                range(CONNECTIONS)))
    secs = time.monotonic() - t0
    log(f"{CONNECTIONS} concurrent connections x {BYTES_PER_CONNECTION} bytes echoed "
        f"in {secs:.2f}s; exact: {sum(results)}")
    check(all(results), f"{results.count(False)} of {CONNECTIONS} echoes differ")
    # A second round on the same forward: relay-side ports are reused cleanly.
    results = [echo_once(env.forward_tcp, 500 + i, env.forward_host) for i in range(8)]
    check(all(results), "sequential echoes after the concurrent round differ")
    env.assert_alive()


UPLOAD_SERVER = r'''
import hashlib, json, socket, sys
port = int(sys.argv[1])
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", port)); t.listen(4)
print("ready", flush=True)
conn, peer = t.accept()
h = hashlib.sha256(); total = 0
while True:
    data = conn.recv(1 << 20)
    if not data:
        break
    h.update(data); total += len(data)
reply = json.dumps({"bytes": total, "sha256": h.hexdigest(), "peer": peer[0]}).encode()
conn.sendall(reply)
conn.close()
'''


def test_forwarded_tcp_carries_16_mib_with_a_half_close_and_an_answer(env):
    # 16 MiB host -> device with a half-close, then the device's answer back.
    p = subprocess.Popen(["ip", "netns", "exec", env.ns, "python3", "-c", UPLOAD_SERVER,
                          str(DEVICE_TCP_PORT)], stdout=subprocess.PIPE, text=True)
    try:
        check(p.stdout.readline().strip() == "ready", "upload server did not start")
        data = harness.deterministic_bytes(16 << 20, 77)
        with socket.create_connection(("127.0.0.1", env.forward_tcp), timeout=30) as s:
            s.settimeout(60)
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        import json
        out = json.loads(reply)
        log(f"device received {out}")
        check(out["bytes"] == len(data), f"device got {out['bytes']} bytes of {len(data)}")
        check(out["sha256"] == hashlib.sha256(data).hexdigest(), "content differs on the device")
        check(out["peer"] == harness.HOST_ALIAS, f"device saw peer {out['peer']}, "
                                                 f"expected {harness.HOST_ALIAS}")
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        p.stdout.close()
    env.assert_alive()


def udp_peer(port, index, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    outcome = []
    try:
        for size in UDP_SIZES:
            data = harness.deterministic_bytes(size, index * 100 + size)
            ok = False
            for attempt in range(3):
                s.sendto(data, (host, port))
                try:
                    got, peer = s.recvfrom(65535)
                except socket.timeout:
                    continue
                ok = got == data and peer[:2] == (host, port)
                break
            outcome.append(ok)
    finally:
        s.close()
    return all(outcome)


@pytest.mark.parametrize("env", ["127.0.0.1", "::1", "127.0.0.1/direct"], indirect=True,
                         ids=["ipv4", "ipv6", "ipv4-direct"])
def test_forwarded_udp_from_many_host_peers_is_echoed_exactly(env, device_servers):
    with concurrent.futures.ThreadPoolExecutor(UDP_PEERS) as pool:
        results = list(pool.map(lambda i: udp_peer(env.forward_udp, i, env.forward_host),
                                range(UDP_PEERS)))
    log(f"{UDP_PEERS} UDP peers, sizes {UDP_SIZES}: exact for {sum(results)}")
    check(all(results), f"{results.count(False)} of {UDP_PEERS} UDP peers got wrong echoes")
    env.assert_alive()


def expect_reset(port, label):
    t0 = time.monotonic()
    # The reset may come before connect() returns (create_connection polls
    # for the handshake, and a busy machine wakes it after the RST): that
    # is the same answer.
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.settimeout(10)
            s.sendall(b"hello")
            data = s.recv(100)
            outcome = "EOF" if data == b"" else f"data {data!r}"
    except ConnectionResetError:
        outcome = "reset"
    except socket.timeout:
        outcome = "timeout"
    secs = time.monotonic() - t0
    log(f"{label}: {outcome} after {secs:.2f}s")
    check(outcome in ("reset", "EOF"), f"{label}: expected the connection reset, got {outcome}")
    check(secs < 5, f"{label}: took {secs:.2f}s")


def test_forward_to_a_closed_device_port_resets(env):
    # Nothing listens on the device port: the device answers our SYN with a
    # reset, and the host connection is reset in turn.
    expect_reset(env.forward_tcp, "closed device port")
    env.assert_alive()


def test_forward_to_a_client_id_not_connected_resets(env):
    expect_reset(env.forward_missing, "forward to client id 7 (not connected)")
    env.assert_alive()


BAD_FORWARDS = [
    ("sctp:1:2", "tcp: or udp:"),
    ("tcp:0:80", "1 to 65535"),
    ("tcp:8080", "HOSTPORT:DEVICEPORT"),
    ("udp:nowhere:1:2", "not an IPv4 or IPv6"),
    ("tcp:1:2@x", "client id"),
]


@pytest.mark.parametrize("value, expected", BAD_FORWARDS, ids=[v for v, _ in BAD_FORWARDS])
def test_bad_forward_value_exits_2(rtether, value, expected):
    r = subprocess.run([rtether, "relay", "-p", str(harness.free_tcp_port()),
                        "--forward", value], capture_output=True, text=True, timeout=20)
    check(r.returncode == 2, f"--forward {value}: exit {r.returncode}, expected 2 "
                             f"({r.stderr.strip()!r})")
    check("--forward" in r.stderr and expected in r.stderr,
          f"--forward {value}: stderr {r.stderr.strip()!r} does not say {expected!r}")


@pytest.mark.parametrize("kind, proto", [(socket.SOCK_STREAM, "tcp"), (socket.SOCK_DGRAM, "udp")],
                         ids=["tcp", "udp"])
def test_forward_port_in_use_is_a_start_up_failure(rtether, kind, proto):
    # Exit 1, naming the port.
    blocker = socket.socket(socket.AF_INET, kind)
    blocker.bind(("127.0.0.1", 0))
    if kind == socket.SOCK_STREAM:
        blocker.listen()
    port = blocker.getsockname()[1]
    try:
        r = subprocess.run([rtether, "relay", "-p", str(harness.free_tcp_port()), "--forward",
                            f"{proto}:{port}:80"], capture_output=True, text=True, timeout=20)
    finally:
        blocker.close()
    check(r.returncode == 1, f"{proto} forward on a used port: exit {r.returncode}")
    check(f"127.0.0.1:{port}" in r.stderr and "in use" in r.stderr,
          f"{proto} forward on a used port said {r.stderr.strip()!r}")
