"""ICMP through the relay, end to end, with the relay in a host namespace of
the test's own (tests/e2e/host_namespace.py) so that ping sockets can be
allowed or forbidden there (net.ipv4.ping_group_range) and test hosts can
be routed. Checked:
- `ping -c` and `ping -6 -c` from the device to 10.0.2.2 / fd00::2:2 and to
  test hosts (on the host's link and one router away) get every reply;
- with ping sockets forbidden (ping_group_range "1 0" in the relay's
  namespace), a relay with CAP_NET_RAW (root) pings through raw ICMP
  sockets: every reply comes back, IPv4 and IPv6, also with two pings at
  once toward one host; without CAP_NET_RAW ping gets "administratively
  prohibited" (iputils prints "Packet filtered") at once, and the relay says
  so once;
- a UDP datagram to a closed port gives the device's connected socket
  ECONNREFUSED (port unreachable quoted back), IPv4 and IPv6, on loopback
  and on a test host; to an unrouted address, ENETUNREACH;
- TCP to an unrouted address fails with ENETUNREACH at once, to a silent
  address on the host's link with EHOSTUNREACH (not a reset, not a hang);
- a datagram larger than the path's MTU (a router one hop away has a 1280
  link) makes the device learn the path MTU: "fragmentation needed" /
  "packet too big" reaches it, as IP_MTU / IPV6_MTU shows."""

import pytest

import harness
import host_namespace as hn
from harness import check, log

ROUTES = ["-r", "0.0.0.0/0,::/0"]
# Direct mode (the relay opens the tun itself) has these routes unasked.
DIRECT = {"transport": "direct", "client_args": ()}


def ping(env, target, count=3, v6=False, size=None, check_rc=False):
    args = ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2"]
    if v6:
        args.insert(1, "-6")
    if size:
        args += ["-s", str(size)]
    return env.ns_run(args + [target], timeout=30, check_rc=check_rc)


def expect_all_replies(env, target, v6=False, size=None):
    r = ping(env, target, v6=v6, size=size)
    summary = [l for l in r.stdout.splitlines() if "packets transmitted" in l]
    log(f"ping {'-6 ' if v6 else ''}{target}{f' -s {size}' if size else ''}: {summary}")
    check(r.returncode == 0 and summary and " 0% packet loss" in summary[0],
          f"ping {target} failed (rc {r.returncode}):\n{r.stdout}\n{r.stderr}")


@pytest.mark.parametrize("target, v6, size", [
    (harness.HOST_ALIAS, False, None),
    (harness.HOST_ALIAS, False, 8000),
    ("fd00::2:2", True, None),
    (hn.ROUTER_V4, False, None),
    (hn.ROUTER_V6, True, None),
    (hn.FAR_V4, False, None),
    (hn.FAR_V6, True, None),
], ids=["host-alias", "host-alias-8000-bytes", "host-alias-v6", "router", "router-v6", "far",
        "far-v6"])
@pytest.mark.env(client_args=ROUTES)
@pytest.mark.parametrize("host_env", [{}, DIRECT], indirect=True, ids=["unix-link", "direct"])
def test_ping_gets_every_reply(host_env, target, v6, size):
    expect_all_replies(host_env, target, v6=v6, size=size)
    host_env.assert_alive()


@pytest.mark.parametrize("target, v6", [
    (harness.HOST_ALIAS, False),
    ("fd00::2:2", True),
    (hn.ROUTER_V4, False),
    (hn.FAR_V6, True),
], ids=["host-alias", "host-alias-v6", "router", "far-v6"])
@pytest.mark.env(ping_allowed=False, client_args=ROUTES)
def test_ping_forbidden_by_ping_group_range_goes_raw_with_cap_net_raw(host_env, target, v6):
    relay_range = harness.run(["ip", "netns", "exec", host_env.host, "cat",
                               "/proc/sys/net/ipv4/ping_group_range"]).stdout.split()
    check(relay_range == ["1", "0"], f"ping sockets not forbidden for the relay: {relay_range}")
    expect_all_replies(host_env, target, v6=v6)
    check(not host_env.relay.log_lines("ping_group_range"),
          "the relay said ping is prohibited though it has CAP_NET_RAW")
    host_env.assert_alive()


TWO_PINGS = r'''
import json, subprocess, sys
runs = [subprocess.Popen(["ping", "-n", "-c", "5", "-i", "0.2", "-W", "2", sys.argv[1]],
                         stdout=subprocess.PIPE, text=True) for _ in range(2)]
print(json.dumps([[p.wait(timeout=30), p.stdout.read()] for p in runs]))
'''


@pytest.mark.env(ping_allowed=False, client_args=ROUTES)
def test_two_raw_pings_to_one_host_each_get_their_own_replies(host_env):
    # Two identifiers toward one destination: two raw sockets that both see
    # every reply; each ping must get its 5 replies and no duplicate.
    results = host_env.ns_python_json(TWO_PINGS, [hn.ROUTER_V4])
    for rc, output in results:
        summary = [l for l in output.splitlines() if "packets transmitted" in l]
        log(f"one of two pings: {summary}")
        check(rc == 0 and summary and "5 received" in summary[0]
              and "duplicates" not in summary[0], f"ping with another one beside it:\n{output}")
    host_env.assert_alive()


@pytest.mark.env(ping_allowed=False, relay_net_raw=False, client_args=ROUTES)
def test_ping_forbidden_by_ping_group_range_is_prohibited_and_logged_once(host_env):
    for target, v6, words in ((harness.HOST_ALIAS, False, "Packet filtered"),
                              (hn.ROUTER_V4, False, "Packet filtered"),
                              ("fd00::2:2", True, "Administratively prohibited")):
        r = ping(host_env, target, count=2, v6=v6)
        log(f"ping {target} (forbidden): rc {r.returncode}: "
            f"{[l for l in r.stdout.splitlines() if 'icmp' in l.lower() or 'From' in l][:2]}")
        check(r.returncode != 0, f"ping {target} succeeded with ping sockets forbidden")
        check(words.lower() in r.stdout.lower(),
              f"ping {target} did not report {words!r}:\n{r.stdout}\n{r.stderr}")
    notes = host_env.relay.log_lines("ping_group_range")
    check(len(notes) == 1, f"expected one log line naming ping_group_range, got {notes}")
    host_env.assert_alive()


UDP_CLOSED = r'''
import errno, json, socket, sys, time
out = {}
recverr = sys.argv[1].split(",")
for host in sys.argv[2:]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(3)
    if host in recverr:
        # Linux reports "net unreachable" to UDP sockets only with IP_RECVERR
        # (a soft error, RFC 1122 4.1.3.3); port unreachable always.
        s.setsockopt(socket.IPPROTO_IP, 11, 1)  # IP_RECVERR
    s.connect((host, 9))  # discard: nobody listens in these namespaces
    t0 = time.monotonic()
    try:
        s.send(b"anyone?")
        s.recv(100)
        res = "reply"
    except socket.timeout:
        res = "timeout"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    out[host] = [res, time.monotonic() - t0]
    s.close()
print(json.dumps(out))
'''


@pytest.mark.env(client_args=ROUTES)
@pytest.mark.parametrize("host_env", [{}, DIRECT], indirect=True, ids=["unix-link", "direct"])
def test_udp_to_a_closed_port_or_no_route_fails_on_the_device(host_env):
    out = host_env.ns_python_json(UDP_CLOSED, [hn.UNROUTED_V4, harness.HOST_ALIAS, "fd00::2:2",
                                               hn.ROUTER_V4, hn.ROUTER_V6, hn.UNROUTED_V4],
                                  timeout=60)
    log(f"udp to closed ports: {out}")
    for host, (result, secs) in out.items():
        expected = "ENETUNREACH" if host == hn.UNROUTED_V4 else "ECONNREFUSED"
        check(result == expected, f"UDP to {host}:9 gave {result}, expected {expected}")
        check(secs < 1.5, f"{expected} from {host} took {secs:.2f}s")
    host_env.assert_alive()


TCP_UNREACHABLE = r'''
import errno, json, socket, sys, time
out = {}
for host in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(20)
    t0 = time.monotonic()
    try:
        s.connect((host, 80))
        res = "connected"
    except socket.timeout:
        res = "timeout"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    out[host] = [res, time.monotonic() - t0]
    s.close()
print(json.dumps(out))
'''


@pytest.mark.env(client_args=ROUTES)
def test_tcp_to_unrouted_or_silent_hosts_fails_at_once(host_env):
    out = host_env.ns_python_json(TCP_UNREACHABLE, [hn.UNROUTED_V4, hn.MISSING_V4], timeout=60)
    log(f"tcp connects: {out}")
    result, secs = out[hn.UNROUTED_V4]
    check(result == "ENETUNREACH", f"connect to unrouted {hn.UNROUTED_V4}: {result}")
    check(secs < 1, f"ENETUNREACH took {secs:.2f}s")
    result, secs = out[hn.MISSING_V4]
    # The host gives up on ARP after about 3 s; then the device must hear of it.
    check(result == "EHOSTUNREACH", f"connect to silent {hn.MISSING_V4}: {result}")
    check(secs < 10, f"EHOSTUNREACH took {secs:.2f}s")
    host_env.assert_alive()


PATH_MTU = r'''
import json, socket, sys, time
IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_MTU = 10, 2, 14
IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO, IPV6_MTU = 23, 2, 24
out = {}
for host in sys.argv[1:]:
    v6 = ":" in host
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)
    else:
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    s.connect((host, 9))
    before = s.getsockopt(socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP, IPV6_MTU if v6 else IP_MTU)
    sent_error = None
    for attempt in range(20):
        try:
            s.send(b"x" * 1400)
        except OSError as e:
            sent_error = e.errno
            break
        time.sleep(0.1)
    after = s.getsockopt(socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP, IPV6_MTU if v6 else IP_MTU)
    out[host] = {"before": before, "after": after, "send_errno": sent_error}
    s.close()
print(json.dumps(out))
'''


@pytest.mark.env(client_args=ROUTES)
def test_datagram_over_the_path_mtu_teaches_the_device_1280(host_env):
    out = host_env.ns_python_json(PATH_MTU, [hn.FAR_V4, hn.FAR_V6], timeout=60)
    log(f"path MTU seen by the device: {out}")
    for host, seen in out.items():
        check(seen["after"] == 1280, f"{host}: device path MTU {seen['after']} "
                                     f"(before {seen['before']}), expected 1280")
        check(seen["send_errno"] == 90, f"{host}: a 1400-byte send with DF never failed "
                                        f"with EMSGSIZE: {seen}")
    host_env.assert_alive()

