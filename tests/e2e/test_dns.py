"""DNS through the relay's resolver, end to end. Debian's dnsmasq is the only
upstream: it listens on port 53 of a loopback address of the test's own
(127.53.X.Y, all of 127/8 is loopback), knows one record nobody else has
(only.test A 192.0.2.77) and a TXT set too big for a UDP answer, and forwards
nothing (--no-resolv). The relay reads it from a resolv.conf given with
--resolv-conf. From the namespace (the client's default DNS is 10.0.2.3),
dig asks 10.0.2.3 and fd00::2:3 over UDP and TCP. A dead upstream (a
loopback address where nothing listens: port unreachable) fails over to the
next one; a silent one (a UDP socket that never answers) times out after the
relay's 2 s and the device gets SERVFAIL, over UDP and TCP. Every dnsmasq
is stopped by its PID."""

import os
import random
import socket

import pytest

import harness
from harness import check, log

ROUTES = ["-r", "0.0.0.0/0,::/0"]
ONLY_ADDRESS = "192.0.2.77"
# Eight TXT records of 250 bytes: over 2 KB, more than dnsmasq sends over
# UDP (its EDNS limit, 1232 by default), so a UDP answer is truncated (TC).
BIG_TXT = [f"{i}" * 250 for i in range(8)]
RELAY_TIMEOUT_S = 2  # RelayConfig::dns_query_timeout


def loopback_address():
    """A loopback address of this test's own, for port 53."""
    return f"127.53.{random.randrange(1, 255)}.{random.randrange(1, 255)}"


class Dnsmasq:
    """dnsmasq in the foreground on ADDRESS:53 (UDP and TCP), logging queries."""

    def __init__(self, tmp):
        self.address = loopback_address()
        args = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--bind-interfaces", f"--listen-address={self.address}",
                "--port=53", "--user=root", "--pid-file=", "--log-queries",
                "--log-facility=-", f"--address=/only.test/{ONLY_ADDRESS}"]
        args += [f"--txt-record=big.test,{text}" for text in BIG_TXT]
        self.proc = harness.Proc("dnsmasq", args, os.path.join(tmp, "dnsmasq.log"))
        for _ in range(100):
            check(self.proc.alive(), f"dnsmasq exited early: {self.proc.log_text()}")
            if self.proc.log_lines("started, version"):
                # Listening sockets are bound before that line.
                return
            harness.time.sleep(0.05)
        raise harness.TestFailure("dnsmasq did not start within 5 s")

    def queries(self, name):
        return [line for line in self.proc.log_lines("query[") if name in line]

    def close(self):
        rc, _, killed = self.proc.stop()
        self.proc.close()
        check(not killed, "dnsmasq did not exit on SIGTERM")


class SilentUpstream:
    """A UDP socket on ADDRESS:53 that reads queries and never answers."""

    def __init__(self):
        self.address = loopback_address()
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((self.address, 53))

    def received(self):
        count = 0
        self.socket.setblocking(False)
        while True:
            try:
                self.socket.recv(65535)
            except BlockingIOError:
                return count
            count += 1

    def close(self):
        self.socket.close()


@pytest.fixture
def tmp_dir(tmp_path):
    return str(tmp_path)


@pytest.fixture
def dnsmasq(tmp_dir):
    servers = []

    def make():
        servers.append(Dnsmasq(tmp_dir))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def silent():
    upstream = SilentUpstream()
    yield upstream
    upstream.close()


def relay_with(make_env, tmp_dir, *nameservers):
    path = os.path.join(tmp_dir, "resolv.conf")
    with open(path, "w") as f:
        f.write("# the test's upstreams, in order\n")
        f.writelines(f"nameserver {address}\n" for address in nameservers)
    return make_env(relay_args=["--resolv-conf", path], client_args=ROUTES)


def dig(env, *args, timeout=20):
    r = env.ns_run(["dig", "+time=5", "+tries=1", *args], timeout=timeout, check_rc=False)
    log(f"dig {' '.join(args)}: rc {r.returncode}\n{r.stdout}")
    return r.stdout


def status_of(output):
    for line in output.splitlines():
        if "status:" in line:
            return line.split("status:", 1)[1].split(",", 1)[0].strip()
    return None


def answers(output):
    return [line.split()[-1] for line in output.splitlines()
            if line and not line.startswith(";") and "\tIN\t" in line]


def test_lookups_over_udp_and_tcp_through_both_resolver_addresses(make_env, tmp_dir, dnsmasq):
    server = dnsmasq()
    env = relay_with(make_env, tmp_dir, server.address)
    resolv = env.ns_run(["cat", "/etc/resolv.conf"]).stdout
    check("nameserver 10.0.2.3" in resolv, f"namespace resolv.conf: {resolv!r}")
    # The namespace's own resolver (its resolv.conf): 10.0.2.3 over UDP.
    out = dig(env, "only.test", "A")
    check(status_of(out) == "NOERROR" and answers(out) == [ONLY_ADDRESS],
          "dig with the namespace's resolv.conf")
    for resolver in ("10.0.2.3", "fd00::2:3"):
        for transport in ("+notcp", "+tcp"):
            out = dig(env, f"@{resolver}", transport, "only.test", "A")
            check(status_of(out) == "NOERROR" and answers(out) == [ONLY_ADDRESS],
                  f"only.test through {resolver} ({transport})")
            check(f"SERVER: {resolver}#53" in out, f"answered by {resolver}")
    # Too big for UDP: over UDP the device gets the truncated answer (and
    # dig retries over TCP itself); a TCP query is asked over UDP, truncated,
    # then over TCP by the relay: the whole set arrives.
    out = dig(env, "@10.0.2.3", "+tcp", "big.test", "TXT")
    got = sorted(a.strip('"') for a in answers(out))
    check(got == sorted(BIG_TXT), f"big.test over TCP: {len(got)} of {len(BIG_TXT)} records")
    out = dig(env, "@10.0.2.3", "+notcp", "+ignore", "big.test", "TXT")
    check(" tc" in out.split("flags:", 1)[1].split(";", 1)[0], "the UDP answer is truncated")
    # Two queries on one TCP connection (RFC 7766 6.2.1), both answered on it.
    out = dig(env, "@10.0.2.3", "+tcp", "+keepopen", "only.test", "A", "only.test", "A")
    check(answers(out) == [ONLY_ADDRESS, ONLY_ADDRESS], "two answers on one connection")
    # A malformed query (no question) is a counted drop: no answer comes.
    got = env.ns_python(r'''
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
s.sendto(bytes(12), ("10.0.2.3", 53))
try:
    print("answered", len(s.recv(512)))
except socket.timeout:
    print("no answer")
''').stdout.strip()
    check(got == "no answer", f"malformed query: {got}")
    check(len(server.queries("only.test")) == 7, f"dnsmasq saw {server.queries('only.test')}")
    env.assert_alive()
    counters = env.session_counters()
    log(f"counters: {counters}")
    check(counters.get("dns_bad_queries") == 1, "one bad query counted")
    check(counters.get("dns_tcp_retries") == 1, "the truncated answer was asked again over TCP")
    check(counters.get("dns_answers") == counters.get("dns_queries"), "every query answered")
    check("dns_timeouts" not in counters and "dns_server_failures" not in counters,
          "no timeout, no SERVFAIL")


def test_a_dead_upstream_fails_over_to_the_next(make_env, tmp_dir, dnsmasq):
    server = dnsmasq()
    dead = loopback_address()  # nothing listens there: ICMP port unreachable
    while dead == server.address:
        dead = loopback_address()
    env = relay_with(make_env, tmp_dir, dead, server.address)
    for transport in ("+notcp", "+tcp"):
        start = harness.time.monotonic()
        out = dig(env, "@10.0.2.3", transport, "only.test", "A")
        took = harness.time.monotonic() - start
        check(answers(out) == [ONLY_ADDRESS], f"only.test after failover ({transport})")
        check(took < RELAY_TIMEOUT_S, f"failover waited {took:.1f} s: the dead upstream should "
                                      f"be refused at once, not timed out")
    counters = env.session_counters()
    log(f"counters: {counters}")
    check(counters.get("dns_failovers") == 2 and counters.get("dns_upstream_errors") == 2,
          "each query failed over once, after one upstream error")
    check(counters.get("dns_answers") == 2 and "dns_timeouts" not in counters, "answered")


def test_a_silent_upstream_times_out_with_servfail(make_env, tmp_dir, silent):
    env = relay_with(make_env, tmp_dir, silent.address)
    start = harness.time.monotonic()
    out = dig(env, "@10.0.2.3", "only.test", "A")
    took = harness.time.monotonic() - start
    check(status_of(out) == "SERVFAIL", "the device gets SERVFAIL")
    check(RELAY_TIMEOUT_S - 0.2 <= took < RELAY_TIMEOUT_S + 2,
          f"SERVFAIL after {took:.1f} s, expected the relay's {RELAY_TIMEOUT_S} s")
    check(silent.received() == 1, "the silent upstream was asked once")
    # Over TCP the same: SERVFAIL on the device's connection after 2 s.
    out = dig(env, "@10.0.2.3", "+tcp", "only.test", "A")
    check(status_of(out) == "SERVFAIL", "SERVFAIL over TCP")
    check(silent.received() == 1, "asked over UDP once")
    env.assert_alive()
    counters = env.session_counters()
    log(f"counters: {counters}")
    check(counters.get("dns_timeouts") == 2 and counters.get("dns_server_failures") == 2,
          "a counted timeout and a SERVFAIL per query")
    check("dns_answers" not in counters, "no upstream answer")


def test_a_silent_upstream_then_a_working_one_answers_after_the_timeout(make_env, tmp_dir,
                                                                        silent, dnsmasq):
    server = dnsmasq()
    env = relay_with(make_env, tmp_dir, silent.address, server.address)
    out = dig(env, "@10.0.2.3", "only.test", "A")
    check(answers(out) == [ONLY_ADDRESS], "answered by the second upstream")
    counters = env.session_counters()
    log(f"counters: {counters}")
    check(counters.get("dns_timeouts") == 1 and counters.get("dns_failovers") == 1 and
          counters.get("dns_answers") == 1, "one timeout, one failover, one answer")
