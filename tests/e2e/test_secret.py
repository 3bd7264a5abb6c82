"""--secret FILE (issue 12): with a secret, the relay sends a fresh nonce
after the client id and relays nothing, not one packet, for a client that
does not answer it with HMAC-SHA256(secret, label || id || nonce): one
without the secret (the real client with no --secret, or a hand-made one
that sends packets at once), one with a wrong secret, one that replays an
answer seen on another connection, or one that stays silent. The real
client with the right --secret works as before."""

import os
import time

import pytest

import harness
import raw_device
from harness import check

SECRET = b"e2e shared secret: 0123456789abcdef\n"  # the newline is not part of it


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret"
    path.write_bytes(SECRET)
    os.chmod(path, 0o600)
    return str(path)


def wrong_file(tmp_path):
    path = tmp_path / "wrong"
    path.write_bytes(b"another secret of the same sort")
    return str(path)


def relay_counters(env, needle):
    deadline = time.monotonic() + 10
    while True:
        lines = [l for l in env.relay.log_lines(" closed (") if needle in l]
        if lines:
            summary = lines[-1].split("): ", 1)[1]
            return {k: int(v) for k, v in (f.split("=", 1) for f in summary.split() if "=" in f)}
        check(time.monotonic() < deadline, f"no session closed with {needle!r}: "
                                           f"{env.relay.log_text()}")
        time.sleep(0.05)


def test_the_right_secret_downloads_as_before(make_env, secret_file, http_server):
    server = http_server(harness.deterministic_bytes(2 * 1024 * 1024, 12))
    env = make_env(relay_args=["--secret", secret_file], client_args=["--secret", secret_file])
    out = os.path.join(env.tmp, "download.bin")
    env.curl(["-o", out, f"http://{harness.HOST_ALIAS}:{server.port}/"], timeout=60)
    with open(out, "rb") as f:
        check(harness.sha256(f.read()) == harness.sha256(server.body), "download not byte-exact")
    check(any("secret answer accepted" in l for l in env.relay.log_lines("client ")),
          "the relay did not log the accepted answer")


@pytest.mark.parametrize("client_secret", ["none", "wrong"])
def test_a_client_without_the_secret_gets_no_packet_through(make_env, secret_file, tmp_path,
                                                              tcp_server, client_secret):
    server = tcp_server(harness.echo_handler)
    client_args = [] if client_secret == "none" else ["--secret", wrong_file(tmp_path)]
    env = make_env(relay_args=["--secret", secret_file], client_args=client_args, client=False)
    env.start_client()
    # Without a secret the client's first packets are taken for the answer
    # (or, should it send none for 5 s, the deadline closes it).
    counters = relay_counters(env, " secret ")
    refusals = counters.get("secret_refused", 0) + counters.get("secret_timeout", 0)
    check(refusals == 1, f"refusal not counted: {counters}")
    check("packets_from_device" not in counters and "packets_to_device" not in counters,
          f"packets were relayed: {counters}")
    check(server.accepted == 0, "a host server was reached")
    # The client retries; each attempt is refused the same way and no tun
    # ever gets a working link.
    time.sleep(1.5)
    check(server.accepted == 0, "a host server was reached on a retry")


@pytest.mark.env(client=False)
def test_wrong_replayed_and_silent_hand_made_clients_get_nothing(make_env, secret_file,
                                                                  tcp_server):
    server = tcp_server(harness.echo_handler)
    env = make_env(relay_args=["--secret", secret_file], client=False)
    secret = SECRET.rstrip(b"\n")
    syn = raw_device.tcp_syn("10.0.0.2", "10.0.2.2", 40000, server.port)

    # A right answer opens one connection; a listener keeps its bytes.
    good = raw_device.RawDevice(env.port)
    nonce = good.read_nonce()
    seen_answer = raw_device.secret_answer(secret, good.client_id, nonce)
    good.send(seen_answer + syn)
    reply = good.next_packet()
    check(reply is not None and raw_device.describe(reply)[2] == 0x12,
          f"the right answer did not open the link: {reply!r}")
    good.close()

    # Packets at once (no answer), a wrong key, and the replayed answer.
    attempts = {
        "packets only": lambda nonce, ident: syn,
        "wrong key": lambda nonce, ident: raw_device.secret_answer(b"x" * 32, ident, nonce) + syn,
        "replayed": lambda nonce, ident: seen_answer + syn,
    }
    for name, make in attempts.items():
        device = raw_device.RawDevice(env.port)
        nonce2 = device.read_nonce()
        check(nonce2 != nonce, "the relay reused a nonce")
        device.send(make(nonce2, device.client_id))
        packets, closed = device.packets(3)
        check(packets == [] and closed, f"{name}: got {len(packets)} packets, closed={closed}")
        device.close()

    silent = raw_device.RawDevice(env.port)
    silent.read_nonce()
    started = time.monotonic()
    packets, closed = silent.packets(8)
    waited = time.monotonic() - started
    check(closed and packets == [] and 4 < waited < 7.5,
          f"silent client: closed={closed} after {waited:.1f} s, {len(packets)} packets")
    silent.close()
    check(server.accepted == 1, f"host server reached {server.accepted} times, expected once")
    timeouts = [l for l in env.relay.log_lines(" closed (") if "no secret answer in time" in l]
    refused = [l for l in env.relay.log_lines(" closed (") if "wrong secret answer" in l]
    check(len(timeouts) == 1 and len(refused) == 3, f"closes: {env.relay.log_text()}")


def test_a_short_secret_file_is_refused(rtether, tmp_path):
    path = tmp_path / "short"
    path.write_bytes(b"tooshort\n")
    for command in (["relay", "-p", str(harness.free_tcp_port())], ["client"]):
        r = harness.run([rtether] + command + ["--secret", str(path)], check_rc=False, timeout=20)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 2 and len(lines) == 1 and "fewer than 16" in lines[0],
              f"{command[0]} with a short secret: rc {r.returncode}, {r.stderr!r}")
