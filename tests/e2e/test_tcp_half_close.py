"""TCP half-close through the relay, both ways.

A: the device (namespace) sends data then shutdown(SHUT_WR); the host server
   reads to EOF, then replies and closes; the device gets the whole reply + EOF.
B: the host server sends a greeting then shutdown(SHUT_WR) first; the device
   reads it to EOF, then still sends data; the server receives all of it."""

import hashlib
import socket
import struct
import time

import pytest

import harness
from harness import check, log

REQUEST_SIZE = 300 * 1024
REPLY_SIZE = 1024 * 1024


def reply_for(digest):
    # Deterministic reply derived from what the server read.
    return harness.deterministic_bytes(REPLY_SIZE, seed=int(digest[:8], 16))


def server_a(conn, addr):
    h = hashlib.sha256()
    total = 0
    while True:
        data = conn.recv(65536)
        if not data:
            break
        h.update(data)
        total += len(data)
    digest = h.hexdigest()
    conn.sendall(reply_for(digest))
    conn.shutdown(socket.SHUT_WR)
    return {"mode": "A", "received": total, "sha": digest}


CLIENT_A = r'''
import hashlib, json, random, socket, sys, time
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = random.Random(7).randbytes(size)
s = socket.create_connection((host, port), timeout=20)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
t0 = time.monotonic()
h = hashlib.sha256(); total = 0
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    h.update(chunk); total += len(chunk)
s.close()
print(json.dumps({"sent_sha": hashlib.sha256(data).hexdigest(), "reply_len": total,
                  "reply_sha": h.hexdigest(), "secs": time.monotonic() - t0}))
'''


@pytest.mark.parametrize("env", [{}, {"transport": "unix", "mtu": 1500},
                                 {"transport": "direct"}], indirect=True,
                         ids=["tcp-link", "unix-link-mtu-1500", "direct"])
def test_device_shuts_down_first_and_the_host_replies_after_eof(env, tcp_server):
    server = tcp_server(server_a)
    out = env.ns_python_json(CLIENT_A, [harness.HOST_ALIAS, server.port, REQUEST_SIZE],
                             timeout=60)
    check(server.wait_results(1, 10), "server handler did not finish")
    check(not server.errors, f"server errors: {server.errors}")
    res = server.results[0]
    log(f"server read {res['received']} bytes to EOF; device got {out['reply_len']} reply "
        f"bytes + EOF in {out['secs']:.2f}s")
    check(res["received"] == REQUEST_SIZE, f"server received {res['received']} bytes, "
                                           f"expected {REQUEST_SIZE}")
    check(res["sha"] == out["sent_sha"], "server's SHA-256 of the request differs")
    expected = reply_for(res["sha"])
    check(out["reply_len"] == len(expected), f"device got {out['reply_len']} reply bytes, "
                                             f"expected {len(expected)}")
    check(out["reply_sha"] == harness.sha256(expected), "reply SHA-256 differs")
    env.assert_alive()


GREETING = harness.deterministic_bytes(200 * 1024, seed=11)


def server_b(conn, addr):
    conn.sendall(GREETING)
    conn.shutdown(socket.SHUT_WR)
    t_shut = time.monotonic()
    h = hashlib.sha256()
    total = 0
    while True:
        data = conn.recv(65536)
        if not data:
            break
        h.update(data)
        total += len(data)
    return {"mode": "B", "received": total, "sha": h.hexdigest(),
            "secs_after_shutdown": time.monotonic() - t_shut}


CLIENT_B = r'''
import hashlib, json, random, socket, sys, time
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=20)
h = hashlib.sha256(); total = 0
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    h.update(chunk); total += len(chunk)
# Peer's write side is closed; ours is still open: wait a bit, then send.
time.sleep(1.0)
data = random.Random(8).randbytes(size)
err = None
try:
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    # Wait for the server to close (its FIN already came; now wait for a RST-free end).
    s.settimeout(10)
    extra = s.recv(1)
except OSError as e:
    err = f"{type(e).__name__}: {e}"
s.close()
print(json.dumps({"greeting_len": total, "greeting_sha": h.hexdigest(),
                  "sent_sha": hashlib.sha256(data).hexdigest(), "error": err}))
'''


@pytest.mark.parametrize("env", [{}, {"transport": "unix", "mtu": 1500},
                                 {"transport": "direct"}], indirect=True,
                         ids=["tcp-link", "unix-link-mtu-1500", "direct"])
def test_host_shuts_down_first_and_the_device_still_sends(env, tcp_server):
    server = tcp_server(server_b)
    out = env.ns_python_json(CLIENT_B, [harness.HOST_ALIAS, server.port, REQUEST_SIZE],
                             timeout=60)
    check(server.wait_results(1, 15), "server handler did not finish")
    check(not server.errors, f"server errors: {server.errors}")
    res = server.results[0]
    log(f"device got {out['greeting_len']} greeting bytes + EOF; then sent {REQUEST_SIZE}; "
        f"server received {res['received']} bytes")
    check(out["greeting_len"] == len(GREETING), f"greeting: got {out['greeting_len']} bytes, "
                                                f"expected {len(GREETING)}")
    check(out["greeting_sha"] == harness.sha256(GREETING), "greeting SHA-256 differs")
    check(out["error"] is None, f"device socket error after the server's half-close: "
                                f"{out['error']}")
    check(res["received"] == REQUEST_SIZE,
          f"server received {res['received']} bytes after its own SHUT_WR, expected "
          f"{REQUEST_SIZE} (no half-close toward the host?)")
    check(res["sha"] == out["sent_sha"], "server's SHA-256 of data sent after half-close differs")
    env.assert_alive()


DUPLEX_SIZE = 20 * 1024 * 1024

CLIENT_DUPLEX = r'''
import hashlib, json, random, socket, sys, threading, time
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = random.Random(21).randbytes(size)
s = socket.create_connection((host, port), timeout=15)
def writer():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=writer); t.start()
h = hashlib.sha256(); total = 0
t0 = time.monotonic()
while True:
    chunk = s.recv(1 << 16)
    if not chunk:
        break
    h.update(chunk); total += len(chunk)
read_secs = time.monotonic() - t0
t.join()
print(json.dumps({"sent_sha": hashlib.sha256(data).hexdigest(), "got": total,
                  "got_sha": h.hexdigest(), "secs": read_secs,
                  "total_secs": time.monotonic() - t0}))
'''

DUPLEX_REPLY = None


def server_duplex(conn, addr):
    # Write 20 MiB while reading 20 MiB at the same time: neither side waits
    # for the other, so a relay that cannot move both directions at once
    # (or lets one full direction block the other) deadlocks here.
    result = {}

    def writer():
        conn.sendall(DUPLEX_REPLY)
        conn.shutdown(socket.SHUT_WR)

    t = harness.threading.Thread(target=writer, daemon=True)
    t.start()
    h = hashlib.sha256()
    total = 0
    while True:
        data = conn.recv(1 << 16)
        if not data:
            break
        h.update(data)
        total += len(data)
    t.join(60)
    return {"received": total, "sha": h.hexdigest()}


# Three runs at MTU 1500 (many small segments each way): an intermittent
# stall must not pass by luck.
@pytest.mark.parametrize("env", [{}, {"mtu": 1500}, {"mtu": 1500}, {"mtu": 1500}],
                         indirect=True,
                         ids=["default-mtu", "mtu-1500-run-1", "mtu-1500-run-2",
                              "mtu-1500-run-3"])
def test_full_duplex_20_mib_each_way(env, tcp_server):
    global DUPLEX_REPLY
    DUPLEX_REPLY = harness.deterministic_bytes(DUPLEX_SIZE, seed=22)
    server = tcp_server(server_duplex)
    out = env.ns_python_json(CLIENT_DUPLEX, [harness.HOST_ALIAS, server.port, DUPLEX_SIZE],
                             timeout=90)
    check(server.wait_results(1, 10),
          f"server handler did not finish: device side {out} (device->host direction "
          f"stalled? see the relay's out-of-order handling)")
    check(not server.errors, f"server errors: {server.errors}")
    res = server.results[0]
    log(f"full duplex: device got {out['got']} bytes in {out['secs']:.2f}s; both directions "
        f"done in {out['total_secs']:.2f}s; server got {res['received']}")
    check(res["received"] == DUPLEX_SIZE and res["sha"] == out["sent_sha"],
          f"server received {res['received']} bytes (sha match: {res['sha'] == out['sent_sha']})")
    check(out["got"] == DUPLEX_SIZE and out["got_sha"] == harness.sha256(DUPLEX_REPLY),
          f"device received {out['got']} bytes (sha match: "
          f"{out['got_sha'] == harness.sha256(DUPLEX_REPLY)})")
    # Loopback: ~0.2 s is typical. Seconds mean RTO-driven recovery of device data.
    check(out["total_secs"] < 3.0, f"full duplex took {out['total_secs']:.2f}s (device->host "
                                   f"direction stalled and recovered only by retransmission "
                                   f"timeouts)")
    env.assert_alive()


def server_rst(conn, addr):
    data = conn.recv(100)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # RST
    return {"got": data}


CLIENT_GETS_RST = r'''
import json, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
s.sendall(b"hello")
t0 = time.monotonic()
try:
    data = s.recv(100)
    res = "EOF" if not data else "data"
except socket.timeout:
    res = "timeout"
except OSError as e:
    res = type(e).__name__
print(json.dumps({"result": res, "secs": time.monotonic() - t0}))
'''


@pytest.mark.parametrize("env", [{}, {"transport": "direct"}], indirect=True,
                         ids=["tcp-link", "direct"])
def test_host_reset_reaches_the_device(env, tcp_server):
    server = tcp_server(server_rst)
    out = env.ns_python_json(CLIENT_GETS_RST, [harness.HOST_ALIAS, server.port], timeout=30)
    log(f"host RST -> device: {out}")
    check(out["result"] == "ConnectionResetError",
          f"device saw {out['result']} after {out['secs']:.2f}s when the host reset the "
          f"connection (expected ConnectionResetError)")
    env.assert_alive()


def server_sees_reset(conn, addr):
    conn.settimeout(10)
    data = conn.recv(100)
    t0 = time.monotonic()
    try:
        more = conn.recv(100)
        res = "EOF" if not more else "data"
    except socket.timeout:
        res = "timeout"
    except OSError as e:
        res = type(e).__name__
    return {"first": data, "result": res, "secs": time.monotonic() - t0}


CLIENT_SENDS_RST = r'''
import socket, struct, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
s.sendall(b"bye")
time.sleep(0.5)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("{}")
'''


@pytest.mark.parametrize("env", [{}, {"transport": "direct"}], indirect=True,
                         ids=["tcp-link", "direct"])
def test_device_reset_reaches_the_host(env, tcp_server):
    server = tcp_server(server_sees_reset)
    env.ns_python_json(CLIENT_SENDS_RST, [harness.HOST_ALIAS, server.port], timeout=30)
    check(server.wait_results(1, 15), "server handler did not finish")
    check(not server.errors, f"server errors: {server.errors}")
    res = server.results[0]
    log(f"device RST -> host: {res}")
    check(res["first"] == b"bye", f"server got {res['first']!r}")
    check(res["result"] == "ConnectionResetError",
          f"host socket saw {res['result']} after {res['secs']:.2f}s when the device reset "
          f"the connection (expected ConnectionResetError: the relay should abort with RST, "
          f"SO_LINGER 0)")
    env.assert_alive()
