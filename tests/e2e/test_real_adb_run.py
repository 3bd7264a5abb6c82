"""`rtether run SERIAL` with Debian's real adb server and two virtual phones:
only SERIAL is touched; its app, started through the real server, reaches
run's relay through the server's reverse forward; traffic crosses phone ->
adb -> relay -> host byte-exact both ways; and Ctrl+C (SIGINT to rtether)
during a download stops the app. With a slow phone, Ctrl+C during the
version check or during am start ends the adb client under way (the real
server then closes its stream on the phone) and says "interrupted"."""

import os
import signal
import subprocess
import time

import pytest

import harness
from harness import check
from adb_env import DEFAULT_DNS, stop_cleanly, wait_log

DOWNLOAD = 6 << 20
UPLOAD = 3 << 20


def wait_listening(proc, port, timeout=10):
    deadline = time.monotonic() + timeout
    while not harness._tcp_listening(port):
        check(proc.alive() and time.monotonic() < deadline,
              f"run's relay is not listening:\n{proc.log_text()}")
        time.sleep(0.05)


def download(phone, port, size, path):
    """curl inside the phone's namespace from the host at 10.0.2.2; the
    SHA-256 of what arrived."""
    phone.ns_run(["curl", "--noproxy", "*", "-sS", "--max-time", "60", "-o", path,
                  f"http://{harness.HOST_ALIAS}:{port}/"], timeout=70)
    with open(path, "rb") as f:
        data = f.read()
    check(len(data) == size, f"{phone.serial}: {len(data)} of {size} bytes arrived")
    return harness.sha256(data)


@pytest.mark.timeout(60)
def test_run_relays_traffic_byte_exact_and_ctrl_c_stops_the_app(phone_farm, http_server):
    phone = phone_farm.add_phone(installed=9)
    bystander = phone_farm.add_phone(installed=9)  # plugged too: SERIAL picks
    body = harness.deterministic_bytes(DOWNLOAD, 5)
    server = http_server(body)
    port = harness.free_tcp_port()
    proc = phone_farm.spawn("run", ["run", phone.serial, "-p", str(port),
                                    "--status-interval", "1"])
    wait_listening(proc, port)
    app = phone.wait_app(True, timeout=20)
    phone.wait_tun()
    check(not phone.events("install"), "run installed an app that was current")
    check(f"nameserver {DEFAULT_DNS}" in (phone.resolv_conf() or ""),
          f"run without -d: the phone's resolv.conf {phone.resolv_conf()!r}")

    path = os.path.join(phone_farm.tmp, "download")
    check(download(phone, server.port, DOWNLOAD, path) == harness.sha256(body),
          "the download through the real adb server is not byte-exact")
    upload = harness.deterministic_bytes(UPLOAD, 6)
    upload_path = os.path.join(phone_farm.tmp, "upload")
    with open(upload_path, "wb") as f:
        f.write(upload)
    r = phone.ns_run(["curl", "--noproxy", "*", "-sS", "--max-time", "60", "-T", upload_path,
                      f"http://{harness.HOST_ALIAS}:{server.port}/up"], timeout=70)
    check(r.stdout.split() == [str(UPLOAD), harness.sha256(upload)],
          f"the upload through the real adb server: {r.stdout!r}")
    # The relay's connection is one reverse stream through the real server.
    streams = phone.events("reverse-stream")
    check(len(streams) == 1 and streams[0]["remote"] == f"tcp:{port}",
          f"reverse streams: {streams}")
    deadline = time.monotonic() + 10
    while not proc.log_lines(f"device {phone.serial}: connected, flows"):
        check(time.monotonic() < deadline, f"no totals line in run's log:\n{proc.log_text()}")
        time.sleep(0.1)

    # Ctrl+C while a download keeps the reverse stream busy.
    busy = subprocess.Popen(["ip", "netns", "exec", phone.ns, "curl", "--noproxy", "*", "-sS",
                             "--limit-rate", "1M", "--max-time", "30", "-o", "/dev/null",
                             f"http://{harness.HOST_ALIAS}:{server.port}/"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        check(busy.poll() is None, "the busy download ended before Ctrl+C")
        rc, seconds, killed = proc.stop(signal.SIGINT, timeout=20)
    finally:
        busy.kill()
        busy.wait()
    check(not killed and rc == 0, f"run after Ctrl+C: exit {rc}, killed={killed}\n"
                                  f"{proc.log_text()}")
    stops = phone.events("app-stop")
    check(len(stops) == 1 and stops[0]["pid"] == app["pid"] and stops[0]["rc"] == 0,
          f"Ctrl+C did not stop the app cleanly: {stops}")
    check(phone.app() is None, "the app still runs after run's Ctrl+C")
    check(phone.resolv_conf() is None, "the stopped app left its resolv.conf")
    check(not bystander.events("service"), "run SERIAL touched the other phone")


def test_run_without_serial_learns_the_only_phones_serial(phone_farm, http_server):
    # `run` alone: the real server's only device. Its serial (adb
    # get-serialno) labels -p's listener, so the status names the phone and
    # counts its traffic, and the later commands (the stop) name it.
    phone = phone_farm.add_phone(installed=9)
    body = harness.deterministic_bytes(1 << 20, 7)
    server = http_server(body)
    port = harness.free_tcp_port()
    proc = phone_farm.spawn("run", ["run", "-p", str(port), "--status-interval", "1"])
    wait_log(proc, f"relay listening on 127.0.0.1:{port} for device {phone.serial}")
    phone.wait_app(True, timeout=20)
    phone.wait_tun()
    path = os.path.join(phone_farm.tmp, "download")
    check(download(phone, server.port, len(body), path) == harness.sha256(body),
          "the download is not byte-exact")
    wait_log(proc, f"client 0 connected (device {phone.serial})")
    wait_log(proc, f"device {phone.serial}: connected, flows")
    check(not proc.log_lines("(the only device)"), f"run did not name the phone:\n"
                                                   f"{proc.log_text()}")
    stop_cleanly(proc)
    check(phone.app() is None and len(phone.events("app-stop")) == 1,
          f"Ctrl+C did not stop the app: {phone.events('app-stop')}")


def wait_event(phone, kind, timeout=20):
    deadline = time.monotonic() + timeout
    while not phone.events(kind):
        check(time.monotonic() < deadline, f"no {kind} event on {phone.serial}: "
                                           f"{phone.events()[-5:]}")
        time.sleep(0.05)


def wait_stream_closed_by_server(phone, service_text, timeout=10):
    """Until the phone's adbd saw the server close a stream of that service
    (the server does when its adb client goes away)."""
    deadline = time.monotonic() + timeout
    while not [l for l in phone.daemon.log_lines("stream closed by the server")
               if service_text in l]:
        check(time.monotonic() < deadline, f"the server kept the {service_text!r} stream open:\n"
                                           f"{phone.daemon.log_text()}")
        time.sleep(0.05)


def test_run_ctrl_c_during_the_version_check(phone_farm):
    # A slow phone: Ctrl+C kills the adb client under way; the real server
    # closes its stream on the phone; run says "interrupted", exits 1 and
    # never sends am start.
    phone = phone_farm.add_phone(installed=9, answer_delays={"dumpsys": 30})
    proc = phone_farm.spawn("run", ["run", phone.serial, "-p", str(harness.free_tcp_port())])
    wait_event(phone, "answer-delayed")
    rc, seconds, killed = proc.stop(signal.SIGINT, timeout=10)
    check(not killed and rc == 1 and seconds < 5,
          f"Ctrl+C during dumpsys: exit {rc} after {seconds:.1f}s\n{proc.log_text()}")
    check(proc.log_lines("interrupted"), f"run did not say interrupted:\n{proc.log_text()}")
    check(not phone.events("am"), "an interrupted version check went on to am start")
    wait_stream_closed_by_server(phone, "dumpsys")


def test_run_ctrl_c_during_am_start_stops_the_app(phone_farm):
    # am start acted (the app runs) but its answer is slow: Ctrl+C, and run
    # undoes the start with a STOP through the real server.
    phone = phone_farm.add_phone(installed=9, answer_delays={"gnirehtet.START": 30})
    proc = phone_farm.spawn("run", ["run", phone.serial, "-p", str(harness.free_tcp_port())])
    wait_event(phone, "answer-delayed")
    # The app runs (its tun is up; run accepts its relay connection only
    # once the start is over).
    phone.wait_app_log("up in namespace")
    rc, seconds, killed = proc.stop(signal.SIGINT, timeout=20)
    check(not killed and rc == 1 and seconds < 5,
          f"Ctrl+C during am start: exit {rc} after {seconds:.1f}s\n{proc.log_text()}")
    check(proc.log_lines("interrupted"), f"run did not say interrupted:\n{proc.log_text()}")
    check([e["action"].rsplit(".", 1)[1] for e in phone.events("am")] == ["START", "STOP"],
          f"am requests: {phone.events('am')}")
    phone.wait_app(False)
    check(phone.events("app-stop")[-1]["rc"] == 0, f"the app's stop: {phone.events('app-stop')}")
    wait_stream_closed_by_server(phone, "gnirehtet.START")


def test_run_second_ctrl_c_quits_at_once(phone_farm):
    # The phone answers STOP slowly (after acting): a second Ctrl+C quits at
    # once, and adb, in its own process group, still delivers the stop.
    phone = phone_farm.add_phone(installed=9, answer_delays={"gnirehtet.STOP": 4})
    proc = phone_farm.spawn("run", ["run", phone.serial, "-p", str(harness.free_tcp_port())])
    phone.wait_app(True, timeout=20)
    phone.wait_app_log("connected to relay")
    os.kill(proc.pid, signal.SIGINT)
    wait_event(phone, "answer-delayed")
    check(proc.alive(), "run exited before its stop request was answered")
    rc, seconds, killed = proc.stop(signal.SIGINT, timeout=5)
    check(not killed and rc == -signal.SIGINT and seconds < 3,
          f"a second Ctrl+C: exit {rc} after {seconds:.1f}s\n{proc.log_text()}")
    check(proc.log_lines("Ctrl+C again"), "run did not say a second Ctrl+C quits")
    phone.wait_app(False)
    check(phone_farm.server.clients(), "the stop's adb client died with rtether")
    check(not phone_farm.server.check_no_clients_left(timeout=15),
          "the stop's adb client did not finish")
