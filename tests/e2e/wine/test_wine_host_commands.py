"""Gnirehtet's host commands with rtether.exe under Wine: the Linux tests of
tests/e2e/test_adb_commands.py and test_cli_errors.py, imported and run with
`rtether` = `wine rtether.exe` and the Windows adb stand-in (wine_host.py), so
they check the same request sequences, adb command lines, error lines and exit
codes; then what differs on Windows: the adb-not-found advice, a second Ctrl+C
(Windows' default handler ends rtether, and its job object the adb under way),
and client/shell/vpnservice, which say they are Linux only."""

import os
import signal
import socket
import subprocess
import time

import pytest

import harness
from adb_env import adb_shell, STOP
from harness import check
from wine_host import adb_world_class, rtether, wine_prefix  # noqa: F401 (fixtures)
from test_adb_commands import (  # noqa: F401 (collected here, against rtether.exe)
    ONE_DEVICE, SERIAL, test_bad_adb_server_socket_exits_2, test_bad_option_value_exits_2_before_adb,
    test_device_error_is_one_line_and_exit_1, test_help_shows_examples,
    test_install_uninstall_reinstall, test_missing_apk_is_reported_and_rtether_apk_overrides,
    test_run_ctrl_c_during_am_start, test_run_ctrl_c_during_version_check,
    test_run_fails_cleanly_without_device, test_run_stops_device_on_ctrl_c,
    test_start_installs_when_missing, test_start_skips_install_when_current,
    test_start_upgrades_old_version, test_stop_restart_tunnel,
    test_watching_without_adb_does_not_retry_forever)

# STATUS_CONTROL_C_EXIT, the exit code of a process Windows' default Ctrl+C
# handler ended; a Unix parent sees its low byte.
CONTROL_C_EXIT = 0xC000013A & 0xFF


@pytest.mark.parametrize("adb", ["/nonexistent/adb", "no-such-adb-binary"])
@pytest.mark.world(devices=ONE_DEVICE)
def test_missing_adb_is_one_line_with_the_windows_advice(rtether, world, adb):
    r = world.run(rtether, ["start"], ADB=adb)
    check(r.returncode == 1 and f"adb not found ('{adb}')" in r.stderr
          and "next to rtether.exe" in r.stderr and "ADB" in r.stderr,
          f"ADB={adb}: {r.returncode} {r.stderr!r}")
    check(len(r.stderr.strip().splitlines()) == 1, f"ADB={adb}: more than one line: {r.stderr!r}")


@pytest.mark.world(devices=ONE_DEVICE)
def test_run_port_in_use_fails_before_adb(rtether, world):
    # test_adb_commands.py's test, but for the wording: Winsock's reason
    # (WSAEADDRINUSE) has no text under Wine yet ("Unknown error"), where Linux
    # says "Address already in use".
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        for command in ("run", "autorun"):
            mark = world.server.mark()
            r = world.run(rtether, [command, "-p", str(port)])
            check(r.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in r.stderr,
                  f"{command} on a used port: {r.returncode} {r.stderr!r}")
            check(len(r.stderr.strip().splitlines()) == 1, f"{command}: {r.stderr!r}")
            check(world.server.requests_since(mark) == [],
                  f"{command} touched adb with its port in use")
    finally:
        blocker.close()


@pytest.mark.world(devices=ONE_DEVICE, installed={SERIAL: 9})
def test_run_second_ctrl_c_quits_at_once_and_takes_adb_along(rtether, world):
    world.server.stop_delay = 4.0
    port = harness.free_tcp_port()
    proc = world.spawn(rtether, "run", ["run", "-p", str(port)])
    world.server.wait_for(lambda s: any(".START" in c for _, c in s.am_starts), 30,
                          "run to start the device")
    deadline = time.monotonic() + 10
    while not harness._tcp_listening(port):
        check(proc.alive() and time.monotonic() < deadline, "run's relay is not listening")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    world.server.wait_for(lambda s: any(".STOP" in c for _, c in s.requests), 10,
                          "the stop request")
    check(proc.alive(), "run exited before its stop request was answered")
    check(world.adb_processes(), "no adb stand-in running the delayed stop")
    t0 = time.monotonic()
    rc, seconds, killed = proc.stop(signal.SIGINT, timeout=5)
    check(not killed and rc == CONTROL_C_EXIT,
          f"a second Ctrl+C: exit {rc} after {seconds:.1f}s, killed={killed}\n{proc.log_text()}")
    check(time.monotonic() - t0 < 3, "a second Ctrl+C did not quit at once")
    check(proc.log_lines("Ctrl+C again"), "run did not say a second Ctrl+C quits")
    # Unlike Linux (adb in a process group of its own delivers the stop), the
    # job object ends the adb under way with rtether.
    world.check_no_adb_left(timeout=5)


@pytest.mark.world(devices=ONE_DEVICE, installed={SERIAL: 9})
def test_killed_rtether_takes_its_adb_along(rtether, world):
    # However rtether ends (here SIGKILL of its Wine process, as a Task Manager
    # "End task"), the job object ends the adb it runs.
    world.server.dumpsys_delay = 60.0
    proc = world.spawn(rtether, "start", ["start"])
    world.server.wait_for(lambda s: any("dumpsys" in r for _, r in s.requests), 30,
                          "start's version check")
    check(world.adb_processes(), "no adb stand-in running during the version check")
    proc.stop(signal.SIGKILL, timeout=10)
    world.check_no_adb_left(timeout=10)


@pytest.mark.parametrize("command", ["client", "shell", "vpnservice"])
def test_device_side_commands_say_linux_only(rtether, command):
    r = subprocess.run([rtether, command], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    check(r.returncode == 2 and f"rtether {command} runs on Linux only" in r.stderr,
          f"{command}: {r.returncode} {r.stderr!r}")
