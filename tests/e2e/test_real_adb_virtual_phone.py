"""The virtual phone itself (tests/virtual_phone/), through Debian's real adb
server where a host command would not reach: `am startservice` with
Gnirehtet's START/STOP and extras, `am start` of a missing app, the reverse
forward commands rtether does not use (--no-rebind, --remove, --remove-all),
and, on a raw TCP connection, the transport's handshake and its refusal of
a bad magic or a bad checksum (protocol.txt: close the connection)."""

import os
import socket
import struct
import sys

import harness
from harness import check

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "virtual_phone"))
import adb_message  # noqa: E402

SERVICE = "com.genymobile.gnirehtet/.GnirehtetService"
ACTIVITY = "com.genymobile.gnirehtet/.GnirehtetActivity"


def shell(farm, phone, *args):
    r = farm.server.adb("-s", phone.serial, "shell", *args)
    check(r.returncode == 0, f"adb shell {' '.join(args)}: {r.returncode} {r.stderr}")
    return r.stdout


def test_am_startservice_and_a_missing_app(phone_farm):
    phone = phone_farm.add_phone(model="Farm_Phone_7")
    check(phone_farm.server.adb("-s", phone.serial, "shell", "getprop").returncode == 0,
          "a v1 shell exits 0 whatever the command")
    r = phone_farm.server.adb("devices", "-l")
    check("model:Farm_Phone_7" in r.stdout, f"the banner's model: {r.stdout!r}")
    out = shell(phone_farm, phone, "am", "start", "-a", "com.genymobile.gnirehtet.START",
                "-n", ACTIVITY)
    check("Error: Activity class" in out and phone.app() is None,
          f"am start of a missing app: {out!r}")
    check(phone_farm.run(["install"]).returncode == 0, "install")
    out = shell(phone_farm, phone, "am", "startservice", "-a", "com.genymobile.gnirehtet.START",
                "-n", SERVICE, "--esa", "dnsServers", "192.0.2.9", "--esa", "routes",
                "192.0.2.0/24")
    check(out.startswith("Starting service: Intent"), f"am startservice: {out!r}")
    app = phone.wait_app(True)
    check(app["args"][-4:] == ["-d", "192.0.2.9", "-r", "192.0.2.0/24"], f"the app: {app}")
    # Up (no reverse forward: it retries the relay), so STOP finds it
    # handling SIGTERM rather than still starting.
    phone.wait_app_log("cannot reach relay")
    shell(phone_farm, phone, "am", "startservice", "-a", "com.genymobile.gnirehtet.STOP",
          "-n", SERVICE)
    phone.wait_app(False)
    check(phone.events("app-stop")[-1]["rc"] == 0, f"STOP: {phone.events('app-stop')}")


def test_reverse_forward_commands(phone_farm):
    phone = phone_farm.add_phone()
    adb = phone_farm.server.adb
    check(adb("-s", phone.serial, "reverse", "localabstract:one", "tcp:1001").returncode == 0,
          "reverse forward")
    check(adb("-s", phone.serial, "reverse", "tcp:2002", "tcp:1002").returncode == 0,
          "reverse of a phone tcp port")
    r = adb("-s", phone.serial, "reverse", "--no-rebind", "localabstract:one", "tcp:1003")
    check(r.returncode == 1 and "cannot rebind existing socket" in r.stderr,
          f"--no-rebind over an existing forward: {r.returncode} {r.stderr!r}")
    listing = adb("-s", phone.serial, "reverse", "--list").stdout.split("\n")
    check([l for l in listing if l] == ["host localabstract:one tcp:1001",
                                        "host tcp:2002 tcp:1002"], f"list: {listing}")
    check(adb("-s", phone.serial, "reverse", "--remove", "tcp:2002").returncode == 0, "--remove")
    r = adb("-s", phone.serial, "reverse", "--remove", "tcp:2002")
    check(r.returncode == 1 and "listener 'tcp:2002' not found" in r.stderr,
          f"--remove of a missing forward: {r.stderr!r}")
    check(adb("-s", phone.serial, "reverse", "--remove-all").returncode == 0, "--remove-all")
    check(adb("-s", phone.serial, "reverse", "--list").stdout.strip() == "", "forwards left")
    # A connection to a forward whose host end listens nowhere: the server
    # refuses the phone's OPEN and the phone closes the connection.
    check(adb("-s", phone.serial, "reverse", "localabstract:two",
              f"tcp:{harness.free_tcp_port()}").returncode == 0, "reverse forward")
    r = phone.ns_run(["python3", "-c", "import socket; s = socket.socket(socket.AF_UNIX); "
                      "s.connect('\\0two'); print(repr(s.recv(10)))"], timeout=40)
    check(r.stdout.strip() == "b''", f"a refused reverse connection: {r.stdout!r}")
    check(phone.events("reverse-refused"), "the phone did not see the refusal")


def raw_connect(phone):
    s = socket.create_connection((phone.address, 5555), timeout=10)
    return s


def cnxn():
    return adb_message.encode(adb_message.A_CNXN, 0x01000001, 256 * 1024, b"host::\0")


def closed_by_peer(s):
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


def test_raw_transport_handshake_and_bad_messages(phone_farm):
    phone = phone_farm.add_phone(plugged=False)
    phone.start_daemon()
    s = raw_connect(phone)
    try:
        s.sendall(cnxn())
        reply = adb_message.read_message(s, 1 << 20)
        check(reply.command == adb_message.A_CNXN and reply.arg0 == 0x01000000
              and reply.arg1 == 256 * 1024 and reply.payload.startswith(b"device::")
              and b"features=cmd" in reply.payload, f"CNXN reply: {reply} {reply.payload!r}")
        # A WRTE header with a bad magic.
        header = struct.pack("<6I", adb_message.A_WRTE, 1, 1, 0, 0, 0)
        s.sendall(header)
        check(closed_by_peer(s), "a bad magic did not close the connection")
    finally:
        s.close()
    s = raw_connect(phone)
    try:
        data = bytearray(cnxn())
        data[16] ^= 0xFF  # the checksum word
        s.sendall(bytes(data))
        check(closed_by_peer(s), "a bad checksum did not close the connection")
    finally:
        s.close()
    errors = phone.daemon.log_lines("protocol error")
    check(len(errors) == 2 and "bad magic" in errors[0] and "checksum" in errors[1],
          f"the daemon's protocol errors: {errors}")
