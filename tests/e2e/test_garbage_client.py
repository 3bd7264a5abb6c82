"""While a real client downloads through the relay, other connections to the
relay port write garbage (bad version nibble, random bytes, an IPv4 header
with an impossible length, a truncated packet, nothing at all). The relay must
close each garbage connection, stay up, and the real client's transfers
(during and after) must still be byte-exact."""

import os
import socket
import struct
import subprocess
import time

import pytest

import harness
from harness import check, log

BODY_SIZE = 30 * 1024 * 1024
CLOSE_LIMIT = 5.0


def connect_relay(env):
    if env.transport == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect("\0" + env.unix_name)
    else:
        s = socket.create_connection(("127.0.0.1", env.port), timeout=5)
    ident = b""
    while len(ident) < 4:
        chunk = s.recv(4 - len(ident))
        if not chunk:
            raise harness.TestFailure(f"relay closed before sending the 4-byte client id "
                                      f"(got {ident!r})")
        ident += chunk
    return s, struct.unpack(">I", ident)[0]


def wait_closed(s, limit=CLOSE_LIMIT):
    """True if the relay closes (EOF or RST) within `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not data:
            return True
        # The relay should not send packets to a client that never sent valid ones.
        log(f"  (relay sent {len(data)} bytes to the garbage client)")
    return False


def send_until_closed(s, chunks, limit=CLOSE_LIMIT):
    """Writes chunks one by one; returns (closed, bytes_written)."""
    written = 0
    deadline = time.monotonic() + limit
    for chunk in chunks:
        if time.monotonic() > deadline:
            break
        try:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            s.sendall(chunk)
            written += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            return True, written
        except socket.timeout:
            break
        # Give the relay a moment to act on what it got.
        s.settimeout(0.05)
        try:
            data = s.recv(65536)
            if not data:
                return True, written
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return True, written
    return wait_closed(s, max(0.5, deadline - time.monotonic())), written


def random_chunks(seed, chunk_size=16 * 1024, total=4 * 1024 * 1024):
    rnd = harness.random.Random(seed)
    for _ in range(total // chunk_size):
        yield rnd.randbytes(chunk_size)


def ipv4_header(total_length, proto=17):
    # version 4, IHL 5; checksum left 0 (the length is what is wrong here).
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, total_length, 1, 0, 64, proto, 0,
                       socket.inet_aton("10.0.0.2"), socket.inet_aton("10.0.2.2"))


CASES = [
    ("bad version nibble 0x0", lambda: iter([b"\x00" * 64])),
    ("bad version nibble 0xF", lambda: iter([b"\xf5" + os.urandom(63)])),
    ("random bytes (seeded, up to 4 MiB)", lambda: random_chunks(1234)),
    ("IPv4 header with total length 8 (< 20)", lambda: iter([ipv4_header(8) + b"\x00" * 64])),
    ("IPv4 header with IHL 15 > total length 40",
     lambda: iter([bytes([0x4F]) + ipv4_header(40)[1:] + b"\x00" * 64])),
    ("IPv6 header then bad nibble", lambda: iter([b"\x60" + b"\x00" * 3 + b"\x00\x08\x11\x40"
                                                  + b"\x00" * 32 + b"\x00" * 8
                                                  + b"\x70" * 64])),
]


def start_download(env, server, out):
    cmd = ["ip", "netns", "exec", env.ns, "curl", "--noproxy", "*", "-sS", "--max-time", "100",
           "--limit-rate", "20M", "-o", out, f"http://{harness.HOST_ALIAS}:{server.port}/"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_download(popen, out, body, label):
    try:
        stdout, stderr = popen.communicate(timeout=110)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.communicate()
        raise harness.TestFailure(f"{label}: curl did not finish in time")
    check(popen.returncode == 0, f"{label}: curl rc {popen.returncode}: {stderr.strip()}")
    with open(out, "rb") as f:
        got = f.read()
    os.unlink(out)
    check(len(got) == len(body), f"{label}: got {len(got)} bytes, expected {len(body)}")
    check(harness.sha256(got) == harness.sha256(body), f"{label}: SHA-256 mismatch")
    log(f"{label}: {len(got)} bytes byte-exact")


@pytest.mark.parametrize("env", [{"transport": "tcp"}, {"transport": "unix"}], indirect=True,
                         ids=["tcp-link", "unix-link"])
def test_garbage_clients_beside_a_working_one(env, http_server):
    body = harness.deterministic_bytes(BODY_SIZE, seed=77)
    server = http_server(body)
    out = os.path.join(env.tmp, "during.bin")
    # 30 MiB at 20 MB/s: ~1.5 s or more of transfer while the garbage goes in.
    popen = start_download(env, server, out)
    silent = None
    failures = []
    try:
        time.sleep(0.3)
        # A client that connects and then says nothing: must not disturb anyone.
        silent, silent_id = connect_relay(env)
        ids = [silent_id]
        for name, make in CASES:
            s, ident = connect_relay(env)
            ids.append(ident)
            t0 = time.monotonic()
            closed, written = send_until_closed(s, make())
            secs = time.monotonic() - t0
            s.close()
            log(f"{name}: client id {ident}, wrote {written} bytes, relay "
                f"{'closed it' if closed else 'DID NOT close it'} in {secs:.2f}s")
            if not closed:
                failures.append(f"{name}: relay kept the connection open "
                                f"{CLOSE_LIMIT}s after {written} garbage bytes")
            if not env.relay.alive():
                failures.append(f"relay died after '{name}' (exit {env.relay.returncode()})")
                break
        # Connect and close at once, and a truncated packet then close.
        s, ident = connect_relay(env)
        ids.append(ident)
        s.close()
        s, ident = connect_relay(env)
        ids.append(ident)
        s.sendall(ipv4_header(1000)[:30])
        s.close()
        s = socket.create_connection(("127.0.0.1", env.port), timeout=5) \
            if env.transport == "tcp" else None
        if s is not None:
            s.close()  # closed before even reading the id
        log(f"client ids seen: {ids}")
        if ids != sorted(ids) or len(set(ids)) != len(ids):
            failures.append(f"client ids not strictly increasing: {ids}")
        time.sleep(0.5)
        check(env.relay.alive(), f"relay died (exit {env.relay.returncode()})")
    finally:
        finish_download(popen, out, body, "download during garbage")
        if silent is not None:
            silent.close()
    check(not failures, "; ".join(failures))
    env.assert_alive()
    finish_download(start_download(env, server, os.path.join(env.tmp, "after.bin")),
                    os.path.join(env.tmp, "after.bin"), body, "download after garbage")
    # And a fresh connection: the flow table still accepts new flows.
    r = env.curl(["-o", "/dev/null", "-w", "%{http_code}",
                  f"http://{harness.HOST_ALIAS}:{server.port}/"], timeout=60)
    check(r.stdout == "200", f"final GET status {r.stdout!r}")
    env.assert_alive()
