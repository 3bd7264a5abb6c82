"""Chosen egress (issue 12): with --outbound-address the relay's host
sockets leave from that address, per relay or per client id (ID=ADDR); a
test server on 127.0.0.1 sees the chosen source (127.0.0.2 or 127.0.0.3:
all of 127.0.0.0/8 is this host's) for TCP and UDP. Bad values and
addresses or interfaces the host lacks fail at start with one line."""

import json
import socket
import subprocess
import threading

import pytest

import harness
from harness import check

# From the device: one TCP connection and one UDP datagram to 10.0.2.2; the
# servers answer with the address they saw.
PROBE = r"""
import json, socket, sys
s = socket.create_connection(("10.0.2.2", int(sys.argv[1])), timeout=10)
tcp = s.recv(100).decode()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3)
u.connect(("10.0.2.2", int(sys.argv[2])))
udp = None
for attempt in range(3):
    u.send(b"who am i")
    try:
        udp = u.recv(100).decode(); break
    except socket.timeout:
        pass
print(json.dumps({"tcp": tcp, "udp": udp}))
"""


class PeerEchoServers:
    """A TCP and a UDP server on 127.0.0.1 that answer with the peer's address."""

    def __init__(self):
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.tcp.settimeout(0.2)
        self.udp.settimeout(0.2)
        self.stopping = False
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self._tcp, self._udp)]
        for t in self.threads:
            t.start()

    def _tcp(self):
        while not self.stopping:
            try:
                conn, peer = self.tcp.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                conn.sendall(peer[0].encode())

    def _udp(self):
        while not self.stopping:
            try:
                data, peer = self.udp.recvfrom(100)
                self.udp.sendto(peer[0].encode(), peer)
            except (socket.timeout, OSError):
                continue

    def ports(self):
        return [self.tcp.getsockname()[1], self.udp.getsockname()[1]]

    def close(self):
        self.stopping = True
        for t in self.threads:
            t.join(2)
        self.tcp.close()
        self.udp.close()


@pytest.fixture
def peer_servers():
    servers = PeerEchoServers()
    yield servers
    servers.close()


def seen_from(env, servers):
    return env.ns_python_json(PROBE, servers.ports(), timeout=30)


def test_without_outbound_options_the_source_is_the_default(env, peer_servers):
    check(seen_from(env, peer_servers) == {"tcp": "127.0.0.1", "udp": "127.0.0.1"},
          "unexpected default source")


@pytest.mark.env(relay_args=["--outbound-address", "127.0.0.2", "--outbound-address", "::1"])
def test_the_relay_wide_address_is_the_source(env, peer_servers):
    seen = seen_from(env, peer_servers)
    check(seen == {"tcp": "127.0.0.2", "udp": "127.0.0.2"}, f"server saw {seen}")


@pytest.mark.env(relay_args=["--outbound-address", "127.0.0.2",
                             "--outbound-address", "0=127.0.0.3"])
def test_a_client_id_gets_its_own_address(env, peer_servers):
    # The only client is the relay's client 0.
    seen = seen_from(env, peer_servers)
    check(seen == {"tcp": "127.0.0.3", "udp": "127.0.0.3"}, f"server saw {seen}")


@pytest.mark.env(relay_args=["--outbound-interface", "lo", "--outbound-address", "127.0.0.2"])
def test_an_interface_and_an_address_together(env, peer_servers):
    seen = seen_from(env, peer_servers)
    check(seen == {"tcp": "127.0.0.2", "udp": "127.0.0.2"}, f"server saw {seen}")


BAD_STARTS = [
    (["--outbound-address", "192.0.2.250"], 1, "not an address of this host"),
    (["--outbound-interface", "rtnone0"], 1, "no such interface"),
    (["--outbound-address", "127.0.0.2", "--outbound-address", "127.0.0.3"], 2, "two IPv4"),
    (["--outbound-address", "x=127.0.0.2"], 2, "--outbound-address"),
]


@pytest.mark.parametrize("args, rc, expected", BAD_STARTS,
                         ids=[" ".join(a) for a, _, _ in BAD_STARTS])
def test_bad_outbound_settings_fail_at_start_with_one_line(rtether, args, rc, expected):
    r = subprocess.run([rtether, "relay", "-p", str(harness.free_tcp_port())] + args,
                       capture_output=True, text=True, timeout=20)
    # CLI11's own refusals add a "Run with --help" line.
    lines = [l for l in r.stderr.strip().splitlines() if not l.startswith("Run with --help")]
    check(r.returncode == rc and len(lines) == 1 and expected in lines[0],
          f"relay {args}: rc {r.returncode} (expected {rc}), stderr {r.stderr!r}")


@pytest.mark.env(relay_args=["--outbound-address", "127.0.0.2"])
def test_ping_sockets_leave_from_the_chosen_address(host_env):
    # The relay runs in a host namespace of the test's own, where ping
    # sockets are allowed; its echo flow to 10.0.2.2 (127.0.0.1) is a ping
    # socket whose local address /proc/net/icmp shows while the flow lives.
    r = host_env.ns_run(["ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", "10.0.2.2"],
                        timeout=30, check_rc=False)
    check(r.returncode == 0, f"ping 10.0.2.2 failed: {r.stdout}{r.stderr}")
    table = harness.run(["ip", "netns", "exec", host_env.host, "cat", "/proc/net/icmp"]).stdout
    local = [line.split()[1] for line in table.splitlines()[1:]]
    # 127.0.0.2 in the kernel's little-endian hex, port (identifier) after ':'.
    check(any(entry.startswith("0200007F:") for entry in local),
          f"no ping socket from 127.0.0.2 in /proc/net/icmp: {table}")
