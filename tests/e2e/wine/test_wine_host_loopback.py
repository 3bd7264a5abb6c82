"""The host's loopback as the device sees it through `wine rtether.exe
relay`: fd00::2:2 (the relay dials ::1) carries TCP and UDP and refuses a
closed port at once like 10.0.2.2 does; UDP to a closed port on either
address fails on the device with ECONNREFUSED (Winsock reports the ICMP port
unreachable as WSAECONNRESET, SIO_UDP_CONNRESET); ping to both gets every
reply (the relay's ICMP echo through IcmpSendEcho2 / Icmp6SendEcho2; under
Wine as root these reach the kernel as raw ICMP sockets). The scenarios of
tests/e2e/test_ipv6.py and tests/e2e/test_icmp.py, with the relay on this
host rather than in a host namespace: Wine creates sockets in its wineserver,
so a relay in another namespace would still get the wineserver's."""

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


def test_udp_to_a_closed_port_is_refused_on_the_device(env):
    out = env.ns_python_json(icmp.UDP_CLOSED, ["", harness.HOST_ALIAS, ipv6.HOST_ALIAS_V6],
                             timeout=30)
    log(f"udp to closed ports: {out}")
    for host, (result, secs) in out.items():
        check(result == "ECONNREFUSED", f"UDP to {host}:9 gave {result}, expected ECONNREFUSED")
        check(secs < 1.5, f"ECONNREFUSED from {host} took {secs:.2f}s")
    env.assert_alive()


@pytest.mark.parametrize("target, v6", [(harness.HOST_ALIAS, False), (ipv6.HOST_ALIAS_V6, True)],
                         ids=["host-alias", "host-alias-v6"])
def test_ping_gets_every_reply(env, target, v6):
    icmp.expect_all_replies(env, target, v6=v6)
    env.assert_alive()
