"""300 concurrent TCP connections from the namespace to a host echo server at
10.0.2.2; each sends 10 KiB and must get exactly those bytes back. Bounded
in time. Run twice in the same session (flows must be released and reused)."""

import time

import pytest

import harness
from harness import check, log

CONNECTIONS = 300
SIZE = 10 * 1024
TIME_LIMIT = 60.0

# Two rounds, each bounded by TIME_LIMIT (+30 s for the namespace's python).
pytestmark = pytest.mark.timeout(200)

CLIENT = r'''
import errno, json, random, selectors, socket, sys, time
host, port, n, size, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
sel = selectors.DefaultSelector()
t0 = time.monotonic()
conns = {}
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    err = s.connect_ex((host, port))
    if err not in (0, errno.EINPROGRESS):
        conns[i] = {"sock": s, "state": "failed", "error": errno.errorcode.get(err, str(err))}
        continue
    data = random.Random(i).randbytes(size)
    c = {"sock": s, "state": "connecting", "data": data, "sent": 0, "got": bytearray(),
         "error": None}
    conns[i] = c
    sel.register(s, selectors.EVENT_WRITE, i)
open_count = sum(1 for c in conns.values() if c["state"] == "connecting")
while open_count and time.monotonic() - t0 < limit:
    for key, mask in sel.select(timeout=0.5):
        i = key.data; c = conns[i]; s = c["sock"]
        try:
            if c["state"] == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, errno.errorcode.get(err, str(err)))
                c["state"] = "sending"
            if c["state"] == "sending" and mask & selectors.EVENT_WRITE:
                c["sent"] += s.send(c["data"][c["sent"]:])
                if c["sent"] == len(c["data"]):
                    c["state"] = "receiving"
                    sel.modify(s, selectors.EVENT_READ, i)
                    continue
            if mask & selectors.EVENT_READ:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError(0, f"EOF after {len(c['got'])} bytes")
                c["got"] += chunk
                if len(c["got"]) >= size:
                    c["state"] = "done" if bytes(c["got"]) == c["data"] else "mismatch"
                    sel.unregister(s); s.close(); open_count -= 1
            elif c["state"] == "sending":
                pass
        except BlockingIOError:
            pass
        except OSError as e:
            c["state"] = "failed"; c["error"] = f"{e.strerror or e}"
            sel.unregister(s); s.close(); open_count -= 1
elapsed = time.monotonic() - t0
states = {}
errors = {}
for c in conns.values():
    states[c["state"]] = states.get(c["state"], 0) + 1
    if c["error"]:
        errors[c["error"]] = errors.get(c["error"], 0) + 1
    if c["state"] not in ("done", "failed", "mismatch"):
        c["sock"].close()
stuck = {}
for i, c in conns.items():
    if c["state"] in ("connecting", "sending", "receiving"):
        stuck[c["state"]] = stuck.get(c["state"], []) + [[i, c.get("sent", 0), len(c.get("got", b""))]]
print(json.dumps({"elapsed": elapsed, "states": states, "errors": errors,
                  "stuck_sample": {k: v[:5] for k, v in stuck.items()}}))
'''


def run_round(env, server, label, connections):
    before = server.accepted
    t0 = time.monotonic()
    out = env.ns_python_json(CLIENT, [harness.HOST_ALIAS, server.port, connections, SIZE,
                                      TIME_LIMIT], timeout=TIME_LIMIT + 30)
    log(f"{label}: {out['states']} in {out['elapsed']:.2f}s (wall {time.monotonic() - t0:.2f}s); "
        f"errors {out['errors']}; server accepted {server.accepted - before}; "
        f"stuck sample {out['stuck_sample']}")
    check(out["states"].get("done", 0) == connections,
          f"{label}: only {out['states'].get('done', 0)}/{connections} connections echoed "
          f"exactly within {TIME_LIMIT}s: states {out['states']}, errors {out['errors']}, "
          f"server accepted {server.accepted - before}, stuck sample {out['stuck_sample']}")


def echo_twice(env, tcp_server, connections):
    server = tcp_server(harness.echo_handler, backlog=1024)
    run_round(env, server, "round 1", connections)
    env.assert_alive()
    run_round(env, server, "round 2", connections)
    env.assert_alive()
    check(server.wait_results(2 * connections, 10),
          f"server: only {len(server.results) + len(server.errors)} of {2 * connections} "
          f"connections ended (host side not closed after the device closed?)")
    check(not server.errors, f"server errors: {server.errors[:5]}")


def test_300_concurrent_echo_connections_twice(env, tcp_server):
    echo_twice(env, tcp_server, CONNECTIONS)
