"""The relay goes away (its clean-stop signal, by PID) and comes back on the
same port/socket: the client keeps its tun, reconnects by itself, and a new
connection from the namespace works again within ~15 s. In direct mode the
tun goes with the relay and the next relay brings it back."""

import json
import os
import signal
import subprocess
import time

import pytest

import harness
from harness import check, log

RECOVERY_LIMIT = 15.0


def restart_and_fetch(env, server, body, cycles, down_secs=0.0):
    out = f"{env.tmp}/page.bin"

    def fetch_ok(timeout=5):
        r = env.curl(["-o", out, f"http://{harness.HOST_ALIAS}:{server.port}/"],
                     timeout=timeout + 5, check_rc=False)
        if r.returncode != 0:
            return False, f"curl rc {r.returncode}: {r.stderr.strip()}"
        with open(out, "rb") as f:
            got = f.read()
        return got == body, f"{len(got)} bytes, {'match' if got == body else 'MISMATCH'}"

    ok, detail = fetch_ok(20)
    check(ok, f"first fetch failed: {detail}")
    for cycle in range(1, cycles + 1):
        old = env.relay
        rc, secs, killed = old.stop()
        sig = signal.Signals(old.stop_signal).name
        log(f"cycle {cycle}: relay pid {old.pid} stopped by {sig}: exit {rc} in {secs:.2f}s"
            f"{' (had to SIGKILL)' if killed else ''}")
        check(not killed and rc == 0, f"relay did not exit cleanly on {sig}: rc {rc}, "
                                      f"killed {killed}")
        if env.direct:
            r = harness.run(["ip", "-n", env.ns, "link", "show", harness.TUN], check_rc=False)
            check(r.returncode != 0, "the tun outlived its direct-mode relay")
        else:
            check(env.client.alive(), "client exited when the relay went away")
        if down_secs:
            time.sleep(down_secs)
        t0 = time.monotonic()
        env.start_relay()  # same port / same abstract name
        log(f"cycle {cycle}: relay restarted (pid {env.relay.pid}) at "
            f"{env.relay_address()} in {time.monotonic() - t0:.2f}s")
        t_up = time.monotonic()
        attempts = 0
        last = ""
        while True:
            attempts += 1
            ok, last = fetch_ok(timeout=3)
            if ok:
                break
            check(env.direct or env.client.alive(), f"client died during reconnect (exit "
                                                    f"{env.client.returncode()})")
            check(time.monotonic() - t_up < RECOVERY_LIMIT,
                  f"cycle {cycle}: no working connection {RECOVERY_LIMIT}s after the relay "
                  f"came back ({attempts} attempts, last: {last})")
            time.sleep(0.3)
        log(f"cycle {cycle}: fetch works again {time.monotonic() - t_up:.2f}s after restart "
            f"({attempts} attempts)")
        env.wait_tun(timeout=2)  # still configured
    env.assert_alive()


def serve_page(http_server):
    """A 256 KiB page on a host HTTP server: (server, body)."""
    body = harness.deterministic_bytes(256 * 1024, seed=3)
    return http_server(body), body


@pytest.fixture
def page(http_server):
    return serve_page(http_server)


@pytest.mark.parametrize("env", [{"transport": "tcp"}, {"transport": "unix"},
                                 {"transport": "direct"}], indirect=True,
                         ids=["tcp-link", "unix-link", "direct"])
def test_relay_restarts_twice_on_the_same_port_or_socket(env, page):
    restart_and_fetch(env, *page, cycles=2)


def test_relay_away_3_s_then_back(env, page):
    # The client's backoff has grown meanwhile; it must still come back in time.
    restart_and_fetch(env, *page, cycles=1, down_secs=3.0)


STALE = r'''
import json, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
s.sendall(b"before")
got = s.recv(100)
print("ready " + got.decode(), flush=True)
sys.stdin.readline()  # the relay is restarted meanwhile
t0 = time.monotonic()
res = None
s.settimeout(10)
try:
    s.sendall(b"after")
    data = s.recv(100)
    res = "EOF" if not data else "data " + repr(data)
except socket.timeout:
    res = "timeout"
except OSError as e:
    res = type(e).__name__
print(json.dumps({"result": res, "secs": time.monotonic() - t0}), flush=True)
'''


def test_connection_open_across_a_restart_gets_rst(env, tcp_server):
    # A connection open across a relay restart belongs to no flow in the new
    # relay: its next segment must be answered with RST (the app sees
    # ECONNRESET quickly) instead of being silently dropped until the
    # device's TCP gives up minutes later.
    server = tcp_server(harness.echo_handler)
    cmd = ["ip", "netns", "exec", env.ns, "python3", "-c", STALE, harness.HOST_ALIAS,
           str(server.port)]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        check(line.startswith("ready before"), f"stale-connection script: {line!r} "
                                               f"{p.stderr.read() if p.poll() is not None else ''}")
        rc, secs, killed = env.relay.stop()
        check(rc == 0 and not killed, f"relay stop rc {rc} killed {killed}")
        env.start_relay()
        # Let the client reconnect first (probe with a fresh connection).
        deadline = time.monotonic() + RECOVERY_LIMIT
        while True:
            r = env.curl(["-o", "/dev/null", f"http://{harness.HOST_ALIAS}:1/"], timeout=8,
                         check_rc=False)
            if r.returncode == 7:  # refused by the new relay: it is connected
                break
            check(time.monotonic() < deadline, f"client did not reconnect: curl {r.returncode}")
            time.sleep(0.3)
        p.stdin.write("go\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    lines = [l for l in out.splitlines() if l.strip()]
    check(lines, f"no result from stale-connection script; stderr {err}")
    res = json.loads(lines[-1])
    log(f"stale connection after relay restart: {res['result']} in {res['secs']:.2f}s")
    check(res["result"] in ("ConnectionResetError", "BrokenPipeError", "EOF"),
          f"stale connection across relay restart: {res['result']} after {res['secs']:.1f}s "
          f"(expected a RST -> ConnectionResetError within a few seconds)")
    check(res["secs"] < 5, f"RST took {res['secs']:.1f}s")
    env.assert_alive()


def test_relay_sigkilled_then_back(env, http_server):
    # SIGKILL: no goodbye on the link at all; the client must notice the EOF/RST.
    body = b"after kill\n"
    server = http_server(body)
    r = env.curl([f"http://{harness.HOST_ALIAS}:{server.port}/"], timeout=20)
    check(r.stdout == "after kill\n", f"first fetch {r.stdout!r}")
    rc, secs, killed = env.relay.stop(signal.SIGKILL)
    log(f"relay SIGKILLed (rc {rc})")
    env.start_relay()
    t0 = time.monotonic()
    while True:
        r = env.curl([f"http://{harness.HOST_ALIAS}:{server.port}/"], timeout=8, check_rc=False)
        if r.returncode == 0 and r.stdout == "after kill\n":
            break
        check(env.client.alive(), "client died")
        check(time.monotonic() - t0 < RECOVERY_LIMIT,
              f"no working fetch {RECOVERY_LIMIT}s after SIGKILL+restart: {r.returncode} "
              f"{r.stderr.strip()}")
        time.sleep(0.3)
    log(f"fetch works {time.monotonic() - t0:.2f}s after restart")
    env.assert_alive()


@pytest.mark.env(client=False, relay=False)
def test_client_started_before_the_relay(env, http_server):
    # The client is started while no relay listens; it keeps retrying and
    # brings the tun up once the relay appears.
    env.port = harness.free_tcp_port()
    env.start_client()
    time.sleep(2.5)
    check(env.client.alive(), f"client exited ({env.client.returncode()}) with no relay")
    env.start_relay()
    t0 = time.monotonic()
    env.wait_tun(timeout=RECOVERY_LIMIT)
    log(f"tun up {time.monotonic() - t0:.2f}s after the relay started")
    server = http_server(b"late relay\n")
    r = env.curl([f"http://{harness.HOST_ALIAS}:{server.port}/"], timeout=20)
    check(r.stdout == "late relay\n", f"fetch {r.stdout!r}")
    env.assert_alive()


def test_client_sigint_exits_0_and_removes_tun_and_resolv_conf(env):
    # SIGINT (Ctrl+C) stops the client cleanly: exit 0, tun and resolv.conf gone.
    rc, secs, killed = env.client.stop(signal.SIGINT)
    log(f"client SIGINT: exit {rc} in {secs:.2f}s")
    check(not killed and rc == 0, f"client on SIGINT: rc {rc}, killed {killed}")
    r = harness.run(["ip", "-n", env.ns, "link", "show", harness.TUN], check_rc=False)
    check(r.returncode != 0, f"tun still present after client exit: {r.stdout}")
    check(not os.path.exists(f"/etc/netns/{env.ns}/resolv.conf"),
          "resolv.conf left behind after client exit")
    check(env.relay.alive(), "relay died when its client left")
