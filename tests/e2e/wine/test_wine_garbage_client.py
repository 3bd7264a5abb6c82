"""Garbage on the relay port of `wine rtether.exe relay` (bad version
nibbles, random bytes, impossible lengths, truncated packets, silence) while
a real client downloads: each garbage connection is closed, the relay stays
up and the real transfers stay byte-exact (tests/e2e/test_garbage_client.py)."""

import pytest

import test_garbage_client as garbage

pytestmark = pytest.mark.timeout(150)


def test_garbage_clients_beside_a_working_one(env, http_server):
    garbage.test_garbage_clients_beside_a_working_one(env, http_server)
