"""A test UI that behaves like ics-openvpn drives `rtether client
--management PATH unix --management-hold` through a whole session: greeting,
hold, release, the NEED-OK sequence (IFCONFIG, IFCONFIG6, ROUTE, ROUTE6,
DNS6SERVER, DNSSERVER, PERSIST_TUN_ACTION, OPENTUN with a real tun fd,
PROTECTFD with the relay socket), CONNECTED, BYTECOUNT lines, SIGUSR1
restart answered NOACTION (no new tun, byte counts go on), network-change
both ways, and SIGINT exit.

The relay and the daemon run in a namespace of their own where the relay
listens on 192.0.2.1 (TEST-NET-1 on a veth of its own), so the relay link
is not loopback and must be protected; the tun is in a second namespace."""

import os
import signal
import socket
import time

import pytest

import harness
from harness import check, log
from mgmt_ui import TestUi

RELAY_ADDRESS = "192.0.2.1"

# The relay and the daemon run in a namespace of the test's own (relay_host).
pytestmark = pytest.mark.env(relay=False, client=False)


class HostNs:
    """A namespace standing for the host: lo, and a veth pair with 192.0.2.1/24 on one end."""

    def __init__(self):
        self.name = harness.unique_name("rtmgmt-host")

    def __enter__(self):
        harness.run(["ip", "netns", "add", self.name])
        try:
            for args in (["link", "set", "lo", "up"], ["link", "add", "up0", "type", "veth", "peer", "name", "up1"],
                         ["link", "set", "up1", "up"],
                         ["addr", "add", RELAY_ADDRESS + "/24", "dev", "up0"],
                         ["link", "set", "up0", "up"],
                         ["route", "add", "default", "dev", "up0"]):
                harness.run(["ip", "-n", self.name] + args)
        except BaseException:
            harness.run(["ip", "netns", "del", self.name], check_rc=False)
            raise
        return self

    def __exit__(self, *exc):
        harness.run(["ip", "netns", "del", self.name], check_rc=False)
        return False


@pytest.fixture
def relay_host():
    """The HostNs where the relay and the daemon run, removed at the end."""
    with HostNs() as host:
        yield host


def state_name(line):
    return line.split(",")[1]


def start_daemon(env, host, extra=()):
    """Relay (first call only) and daemon in the host namespace."""
    port = 31000 + os.getpid() % 20000
    path = os.path.join(env.tmp, "mgmt.sock")
    if env.relay is not None:
        client = harness.Proc("client", ["ip", "netns", "exec", host.name, env.rtether, "-v",
                                         "client", "--relay", f"{RELAY_ADDRESS}:{port}",
                                         "--management", path, "unix"] + list(extra),
                              os.path.join(env.tmp, "client2.log"))
        env.procs.append(client)
        env.client = client
        return client, path
    relay = harness.Proc("relay", ["ip", "netns", "exec", host.name, env.rtether, "-v", "relay",
                                   "--bind", RELAY_ADDRESS, "--allow-remote", "-p", str(port)],
                         os.path.join(env.tmp, "relay.log"))
    env.procs.append(relay)
    env.relay = relay
    deadline = time.monotonic() + 10
    while "listening" not in relay.log_text() and time.monotonic() < deadline:
        check(relay.alive(), f"relay exited: {relay.log_text()}")
        time.sleep(0.05)
    client = harness.Proc("client", ["ip", "netns", "exec", host.name, env.rtether, "-v", "client",
                                     "--relay", f"{RELAY_ADDRESS}:{port}", "--management", path,
                                     "unix", "--management-hold"] + list(extra),
                          os.path.join(env.tmp, "client.log"))
    env.procs.append(client)
    env.client = client
    return client, path


def traffic(env):
    """A TCP connect to a closed host port: SYN out, RST back (bytes both ways)."""
    code = ("import socket\ns = socket.socket()\ns.settimeout(5)\n"
            "try:\n s.connect(('10.0.2.2', 9))\nexcept OSError as e:\n print(e)\n")
    env.ns_run(["python3", "-c", code], timeout=20)


def bytecount(line):
    a, b = line.split(":", 1)[1].split(",")
    return int(a), int(b)


def test_ics_like_session(env, relay_host):
    client, path = start_daemon(env, relay_host)
    ui = TestUi.connect(path, ns=env.ns)
    try:
        check(oct(os.stat(path).st_mode & 0o777) == "0o600", "socket file is not 0600")
        ui.greeting()
        ui.expect_line(">HOLD:Waiting for hold release:0")
        ui.send("version 3")
        ui.on_hold()
        for reply in ("SUCCESS: hold release succeeded", "SUCCESS: bytecount interval changed",
                      "SUCCESS: real-time state notification set to ON"):
            ui.expect_line(reply)
        # The NEED-OK sequence, in OpenVPN's observed order.
        seen = []
        connected = ui.expect(lambda l: l.startswith(">STATE:") and ",CONNECTED," in l,
                              "CONNECTED")[0]
        for line in ui.lines:
            if line.startswith(">NEED-OK:"):
                seen.append(TestUi.needok_type(line))
            elif line.startswith(">STATE:"):
                seen.append(state_name(line))
        # ASSIGN_IP follows `hold release` at once and may come before
        # `state on` is read (as in transcript-android-cancel.txt): the
        # history has it either way.
        if seen[:1] == ["ASSIGN_IP"]:
            seen = seen[1:]
        check(seen == ["IFCONFIG", "IFCONFIG6", "ADD_ROUTES", "ROUTE", "ROUTE6",
                       "DNSSERVER", "PERSIST_TUN_ACTION", "OPENTUN", "TCP_CONNECT",
                       "PROTECTFD", "WAIT", "CONNECTED"], f"sequence: {seen}")
        ui.send("state all")
        history = []
        while True:
            line, _ = ui.next_line()
            if line == "END":
                break
            if not line.startswith(">"):
                history.append(state_name(line))
        check(history == ["CONNECTING", "ASSIGN_IP", "ADD_ROUTES", "TCP_CONNECT", "WAIT",
                          "CONNECTED"], f"state history: {history}")
        check(">NEED-OK:Need 'IFCONFIG' confirmation MSG:10.0.0.2 255.255.255.255 65520 subnet"
              in ui.lines, "IFCONFIG payload")
        check(">NEED-OK:Need 'IFCONFIG6' confirmation MSG:fd00::2/128 65520" in ui.lines,
              "IFCONFIG6 payload")
        check(">NEED-OK:Need 'ROUTE' confirmation MSG:0.0.0.0 0.0.0.0 10.0.0.1 dev vpnservice-tun"
              in ui.lines, "ROUTE payload")
        check(ui.protected == [(socket.AF_INET, socket.SOCK_STREAM)],
              f"PROTECTFD descriptors: {ui.protected}")
        fields = connected.split(":", 1)[1].split(",")
        relay_port = client.args[client.args.index("--relay") + 1].split(":")[1]
        check(fields[1:6] == ["CONNECTED", "SUCCESS", "10.0.0.2", RELAY_ADDRESS, relay_port]
              and fields[8] == "fd00::2", f"CONNECTED fields: {fields}")
        check(ui.tuns_opened == 1, "one tun")
        # Traffic shows up in BYTECOUNT.
        traffic(env)
        first = bytecount(ui.expect(lambda l: l.startswith(">BYTECOUNT:") and
                                    bytecount(l)[0] > 0 and bytecount(l)[1] > 0,
                                    "non-zero BYTECOUNT", timeout=10)[0])
        log(f"BYTECOUNT after traffic: {first}")
        # Pause (ics-openvpn): SIGUSR1, RECONNECTING, HOLD; same config -> NOACTION.
        ui.send("signal SIGUSR1")
        ui.expect_line("SUCCESS: signal SIGUSR1 thrown")
        line = ui.expect(lambda l: l.startswith(">STATE:"), "RECONNECTING")[0]
        check(state_name(line) == "RECONNECTING" and line.split(",")[2] == "SIGUSR1", line)
        ui.expect(lambda l: l.startswith(">HOLD:"), "HOLD after restart")
        mark = len(ui.lines)
        ui.on_hold()
        ui.run_to_connected()
        after = [TestUi.needok_type(l) for l in ui.lines[mark:] if l.startswith(">NEED-OK:")]
        check("PERSIST_TUN_ACTION" in after and "OPENTUN" not in after,
              f"NOACTION must not open a tun: {after}")
        check(ui.tuns_opened == 1, "no second tun")
        traffic(env)
        again = bytecount(ui.expect(lambda l: l.startswith(">BYTECOUNT:") and
                                    bytecount(l)[1] > first[1], "growing BYTECOUNT",
                                    timeout=10)[0])
        check(again[0] >= first[0], f"byte counts went back: {first} -> {again}")
        # SIGHUP restarts too; a UI that wants a fresh tun says
        # OPEN_BEFORE_CLOSE: the new one arrives, then the old one goes.
        ui.send("signal SIGHUP")
        ui.expect_line("SUCCESS: signal SIGHUP thrown")
        ui.expect(lambda l: l.startswith(">HOLD:"), "HOLD after SIGHUP")
        ui.force_persist = "OPEN_BEFORE_CLOSE"
        ui.on_hold()
        ui.run_to_connected()
        ui.force_persist = None
        check(ui.tuns_opened == 2, f"OPEN_BEFORE_CLOSE opened {ui.tuns_opened - 1} more tuns")
        links = harness.run(["ip", "-n", env.ns, "-o", "link", "show"]).stdout
        check("mgmt0b" in links and "mgmt0:" not in links,
              f"the old tun must go once the new one is in: {links}")
        traffic(env)
        ui.expect(lambda l: l.startswith(">BYTECOUNT:") and bytecount(l)[1] > again[1],
                  "traffic through the new tun", timeout=10)
        # network-change samenetwork: the relay socket comes to be protected.
        ui.send("network-change samenetwork")
        line, fds = ui.expect(lambda l: l.startswith("PROTECTFD:"), "PROTECTFD reply")
        check(len(fds) == 1 and line == f"PROTECTFD: fd '{line.split(chr(39))[1]}' sent to "
              "be protected" and int(line.split("'")[1]) > 0, f"{line} with {fds}")
        sock = socket.socket(fileno=fds[0])
        check(sock.getpeername()[0] == RELAY_ADDRESS, "the relay socket was sent")
        sock.close()
        # network-change (new network): the relay link restarts.
        ui.send("network-change")
        ui.expect_line("PROTECTFD: fd '-2' sent to be protected")
        ui.expect_line("SUCCESS: signal SIGUSR1 thrown")
        ui.expect(lambda l: l.startswith(">HOLD:"), "HOLD after network-change")
        ui.send("signal SIGUSR1")
        ui.expect_line("ERROR: signal 'SIGUSR1' is currently ignored")
        ui.on_hold()
        ui.run_to_connected()
        # Stop.
        ui.send("signal SIGINT")
        ui.expect_line("SUCCESS: signal SIGINT thrown")
        line = ui.expect(lambda l: l.startswith(">STATE:") and ",EXITING," in l, "EXITING")[0]
        check(line.split(",")[2] == "SIGINT", line)
        ui.wait_eof()
        rc, _, killed = client.stop(signal.SIGTERM, timeout=10) if client.alive() else (
            client.popen.wait(timeout=10), 0, False)
        check(rc == 0 and not killed, f"daemon exit {rc}")
        r = harness.run(["ip", "-n", env.ns, "link", "show", "mgmt0"], check_rc=False)
        check(r.returncode != 0, "tun left behind after the daemon exited")
        check(not os.path.exists(path), "management socket file left behind")
    finally:
        ui.close()
        for proc in (client, env.relay):
            if proc.alive():
                proc.stop(signal.SIGKILL)


def wait_log(proc, needle, what, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = proc.log_lines(needle)
        if lines:
            return lines
        check(proc.alive(), f"{proc.name} exited while waiting for {what}")
        time.sleep(0.05)
    raise harness.TestFailure(f"{proc.name}: no {what} within {timeout}s")


def run_vpnservice(env, host, path, name, extra):
    deadline = time.monotonic() + 10
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc = harness.Proc(name, ["ip", "netns", "exec", host.name, env.rtether, "-v", "vpnservice",
                               "--management", path] + extra,
                        os.path.join(env.tmp, name + ".log"))
    env.procs.append(proc)
    return proc


def stop_pair(vpnservice, client):
    vpnservice.popen.send_signal(signal.SIGINT)
    check(client.popen.wait(timeout=15) == 0, "daemon exit status")
    check(vpnservice.popen.wait(timeout=15) == 0, "vpnservice exit status")


def test_vpnservice_protects_the_relay_socket(env, relay_host):
    """The relay is reached over 192.0.2.1 (not loopback): vpnservice gets
    PROTECTFD. With the tun in the socket's own namespace it binds the
    socket to the underlying interface (SO_BINDTODEVICE up0), the link comes
    up through it, and traffic flows; with the tun in another namespace
    there is nothing to protect against."""
    client, path = start_daemon(env, relay_host)
    vpnservice = run_vpnservice(env, relay_host, path, "vpnservice", ["--tun", "rtmg0"])
    wait_log(vpnservice, "bound to up0", "protect by SO_BINDTODEVICE")
    wait_log(vpnservice, "CONNECTED", "CONNECTED")
    r = harness.run(["ip", "-n", relay_host.name, "route", "show"])
    check("0.0.0.0/1 dev rtmg0" in r.stdout, f"tun routes missing: {r.stdout}")
    code = ("import socket\ns = socket.socket()\ns.settimeout(5)\n"
            "try:\n s.connect(('10.0.2.2', 9))\nexcept OSError as e:\n print(e)\n")
    harness.run(["ip", "netns", "exec", relay_host.name, "python3", "-c", code], timeout=20)
    wait_log(vpnservice, "traffic  in ", "byte counts", timeout=10)
    check(any("refused" in l.lower() for l in
              harness.run(["ip", "netns", "exec", relay_host.name, "python3", "-c", code],
                          timeout=20).stdout.splitlines()), "no RST from the host through "
                                                             "the tun")
    stop_pair(vpnservice, client)
    check(harness.run(["ip", "-n", relay_host.name, "link", "show", "rtmg0"],
                      check_rc=False).returncode != 0, "tun left behind")
    # The tun elsewhere: the socket is left as it is.
    client, path = start_daemon(env, relay_host)
    vpnservice = run_vpnservice(env, relay_host, path, "vpnservice2", ["--netns", env.ns])
    wait_log(vpnservice, "outside the tun's namespace", "protect skipped")
    wait_log(vpnservice, "CONNECTED", "CONNECTED")
    stop_pair(vpnservice, client)
