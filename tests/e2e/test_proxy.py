"""The upstream proxy (issue 12, `--proxy`): a download from the device is
byte-exact through Debian's danted (SOCKS5, without authentication and with
a username/password of a test-made system user) and tinyproxy (HTTP
CONNECT), and each proxy's own log shows the connection; device UDP goes
through danted's UDP ASSOCIATE, and is refused under an HTTP proxy with
`--proxy-udp drop`. A proxy that refuses (nothing listening, a danted
block rule, a port tinyproxy does not allow, a wrong password) resets the
device's connection within 2 s, counted by reason. Bad settings fail at
start with one line. The proxies are the test's own
(tests/e2e/proxy_servers.py).

A proxy given by name (`localhost`) is resolved at start, and one on an
IPv6 address (`[::1]`) carries a byte-exact download. DNS follows the
proxy: with dnsmasq in a namespace of the test's own, on an address only
that namespace has, and the proxy in it too, the device's lookups of a
record only that dnsmasq knows succeed over UDP and TCP: through danted's
UDP ASSOCIATE, over TCP through danted's CONNECT when it refuses UDP, and
over TCP through tinyproxy's CONNECT; the proxy's log
shows the DNS connection and dnsmasq sees the queries come from the
proxy's address."""

import os
import shutil
import subprocess
import tempfile
import time

import pytest

import harness
from harness import check
from proxy_servers import Danted, FarDnsmasq, ProxyNamespace, ProxyUser, Tinyproxy

BODY = harness.deterministic_bytes(3 * 1024 * 1024, seed=12)

# From the device: one connection to 10.0.2.2:PORT, its outcome and time.
CONNECT_PROBE = r"""
import json, socket, sys, time
t0 = time.monotonic()
s = socket.socket()
s.settimeout(10)
try:
    s.connect(("10.0.2.2", int(sys.argv[1])))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    result = "answered" if s.recv(100) else "closed"
except ConnectionRefusedError:
    result = "refused"
except ConnectionResetError:
    result = "reset"
except socket.timeout:
    result = "timeout"
print(json.dumps({"result": result, "seconds": time.monotonic() - t0}))
"""


@pytest.fixture
def proxies():
    """A factory of proxies, each in a directory of a temp directory of the
    test's own (searchable by `nobody`, whom tinyproxy becomes), all stopped
    and removed after the test."""
    made = []
    tmp = tempfile.mkdtemp(prefix="rte2e-proxy-")
    os.chmod(tmp, 0o755)

    def make(proxy_class, *args, **kwargs):
        made.append(proxy_class(tmp, *args, **kwargs))
        return made[-1]

    yield make
    for proxy in reversed(made):
        proxy.close()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def proxy_user():
    user = ProxyUser()
    yield user
    user.close()


def download(env, server):
    out = os.path.join(env.tmp, "download.bin")
    r = env.curl(["-o", out, "-w", "%{http_code}", f"http://{harness.HOST_ALIAS}:{server.port}/"],
                 timeout=60, check_rc=False)
    check(r.returncode == 0, f"curl through the proxy failed (rc {r.returncode}): {r.stderr}")
    with open(out, "rb") as f:
        got = f.read()
    os.unlink(out)
    check(r.stdout.strip() == "200", f"HTTP status {r.stdout!r}")
    check(len(got) == len(BODY) and harness.sha256(got) == harness.sha256(BODY),
          f"downloaded {len(got)} bytes, not the {len(BODY)} served (or not the same)")


def refused_fast(env, port):
    seen = env.ns_python_json(CONNECT_PROBE, [port], timeout=30)
    check(seen["result"] == "refused" and seen["seconds"] < 2,
          f"the device's connect was not reset within 2 s: {seen}")


def test_a_download_through_danted_is_byte_exact_and_in_its_log(make_env, proxies, http_server):
    danted = proxies(Danted)
    server = http_server(body=BODY)
    env = make_env(relay_args=["--proxy", f"socks5://127.0.0.1:{danted.port}"])
    download(env, server)
    check(f"127.0.0.1.{server.port}" in danted.log(),
          f"danted's log shows no connection to port {server.port}:\n{danted.log()}")
    counters = env.session_counters()
    check(counters.get("proxy_tunnels", 0) >= 1, f"no proxy tunnel counted: {counters}")


def test_danted_with_a_username_and_password(make_env, proxies, http_server, proxy_user):
    danted = proxies(Danted, username=True)
    server = http_server(body=BODY)
    env = make_env(relay_args=[
        "--proxy", f"socks5://{proxy_user.name}:{proxy_user.password}@127.0.0.1:{danted.port}"])
    download(env, server)
    check(proxy_user.name in danted.log(),
          f"danted's log does not name the user {proxy_user.name}:\n{danted.log()}")


def test_a_wrong_password_resets_the_device_fast(make_env, proxies, http_server, proxy_user):
    danted = proxies(Danted, username=True)
    server = http_server(body=BODY)
    env = make_env(relay_args=[
        "--proxy", f"socks5://{proxy_user.name}:wrong@127.0.0.1:{danted.port}"])
    refused_fast(env, server.port)
    counters = env.session_counters()
    check(counters.get("proxy_auth_failed") == 1, f"counters: {counters}")


def test_a_danted_block_rule_resets_the_device_fast(make_env, proxies, http_server):
    server = http_server(body=BODY)
    danted = proxies(Danted, blocked_ports=[server.port])
    env = make_env(relay_args=["--proxy", f"socks5://127.0.0.1:{danted.port}"])
    refused_fast(env, server.port)
    check("block(1)" in danted.log(), f"danted's log shows no block:\n{danted.log()}")
    counters = env.session_counters()
    check(counters.get("proxy_not_allowed") == 1, f"counters: {counters}")


def test_no_proxy_listening_resets_the_device_fast(make_env, http_server):
    server = http_server(body=BODY)
    env = make_env(relay_args=["--proxy", f"socks5://127.0.0.1:{harness.free_tcp_port()}"])
    refused_fast(env, server.port)
    counters = env.session_counters()
    check(counters.get("proxy_connect_failed") == 1, f"counters: {counters}")


def test_a_download_through_tinyproxy_connect_from_the_environment(make_env, proxies, http_server,
                                                                   monkeypatch):
    server = http_server(body=BODY)
    tinyproxy = proxies(Tinyproxy, connect_ports=[server.port])
    # `--proxy env`: the first set of ALL_PROXY, HTTPS_PROXY, https_proxy, all_proxy.
    monkeypatch.delenv("ALL_PROXY", raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{tinyproxy.port}/")
    env = make_env(relay_args=["--proxy", "env"])
    download(env, server)
    check(f"CONNECT 127.0.0.1:{server.port}" in tinyproxy.log(),
          f"tinyproxy's log shows no CONNECT to {server.port}:\n{tinyproxy.log()}")


def test_a_port_tinyproxy_does_not_allow_resets_the_device_fast(make_env, proxies, http_server):
    server = http_server(body=BODY)
    tinyproxy = proxies(Tinyproxy, connect_ports=[server.port + 1])
    env = make_env(relay_args=["--proxy", f"http://127.0.0.1:{tinyproxy.port}"])
    refused_fast(env, server.port)
    counters = env.session_counters()
    check(counters.get("proxy_not_allowed") == 1, f"counters: {counters}")


# From the device: datagrams to 10.0.2.2:PORT on a connected socket, up to
# three tries; the echo, or the errno the device's socket reports.
UDP_PROBE = r"""
import errno, json, socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
u.connect(("10.0.2.2", int(sys.argv[1])))
result = None
for attempt in range(3):
    try:
        u.send(b"echo through the proxy %d" % attempt)
        result = u.recv(100).decode()
        break
    except socket.timeout:
        result = "timeout"
    except OSError as e:
        result = errno.errorcode.get(e.errno, str(e.errno))
        break
print(json.dumps({"result": result}))
"""


def test_udp_through_danted_udp_associate(make_env, proxies, udp_echo_server):
    danted = proxies(Danted)
    echo = udp_echo_server()
    env = make_env(relay_args=["--proxy", f"socks5://127.0.0.1:{danted.port}"])
    seen = env.ns_python_json(UDP_PROBE, [echo.port], timeout=30)
    check(seen["result"].startswith("echo through the proxy"), f"no echo: {seen}")
    check("udpassociate" in danted.log(), f"danted's log shows no UDP ASSOCIATE:\n{danted.log()}")
    counters = env.session_counters()
    check(counters.get("proxy_udp_associations") == 1, f"counters: {counters}")


def test_udp_under_an_http_proxy_is_refused_with_proxy_udp_drop(make_env, proxies,
                                                                udp_echo_server):
    echo = udp_echo_server()
    tinyproxy = proxies(Tinyproxy, connect_ports=[echo.port])
    env = make_env(relay_args=["--proxy", f"http://127.0.0.1:{tinyproxy.port}"])
    seen = env.ns_python_json(UDP_PROBE, [echo.port], timeout=30)
    # "Administratively prohibited" (RFC 1812 5.2.7.1) is EHOSTUNREACH on Linux.
    check(seen["result"] == "EHOSTUNREACH", f"the device's UDP was not refused: {seen}")
    check(not echo.received, f"a datagram reached the host server: {echo.received}")
    counters = env.session_counters()
    check(counters.get("proxy_udp_dropped") == 1, f"counters: {counters}")


def test_udp_under_an_http_proxy_goes_direct_with_proxy_udp_direct(make_env, proxies,
                                                                   udp_echo_server):
    echo = udp_echo_server()
    tinyproxy = proxies(Tinyproxy, connect_ports=[echo.port])
    env = make_env(relay_args=["--proxy", f"http://127.0.0.1:{tinyproxy.port}",
                               "--proxy-udp", "direct"])
    seen = env.ns_python_json(UDP_PROBE, [echo.port], timeout=30)
    check(seen["result"].startswith("echo through the proxy"), f"no echo: {seen}")


def test_a_proxy_given_by_name_is_resolved_at_start(make_env, proxies, http_server):
    # Whichever of 127.0.0.1 and ::1 the host's resolver gives first.
    danted = proxies(Danted, internals=("127.0.0.1", "::1"), clients=("127.0.0.0/8", "::1/128"))
    server = http_server(body=BODY)
    env = make_env(relay_args=["--proxy", f"socks5://localhost:{danted.port}"])
    download(env, server)
    check(f"127.0.0.1.{server.port}" in danted.log(),
          f"danted's log shows no connection to port {server.port}:\n{danted.log()}")
    check(env.relay.log_lines(f"upstream proxy socks5://localhost:{danted.port} ("),
          f"the relay's log names no resolved proxy:\n{env.relay.log_text()}")


def test_a_download_through_a_proxy_on_ipv6_is_byte_exact(make_env, proxies, http_server):
    danted = proxies(Danted, internals=("::1",), clients=("::1/128",))
    server = http_server(body=BODY)
    env = make_env(relay_args=["--proxy", f"socks5://[::1]:{danted.port}"])
    download(env, server)
    log_text = danted.log()
    check(f"::1.{danted.port}" in log_text and f"127.0.0.1.{server.port}" in log_text,
          f"danted's log shows no IPv6 client going to port {server.port}:\n{log_text}")


@pytest.fixture
def proxy_namespace():
    space = ProxyNamespace()
    yield space
    space.close()


def answers(output):
    return [line.split()[-1] for line in output.splitlines()
            if line and not line.startswith(";") and "\tIN\t" in line]


def far_lookups_succeed(env, dns, queries=2):
    """From the device, FarDnsmasq.NAME through 10.0.2.3 over UDP and TCP;
    dnsmasq sees `queries` queries."""
    for transport in ("+notcp", "+tcp"):
        r = env.ns_run(["dig", "+time=5", "+tries=1", "@10.0.2.3", transport, FarDnsmasq.NAME,
                        "A"], timeout=20, check_rc=False)
        harness.log(f"dig {transport}: rc {r.returncode}\n{r.stdout}")
        check("status: NOERROR" in r.stdout and answers(r.stdout) == [FarDnsmasq.ADDRESS],
              f"{FarDnsmasq.NAME} ({transport}) through the proxy: {r.stdout}")
    # From the proxy: an address of its namespace (the relay's is ROOT_ADDRESS).
    inside = (f"from {ProxyNamespace.ADDRESS}", f"from {ProxyNamespace.FAR_ADDRESS}")
    seen = dns.queries()
    check(len(seen) == queries and all(line.rstrip().endswith(inside) for line in seen),
          f"dnsmasq did not see {queries} queries from inside the proxy's namespace: {seen}")


def danted_in_namespace(make_env, proxies, space, udp=True):
    """A Danted in the proxy's namespace (`udp` as Danted takes it) and an
    Env whose relay goes through it and asks FAR_ADDRESS for DNS."""
    danted = proxies(Danted, internals=(space.ADDRESS,), external=space.ADDRESS,
                     clients=(f"{space.ROOT_ADDRESS}/32",), netns=space.name, udp=udp)
    env = make_env(relay_args=["--proxy", f"socks5://{space.ADDRESS}:{danted.port}",
                               "--dns-upstream", space.FAR_ADDRESS])
    return danted, env


def test_dns_goes_through_danteds_udp_associate(make_env, proxy_namespace, proxies):
    space = proxy_namespace
    dns = proxies(FarDnsmasq, space)
    danted, env = danted_in_namespace(make_env, proxies, space)
    far_lookups_succeed(env, dns)
    # danted logs an association's peers when it ends (the relay ends it
    # once answered).
    deadline = time.monotonic() + 5
    while f"{space.FAR_ADDRESS}.53" not in danted.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    log_text = danted.log()
    check("udpassociate" in log_text and f"{space.FAR_ADDRESS}.53" in log_text,
          f"danted's log shows no UDP ASSOCIATE to {space.FAR_ADDRESS}.53:\n{log_text}")
    counters = env.session_counters()
    # The TCP query too: asked over UDP first, its answer not truncated.
    check(counters.get("dns_proxy_udp") == 2 and counters.get("dns_answers") == 2 and
          not counters.get("dns_proxy_tcp"), f"counters: {counters}")


def test_dns_goes_over_tcp_through_danteds_connect_when_it_refuses_udp(make_env, proxy_namespace,
                                                                      proxies):
    space = proxy_namespace
    dns = proxies(FarDnsmasq, space)
    danted, env = danted_in_namespace(make_env, proxies, space, udp=False)
    far_lookups_succeed(env, dns)
    log_text = danted.log()
    harness.log(f"danted's log:\n{log_text}")
    check("block(" in log_text and "udp/udpassociate" in log_text,
          f"danted's log shows no refused UDP ASSOCIATE:\n{log_text}")
    check("tcp/connect" in log_text and f"{space.FAR_ADDRESS}.53" in log_text,
          f"danted's log shows no CONNECT to {space.FAR_ADDRESS}.53:\n{log_text}")
    counters = env.session_counters()
    # Each query (the TCP one too) asks over UDP first, is refused, then
    # goes over the CONNECT tunnel.
    check(counters.get("dns_proxy_udp") == 2 and counters.get("dns_proxy_udp_fallbacks") == 2 and
          counters.get("dns_proxy_tcp") == 2 and counters.get("dns_answers") == 2,
          f"counters: {counters}")


def test_dns_goes_over_tcp_through_danteds_connect_when_its_udp_goes_unanswered(
        make_env, proxy_namespace, proxies):
    space = proxy_namespace
    dns = proxies(FarDnsmasq, space)
    danted, env = danted_in_namespace(make_env, proxies, space, udp="no-replies")
    # The UDP lookup: asked through the association (dnsmasq answers, danted
    # blocks the reply), after 2 s over CONNECT. The TCP one: over CONNECT
    # at once, the proxy's UDP known to go unanswered.
    started = time.monotonic()
    far_lookups_succeed(env, dns, queries=3)
    took = time.monotonic() - started
    check(took < 4.5, f"the lookups took {took:.1f} s (one 2 s UDP timeout expected)")
    log_text = danted.log()
    harness.log(f"danted's log:\n{log_text}")
    check("block(" in log_text and "udpreply" in log_text,
          f"danted's log shows no blocked UDP reply:\n{log_text}")
    check("tcp/connect" in log_text and f"{space.FAR_ADDRESS}.53" in log_text,
          f"danted's log shows no CONNECT to {space.FAR_ADDRESS}.53:\n{log_text}")
    counters = env.session_counters()
    check(counters.get("dns_proxy_udp") == 1 and counters.get("dns_proxy_udp_timeouts") == 1 and
          counters.get("dns_proxy_udp_silent") == 1 and
          counters.get("dns_proxy_udp_skipped") == 1 and counters.get("dns_proxy_tcp") == 2 and
          counters.get("dns_answers") == 2 and not counters.get("dns_timeouts") and
          not counters.get("dns_server_failures"), f"counters: {counters}")


def test_dns_goes_over_tcp_through_tinyproxys_connect(make_env, proxy_namespace, proxies):
    space = proxy_namespace
    dns = proxies(FarDnsmasq, space)
    tinyproxy = proxies(Tinyproxy, connect_ports=[53], listen=space.ADDRESS,
                        allow=space.ROOT_ADDRESS, netns=space.name)
    env = make_env(relay_args=["--proxy", f"http://{space.ADDRESS}:{tinyproxy.port}",
                               "--dns-upstream", space.FAR_ADDRESS])
    far_lookups_succeed(env, dns)
    check(f"CONNECT {space.FAR_ADDRESS}:53" in tinyproxy.log(),
          f"tinyproxy's log shows no CONNECT to {space.FAR_ADDRESS}:53:\n{tinyproxy.log()}")
    counters = env.session_counters()
    check(counters.get("dns_proxy_tcp") == 2 and counters.get("dns_answers") == 2 and
          not counters.get("dns_proxy_udp"), f"counters: {counters}")


BAD_STARTS = [
    (["--proxy", "socks5://nowhere.invalid:1080"], 'host "nowhere.invalid" does not resolve'),
    (["--proxy", "socks5://bad..name:1080"], "must be a host name or an IP address"),
    (["--proxy", "http://127.0.0.1"], "PORT is missing"),
    (["--proxy", "env"], "none of ALL_PROXY, HTTPS_PROXY, https_proxy, all_proxy is set"),
    (["--proxy-udp", "maybe"], "--proxy-udp"),
]


@pytest.mark.parametrize("args, expected", BAD_STARTS, ids=[" ".join(a) for a, _ in BAD_STARTS])
def test_bad_proxy_settings_fail_at_start_with_one_line(rtether, args, expected):
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("ALL_PROXY", "HTTPS_PROXY", "https_proxy", "all_proxy")}
    # A name that does not resolve fails fast, whatever nameserver the host has.
    environment["RES_OPTIONS"] = "timeout:1 attempts:1"
    r = subprocess.run([rtether, "relay", "-p", str(harness.free_tcp_port())] + args,
                       capture_output=True, text=True, timeout=20, env=environment)
    # CLI11's own refusals add a "Run with --help" line.
    lines = [l for l in r.stderr.strip().splitlines() if not l.startswith("Run with --help")]
    check(r.returncode == 2 and len(lines) == 1 and expected in lines[0],
          f"relay {args}: rc {r.returncode}, stderr {r.stderr!r}")
