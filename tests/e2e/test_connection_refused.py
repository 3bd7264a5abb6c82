"""Connecting from the namespace to 10.0.2.2:<closed port> fails with
ECONNREFUSED (the relay answers the SYN with a RST) well under 1 s."""

import socket

import pytest

import harness
from harness import check, log

LIMIT_SECS = 0.5
ATTEMPTS = 5

CLIENT = r'''
import errno, json, socket, sys, time
host, port, attempts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = []
for i in range(attempts):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    t0 = time.monotonic()
    try:
        s.connect((host, port))
        res = "connected"
    except ConnectionRefusedError:
        res = "ECONNREFUSED"
    except socket.timeout:
        res = "timeout"
    except OSError as e:
        res = f"{errno.errorcode.get(e.errno, e.errno)}: {e}"
    out.append([res, time.monotonic() - t0])
    s.close()
print(json.dumps(out))
'''


def closed_port():
    # Bind and close: nobody listens there afterwards (for the duration of the test).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("env", [{"transport": "tcp"}, {"transport": "unix"},
                                 {"transport": "direct"}], indirect=True,
                         ids=["tcp-link", "unix-link", "direct"])
def test_connect_to_a_closed_port_is_refused_at_once(env):
    port = closed_port()
    out = env.ns_python_json(CLIENT, [harness.HOST_ALIAS, port, ATTEMPTS], timeout=60)
    log("attempts: " + ", ".join(f"{r} in {1000 * t:.1f} ms" for r, t in out))
    for result, secs in out:
        check(result == "ECONNREFUSED", f"connect to closed port gave {result!r} after "
                                        f"{secs:.3f}s, expected ECONNREFUSED")
        check(secs < LIMIT_SECS, f"ECONNREFUSED took {secs:.3f}s (limit {LIMIT_SECS}s)")
    env.assert_alive()


def test_refused_then_a_listening_server_works_and_curl_exits_7(env, http_server):
    # After a refusal, the same 5-tuple space must still work once a server listens.
    port = closed_port()
    out = env.ns_python_json(CLIENT, [harness.HOST_ALIAS, port, 1], timeout=30)
    check(out[0][0] == "ECONNREFUSED", f"first connect gave {out[0]}")
    server = http_server(b"open now\n")
    r = env.curl([f"http://{harness.HOST_ALIAS}:{server.port}/"], timeout=30)
    check(r.stdout == "open now\n", f"curl after refusal got {r.stdout!r}")
    # curl's own view of a refusal: exit code 7 quickly.
    r = env.curl([f"http://{harness.HOST_ALIAS}:{port}/"], timeout=30, check_rc=False)
    check(r.returncode == 7, f"curl to closed port exit {r.returncode} ({r.stderr.strip()}), "
                             f"expected 7 (couldn't connect)")
    env.assert_alive()
