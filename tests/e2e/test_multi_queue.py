"""Direct mode with two threads (`rtether relay --netns NS --threads 2`, as
root): the namespace's tun has two queues, one session and one relay thread
each, and the relay's steering program (device/tun_steering.hpp) decides
which queue gets each packet. Checked: the namespace's own connections run
on both sessions, byte-exact; connections the relay opens into the
namespace (port forwarding) are spread over both sessions too, and a
device that talks first after 4 s of silence (past the 3 s after which the
kernel's own steering forgets a flow) still reaches the session that owns
the connection, byte-exact."""

import concurrent.futures
import hashlib
import os
import re
import signal
import socket
import subprocess

import harness
from harness import check, log

DEVICE_PORT = 8100
CONNECTIONS = 16
SILENCE = 4.0
BYTES = 256 << 10

# Inside the namespace: each connection sends a line, the server waits
# SILENCE seconds (the relay side quiet), then sends BYTES deterministic
# bytes seeded by the line and closes.
LATE_TALKER = r'''
import random, socket, sys, threading, time
port, silence, size = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", port)); t.listen(64)
def serve(conn):
    line = b""
    while not line.endswith(b"\n"):
        chunk = conn.recv(100)
        if not chunk:
            conn.close(); return
        line += chunk
    time.sleep(silence)
    conn.sendall(random.Random(int(line)).randbytes(size))
    conn.close()
def accept_loop():
    while True:
        conn, _ = t.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
threading.Thread(target=accept_loop, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
'''


def expected_bytes(seed):
    import random
    return random.Random(seed).randbytes(BYTES)


def late_answer(port, seed):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.settimeout(SILENCE + 30)
        s.sendall(f"{seed}\n".encode())
        received = bytearray()
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            received.extend(chunk)
    return hashlib.sha256(received).digest() == hashlib.sha256(expected_bytes(seed)).digest()


def closed_sessions(relay):
    """{client id: {counter: value}} from the "client N closed (...)" lines."""
    sessions = {}
    for line in relay.log_lines(" closed ("):
        found = re.search(r"client (\d+) closed \([^)]*\):? ?(.*)", line)
        if found:
            sessions[int(found.group(1))] = {
                k: int(v) for k, v in (f.split("=", 1) for f in found.group(2).split() if "=" in f)}
    return sessions


def test_two_queues_share_the_namespaces_flows_and_forwarded_ones(make_env, http_server):
    forward_port = harness.free_tcp_port()
    env = make_env(transport="direct",
                   relay_args=["--threads", "2", "--forward", f"tcp:{forward_port}:{DEVICE_PORT}"])
    queues = env.relay.log_lines("queues, one per relay thread")
    check(queues and "2 queues" in queues[-1], f"no two-queue tun: {env.relay.log_text(20)}")

    # The namespace's own connections: 16 downloads at once.
    body = harness.deterministic_bytes(1 << 20, seed=5)
    server = http_server(body)
    url = f"http://{harness.HOST_ALIAS}:{server.port}/"
    fetch = ("import hashlib, sys, urllib.request, concurrent.futures\n"
             "def get(i):\n"
             "    return hashlib.sha256(urllib.request.urlopen(sys.argv[1], timeout=30).read())"
             ".hexdigest()\n"
             "with concurrent.futures.ThreadPoolExecutor(16) as p:\n"
             "    print(' '.join(p.map(get, range(16))))\n")
    r = env.ns_python(fetch, [url], timeout=60, check_rc=False)
    digests = r.stdout.split()
    check(r.returncode == 0 and digests == [hashlib.sha256(body).hexdigest()] * 16,
          f"downloads: rc {r.returncode}, {r.stderr[-500:]}")
    log("16 downloads from the namespace byte-exact")

    talker = subprocess.Popen(["ip", "netns", "exec", env.ns, "python3", "-c", LATE_TALKER,
                               str(DEVICE_PORT), str(SILENCE), str(BYTES)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        check(talker.stdout.readline().strip() == "ready", "the late talker did not start")
        with concurrent.futures.ThreadPoolExecutor(CONNECTIONS) as pool:
            results = list(pool.map(lambda i: late_answer(forward_port, 100 + i),
                                    range(CONNECTIONS)))
        log(f"{CONNECTIONS} forwarded connections, device first after {SILENCE} s: "
            f"{sum(results)} byte-exact")
        check(all(results), f"{results.count(False)} of {CONNECTIONS} forwarded connections "
                            f"lost or garbled their late data")
    finally:
        os.kill(talker.pid, signal.SIGKILL)
        talker.wait(10)
        talker.stdin.close()
        talker.stdout.close()
    env.assert_alive()

    env.stop_relay()
    sessions = closed_sessions(env.relay)
    log(f"sessions at the end: {sessions}")
    check(sorted(sessions) == [0, 1], f"expected two queue sessions, got {sorted(sessions)}")
    for client, counters in sessions.items():
        check(counters.get("forward_tcp_opened", 0) >= 3,
              f"queue session {client} opened {counters.get('forward_tcp_opened', 0)} of the "
              f"{CONNECTIONS} forwarded connections: not spread")
        check(counters.get("tcp_flows_opened", 0) >= 3 and counters.get("bytes_to_device", 0) > 0,
              f"queue session {client} took {counters.get('tcp_flows_opened', 0)} of the "
              f"namespace's 16 connections: not spread ({counters})")
    total_opened = sum(c.get("forward_tcp_opened", 0) for c in sessions.values())
    check(total_opened == CONNECTIONS, f"{total_opened} forwarded connections opened")
    for client, counters in sessions.items():
        check(counters.get("drop_no_flow", 0) == 0,
              f"queue session {client} met packets of flows it does not own: {counters}")
