"""Never an open proxy (issue 12): a relay listener beyond loopback is
refused (exit 2, one line naming the risk and --allow-remote) unless
--allow-remote is given; a relay that accepts remote clients keeps host
loopback off unless --host-loopback; --no-host-loopback refuses 10.0.2.2
(TCP reset, UDP "administratively prohibited") and the loopback addresses
a hand-made client can write as destinations (127.0.0.1), which are the
same hole when host loopback is on."""

import json
import os
import subprocess
import sys
import time

import pytest

import harness
import raw_device
from harness import check

E2E_DIR = os.path.dirname(os.path.abspath(__file__))

REFUSED_LISTENERS = [
    ["--bind", "0.0.0.0"],
    ["--bind", "::"],
    ["--bind", "192.0.2.1"],
    ["--forward", "tcp:0.0.0.0:18080:80"],
    ["--forward", "udp:[::]:18053:53"],
    ["--metrics", "0.0.0.0:19464"],
    ["--metrics", "[::]:19464"],
]


@pytest.mark.parametrize("args", REFUSED_LISTENERS, ids=[" ".join(a) for a in REFUSED_LISTENERS])
def test_a_listener_beyond_loopback_needs_allow_remote(rtether, args):
    port = harness.free_tcp_port()
    r = subprocess.run([rtether, "relay", "-p", str(port)] + args, capture_output=True,
                       text=True, timeout=20)
    lines = r.stderr.strip().splitlines()
    check(r.returncode == 2, f"relay {args}: exit {r.returncode}, expected 2 ({r.stderr!r})")
    check(len(lines) == 1, f"relay {args}: expected one line, got {lines!r}")
    check("--allow-remote" in lines[0] and "anyone" in lines[0],
          f"relay {args}: the line names neither the risk nor the flag: {lines[0]!r}")
    check(not harness._tcp_listening(port), f"relay {args} left port {port} listening")


def test_help_examples_bind_only_safely(rtether):
    r = subprocess.run([rtether, "relay", "--help"], capture_output=True, text=True, timeout=20)
    examples = r.stdout.split("Examples:", 1)[1]
    for line in examples.splitlines():
        if "--bind" in line and "--bind ::1" not in line:
            check("--allow-remote" in line, f"help example binds beyond loopback: {line!r}")
    check("0.0.0.0" not in examples, f"help still shows --bind 0.0.0.0: {examples!r}")


# A hand-made client inside the namespace: a TCP SYN to 10.0.2.2 and to
# 127.0.0.1 and a UDP datagram to 10.0.2.2, each answered by the relay; then
# it leaves, and the relay logs that session's counters.
PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import raw_device as rd
port = int(sys.argv[2])
deadline = time.monotonic() + 10
while True:
    try:
        device = rd.RawDevice(port)
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.05)
answers = []
for packet in (rd.tcp_syn("10.0.0.2", "10.0.2.2", 40000, 9),
               rd.tcp_syn("10.0.0.2", "127.0.0.1", 40001, 9),
               rd.udp("10.0.0.2", "10.0.2.2", 40002, 9, b"hello")):
    device.send(packet)
    reply = device.next_packet()
    answers.append(rd.describe(reply) if reply else None)
device.close()
print(json.dumps(answers))
"""


def probe_relay_in_namespace(rtether, tmp_path, relay_args):
    """Runs the relay with `relay_args` in a namespace of its own (only lo:
    0.0.0.0 reaches nothing else) and the probe beside it; returns the
    relay's stderr and the counters of the probe's session."""
    ns = harness.unique_name()
    port = 31416
    harness.run(["ip", "netns", "add", ns])
    relay = None
    try:
        harness.run(["ip", "-n", ns, "link", "set", "lo", "up"])
        relay = harness.Proc("relay", ["ip", "netns", "exec", ns, rtether, "relay", "-p",
                                       str(port)] + relay_args, str(tmp_path / "relay.log"))
        r = harness.run(["ip", "netns", "exec", ns, sys.executable, "-c", PROBE, E2E_DIR,
                         str(port)], timeout=30, check_rc=False)
        check(r.returncode == 0, f"probe failed: {r.stderr}\nrelay: {relay.log_text()}")
        answers = [tuple(a) if a else None for a in json.loads(r.stdout.strip().splitlines()[-1])]
        deadline = time.monotonic() + 10
        while not relay.log_lines(" closed ("):
            check(time.monotonic() < deadline, f"no closed session: {relay.log_text()}")
            time.sleep(0.05)
        summary = relay.log_lines(" closed (")[-1].split("): ", 1)[1]
        counters = {k: int(v) for k, v in (f.split("=", 1) for f in summary.split() if "=" in f)}
        return relay.log_text(), answers, counters
    finally:
        if relay is not None:
            relay.stop()
            relay.close()
        harness.run(["ip", "netns", "del", ns], check_rc=False)


def test_allow_remote_warns_and_keeps_host_loopback_off(rtether, tmp_path):
    log, answers, counters = probe_relay_in_namespace(
        rtether, tmp_path, ["--bind", "0.0.0.0", "--allow-remote"])
    check("anyone who can reach this port" in log and "host loopback is off" in log,
          f"no warning naming the risk: {log}")
    check(answers[0] == ("tcp", "10.0.2.2", 0x14) and answers[1] == ("tcp", "127.0.0.1", 0x14),
          f"SYNs to the host loopback not reset: {answers}")
    check(answers[2] == ("icmp", "10.0.2.2", [3, 13]),
          f"UDP to 10.0.2.2 not administratively prohibited: {answers}")
    check(counters.get("drop_host_loopback") == 3 and "tcp_flows_opened" not in counters,
          f"refusals not counted as drop_host_loopback: {counters}")


def test_host_loopback_flag_turns_it_back_on_for_remote_clients(rtether, tmp_path):
    log, answers, counters = probe_relay_in_namespace(
        rtether, tmp_path, ["--bind", "0.0.0.0", "--allow-remote", "--host-loopback"])
    check("host loopback is ON" in log, f"no warning about host loopback: {log}")
    # Port 9 is closed: the relay dialled it (a refused connect), so it resets.
    check(counters.get("tcp_flows_opened") == 2 and "drop_host_loopback" not in counters,
          f"host loopback still refused: {counters}")


@pytest.mark.env(relay_args=["--no-host-loopback"])
def test_no_host_loopback_refuses_the_alias_tcp_and_udp(env, tcp_server, udp_echo_server):
    server = tcp_server(harness.echo_handler)
    echo = udp_echo_server()
    code = r"""
import json, socket, sys
out = {}
s = socket.socket(); s.settimeout(5)
try:
    s.connect(("10.0.2.2", int(sys.argv[1]))); out["tcp"] = "connected"
except OSError as e:
    out["tcp"] = type(e).__name__
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3)
u.connect(("10.0.2.2", int(sys.argv[2])))
out["udp"] = "timeout"
for attempt in range(3):
    try:
        u.send(b"hello"); u.recv(100); out["udp"] = "echoed"; break
    except socket.timeout:
        pass
    except OSError as e:
        out["udp"] = e.strerror; break
print(json.dumps(out))
"""
    out = env.ns_python_json(code, [server.port, echo.port], timeout=30)
    check(out["tcp"] == "ConnectionRefusedError", f"TCP to 10.0.2.2: {out['tcp']}")
    check(out["udp"] == "No route to host", f"UDP to 10.0.2.2: {out['udp']}")
    check(server.accepted == 0 and echo.received == [], "a host server was reached")
    counters = env.session_counters()
    check(counters.get("drop_host_loopback", 0) >= 2, f"not counted: {counters}")


def raw_syn_to_loopback(env, port):
    device = raw_device.RawDevice(env.port)
    try:
        device.send(raw_device.tcp_syn("10.0.0.2", "127.0.0.1", 40000, port))
        reply = device.next_packet()
        return raw_device.describe(reply) if reply else None
    finally:
        device.close()


@pytest.mark.env(client=False, relay_args=["--no-host-loopback"])
def test_no_host_loopback_refuses_127_0_0_1_written_by_a_client(env, tcp_server):
    server = tcp_server(harness.echo_handler)
    answer = raw_syn_to_loopback(env, server.port)
    check(answer == ("tcp", "127.0.0.1", 0x14), f"SYN to 127.0.0.1 answered {answer}")
    time.sleep(0.2)
    check(server.accepted == 0, "the relay dialled 127.0.0.1 with host loopback off")


@pytest.mark.env(client=False)
def test_with_host_loopback_on_127_0_0_1_is_reached_like_10_0_2_2(env, tcp_server):
    # The hole --no-host-loopback closes: a client that writes 127.0.0.1 as a
    # destination reaches the host's loopback services as 10.0.2.2 does.
    server = tcp_server(harness.echo_handler)
    answer = raw_syn_to_loopback(env, server.port)
    check(answer == ("tcp", "127.0.0.1", 0x12), f"SYN to 127.0.0.1 answered {answer}")
    deadline = time.monotonic() + 5
    while server.accepted == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    check(server.accepted == 1, "the relay did not dial 127.0.0.1")
