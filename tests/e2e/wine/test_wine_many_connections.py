"""200 concurrent TCP connections through `wine rtether.exe relay`, each
echoing 10 KiB exactly, twice in one session (flows released and reused;
tests/e2e/test_many_connections.py's rounds)."""

import pytest

import test_many_connections as many

CONNECTIONS = 200

pytestmark = pytest.mark.timeout(200)


def test_200_concurrent_echo_connections_twice(env, tcp_server):
    many.echo_twice(env, tcp_server, CONNECTIONS)
