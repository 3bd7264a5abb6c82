"""The host's loopback as the device sees it through `wine rtether.exe
relay`: fd00::2:2 (the relay dials ::1) carries TCP and UDP and refuses a
closed port at once like 10.0.2.2 does, and ping to 10.0.2.2 gets every reply
(the relay's ICMP echo through IcmpSendEcho2, which Wine, run as root, sends
on a raw ICMP socket). The scenarios of tests/e2e/test_ipv6.py and
tests/e2e/test_icmp.py, with the relay on this host rather than in a host
namespace: Wine creates sockets in its wineserver, so a relay in another
namespace would still get the wineserver's.

Known under Wine 8 (xfail, strict): UDP to a closed port does not reach the
device as ECONNREFUSED, and ping to fd00::2:2 is answered "administratively
prohibited" (no Icmp6SendEcho2); the reasons are in the marks."""

import pytest

import harness
import test_icmp as icmp
import test_ipv6 as ipv6
from harness import check, log


@pytest.fixture
def env(make_env):
    return make_env(client_args=ipv6.ROUTES)


def test_ipv6_download_8_mib_byte_exact(env, tcp_server):
    ipv6.test_ipv6_download_8_mib_byte_exact(env, tcp_server)


def test_ipv6_udp_echo_up_to_60000_bytes(env, udp_echo_server):
    ipv6.test_ipv6_udp_echo_up_to_60000_bytes(env, udp_echo_server)


def test_ipv6_connection_refused_at_once(env):
    ipv6.test_ipv6_connection_refused_at_once(env)


@pytest.mark.xfail(strict=True, reason="Wine 8 reports the ICMP port unreachable of a UDP "
                                        "socket as POLLERR with SO_ERROR WSAECONNREFUSED while "
                                        "recv says WSAEWOULDBLOCK (Windows: recv says "
                                        "WSAECONNRESET, SIO_UDP_CONNRESET); the Winsock backend "
                                        "looks at recv's error only")
def test_udp_to_a_closed_port_is_refused_on_the_device(env):
    out = env.ns_python_json(icmp.UDP_CLOSED, ["", harness.HOST_ALIAS, ipv6.HOST_ALIAS_V6],
                             timeout=30)
    log(f"udp to closed ports: {out}")
    for host, (result, secs) in out.items():
        check(result == "ECONNREFUSED", f"UDP to {host}:9 gave {result}, expected ECONNREFUSED")
        check(secs < 1.5, f"ECONNREFUSED from {host} took {secs:.2f}s")
    env.assert_alive()


@pytest.mark.parametrize("target, v6", [
    (harness.HOST_ALIAS, False),
    pytest.param(ipv6.HOST_ALIAS_V6, True, marks=pytest.mark.xfail(
        strict=True, reason="Wine 8's Icmp6CreateFile is a stub (ERROR_CALL_NOT_IMPLEMENTED): "
                            "the relay answers \"administratively prohibited\"")),
], ids=["host-alias", "host-alias-v6"])
def test_ping_gets_every_reply(env, target, v6):
    icmp.expect_all_replies(env, target, v6=v6)
    env.assert_alive()
