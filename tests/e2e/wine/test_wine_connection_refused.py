"""A connect from the namespace to 10.0.2.2:<closed port> is refused well
under 1 s by `wine rtether.exe relay` (Winsock reports the host's RST as
WSAECONNREFUSED), and the next connection works (the scenarios of
tests/e2e/test_connection_refused.py)."""

import test_connection_refused as refused


def test_connect_to_a_closed_port_is_refused_at_once(env):
    refused.test_connect_to_a_closed_port_is_refused_at_once(env)


def test_refused_then_a_listening_server_works_and_curl_exits_7(env, http_server):
    refused.test_refused_then_a_listening_server_works_and_curl_exits_7(env, http_server)
