"""Gnirehtet's one-shot host commands (install, uninstall, reinstall, start,
stop, restart, tunnel) and `run`, driven through Debian's real adb client
against a fake adb server: the exact adb requests each command makes, the
app version check, and one clear line with a non-zero exit for every adb
failure a user meets."""

import os
import signal
import socket
import struct
import subprocess
import time

import pytest

import harness
from harness import check
from adb_env import (DUMPSYS, STOP, adb_install, adb_reverse, adb_shell, adb_start_sequence,
                     adb_uninstall)

SERIAL = "0123456789ABCDEF"
ONE_DEVICE = {SERIAL: "device"}


def expect_sequence(world, mark, expected, what):
    got = world.server.requests_since(mark)
    check(got == expected, f"{what}: adb requests\n  got      {got}\n  expected {expected}")


def run_ok(rtether, world, args):
    mark = world.server.mark()
    r = world.run(rtether, args)
    check(r.returncode == 0, f"rtether {' '.join(args)}: exit {r.returncode}: {r.stderr}")
    return mark, r


@pytest.mark.world(devices=ONE_DEVICE)
def test_install_uninstall_reinstall(rtether, world):
    mark, _ = run_ok(rtether, world, ["install", SERIAL])
    expect_sequence(world, mark, adb_install(SERIAL, world.apk_size), "install SERIAL")
    check(world.server.installs == [(SERIAL, open(world.apk, "rb").read())],
          "the apk bytes did not reach the device")
    mark, _ = run_ok(rtether, world, ["uninstall", SERIAL])
    expect_sequence(world, mark, adb_uninstall(SERIAL), "uninstall SERIAL")
    check(SERIAL not in world.server.installed, "uninstall left the app installed")
    mark = world.server.mark()
    r = world.run(rtether, ["uninstall", SERIAL])
    check(r.returncode == 1 and f"the Gnirehtet app is not installed on {SERIAL}" in r.stderr,
          f"uninstall of a missing app: {r.returncode} {r.stderr!r}")
    expect_sequence(world, mark, adb_uninstall(SERIAL), "uninstall SERIAL (not installed)")
    mark, _ = run_ok(rtether, world, ["reinstall"])
    expect_sequence(world, mark, adb_uninstall(None) + adb_install(None, world.apk_size),
                    "reinstall (the only device)")
    check(world.server.installed.get(SERIAL) == 9, "reinstall did not install")


@pytest.mark.world(devices=ONE_DEVICE)
def test_start_installs_when_missing(rtether, world):
    # Spaces after the commas are accepted and never sent (adb joins shell
    # arguments with spaces); a bare address is sent as a host route.
    mark, _ = run_ok(rtether, world, ["start", SERIAL, "-d", "192.0.2.53, 198.51.100.53",
                                      "-r", "10.0.0.0/8 , 203.0.113.7", "-p", "31500"])
    expect_sequence(world, mark,
                    adb_start_sequence(SERIAL, 31500, world.apk_size, "192.0.2.53,198.51.100.53",
                                       "10.0.0.0/8,203.0.113.7/32"),
                    "start on a device without the app")
    check(world.server.reverses == [(SERIAL, "localabstract:gnirehtet;tcp:31500")],
          f"reverse rules: {world.server.reverses}")
    # Gnirehtet's adb argument lists, serial right after the binary.
    expected_calls = [
        f"-s {SERIAL} shell dumpsys package com.genymobile.gnirehtet",
        f"-s {SERIAL} install -r {world.apk}",
        f"-s {SERIAL} reverse localabstract:gnirehtet tcp:31500",
        f"-s {SERIAL} shell am start -a com.genymobile.gnirehtet.START -n "
        "com.genymobile.gnirehtet/.GnirehtetActivity --esa dnsServers 192.0.2.53,198.51.100.53 "
        "--esa routes 10.0.0.0/8,203.0.113.7/32",
    ]
    check(world.adb_calls() == expected_calls,
          f"adb command lines\n  got      {world.adb_calls()}\n  expected {expected_calls}")


@pytest.mark.world(devices=ONE_DEVICE, installed={SERIAL: 9})
def test_start_skips_install_when_current(rtether, world):
    mark, _ = run_ok(rtether, world, ["start"])
    expect_sequence(world, mark, adb_start_sequence(None), "start with versionCode 9 installed")
    check(not world.server.installs, "installed although versionCode 9 was there")


@pytest.mark.world(devices=ONE_DEVICE, installed={SERIAL: 8})
def test_start_upgrades_old_version(rtether, world):
    mark, _ = run_ok(rtether, world, ["start", SERIAL])
    expect_sequence(world, mark, adb_start_sequence(SERIAL, install_size=world.apk_size),
                    "start with versionCode 8 installed")


@pytest.mark.world(devices=ONE_DEVICE, installed={SERIAL: 9})
def test_stop_restart_tunnel(rtether, world):
    mark, _ = run_ok(rtether, world, ["stop", SERIAL])
    expect_sequence(world, mark, adb_shell(SERIAL, STOP), "stop SERIAL")
    mark, _ = run_ok(rtether, world, ["restart", SERIAL, "-p", "4000"])
    expect_sequence(world, mark, adb_shell(SERIAL, STOP) + adb_start_sequence(SERIAL, 4000),
                    "restart SERIAL -p 4000")
    mark, _ = run_ok(rtether, world, ["tunnel", "-p", "4001"])
    expect_sequence(world, mark, adb_reverse(None, 4001), "tunnel -p 4001")


DEVICE_ERRORS = [
    ({}, ["stop"], "no device connected"),
    ({"A1": "device", "B2": "device"}, ["start"], "several devices connected"),
    ({"A1": "device", "B2": "device"}, ["stop", "C3"], "device 'C3' not found"),
    ({"A1": "unauthorized"}, ["start"], "unauthorized"),
    ({"A1": "offline"}, ["tunnel", "A1"], "offline"),
]


@pytest.mark.parametrize("devices, args, expected", DEVICE_ERRORS,
                         ids=[expected for _, _, expected in DEVICE_ERRORS])
def test_device_error_is_one_line_and_exit_1(rtether, world, devices, args, expected):
    world.server.set_devices(devices)
    r = world.run(rtether, args)
    errors = [l for l in r.stderr.splitlines() if " error: " in l]
    check(r.returncode == 1, f"{args} with {devices}: exit {r.returncode}: {r.stderr}")
    check(len(errors) == 1 and expected in errors[0],
          f"{args} with {devices}: expected one error line with {expected!r}: {r.stderr!r}")


@pytest.mark.world(devices=ONE_DEVICE)
def test_missing_apk_is_reported_and_rtether_apk_overrides(rtether, world):
    r = world.run(rtether, ["install"], GNIREHTET_APK="/nonexistent/gnirehtet.apk")
    check(r.returncode == 1 and "APK not found: '/nonexistent/gnirehtet.apk'" in r.stderr
          and "GNIREHTET_APK" in r.stderr, f"missing apk: {r.returncode} {r.stderr!r}")
    # Without the APK, start fails before touching the device beyond the check.
    mark = world.server.mark()
    r = world.run(rtether, ["start"], GNIREHTET_APK="/nonexistent/gnirehtet.apk")
    check(r.returncode == 1 and "APK not found" in r.stderr, f"start without apk: {r.stderr!r}")
    expect_sequence(world, mark, adb_shell(None, DUMPSYS), "start without the apk")
    # RTETHER_APK overrides GNIREHTET_APK.
    mark = world.server.mark()
    r = world.run(rtether, ["install"], GNIREHTET_APK="/nonexistent/gnirehtet.apk",
                  RTETHER_APK=world.apk)
    check(r.returncode == 0, f"RTETHER_APK not used: {r.stderr!r}")
    expect_sequence(world, mark, adb_install(None, world.apk_size), "install with RTETHER_APK")


@pytest.mark.parametrize("adb", ["/nonexistent/adb", "no-such-adb-binary"])
@pytest.mark.world(devices=ONE_DEVICE)
def test_missing_adb_is_one_line_and_exit_1(rtether, world, adb):
    r = world.run(rtether, ["start"], ADB=adb)
    check(r.returncode == 1 and "adb not found" in r.stderr and "apt-get install adb" in r.stderr
          and "ADB" in r.stderr, f"ADB={adb}: {r.returncode} {r.stderr!r}")
    check(len(r.stderr.strip().splitlines()) == 1, f"ADB={adb}: more than one line: {r.stderr!r}")


@pytest.mark.parametrize("command", ["autostart", "autorun"])
@pytest.mark.world(devices=ONE_DEVICE)
def test_watching_without_adb_does_not_retry_forever(rtether, world, command):
    # One line, exit 1.
    r = world.run(rtether, [command, "-p", str(harness.free_tcp_port())],
                  ADB="/nonexistent/adb", timeout=20)
    check(r.returncode == 1 and "adb not found" in r.stderr and "ADB" in r.stderr,
          f"{command} without adb: {r.returncode} {r.stderr!r}")
    check(len(r.stderr.strip().splitlines()) == 1,
          f"{command} without adb: more than one line: {r.stderr!r}")


BAD_OPTION_VALUES = [
    (["start", "-p", "abc"], "--port"),
    (["run", "-p", "0"], "--port"),
    (["autorun", "-p", "65536"], "--port"),
    (["start", "-r", "10.0.0.0/33"], "prefix length"),
    (["run", "-r", "not-a-cidr"], "--routes"),
    (["autostart", "-d", "8.8.8.8,nonsense"], "--dns"),
    (["restart", "-d", "300.1.1.1"], "--dns"),
    (["install", "A", "B"], "B"),
    (["tunnel", "-d", "8.8.8.8"], "-d"),
    (["run", "--status-interval", "-1"], "--status-interval"),
]


@pytest.mark.parametrize("args, expected", BAD_OPTION_VALUES,
                         ids=[" ".join(args) for args, _ in BAD_OPTION_VALUES])
@pytest.mark.world(devices=ONE_DEVICE)
def test_bad_option_value_exits_2_before_adb(rtether, world, args, expected):
    mark = world.server.mark()
    r = world.run(rtether, args)
    check(r.returncode == 2, f"rtether {' '.join(args)}: exit {r.returncode} ({r.stderr!r})")
    check(expected in r.stderr, f"rtether {' '.join(args)}: {r.stderr!r} lacks {expected!r}")
    check("Traceback" not in r.stderr and "terminate called" not in r.stderr, r.stderr)
    check(world.server.requests_since(mark) == [], "a bad option still reached adb")


@pytest.mark.world(devices=ONE_DEVICE)
def test_bad_adb_server_socket_exits_2(rtether, world):
    r = world.run(rtether, ["autorun"], ADB_SERVER_SOCKET="udp:1234")
    check(r.returncode == 2 and "ADB_SERVER_SOCKET" in r.stderr,
          f"bad ADB_SERVER_SOCKET: {r.stderr!r}")


@pytest.mark.parametrize("command", ["install", "uninstall", "reinstall", "start", "stop",
                                     "restart", "tunnel", "run", "autostart", "autorun", "relay"])
@pytest.mark.world(devices=ONE_DEVICE)
def test_help_shows_examples(rtether, world, command):
    r = world.run(rtether, [command, "--help"])
    check(r.returncode == 0 and "Examples:" in r.stdout, f"{command} --help: {r.stdout!r}")


def connect_client(port, timeout=10):
    """Connects as a device would; returns (socket, client id)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data = b""
    while len(data) < 4:
        chunk = s.recv(4 - len(data))
        if not chunk:
            break
        data += chunk
    check(len(data) == 4, f"relay sent {data!r} instead of a client id")
    return s, struct.unpack(">I", data)[0]


@pytest.mark.world(devices=ONE_DEVICE, installed={SERIAL: 9})
def test_run_stops_device_on_ctrl_c(rtether, world):
    port = harness.free_tcp_port()
    mark = world.server.mark()
    proc = world.spawn(rtether, "run", ["run", SERIAL, "-p", str(port), "-d", "192.0.2.53",
                                        "--status-interval", "1"])
    expected_start = adb_start_sequence(SERIAL, port, dns="192.0.2.53")
    world.server.wait_for(lambda s: len(s.requests) - mark >= len(expected_start), 20,
                          "run to start the device")
    deadline = time.monotonic() + 10
    while not harness._tcp_listening(port):
        check(proc.alive() and time.monotonic() < deadline, "run's relay is not listening")
        time.sleep(0.05)
    client, client_id = connect_client(port)
    try:
        check(client_id == 0, "the first client did not get id 0")
        # Plain log lines (not a terminal): the connection and periodic
        # totals, under the device's serial (-p is SERIAL's listener).
        deadline = time.monotonic() + 10
        while not proc.log_lines(f"device {SERIAL}: connected, flows 0"):
            check(time.monotonic() < deadline, f"no totals line in run's log:\n{proc.log_text()}")
            time.sleep(0.1)
        check(proc.log_lines(f"client 0 connected (device {SERIAL})"),
              "run did not log the connection with the device's serial")
        check(len(proc.log_lines(f"device {SERIAL}: started")) == 1,
              "run did not log the device's state once")
    finally:
        client.close()
    expect_sequence(world, mark, expected_start, "run: start")
    mark = world.server.mark()
    rc, seconds, killed = proc.stop(signal.SIGINT, timeout=20)
    check(not killed and rc == 0, f"run after Ctrl+C: exit {rc}, killed={killed}\n{proc.log_text()}")
    expect_sequence(world, mark, adb_shell(SERIAL, STOP), "run: Ctrl+C stops the device")


@pytest.mark.world(devices=ONE_DEVICE, installed={SERIAL: 9})
def test_run_second_ctrl_c_quits_at_once(rtether, world):
    world.server.stop_delay = 4.0
    port = harness.free_tcp_port()
    proc = world.spawn(rtether, "run", ["run", "-p", str(port)])
    wait_started = lambda s: any(".START" in c for _, c in s.am_starts)  # noqa: E731
    world.server.wait_for(wait_started, 20, "run to start the device")
    deadline = time.monotonic() + 10
    while not harness._tcp_listening(port):
        check(proc.alive() and time.monotonic() < deadline, "run's relay is not listening")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    world.server.wait_for(lambda s: any(".STOP" in c for _, c in s.requests), 10,
                          "the stop request")
    check(proc.alive(), "run exited before its stop request was answered")
    t0 = time.monotonic()
    rc, seconds, killed = proc.stop(signal.SIGINT, timeout=5)
    check(not killed and rc == -signal.SIGINT,
          f"a second Ctrl+C: exit {rc} after {seconds:.1f}s, killed={killed}\n{proc.log_text()}")
    check(time.monotonic() - t0 < 3, "a second Ctrl+C did not quit at once")
    check(proc.log_lines("Ctrl+C again"), "run did not say a second Ctrl+C quits")
    # adb, in its own process group, still delivers the stop.
    world.server.wait_for(lambda s: s.delayed_answers == 1, 15, "the delayed stop answer")


@pytest.mark.world(devices=ONE_DEVICE, installed={SERIAL: 9})
def test_run_ctrl_c_during_version_check(rtether, world):
    world.server.dumpsys_delay = 60.0
    proc = world.spawn(rtether, "run", ["run", "-p", str(harness.free_tcp_port())])
    world.server.wait_for(lambda s: any("dumpsys" in r for _, r in s.requests), 20,
                          "run's version check")
    rc, seconds, killed = proc.stop(signal.SIGINT, timeout=10)
    check(not killed and rc == 1 and seconds < 5,
          f"Ctrl+C during dumpsys: exit {rc} after {seconds:.1f}s, killed={killed}\n"
          f"{proc.log_text()}")
    check(proc.log_lines("interrupted"), f"run did not say interrupted:\n{proc.log_text()}")
    check(not any("am start" in r for r in world.server.requests_since()),
          "an interrupted version check went on to am start")


@pytest.mark.world(devices=ONE_DEVICE, installed={SERIAL: 9})
def test_run_ctrl_c_during_am_start(rtether, world):
    world.server.start_delay = 60.0
    proc = world.spawn(rtether, "run", ["run", "-p", str(harness.free_tcp_port())])
    world.server.wait_for(lambda s: any(".START" in c for _, c in s.am_starts), 20,
                          "run's am start")
    rc, seconds, killed = proc.stop(signal.SIGINT, timeout=20)
    check(not killed and rc == 1,
          f"Ctrl+C during am start: exit {rc} after {seconds:.1f}s, killed={killed}\n"
          f"{proc.log_text()}")
    check(proc.log_lines("interrupted"), f"run did not say interrupted:\n{proc.log_text()}")
    check(any(".STOP" in c for _, c in world.server.am_starts),
          "an interrupted am start was not undone with a stop")


@pytest.mark.world(devices=ONE_DEVICE, installed={SERIAL: 9})
def test_one_shot_ctrl_c_ends_adb_too(rtether, world):
    # A terminal's Ctrl+C goes to the foreground process group: rtether and,
    # for a one-shot command, the adb it runs (no adb left behind).
    world.server.dumpsys_delay = 60.0
    proc = subprocess.Popen([rtether, "start"], env=world.env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        world.server.wait_for(lambda s: any("dumpsys" in r for _, r in s.requests), 20,
                              "start's version check")
        check(world.adb_processes(), "no adb running during the version check")
        os.killpg(proc.pid, signal.SIGINT)
        rc = proc.wait(timeout=10)
        check(rc == -signal.SIGINT, f"start after Ctrl+C: exit {rc}")
        world.check_no_adb_left(timeout=3)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


@pytest.mark.world(devices=ONE_DEVICE)
def test_run_port_in_use(rtether, world):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        for command in ("run", "autorun"):
            mark = world.server.mark()
            r = world.run(rtether, [command, "-p", str(port)])
            check(r.returncode == 1 and f"127.0.0.1:{port}" in r.stderr and "in use" in r.stderr,
                  f"{command} on a used port: {r.returncode} {r.stderr!r}")
            check(len(r.stderr.strip().splitlines()) == 1, f"{command}: {r.stderr!r}")
            check(world.server.requests_since(mark) == [],
                  f"{command} touched adb with its port in use")
    finally:
        blocker.close()


@pytest.mark.world(devices={})
def test_run_fails_cleanly_without_device(rtether, world):
    r = world.run(rtether, ["run", "-p", str(harness.free_tcp_port())])
    check(r.returncode == 1 and "no device connected" in r.stderr, f"{r.returncode} {r.stderr!r}")
