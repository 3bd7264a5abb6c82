"""TCP half-close both ways, full duplex and resets both ways through
`wine rtether.exe relay` (the scenarios of tests/e2e/test_tcp_half_close.py).
Wine 8 reports the host's reset as POLLERR|POLLHUP then an end of stream;
the Winsock backend reads that as a reset, so the device still gets one."""

import test_tcp_half_close as half_close


def test_device_shuts_down_first_and_the_host_replies_after_eof(env, tcp_server):
    half_close.test_device_shuts_down_first_and_the_host_replies_after_eof(env, tcp_server)


def test_host_shuts_down_first_and_the_device_still_sends(env, tcp_server):
    half_close.test_host_shuts_down_first_and_the_device_still_sends(env, tcp_server)


def test_full_duplex_20_mib_each_way(env, tcp_server):
    half_close.test_full_duplex_20_mib_each_way(env, tcp_server)


def test_host_reset_reaches_the_device(env, tcp_server):
    half_close.test_host_reset_reaches_the_device(env, tcp_server)


def test_device_reset_reaches_the_host(env, tcp_server):
    half_close.test_device_reset_reaches_the_host(env, tcp_server)
