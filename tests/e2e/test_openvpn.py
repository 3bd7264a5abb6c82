"""`rtether vpnservice` as the UI of a real OpenVPN client (its Android code
paths, FAKE_ANDROID) connected to a real OpenVPN server (Debian's package),
in namespaces of the test's own (openvpn_peer.py):

- in both management roles (the client connecting to vpnservice's socket,
  as with ics-openvpn, and vpnservice connecting to the client's), the VPN
  comes up with the pushed redirect-gateway def1, a net_gateway route, DNS
  and a domain: the tun has the /1 routes, the net_gateway prefix is routed
  around the tun (a connection to it arrives from the device's own
  address, not the VPN's), resolv.conf has the server and the domain; a
  transfer through the tun is byte-exact; a SIGUSR1 restart of the client
  keeps the same tun and the transfer works again;
- net30 topology: the tun address is the /30 the server gave;
- management-query-proxy: `proxy NONE` lets it connect; a pushed
  dhcp-option PROXY_HTTP (NEED-OK HTTPPROXY) is taken;
- an encrypted key: its password from --askpass FILE;
- auth-user-pass (checked by the server's script): --auth-user-pass FILE,
  or typed at vpnservice's prompt on a pseudo-terminal (the password not
  echoed); with neither, vpnservice says what is missing and stops the
  daemon instead of leaving it waiting;
- management-external-key: --external-key with the client's EC key
  (ECDSA) and RSA key (PSS under TLS 1.3; PKCS#1 under TLS 1.2 with a
  server that accepts only RSA+SHA256 signatures).
"""

import os
import pty
import signal
import time

import pytest

import harness
import openvpn_peer
from conftest import _made_key as conftest_made_key
from harness import check, log
from openvpn_peer import wait_for

# The first test also waits for the OpenVPN build (once per tarball, then
# cached): its timeout covers that; each scenario takes seconds.
pytestmark = pytest.mark.timeout(720)

TRANSFER_SIZE = 4 << 20
TCP_PORT = 5001

# In a namespace: for each connection (at most 16, none idle over 120 s),
# sends the peer's address as a line, then echoes every byte until the
# peer shuts its side.
ECHO_SERVER = r'''
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4)
s.settimeout(120)
print("listening", flush=True)
for _ in range(16):
    conn, peer = s.accept()
    conn.settimeout(120)
    conn.sendall((peer[0] + "\n").encode())
    while True:
        data = conn.recv(65536)
        if not data:
            break
        conn.sendall(data)
    conn.close()
'''

# In the device namespace: connects, reads the peer line, sends SIZE
# deterministic bytes from a thread, reads them back; prints the peer the
# server saw and whether the echo was exact.
ECHO_CLIENT = r'''
import hashlib, random, socket, sys, threading
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = random.Random(7).randbytes(size)
s = socket.create_connection((host, port), timeout=20)
f = s.makefile("rb")
peer = f.readline().decode().strip()
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
got = bytearray()
while len(got) < size:
    chunk = f.read1(65536)
    if not chunk:
        break
    got += chunk
t.join()
print(peer, "exact" if bytes(got) == data else f"differs ({len(got)} bytes)")
'''


@pytest.fixture(scope="module")
def openvpn_binary(rtether):
    return openvpn_peer.build_openvpn(os.path.dirname(rtether))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return openvpn_peer.Pki(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture
def world(request, rtether, openvpn_binary, pki, tmp_path):
    made = openvpn_peer.OpenVpnWorld(rtether, openvpn_binary, pki, str(tmp_path))
    # conftest.py adds its log_report() to the report of a failed test.
    request.node.stash.setdefault(conftest_made_key, []).append(made)
    try:
        yield made
    finally:
        problems = made.close()
    if problems:
        pytest.fail("teardown: " + "; ".join(problems), pytrace=False)


def start_echo(world, address):
    server = world.start(f"echo-{address}", ["python3", "-c", ECHO_SERVER, address,
                                             str(TCP_PORT)], ns=world.server_ns)
    wait_for(lambda: "listening" in server.log_text(5), f"the echo server on {address}",
             proc=server)
    return server


def echo(world, address, size):
    t0 = time.monotonic()
    out = world.ns_python(world.device, ECHO_CLIENT, [address, TCP_PORT, size]).stdout.split()
    log(f"{size} bytes echoed by {address} in {time.monotonic() - t0:.2f}s, seen from {out[0]}")
    check(out[1:] == ["exact"], f"echo through {address} not byte-exact: {out}")
    return out[0]


def tun_address(world):
    return harness.run(["ip", "-n", world.device, "-4", "-o", "addr", "show", "dev",
                        "ovpn0"]).stdout.split()[3]


@pytest.mark.parametrize("listen_role", [True, False], ids=["management-client", "management"])
def test_vpn_up_with_pushed_routes_dns_and_restart(world, listen_role):
    world.start_server()
    start_echo(world, openvpn_peer.VIA_VPN)
    start_echo(world, openvpn_peer.AROUND_VPN)
    client, ui = world.connect(listen_role=listen_role)
    routes = world.routes()
    log("device routes:\n" + routes)
    check("0.0.0.0/1 dev ovpn0" in routes and "128.0.0.0/1 dev ovpn0" in routes,
          "redirect-gateway def1 routes are not on the tun")
    check(f"198.51.100.0/24 via {openvpn_peer.SERVER_ADDRESS} dev d0" in routes,
          "the net_gateway route is not routed around the tun")
    check(not any(line.startswith("198.51.100.0/24") and "ovpn0" in line
                  for line in routes.splitlines()), "the net_gateway route is on the tun")
    check(tun_address(world).startswith("10.8.0."), f"tun address {tun_address(world)}")
    with open(f"/etc/netns/{world.device}/resolv.conf") as f:
        resolv = f.read()
    check(f"nameserver {openvpn_peer.PUSHED_DNS}" in resolv and
          f"search {openvpn_peer.PUSHED_DOMAIN}" in resolv, f"resolv.conf: {resolv!r}")
    # Through the VPN: the server side sees the tun's address.
    check(echo(world, openvpn_peer.VIA_VPN, TRANSFER_SIZE).startswith("10.8.0."),
          "traffic to the VPN's networks did not come through the tun")
    # Around it: the device's own address on the real network.
    check(echo(world, openvpn_peer.AROUND_VPN, 4096) == openvpn_peer.DEVICE_ADDRESS,
          "traffic to the net_gateway route entered the tun")
    index = world.link_index("ovpn0")
    client.popen.send_signal(signal.SIGUSR1)
    world.wait_connected(ui, 2, client)
    check(world.link_index("ovpn0") == index, "the SIGUSR1 restart replaced the tun")
    echo(world, openvpn_peer.VIA_VPN, TRANSFER_SIZE)
    ui.popen.send_signal(signal.SIGINT)
    check(client.popen.wait(timeout=15) is not None, "the client did not exit")
    check(ui.popen.wait(timeout=15) == 0, f"vpnservice exit status {ui.popen.returncode}")
    check("198.51.100.0/24" not in world.routes(), "the bypass route outlived vpnservice")


def connected_through_vpn(world, client, ui):
    """The VPN carries traffic; then Ctrl+C on vpnservice stops it all."""
    start_echo(world, openvpn_peer.VIA_VPN)
    check(echo(world, openvpn_peer.VIA_VPN, 65536).startswith("10.8.0."),
          "traffic did not come through the tun")
    ui.popen.send_signal(signal.SIGINT)
    client.popen.wait(timeout=15)
    check(ui.popen.wait(timeout=15) == 0, f"vpnservice exit status {ui.popen.returncode}")


def test_net30_topology_gives_the_tun_its_30(world):
    world.start_server(topology="net30")
    client, ui = world.connect()
    address = tun_address(world)
    check(address.startswith("10.8.0.") and address.endswith("/30"), f"tun address {address}")
    connected_through_vpn(world, client, ui)


def test_management_query_proxy_is_answered_none_and_a_pushed_proxy_taken(world):
    world.start_server(extra=[f'push "dhcp-option PROXY_HTTP {openvpn_peer.SERVER_ADDRESS} 3128"'])
    client, ui = world.connect(client_extra=["management-query-proxy"])
    check(ui.log_lines(f"need-ok  HTTPPROXY {openvpn_peer.SERVER_ADDRESS} 3128"),
          "no HTTPPROXY NEED-OK was seen")
    check(ui.log_lines(f"connecting to {openvpn_peer.SERVER_ADDRESS} directly (proxy NONE)"),
          "vpnservice did not answer >PROXY")
    connected_through_vpn(world, client, ui)


def test_auth_user_pass_from_a_file(world, tmp_path):
    world.start_server(extra=[f"auth-user-pass-verify {world.auth_script()} via-file",
                              "script-security 2"])
    credentials = tmp_path / "auth.txt"
    credentials.write_text(f"{openvpn_peer.AUTH_USER}\n{openvpn_peer.AUTH_PASSWORD}\n")
    client, ui = world.connect(client_extra=["auth-user-pass"],
                               vpnservice_extra=["--auth-user-pass", str(credentials)])
    check(ui.log_lines("'Auth' credentials given"), "vpnservice did not answer >PASSWORD")
    connected_through_vpn(world, client, ui)


# RSA_NO_PADDING is asked only when OpenSSL itself signs unpadded, which
# TLS never does: the unit tests (tests/daemon/external_key_test.cpp) cover it.
def test_auth_user_pass_typed_at_the_terminal_prompt(world):
    world.start_server(extra=[f"auth-user-pass-verify {world.auth_script()} via-file",
                              "script-security 2"])
    socket_path = os.path.join(world.tmp, "mgmt.sock")
    # vpnservice on a pseudo-terminal of the test's own, as a user runs it.
    controller, terminal = pty.openpty()
    ui = harness.Proc("vpnservice", [world.rtether, "-v", "vpnservice", "--management",
                                     socket_path, "--netns", world.device, "--tun", "ovpn0",
                                     "--listen"], os.path.join(world.tmp, "vpnservice.log"),
                      stdin=terminal)
    os.close(terminal)
    world.procs.append(ui)
    try:
        wait_for(lambda: os.path.exists(socket_path), "vpnservice's socket", proc=ui)
        client = world.start_client(socket_path, True,
                                    world.client_config(extra=["auth-user-pass"]))
        for prompt, answer in ((b"Enter Auth Username:", openvpn_peer.AUTH_USER),
                               (b"Enter Auth Password:", openvpn_peer.AUTH_PASSWORD)):
            wait_for(lambda: prompt in ui.log_text(400).encode(), f"the prompt {prompt!r}",
                     proc=ui)
            os.write(controller, answer.encode() + b"\n")
        world.wait_connected(ui, 1, client)
        check(openvpn_peer.AUTH_PASSWORD not in ui.log_text(400),
              "the password was echoed or logged")
        connected_through_vpn(world, client, ui)
    finally:
        os.close(controller)


def test_auth_user_pass_without_a_file_or_terminal_stops_the_daemon(world):
    world.start_server()
    socket_path = os.path.join(world.tmp, "mgmt.sock")
    ui = world.vpnservice(socket_path, True)
    wait_for(lambda: os.path.exists(socket_path), "vpnservice's socket", proc=ui)
    client = world.start_client(socket_path, True, world.client_config(extra=["auth-user-pass"]))
    check(ui.popen.wait(timeout=20) == 1, f"vpnservice exit status {ui.popen.returncode}")
    check(client.popen.wait(timeout=20) is not None, "the client is still running")
    check(ui.log_lines("give --auth-user-pass FILE"), "vpnservice did not say what is missing")


def test_private_key_password_from_askpass(world, tmp_path):
    world.start_server()
    askpass = tmp_path / "askpass.txt"
    askpass.write_text(openvpn_peer.KEY_PASSWORD + "\n")
    client, ui = world.connect(key_file=world.pki.path("client-ec-encrypted.key"),
                               vpnservice_extra=["--askpass", str(askpass)])
    check(ui.log_lines("'Private Key' password given"), "vpnservice did not answer >PASSWORD")
    connected_through_vpn(world, client, ui)


@pytest.mark.parametrize("key,flags,tls,algorithm", [
    ("client-ec", "", "", "ECDSA"),
    ("client-rsa", "pss", "", "RSA_PKCS1_PSS_PADDING"),
    ("client-rsa", "pkcs1", "tls-version-max 1.2", "RSA_PKCS1_PADDING"),
], ids=["ecdsa", "rsa-pss", "rsa-pkcs1"])
def test_management_external_key_signs_with_the_key(world, key, flags, tls, algorithm):
    world.start_server(client_sigalgs="RSA+SHA256" if flags == "pkcs1" else None)
    extra = [f"management-external-key {flags}".strip()] + ([tls] if tls else [])
    client, ui = world.connect(key=key, client_extra=extra,
                               vpnservice_extra=["--external-key", world.pki.path(key + ".key")])
    signed = ui.log_lines("signed ")
    check(signed and all(algorithm in line for line in signed),
          f"signatures asked and made: {signed}")
    connected_through_vpn(world, client, ui)
