"""`autorun` and `autostart` watching adb through the adb server's
track-devices stream (from a fake adb server, Debian's real adb client for
the commands): devices appearing, disappearing and reappearing (each
reappearance gets its reverse tunnel again), a device list longer than 1024
bytes, the adb server going away (rtether runs `adb start-server`) and coming
back, and the live status: plain log lines in a pipe, a redrawn block on a
terminal."""

import fcntl
import os
import pty
import select
import re
import signal
import struct
import termios
import time

import pytest

import harness
from harness import check
from adb_env import adb_start_sequence
from fake_adb import FakeAdbServer


def reverse_count(world, serial):
    return sum(1 for s, _ in world.server.reverses if s == serial)


def reverse_port(world, serial):
    """The relay port of `serial`'s first reverse tunnel (autorun: its own)."""
    remote = next(r for s, r in world.server.reverses if s == serial).split(";")[1]
    check(remote.startswith("tcp:"), f"{serial}'s reverse tunnel goes to {remote}")
    return int(remote[len("tcp:"):])


def wait_reverses(world, serial, count, timeout=30):
    world.server.wait_for(lambda s: sum(1 for x, _ in s.reverses if x == serial) >= count, timeout,
                          f"{count} reverse tunnel(s) for {serial}")


def wait_started(world, serial, count, timeout=30):
    world.server.wait_for(
        lambda s: sum(1 for x, c in s.am_starts if x == serial and ".START" in c) >= count,
        timeout, f"{count} am start(s) of {serial}")


def stop_ok(proc, what):
    rc, seconds, killed = proc.stop(signal.SIGINT, timeout=20)
    check(not killed and rc == 0, f"{what} after SIGINT: exit {rc}, killed={killed}\n{proc.log_text()}")


@pytest.mark.world(devices={"CCC": "no permissions (user in plugdev group; are your udev rules "
                                    "wrong?)"})
def test_usb_permissions_hint(rtether, world):
    proc = world.spawn(rtether, "autostart", ["autostart"])
    deadline = time.monotonic() + 10
    while not proc.log_lines("device CCC: no permissions: add a udev rule"):
        check(time.monotonic() < deadline, f"CCC's state was not shown:\n{proc.log_text()}")
        time.sleep(0.1)
    check(proc.log_lines("plugdev group"), f"no plugdev hint:\n{proc.log_text()}")
    check(not world.server.am_starts, "a device without permissions was started")
    stop_ok(proc, "autostart")


@pytest.mark.world(devices={"AAA": "device", "BBB": "unauthorized"},
                   installed={"AAA": 9, "BBB": 9})
def test_devices_appear_disappear_reappear(rtether, world):
    port = harness.free_tcp_port()
    proc = world.spawn(rtether, "autorun", ["autorun", "-p", str(port), "-d", "192.0.2.53",
                                            "--status-interval", "1"])
    wait_started(world, "AAA", 1)
    check(harness._tcp_listening(port), "autorun's relay is not listening")
    # AAA's tunnel goes to a relay port of its own, so the relay knows it.
    aaa_port = reverse_port(world, "AAA")
    check(aaa_port != port and harness._tcp_listening(aaa_port),
          f"AAA's reverse tunnel port {aaa_port} (base {port}) is not a listener of its own")
    check(proc.log_lines(f"relay listening on 127.0.0.1:{aaa_port} for device AAA"),
          f"no labelled listener for AAA:\n{proc.log_text()}")
    check(reverse_count(world, "BBB") == 0, "BBB (unauthorized) was started")
    deadline = time.monotonic() + 10
    while not proc.log_lines("device BBB: unauthorized: accept the USB debugging prompt"):
        check(time.monotonic() < deadline, f"BBB's state was not shown:\n{proc.log_text()}")
        time.sleep(0.1)
    # A second device is authorized: it is started; AAA is not started again.
    world.server.set_devices({"AAA": "device", "BBB": "device"})
    wait_started(world, "BBB", 1)
    check(reverse_port(world, "BBB") not in (port, aaa_port), "BBB shares a relay port")
    # AAA unplugged, then plugged back: its reverse tunnel is set up again.
    world.server.set_devices({"BBB": "device"})
    deadline = time.monotonic() + 10
    while not proc.log_lines("device AAA gone"):
        check(time.monotonic() < deadline, "AAA's departure was not noticed")
        time.sleep(0.05)
    mark = world.server.mark()
    world.server.set_devices({"BBB": "device", "AAA": "device"})
    wait_started(world, "AAA", 2)
    check(reverse_count(world, "AAA") == 2 and reverse_count(world, "BBB") == 1,
          f"reverse tunnels: {world.server.reverses}")
    got = [r for r in world.server.requests_since(mark) if r != "host:version"]
    # The same port again: a replugged device keeps its listener.
    expected = [r for r in adb_start_sequence("AAA", aaa_port, dns="192.0.2.53")
                if r != "host:version"]
    check(got == expected, f"re-plugged AAA: requests\n  got      {got}\n  expected {expected}")
    # An offline device is not started; states are logged as they change.
    world.server.set_devices({"BBB": "device", "AAA": "device", "CCC": "offline"})
    time.sleep(1.5)
    check(reverse_count(world, "CCC") == 0, "an offline device was started")
    check(proc.log_lines("device BBB: started"), f"no state line for BBB:\n{proc.log_text()}")
    check(proc.alive(), "autorun died")
    stop_ok(proc, "autorun")


@pytest.mark.world(devices={}, installed={"READY-AT-THE-END": 9})
def test_long_device_list(rtether, world):
    # 60 offline devices with long serials before the one ready device: one
    # message of several KiB, which a 1024-byte buffer would cut.
    devices = {f"emulator-offline-device-with-a-long-serial-{i:03}": "offline" for i in range(60)}
    devices["READY-AT-THE-END"] = "device"
    message = "".join(f"{s}\t{st}\n" for s, st in devices.items())
    check(len(message) > 1024 * 2, f"message only {len(message)} bytes")
    proc = world.spawn(rtether, "autostart", ["autostart"])
    world.server.wait_for(lambda s: len(s.trackers) == 1, 10, "autostart to track devices")
    world.server.set_devices(devices)
    wait_started(world, "READY-AT-THE-END", 1)
    # The same list again, split in odd pieces, changes nothing.
    from fake_adb import frame
    data = frame(message)
    for i in range(0, len(data), 333):
        world.server.send_raw_to_trackers(data[i:i + 333])
        time.sleep(0.01)
    time.sleep(1)
    check(reverse_count(world, "READY-AT-THE-END") == 1, "a repeated list restarted a device")
    check(not proc.log_lines("malformed"), "a long list was seen as malformed")
    check(not proc.log_lines("relay listening"), "autostart started a relay")
    stop_ok(proc, "autostart")


@pytest.mark.world(devices={"AAA": "device"}, installed={"AAA": 9})
def test_server_goes_away_and_comes_back(rtether, world):
    wrapper_log = world.adb_log
    port = harness.free_tcp_port()
    proc = world.spawn(rtether, "autorun", ["autorun", "-p", str(port)])
    wait_started(world, "AAA", 1)
    server_port = world.server.port
    world.server.stop()
    deadline = time.monotonic() + 20
    while True:
        try:
            with open(wrapper_log) as f:
                if "start-server" in f.read().split("\n"):
                    break
        except OSError:
            pass
        check(time.monotonic() < deadline, f"no 'adb start-server' after the server went away:\n"
                                           f"{proc.log_text()}")
        time.sleep(0.05)
    check(proc.log_lines("unreachable"), "the outage was not logged")
    # The server comes back (on the same port) with the device: started again,
    # since a restarted adb server has lost its reverse tunnels.
    old = world.server
    world.server = FakeAdbServer({"AAA": "device"}, {"AAA": 9}, port=server_port)
    world.server.installed = dict(old.installed)
    wait_started(world, "AAA", 1, timeout=30)
    wait_reverses(world, "AAA", 1)
    check(len(proc.log_lines("watching devices through the adb server")) >= 2,
          "the reconnection was not logged")
    stop_ok(proc, "autorun")


@pytest.mark.world(devices={})
def test_no_server_at_start_retries(rtether, world):
    wrapper_log = world.adb_log
    server_port = world.server.port
    world.server.stop()
    proc = world.spawn(rtether, "autostart", ["autostart"])
    time.sleep(2.5)
    with open(wrapper_log) as f:
        starts = f.read().split("\n").count("start-server")
    check(1 <= starts <= 6, f"{starts} start-server runs in 2.5 s (expected retries with back-off)")
    check(proc.alive(), "autostart gave up without a server")
    world.server = FakeAdbServer({"ZZZ": "device"}, {"ZZZ": 9}, port=server_port)
    wait_started(world, "ZZZ", 1, timeout=20)
    stop_ok(proc, "autostart")


@pytest.mark.world(devices={"AAA": "device"}, installed={"AAA": 9})
def test_ctrl_c_cancels_a_start_under_way(rtether, world):
    world.server.start_delay = 30.0
    proc = world.spawn(rtether, "autorun", ["autorun", "-p", str(harness.free_tcp_port())])
    world.server.wait_for(lambda s: any(".START" in r for _, r in s.requests), 20,
                          "the start request")
    t0 = time.monotonic()
    rc, seconds, killed = proc.stop(signal.SIGINT, timeout=10)
    check(not killed and rc == 0, f"autorun after SIGINT: exit {rc}, killed={killed}")
    check(time.monotonic() - t0 < 5, f"autorun waited {seconds:.1f}s for adb on SIGINT")
    # with_world checks that the adb client under way was killed, not left.


def test_plain_status_lines(rtether, world):
    port = harness.free_tcp_port()
    proc = world.spawn(rtether, "relay", ["relay", "-p", str(port), "--status-interval", "1"])
    deadline = time.monotonic() + 10
    while not harness._tcp_listening(port):
        check(time.monotonic() < deadline, "relay not listening")
        time.sleep(0.05)
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        check(len(s.recv(4)) == 4, "no client id")
        deadline = time.monotonic() + 10
        while not proc.log_lines("client 0: flows 0, down 0 B"):
            check(time.monotonic() < deadline, f"no totals line:\n{proc.log_text()}")
            time.sleep(0.1)
    finally:
        s.close()
    text = open(proc.log_path, "rb").read()
    check(b"\x1b[" not in text, "escape sequences in a log that is not a terminal")
    stop_ok(proc, "relay")


def read_pty(fd, seconds):
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def autorun_on_a_terminal(rtether, world):
    """autorun with an 80x24 pty as its controlling terminal, in the foreground
    (as when a user runs it in a terminal window), one client connected: what
    it drew in ~3.5 s, and its exit status after SIGINT."""
    port = harness.free_tcp_port()
    master, slave = pty.openpty()
    env = world.env(TERM="xterm")
    import subprocess
    def controlling_terminal():
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

    popen = subprocess.Popen([rtether, "autorun", "-p", str(port)], stdin=subprocess.DEVNULL,
                             stdout=slave, stderr=subprocess.DEVNULL, env=env,
                             preexec_fn=controlling_terminal)
    os.close(slave)
    try:
        wait_started(world, "AAA", 1)
        deadline = time.monotonic() + 10
        while not harness._tcp_listening(port):
            check(time.monotonic() < deadline, "relay not listening")
            time.sleep(0.05)
        import socket
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.recv(4)
        out = read_pty(master, 3.5).decode(errors="replace")
        s.close()
    finally:
        popen.send_signal(signal.SIGINT)
        try:
            rc = popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(5)
            rc = "killed"
        os.close(master)
    return out, rc


def check_status_block(out, rc):
    """The live block of autorun_on_a_terminal: device and client lines,
    redrawn in place, within 80 columns, and a clean exit."""
    check("device AAA" in out and "started" in out, f"no device line on the terminal: {out!r}")
    check("client 0" in out and "flows 0" in out and "down 0 bit/s (0 B)" in out,
          f"no client line on the terminal: {out!r}")
    check("\x1b[2F" in out, f"the status block was not redrawn in place: {out!r}")
    widest = max(len(line) for line in re.sub(r"\x1b\[[0-9]*[A-Za-z]", "", out).splitlines())
    check(widest < 80, f"a status line is wider than the 80-column terminal: {out!r}")
    check(rc == 0, f"autorun on a terminal: exit {rc}")


@pytest.mark.world(devices={"AAA": "device"}, installed={"AAA": 9})
def test_terminal_status_block(rtether, world):
    check_status_block(*autorun_on_a_terminal(rtether, world))


def test_background_job_draws_nothing(rtether, world):
    """On a terminal but not its foreground job (`rtether relay &`, or the
    relay `rtether shell` runs): no live block on the user's terminal."""
    port = harness.free_tcp_port()
    master, slave = pty.openpty()
    import subprocess
    popen = subprocess.Popen([rtether, "relay", "-p", str(port)], stdin=subprocess.DEVNULL,
                             stdout=slave, stderr=subprocess.DEVNULL, env=world.env(TERM="xterm"),
                             start_new_session=True)
    os.close(slave)
    try:
        out = read_pty(master, 2.5)
    finally:
        popen.send_signal(signal.SIGINT)
        try:
            rc = popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(5)
            rc = "killed"
        os.close(master)
    check(out == b"", f"a relay without the terminal drew on it: {out!r}")
    check(rc == 0, f"relay: exit {rc}")
