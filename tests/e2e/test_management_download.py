"""`rtether relay` + `rtether client --management ...` + `rtether vpnservice`
bring up a namespace whose curl download from a host server at 10.0.2.2 is
byte-exact: with the daemon listening (vpnservice connects), and with the
daemon in --management-client mode (vpnservice --listen). Also: vpnservice
pause (SIGUSR1) and resume (SIGCONT) keep the tun, and a silent UI that
stops reading its socket does not slow the data path."""

import os
import signal
import time

import pytest

import harness
from harness import check, log
from mgmt_ui import TestUi

SIZE = 16 * 1024 * 1024


def download(env, server, what):
    out = os.path.join(env.tmp, "download.bin")
    t0 = time.monotonic()
    r = env.curl(["-o", out, f"http://{harness.HOST_ALIAS}:{server.port}/"], timeout=90,
                 check_rc=False)
    check(r.returncode == 0, f"{what}: curl failed (rc {r.returncode}): {r.stderr.strip()}")
    with open(out, "rb") as f:
        got = f.read()
    os.unlink(out)
    check(harness.sha256(got) == harness.sha256(server.body),
          f"{what}: download of {len(got)} bytes is not byte-exact")
    log(f"{what}: {len(got)} bytes in {time.monotonic() - t0:.2f}s, SHA-256 ok")


def wait_for(predicate, what, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise harness.TestFailure(f"timed out waiting for {what}")


def tun_index(env, name="rtether0"):
    r = harness.run(["ip", "-n", env.ns, "-o", "link", "show", name], check_rc=False)
    return r.stdout.split(":")[0] if r.returncode == 0 else None


def start(env, name, args):
    proc = harness.Proc(name, [env.rtether, "-v"] + args, os.path.join(env.tmp, name + ".log"))
    env.procs.append(proc)
    return proc


def finish(env, vpnservice, client):
    """Ctrl+C on the UI: it sends `signal SIGINT`, the daemon exits, then the UI."""
    vpnservice.popen.send_signal(signal.SIGINT)
    rc = client.popen.wait(timeout=15)
    check(rc == 0, f"daemon exit status {rc}")
    rc = vpnservice.popen.wait(timeout=15)
    check(rc == 0, f"vpnservice exit status {rc}")
    check(tun_index(env) is None and tun_index(env, "rtether0-1") is None, "tun left behind")
    check(not os.path.exists(f"/etc/netns/{env.ns}/resolv.conf"), "resolv.conf left behind")
    check(any("state    EXITING SIGINT" in l for l in vpnservice.log_lines("EXITING")),
          "vpnservice did not show EXITING")


def run_download(env, http_server, daemon_args, ui_args):
    server = http_server(harness.deterministic_bytes(SIZE, seed=3))
    path = os.path.join(env.tmp, "mgmt.sock")
    if "--listen" in ui_args:
        vpnservice = start(env, "vpnservice", ["vpnservice", "--management", path,
                                               "--netns", env.ns] + ui_args)
        wait_for(lambda: os.path.exists(path), "vpnservice socket")
        client = start(env, "client", ["client", "--relay", env.relay_address(),
                                       "--management", path] + daemon_args)
    else:
        client = start(env, "client", ["client", "--relay", env.relay_address(),
                                       "--management", path, "unix"] + daemon_args)
        wait_for(lambda: os.path.exists(path), "daemon socket")
        vpnservice = start(env, "vpnservice", ["vpnservice", "--management", path,
                                               "--netns", env.ns] + ui_args)
    env.client = client
    wait_for(lambda: any("CONNECTED" in l for l in vpnservice.log_lines("state")), "CONNECTED")
    check(tun_index(env) is not None, "no tun in the namespace")
    download(env, server, "download")
    return client, vpnservice, server


@pytest.mark.env(client=False)
def test_vpnservice_connects_to_listening_daemon(env, http_server):
    client, vpnservice, server = run_download(env, http_server, ["--management-hold"], [])
    # Pause and resume as ics-openvpn: SIGUSR1, then SIGCONT; same tun after.
    index = tun_index(env)
    vpnservice.popen.send_signal(signal.SIGUSR1)
    wait_for(lambda: any("RECONNECTING SIGUSR1" in l for l in vpnservice.log_lines("state")),
             "RECONNECTING after pause")
    wait_for(lambda: vpnservice.log_lines("hold ") != [], "hold shown")
    connected_before = len([l for l in vpnservice.log_lines("state") if "CONNECTED" in l])
    vpnservice.popen.send_signal(signal.SIGCONT)
    wait_for(lambda: len([l for l in vpnservice.log_lines("state") if "CONNECTED" in l]) >
             connected_before, "CONNECTED after resume")
    check(tun_index(env) == index, "resume replaced the tun (NOACTION expected)")
    download(env, server, "download after resume")
    wait_for(lambda: any("traffic  in " in l and " in 0 B" not in l
                         for l in vpnservice.log_lines("traffic")), "byte counts shown", 10)
    finish(env, vpnservice, client)


@pytest.mark.env(client=False)
def test_daemon_connects_to_listening_vpnservice(env, http_server):
    client, vpnservice, _ = run_download(env, http_server, ["--management-client"], ["--listen"])
    finish(env, vpnservice, client)


@pytest.mark.env(client=False)
def test_silent_ui_does_not_stall_the_data_path(env, http_server):
    """The UI answers the set-up, asks for a BYTECOUNT every second, then
    never reads again: the daemon's output piles up, the download must not."""
    server = http_server(harness.deterministic_bytes(SIZE, seed=4))
    path = os.path.join(env.tmp, "mgmt.sock")
    client = start(env, "client", ["client", "--relay", env.relay_address(), "--management",
                                   path, "unix"])
    env.client = client
    ui = TestUi.connect(path, ns=env.ns, tun_name="rtether0")
    try:
        ui.greeting()
        ui.send("version 3")
        ui.send("bytecount 1")
        ui.send("state on")
        ui.run_to_connected()
        ui.send("log on all")
        for _ in range(3):
            download(env, server, "download with a silent UI")
        check(client.alive(), "daemon died")
    finally:
        ui.close()
    # In listen mode the daemon outlives its UI and takes the next one.
    time.sleep(0.3)
    check(client.alive(), "daemon exited when its listen-mode UI left")
    ui = TestUi.connect(path, ns=env.ns)
    try:
        ui.greeting()
        ui.send("state")
        line = ui.next_line()[0]
        check(",CONNECTED,SUCCESS," in line, f"state after reconnect: {line}")
        download(env, server, "download after the UI came back")
        ui.send("signal SIGTERM")
        ui.expect_line("SUCCESS: signal SIGTERM thrown")
        ui.wait_eof()
    finally:
        ui.close()
    check(client.popen.wait(timeout=15) == 0, "daemon exit status")


@pytest.mark.env(client=False)
def test_new_ui_takes_over_with_a_new_tun(env, http_server):
    """The UI crashes: the daemon (listen mode) keeps forwarding. A new
    vpnservice connects; on the next restart it has no tun of its own, so it
    answers OPEN_BEFORE_CLOSE: the new tun takes the routes over and the
    daemon's old one goes."""
    client, vpnservice, server = run_download(env, http_server, ["--management-hold"], [])
    vpnservice.stop(signal.SIGKILL)
    download(env, server, "download with the UI gone")
    path = os.path.join(env.tmp, "mgmt.sock")
    second = start(env, "vpnservice2", ["vpnservice", "--management", path, "--netns", env.ns])
    wait_for(lambda: second.log_lines("Management Interface") != [], "second UI greeted")
    second.popen.send_signal(signal.SIGUSR1)
    wait_for(lambda: second.log_lines("hold ") != [], "hold after pause")
    second.popen.send_signal(signal.SIGCONT)
    wait_for(lambda: any("CONNECTED" in l for l in second.log_lines("state")), "CONNECTED")
    check(tun_index(env, "rtether0-1") is not None and tun_index(env) is None,
          "OPEN_BEFORE_CLOSE: the new tun should replace the old one")
    download(env, server, "download through the new tun")
    finish(env, second, client)


@pytest.mark.env(client_args=["--dns-domain", "corp.test", "-d", "192.0.2.53,2001:db8::53"])
def test_in_process_ui_applies_ipv6_and_dns(env, http_server):
    """No --management: the in-process UI gets the same NEED-OKs, including
    IFCONFIG6/ROUTE6/DNS6SERVER (IPv6 on by default) and DNSDOMAIN."""
    addresses = harness.run(["ip", "-n", env.ns, "addr", "show", "dev", "rtether0"]).stdout
    check("inet 10.0.0.2/32" in addresses and "inet6 fd00::2/128" in addresses,
          f"tun addresses: {addresses}")
    routes6 = harness.run(["ip", "-n", env.ns, "-6", "route", "show"]).stdout
    check("default dev rtether0" in routes6, f"IPv6 routes: {routes6}")
    with open(f"/etc/netns/{env.ns}/resolv.conf") as f:
        text = f.read()
    for line in ("nameserver 192.0.2.53", "nameserver 2001:db8::53", "search corp.test"):
        check(line in text, f"resolv.conf lacks {line!r}: {text!r}")
    server = http_server(harness.deterministic_bytes(SIZE, seed=5))
    download(env, server, "in-process download")


@pytest.mark.env(client_args=["--no-ipv6"])
def test_no_ipv6(env):
    addresses = harness.run(["ip", "-n", env.ns, "addr", "show", "dev", "rtether0"]).stdout
    check("fd00::2" not in addresses, f"--no-ipv6 still has an IPv6 address: {addresses}")
    routes6 = harness.run(["ip", "-n", env.ns, "-6", "route", "show"]).stdout
    check("default dev rtether0" not in routes6 and "::/1" not in routes6,
          f"--no-ipv6 still routes IPv6: {routes6}")
