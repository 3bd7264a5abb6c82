"""`rtether autorun` and `autostart` with Debian's real adb server and
virtual phones: they follow the server's track-devices stream and start each
phone that appears (installing the app where missing). A phone unplugged
(its adbd stopped, `adb disconnect`) and plugged back (adbd started, `adb
connect`) gets its reverse tunnel again while another phone's download goes
on byte-exact, and its app reconnects and carries traffic again; likewise
after the server itself dies (autorun runs `adb start-server`) and after a
phone the server reconnects to on its own."""

import os
import signal
import subprocess
import time

import pytest

import harness
from harness import check
from adb_env import start_autorun, stop_cleanly, wait_log, wait_streams

LONG_DOWNLOAD = 16 << 20
LONG_RATE = "4M"  # bytes/s: the long download lasts ~4 s; the replug (~1.5 s) happens during it
SHORT_DOWNLOAD = 1 << 20


def curl(phone, port, path, rate=None):
    args = ["ip", "netns", "exec", phone.ns, "curl", "--noproxy", "*", "-sS", "--max-time", "40",
            "-o", path, f"http://{harness.HOST_ALIAS}:{port}/"]
    if rate:
        args[5:5] = ["--limit-rate", rate]
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(download, what, timeout=45):
    try:
        out, err = download.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        download.kill()
        out, err = download.communicate()
    check(download.returncode == 0, f"{what}: curl exit {download.returncode}: {err}")


def sha256_of(path):
    with open(path, "rb") as f:
        return harness.sha256(f.read())


@pytest.mark.timeout(80)
def test_autorun_follows_unplug_and_replug_while_traffic_flows(phone_farm, http_server):
    steady = phone_farm.add_phone(installed=9)
    moving = phone_farm.add_phone()
    body = harness.deterministic_bytes(LONG_DOWNLOAD, 21)
    server = http_server(body)
    proc, _ = start_autorun(phone_farm, (steady, moving), ["--status-interval", "1"])
    check(moving.events("install") and not steady.events("install"),
          "autorun installed the app where it was current, or not where it was missing")

    long_path = os.path.join(phone_farm.tmp, "long")
    download = curl(steady, server.port, long_path, rate=LONG_RATE)
    try:
        time.sleep(0.5)
        moving.unplug()
        wait_log(proc, f"device {moving.serial} gone")
        check(moving.app() is not None, "the app died with the phone's adbd")
        starts = len(moving.events("am"))
        moving.plug()
        # Started again: a new reverse forward on the new adbd, START sent to
        # the app that kept running, which reconnects through it.
        wait_log(proc, f"device {moving.serial} started", count=2)
        check(len(moving.events("reverse-forward")) == 2, "no new reverse forward after replug")
        check(any(e["kind"] == "app-already-running" for e in moving.events()[-10:]),
              f"the replugged phone's app was restarted: {moving.events('am')[starts:]}")
        wait_streams(moving, 2)
        check(download.poll() is None, "the long download ended before the replug was done; "
                                       "make it longer")
    finally:
        finish(download, f"{steady.serial}'s download during the replug")
    check(sha256_of(long_path) == harness.sha256(body), "the long download is not byte-exact")

    short = http_server(body[:SHORT_DOWNLOAD])
    short_path = os.path.join(phone_farm.tmp, "short")
    finish(curl(moving, short.port, short_path), f"{moving.serial}'s download after the replug")
    check(sha256_of(short_path) == harness.sha256(body[:SHORT_DOWNLOAD]),
          "the replugged phone's download is not byte-exact")
    check(len(steady.events("reverse-stream")) == 1, "the steady phone's stream was broken")

    stop_cleanly(proc)


@pytest.mark.timeout(60)
def test_autorun_restarts_the_adb_server_and_starts_the_phone_again(phone_farm, http_server):
    phone = phone_farm.add_phone(installed=9)
    proc, _ = start_autorun(phone_farm, (phone,))
    # The server dies: autorun sees its stream end, forgets the phone and
    # runs `adb start-server`, which forks a new server on the same port.
    phone_farm.server.kill()
    wait_log(proc, f"device {phone.serial} unknown (adb server connection lost)")
    wait_log(proc, "unreachable")
    phone_farm.server.wait_listening()
    check(phone_farm.server.forked_servers(), "no adb server forked by `adb start-server`")
    # The new server knows no phone until `adb connect`; then autorun starts
    # it again (a new server has no reverse forward) and the app reconnects.
    phone.connect()
    wait_log(proc, f"device {phone.serial} started", count=2)
    wait_streams(phone, 2)
    body = harness.deterministic_bytes(SHORT_DOWNLOAD, 22)
    server = http_server(body)
    path = os.path.join(phone_farm.tmp, "after-restart")
    finish(curl(phone, server.port, path), "the download after the server restart")
    check(sha256_of(path) == harness.sha256(body), "the download after the restart is not "
                                                   "byte-exact")
    stop_cleanly(proc)


@pytest.mark.timeout(60)
def test_autorun_follows_a_phone_the_server_reconnects_by_itself(phone_farm):
    # A phone whose adbd restarts without `adb disconnect` (a glitch): adb
    # 29's server lists it "offline" at once in `adb devices`, but its
    # track-devices stream says nothing until the server has reconnected on
    # its own (tries 250 ms after the loss, then every 10 s): then "offline"
    # and "device" come together, and autorun starts the phone again.
    phone = phone_farm.add_phone(installed=9)
    proc, _ = start_autorun(phone_farm, (phone,))
    phone.stop_daemon()
    phone_farm.server.wait_state(phone.serial, "offline")
    phone.start_daemon()
    phone_farm.server.wait_state(phone.serial, "device", timeout=15)
    wait_log(proc, f"device {phone.serial} gone")
    wait_log(proc, f"device {phone.serial} started", count=2)
    wait_streams(phone, 2)
    check(len(phone.events("transport-open")) == 2, "the server did not reconnect by itself")
    stop_cleanly(proc)


def test_autostart_starts_plugged_phones_without_a_relay(phone_farm):
    phone = phone_farm.add_phone()
    port = harness.free_tcp_port()
    proc = phone_farm.spawn("autostart", ["autostart", "-p", str(port), "-d", "192.0.2.53"])
    phone.wait_app(True, timeout=30)
    check(phone.events("install"), "autostart did not install the missing app")
    check([(e["local"], e["remote"]) for e in phone.events("reverse-forward")]
          == [("localabstract:gnirehtet", f"tcp:{port}")], "autostart's reverse forward")
    check(phone.events("am")[-1]["extras"] == {"dnsServers": "192.0.2.53"}, "autostart's -d")
    check(not harness._tcp_listening(port) and not proc.log_lines("relay listening"),
          "autostart started a relay")
    stop_cleanly(proc)


def test_autorun_ctrl_c_cancels_a_start_under_way(phone_farm):
    phone = phone_farm.add_phone(installed=9, answer_delays={"gnirehtet.START": 30})
    proc = phone_farm.spawn("autorun", ["autorun", "-p", str(harness.free_tcp_port())])
    deadline = time.monotonic() + 20
    while not phone.events("answer-delayed"):
        check(time.monotonic() < deadline, f"no am start on the phone: {phone.events()[-5:]}")
        time.sleep(0.05)
    rc, seconds, killed = proc.stop(signal.SIGINT, timeout=10)
    check(not killed and rc == 0 and seconds < 5,
          f"autorun after SIGINT during a start: exit {rc} after {seconds:.1f}s")
    # The adb client under way was killed, not left (the farm checks at the
    # end too); the real server closed its stream on the phone.
    check(not phone_farm.server.check_no_clients_left(timeout=3), "adb left running")
    deadline = time.monotonic() + 10
    while not phone.daemon.log_lines("stream closed by the server"):
        check(time.monotonic() < deadline, f"the am start stream stayed open:\n"
                                           f"{phone.daemon.log_text()}")
        time.sleep(0.05)
