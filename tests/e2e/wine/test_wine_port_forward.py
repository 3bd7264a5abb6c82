"""Host -> device forwarding by `wine rtether.exe relay --forward tcp:...
--forward udp:...` (the env of this file; its relay from wine/conftest.py's
make_env): host connections to 127.0.0.1 and [::1] reach echo
servers in the namespace, byte-exact, with a half-close; UDP datagrams from
many host peers come back exactly; a closed device port and a client id not
connected reset the host connection (tests/e2e/test_port_forward.py)."""

import pytest

import test_port_forward as forward


@pytest.fixture
def env(request, make_env):
    return forward.forwarding_env(make_env, getattr(request, "param", "127.0.0.1"))


@pytest.fixture
def device_servers(env):
    servers = forward.DeviceServers(env)
    yield servers
    servers.close()


@pytest.mark.parametrize("env", ["127.0.0.1", "::1"], indirect=True, ids=["ipv4", "ipv6"])
def test_forwarded_tcp_echoes_concurrently_byte_exact(env, device_servers):
    forward.test_forwarded_tcp_echoes_concurrently_byte_exact(env, device_servers)


def test_forwarded_tcp_carries_16_mib_with_a_half_close_and_an_answer(env):
    forward.test_forwarded_tcp_carries_16_mib_with_a_half_close_and_an_answer(env)


@pytest.mark.parametrize("env", ["127.0.0.1", "::1"], indirect=True, ids=["ipv4", "ipv6"])
def test_forwarded_udp_from_many_host_peers_is_echoed_exactly(env, device_servers):
    forward.test_forwarded_udp_from_many_host_peers_is_echoed_exactly(env, device_servers)


def test_forward_to_a_closed_device_port_resets(env):
    forward.test_forward_to_a_closed_device_port_resets(env)


def test_forward_to_a_client_id_not_connected_resets(env):
    forward.test_forward_to_a_client_id_not_connected_resets(env)
