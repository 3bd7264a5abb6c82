"""IPv6 through the relay, end to end. The client is given an IPv6 route
(-r 0.0.0.0/0,::/0), so the namespace gets fd00::2/128 and ::/0 on the tun;
fd00::2:2 is the host's IPv6 loopback (the relay dials ::1), as 10.0.2.2 is
127.0.0.1. Checked: an 8 MiB HTTP download byte-exact, UDP datagrams echoed
exactly, ECONNREFUSED at once for a closed port, and IPv4 still working
beside IPv6 in the same session."""

import hashlib
import socket

import pytest

import harness
from harness import check, log

HOST_ALIAS_V6 = "fd00::2:2"
ROUTES = ["-r", "0.0.0.0/0,::/0"]
DOWNLOAD_BYTES = 8 << 20


def sender_of(body):
    """A TcpServer handler: sends `body`, then closes; returns the peer's address."""

    def send(conn, addr):
        conn.sendall(body)
        return addr[0]

    return send


DOWNLOAD = r'''
import hashlib, json, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(30)
t0 = time.monotonic()
s.connect((host, port))
local = s.getsockname()[0]
h = hashlib.sha256()
total = 0
while True:
    data = s.recv(1 << 20)
    if not data:
        break
    h.update(data)
    total += len(data)
print(json.dumps({"bytes": total, "sha256": h.hexdigest(), "local": local,
                  "secs": time.monotonic() - t0}))
'''

UDP = r'''
import json, random, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.connect((host, port))
s.settimeout(2.0)
results = {}
for size in (1, 100, 1400, 8000, 60000):
    data = random.Random(size).randbytes(size)
    outcome = "timeout"
    for attempt in range(3):
        s.send(data)
        try:
            got = s.recv(65535)
        except socket.timeout:
            continue
        outcome = "ok" if got == data else f"mismatch: {len(got)} bytes"
        break
    results[str(size)] = outcome
print(json.dumps(results))
'''

REFUSED = r'''
import json, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
out = []
for i in range(3):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(5)
    t0 = time.monotonic()
    try:
        s.connect((host, port))
        res = "connected"
    except ConnectionRefusedError:
        res = "ECONNREFUSED"
    except OSError as e:
        res = repr(e)
    out.append([res, time.monotonic() - t0])
    s.close()
print(json.dumps(out))
'''


def closed_port_v6():
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


# Direct mode's tun has these routes without being asked (no client_args).
DIRECT = {"transport": "direct", "client_args": ()}


@pytest.mark.parametrize("env", [{"transport": "tcp", "client_args": ROUTES},
                                 {"transport": "unix", "client_args": ROUTES}, DIRECT],
                         indirect=True, ids=["tcp-link", "unix-link", "direct"])
def test_ipv6_download_8_mib_byte_exact(env, tcp_server):
    body = harness.deterministic_bytes(DOWNLOAD_BYTES, 6)
    server = tcp_server(sender_of(body), host="::1")
    out = env.ns_python_json(DOWNLOAD, [HOST_ALIAS_V6, server.port], timeout=90)
    check(server.wait_results(1, 10), "the host server's connection did not end")
    log(f"download: {out['bytes']} bytes in {out['secs']:.2f}s from {out['local']}; "
        f"host saw peers {server.results}")
    check(out["bytes"] == len(body), f"got {out['bytes']} bytes, expected {len(body)}")
    check(out["sha256"] == hashlib.sha256(body).hexdigest(), "download content differs")
    check(out["local"] == "fd00::2", f"device address {out['local']}, expected fd00::2")
    check(not server.errors, f"host server errors: {server.errors}")
    check(server.results and all(p == "::1" for p in server.results),
          f"host server saw {server.results}, expected the relay from ::1")
    env.assert_alive()


def udp_echo(env, server):
    out = env.ns_python_json(UDP, [HOST_ALIAS_V6, server.port], timeout=60)
    log(f"udp: {out}")
    check(all(v == "ok" for v in out.values()), f"UDP over IPv6 not echoed exactly: {out}")
    env.assert_alive()


@pytest.mark.env(client_args=ROUTES)
@pytest.mark.parametrize("env", [{}, DIRECT], indirect=True, ids=["tcp-link", "direct"])
def test_ipv6_udp_echo_up_to_60000_bytes(env, udp_echo_server):
    udp_echo(env, udp_echo_server(host="::1"))


@pytest.mark.env(client_args=ROUTES)
@pytest.mark.parametrize("env", [{}, DIRECT], indirect=True, ids=["tcp-link", "direct"])
def test_ipv6_connection_refused_at_once(env):
    out = env.ns_python_json(REFUSED, [HOST_ALIAS_V6, closed_port_v6()], timeout=30)
    log("attempts: " + ", ".join(f"{r} in {1000 * t:.1f} ms" for r, t in out))
    for result, secs in out:
        check(result == "ECONNREFUSED", f"got {result!r}, expected ECONNREFUSED")
        check(secs < 0.5, f"ECONNREFUSED took {secs:.3f}s")
    env.assert_alive()


@pytest.mark.env(client_args=ROUTES)
def test_ipv4_beside_ipv6_in_one_session(env, http_server, udp_echo_server):
    # The same session carries both versions: IPv4 download through 10.0.2.2
    # while IPv6 works too.
    body = harness.deterministic_bytes(1 << 20, 4)
    server = http_server(body)
    path = f"{env.tmp}/v4.bin"
    env.curl([f"http://{harness.HOST_ALIAS}:{server.port}/", "-o", path], timeout=60)
    with open(path, "rb") as f:
        got = f.read()
    check(hashlib.sha256(got).hexdigest() == hashlib.sha256(body).hexdigest(),
          f"IPv4 download beside IPv6: {len(got)} bytes, content differs or short")
    udp_echo(env, udp_echo_server(host="::1"))
