#!/usr/bin/env python3
"""UDP through the relay: datagrams of 1, 100, 1400, 8000 and 60000 bytes sent
from the namespace to a host echo server at 10.0.2.2 come back exactly, one
datagram each (boundaries kept); then all at once as a burst."""

import sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import harness  # noqa: E402
from harness import check, log  # noqa: E402

SIZES = [1, 100, 1400, 8000, 60000]

CLIENT = r'''
import json, random, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
sizes = [int(x) for x in sys.argv[3].split(",")]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.connect((host, port))
results = {}
def payload(size, tag):
    return random.Random(size * 1000 + tag).randbytes(size)
# One at a time, up to 3 tries each (UDP may drop, the relay should not).
for size in sizes:
    data = payload(size, 1)
    outcome = "timeout"
    for attempt in range(3):
        t0 = time.monotonic()
        try:
            s.send(data)
        except OSError as e:
            outcome = f"send error: {e}"
            break
        s.settimeout(2.0)
        try:
            got = s.recv(65535)
        except socket.timeout:
            continue
        except OSError as e:
            outcome = f"recv error: {e}"
            break
        if got == data:
            outcome = f"ok after {attempt + 1} tries, {1000 * (time.monotonic() - t0):.1f} ms"
        else:
            outcome = f"mismatch: got {len(got)} bytes, expected {size}"
        break
    results[str(size)] = outcome
# Burst: all sizes back to back, each must come back as its own datagram.
burst = {payload(size, 2): size for size in sizes}
for data in burst:
    s.send(data)
got_sizes = []
bad = []
s.settimeout(3.0)
try:
    for _ in range(len(burst)):
        got = s.recv(65535)
        if got in burst:
            got_sizes.append(burst[got])
        else:
            bad.append(len(got))
except socket.timeout:
    pass
print(json.dumps({"single": results, "burst": sorted(got_sizes), "burst_bad": bad}))
'''


def t_udp(env, sizes=SIZES):
    server = env.add_server(harness.UdpEchoServer())
    out = env.ns_python_json(CLIENT, [harness.HOST_ALIAS, server.port,
                                      ",".join(map(str, sizes))], timeout=60)
    log(f"results: {out}")
    log(f"server saw datagram sizes: {server.received}")
    bad = {k: v for k, v in out["single"].items() if not v.startswith("ok")}
    check(not bad, f"datagrams not echoed exactly: {bad}; server saw sizes {server.received}")
    check(not out["burst_bad"], f"burst: datagrams with wrong content/boundaries, sizes "
                                f"{out['burst_bad']}")
    # The burst goes out at once; losing one there is a relay drop worth knowing.
    check(out["burst"] == sorted(sizes), f"burst: got back sizes {out['burst']}, sent {sizes}")
    env.assert_alive()


def t_udp_mtu16384(env):
    # Gnirehtet's MTU: the largest datagram that still fits one packet.
    t_udp(env, [1, 100, 1400, 8000, 16384 - 28])


def t_udp_fragmented(env):
    # 60000 bytes over a 16384 MTU: the device kernel sends IP fragments. The
    # relay counts them as drop_fragment and drops them (no reassembly), so the
    # datagram is lost. Reported as a known limitation, not a failure.
    server = env.add_server(harness.UdpEchoServer())
    out = env.ns_python_json(CLIENT, [harness.HOST_ALIAS, server.port, "60000"], timeout=60)
    log(f"results: {out}")
    env.assert_alive()
    if not out["single"]["60000"].startswith("ok"):
        raise harness.KnownLimitation(
            "60000-byte UDP datagram over MTU 16384 (IP fragments) not delivered: "
            f"{out['single']['60000']}; server saw sizes {server.received}")


if __name__ == "__main__":
    harness.main([
        ("udp echo 1..60000 bytes (tcp link, default MTU)", harness.with_env(t_udp)),
        ("udp echo 1..60000 bytes (unix link)", harness.with_env(t_udp, transport="unix")),
        ("udp echo 1..16356 bytes (--mtu 16384, unfragmented)",
         harness.with_env(t_udp_mtu16384, mtu=16384)),
        ("udp 60000 bytes over --mtu 16384 (IP fragments)",
         harness.with_env(t_udp_fragmented, mtu=16384)),
    ])
