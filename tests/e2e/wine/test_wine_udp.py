"""UDP through `wine rtether.exe relay`: datagrams of 1 to 60000 bytes from
the namespace to a host echo server at 10.0.2.2 come back exactly, one by one
and as a burst (tests/e2e/test_udp.py's echo_all), and IP fragments are
dropped and counted."""

import test_udp as udp


def test_udp_echo_up_to_60000_bytes(env, udp_echo_server):
    udp.echo_all(env, udp_echo_server(), udp.SIZES)


def test_udp_fragments_are_dropped_and_counted(make_env, udp_echo_server):
    udp.test_udp_fragments_are_dropped_and_counted(make_env(mtu=udp.FRAGMENTED_MTU),
                                                   udp_echo_server)
