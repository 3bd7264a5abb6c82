#!/usr/bin/env python3
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

import sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import harness  # noqa: E402
from harness import check, log  # noqa: E402

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


def t_tcp_many(env):
    servers = DeviceServers(env)
    try:
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
    finally:
        servers.close()
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


def t_tcp_large(env):
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


def t_udp(env):
    servers = DeviceServers(env)
    try:
        with concurrent.futures.ThreadPoolExecutor(UDP_PEERS) as pool:
            results = list(pool.map(lambda i: udp_peer(env.forward_udp, i, env.forward_host),
                                    range(UDP_PEERS)))
        log(f"{UDP_PEERS} UDP peers, sizes {UDP_SIZES}: exact for {sum(results)}")
        check(all(results), f"{results.count(False)} of {UDP_PEERS} UDP peers got wrong echoes")
    finally:
        servers.close()
    env.assert_alive()


def expect_reset(port, label):
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.settimeout(10)
        try:
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


def t_closed_device_port(env):
    # Nothing listens on the device port: the device answers our SYN with a
    # reset, and the host connection is reset in turn.
    expect_reset(env.forward_tcp, "closed device port")
    env.assert_alive()


def t_unknown_client(env):
    expect_reset(env.forward_missing, "forward to client id 7 (not connected)")
    env.assert_alive()


BAD_FORWARDS = [
    ("sctp:1:2", "tcp: or udp:"),
    ("tcp:0:80", "1 to 65535"),
    ("tcp:8080", "HOSTPORT:DEVICEPORT"),
    ("udp:nowhere:1:2", "not an IPv4 or IPv6"),
    ("tcp:1:2@x", "client id"),
]


def t_bad_forwards(rtether):
    for value, expected in BAD_FORWARDS:
        r = subprocess.run([rtether, "relay", "-p", str(harness.free_tcp_port()),
                            "--forward", value], capture_output=True, text=True, timeout=20)
        check(r.returncode == 2, f"--forward {value}: exit {r.returncode}, expected 2 "
                                 f"({r.stderr.strip()!r})")
        check("--forward" in r.stderr and expected in r.stderr,
              f"--forward {value}: stderr {r.stderr.strip()!r} does not say {expected!r}")
    # A forward port already in use is a start-up failure naming it (exit 1).
    for kind, proto in ((socket.SOCK_STREAM, "tcp"), (socket.SOCK_DGRAM, "udp")):
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


def with_forwards(fn, v6=False):
    """Runs fn(env) with a relay forwarding a TCP and a UDP host port to the
    device servers (on ::1 when v6), and one TCP port to client id 7."""

    def wrapper(rtether):
        tcp_port = harness.free_tcp_port()
        udp_port = free_udp_port()
        missing_port = harness.free_tcp_port()
        while missing_port == tcp_port:
            missing_port = harness.free_tcp_port()
        bind = "[::1]:" if v6 else ""
        args = ["--forward", f"tcp:{bind}{tcp_port}:{DEVICE_TCP_PORT}@0",
                "--forward", f"udp:{bind or '127.0.0.1:'}{udp_port}:{DEVICE_UDP_PORT}",
                "--forward", f"tcp:{missing_port}:{DEVICE_TCP_PORT}@7"]

        def run(env):
            env.forward_host = "::1" if v6 else "127.0.0.1"
            env.forward_tcp = tcp_port
            env.forward_udp = udp_port
            env.forward_missing = missing_port
            fn(env)

        run.__name__ = fn.__name__
        harness.with_env(run, relay_args=args)(rtether)

    return wrapper


if __name__ == "__main__":
    harness.main([
        (f"forward tcp: {CONNECTIONS} concurrent echoes byte-exact", with_forwards(t_tcp_many)),
        ("forward tcp: 16 MiB host -> device, half-close, answer back", with_forwards(t_tcp_large)),
        (f"forward udp: {UDP_PEERS} host peers, datagrams exact", with_forwards(t_udp)),
        ("forward tcp on [::1]: concurrent echoes byte-exact", with_forwards(t_tcp_many, v6=True)),
        ("forward udp on [::1]: datagrams exact", with_forwards(t_udp, v6=True)),
        ("forward tcp to a closed device port resets", with_forwards(t_closed_device_port)),
        ("forward to a client id not connected resets", with_forwards(t_unknown_client)),
        ("bad --forward values exit 2; a used port exits 1", t_bad_forwards),
    ])
