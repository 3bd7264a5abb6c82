"""Gnirehtet's one-shot host commands (install, uninstall, reinstall, start,
stop, restart, tunnel) against Debian's real adb server with virtual phones
(tests/virtual_phone/): what reaches the phone through the real server (the
services adb 29 opens, the apk bytes, the reverse forward, the app started
with the extras), and the device errors a real server reports, each one line
and exit 1."""

import hashlib
import signal
import subprocess
import time

import harness
from harness import check
from adb_env import DEFAULT_DNS

PACKAGE = "com.genymobile.gnirehtet"
START = "com.genymobile.gnirehtet.START"
STOP = "com.genymobile.gnirehtet.STOP"


def run_ok(farm, args):
    r = farm.run(args)
    check(r.returncode == 0, f"rtether {' '.join(args)}: exit {r.returncode}: {r.stderr}")
    return r


def services_since(phone, mark):
    return [e["service"] for e in phone.events("service")[mark:]]


def installed_version(farm, phone):
    r = farm.server.adb("-s", phone.serial, "shell", "dumpsys", "package", PACKAGE)
    check(r.returncode == 0, f"adb shell dumpsys: {r.stderr}")
    lines = [l.strip() for l in r.stdout.splitlines() if "versionCode=" in l]
    return lines[0].split()[0] if lines else None


def apk_sha256(farm):
    with open(farm.apk, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_install_uninstall_reinstall_streamed(phone_farm):
    phone = phone_farm.add_phone(features="cmd")
    size = len(open(phone_farm.apk, "rb").read())
    mark = len(phone.events("service"))
    run_ok(phone_farm, ["install", phone.serial])
    check(services_since(phone, mark) == [f"exec:cmd package 'install' '-r' -S {size}"],
        f"install: services {services_since(phone, mark)}")
    install = phone.events("install")[-1]
    check(install["how"] == "streamed" and install["sha256"] == apk_sha256(phone_farm),
          f"the apk bytes did not reach the phone intact: {install}")
    check(installed_version(phone_farm, phone) == "versionCode=9", "dumpsys after install")

    mark = len(phone.events("service"))
    run_ok(phone_farm, ["uninstall", phone.serial])
    check(services_since(phone, mark) == [f"shell:cmd package 'uninstall' '{PACKAGE}'"],
          f"uninstall: services {services_since(phone, mark)}")
    check(installed_version(phone_farm, phone) is None, "uninstall left the app installed")
    r = phone_farm.run(["uninstall", phone.serial])
    check(r.returncode == 1 and f"the Gnirehtet app is not installed on {phone.serial}" in r.stderr,
          f"uninstall of a missing app: {r.returncode} {r.stderr!r}")

    run_ok(phone_farm, ["reinstall"])
    check(installed_version(phone_farm, phone) == "versionCode=9", "reinstall did not install")
    check([e["found"] for e in phone.events("uninstall")] == [True, False, False],
          f"uninstalls: {phone.events('uninstall')}")


def test_install_pushes_through_sync_without_cmd(phone_farm):
    # A phone without the "cmd" feature (before Android 7): adb 29 pushes the
    # apk through the sync service, then runs pm.
    phone = phone_farm.add_phone(features="")
    mark = len(phone.events("service"))
    run_ok(phone_farm, ["install", phone.serial])
    remote = "/data/local/tmp/gnirehtet.apk"
    check(services_since(phone, mark) == ["sync:", f"shell:pm 'install' '-r' '{remote}'",
                                          f"shell:rm '{remote}' </dev/null"],
          f"install: services {services_since(phone, mark)}")
    push = phone.events("push")[-1]
    check(push["path"] == remote and push["sha256"] == apk_sha256(phone_farm),
          f"the pushed apk is not the apk: {push}")
    check(phone.events("install")[-1]["how"] == f"pushed {remote}", "pm did not install the push")
    check([e["path"] for e in phone.events("rm")] == [remote], "adb did not remove the push")
    mark = len(phone.events("service"))
    run_ok(phone_farm, ["uninstall"])
    check(services_since(phone, mark) == [f"shell:pm 'uninstall' '{PACKAGE}'"],
          f"uninstall: services {services_since(phone, mark)}")
    run_ok(phone_farm, ["reinstall", phone.serial])
    check(installed_version(phone_farm, phone) == "versionCode=9", "reinstall did not install")


def reverse_list(farm, phone):
    r = farm.server.adb("-s", phone.serial, "reverse", "--list")
    check(r.returncode == 0, f"adb reverse --list: {r.stderr}")
    return [l for l in r.stdout.splitlines() if l.strip()]


def wait_relay_client(relay, count, timeout=20):
    deadline = time.monotonic() + timeout
    while len(relay.log_lines(" connected")) < count:
        check(relay.alive() and time.monotonic() < deadline,
              f"the relay saw {len(relay.log_lines(' connected'))} of {count} client(s):\n"
              f"{relay.log_text()}")
        time.sleep(0.05)


def test_start_stop_restart_tunnel(phone_farm):
    phone = phone_farm.add_phone()
    port = harness.free_tcp_port()
    relay = phone_farm.spawn("relay", ["relay", "-p", str(port)])
    run_ok(phone_farm, ["start", phone.serial, "-d", "192.0.2.53, 198.51.100.53",
                        "-r", "10.0.0.0/8,203.0.113.7", "-p", str(port)])
    # Installed first (no versionCode=9), then the tunnel, then the app.
    check(phone.events("install"), "start did not install the missing app")
    check(reverse_list(phone_farm, phone) == [f"host localabstract:gnirehtet tcp:{port}"],
          f"reverse forwards: {reverse_list(phone_farm, phone)}")
    am = phone.events("am")[-1]
    check(am["action"] == START and am["extras"] == {"dnsServers": "192.0.2.53,198.51.100.53",
                                                     "routes": "10.0.0.0/8,203.0.113.7/32"},
          f"am start: {am}")
    app = phone.wait_app(True)
    check(app["args"][-4:] == ["-d", "192.0.2.53,198.51.100.53", "-r",
                               "10.0.0.0/8,203.0.113.7/32"], f"the app's arguments: {app['args']}")
    # The app reached the relay through the real server's reverse forward.
    phone.wait_tun()
    wait_relay_client(relay, 1)
    resolv = phone.resolv_conf() or ""
    check("nameserver 192.0.2.53" in resolv and "nameserver 198.51.100.53" in resolv,
          f"the phone's resolv.conf: {resolv!r}")
    routes = harness.run(["ip", "-n", phone.ns, "route", "show", "dev", harness.TUN]).stdout
    check("10.0.0.0/8" in routes and "203.0.113.7" in routes, f"the phone's tun routes: {routes}")

    run_ok(phone_farm, ["stop", phone.serial])
    phone.wait_app(False)
    stop = phone.events("app-stop")[-1]
    check(stop["pid"] == app["pid"] and stop["rc"] == 0 and not stop["killed"],
          f"the app did not stop cleanly on STOP: {stop}")

    # restart: STOP (nothing runs), then the start sequence without install.
    installs = len(phone.events("install"))
    port2 = harness.free_tcp_port()
    run_ok(phone_farm, ["restart", phone.serial, "-p", str(port2)])
    check(len(phone.events("install")) == installs, "restart reinstalled a current app")
    check([e["action"] for e in phone.events("am")[-2:]] == [STOP, START],
          f"restart: {phone.events('am')[-2:]}")
    check(reverse_list(phone_farm, phone) == [f"host localabstract:gnirehtet tcp:{port2}"],
          f"reverse forwards after restart: {reverse_list(phone_farm, phone)}")
    phone.wait_app(True)
    phone.wait_tun()
    check(f"nameserver {DEFAULT_DNS}" in (phone.resolv_conf() or ""),
          f"the app without -d: resolv.conf {phone.resolv_conf()!r}")

    # tunnel: the phone's socket now reaches the relay's port again.
    run_ok(phone_farm, ["tunnel", "-p", str(port)])
    check(reverse_list(phone_farm, phone) == [f"host localabstract:gnirehtet tcp:{port}"],
          f"reverse forwards after tunnel: {reverse_list(phone_farm, phone)}")
    wait_relay_client(relay, 2)
    run_ok(phone_farm, ["stop"])
    phone.wait_app(False)
    rc, _, killed = relay.stop(signal.SIGTERM)
    check(rc == 0 and not killed, f"relay exit {rc}")


def one_error(farm, args, expected):
    r = farm.run(args)
    errors = [l for l in r.stderr.splitlines() if " error: " in l]
    check(r.returncode == 1, f"{args}: exit {r.returncode}: {r.stderr}")
    check(len(errors) == 1 and expected in errors[0],
          f"{args}: expected one error line with {expected!r}: {r.stderr!r}")


def test_device_errors_from_the_real_server(phone_farm):
    one_error(phone_farm, ["stop"], "no device connected")
    one_error(phone_farm, ["run", "-p", str(harness.free_tcp_port())], "no device connected")
    first = phone_farm.add_phone()
    phone_farm.add_phone()
    one_error(phone_farm, ["start"], "several devices connected")
    one_error(phone_farm, ["stop", "198.51.100.254:5555"], "device '198.51.100.254:5555' not found")

    # Unauthorized: the phone answers every key the server tries with a new
    # token; the server gives up and lists it so.
    locked = phone_farm.add_phone(plugged=False, mode="unauthorized")
    locked.start_daemon()
    r = phone_farm.server.adb("connect", locked.serial, timeout=20)
    check(f"failed to authenticate to {locked.serial}" in r.stdout + r.stderr,
          f"adb connect to an unauthorized phone: {r.stdout!r} {r.stderr!r}")
    phone_farm.server.wait_state(locked.serial, "unauthorized")
    one_error(phone_farm, ["tunnel", locked.serial], f"device '{locked.serial}' unauthorized")

    # Offline: the phone never answers the server's CNXN. `adb connect` waits
    # 10 s for it, so it runs in the background while the server lists it.
    silent = phone_farm.add_phone(plugged=False, mode="offline")
    silent.start_daemon()
    connect = subprocess.Popen([phone_farm.server.adb_path, "connect", silent.serial],
                               env=phone_farm.server.env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        phone_farm.server.wait_state(silent.serial, "offline")
        one_error(phone_farm, ["stop", silent.serial], f"device '{silent.serial}' offline")
    finally:
        connect.kill()
        connect.wait()
    # Without the apk, start stops after the version check.
    r = phone_farm.run(["start", first.serial], GNIREHTET_APK="/nonexistent/gnirehtet.apk")
    check(r.returncode == 1 and "APK not found" in r.stderr, f"start without apk: {r.stderr!r}")
    check(first.app() is None, "start without the apk started the app")
