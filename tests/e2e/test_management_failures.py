"""Failure paths of `rtether client --management`: OPENTUN cancelled or
confirmed without a descriptor, a bad PERSIST_TUN_ACTION, malformed and
overlong lines, unknown commands, a wrong needok type, the UI going away
(listen mode: the daemon waits for the next UI and asks again;
--management-client mode: the daemon exits), a second UI while one is
connected, and a peer of another uid."""

import os
import signal
import socket
import subprocess
import time

import pytest

import harness
from harness import check
from mgmt_ui import TestUi

# Each test starts the daemon (`rtether client --management`) itself.
pytestmark = pytest.mark.env(client=False)


def start_daemon(env, extra=()):
    path = os.path.join(env.tmp, "mgmt.sock")
    args = [env.rtether, "-v", "client", "--relay", env.relay_address(), "--management", path,
            "unix", "--management-hold"]
    proc = harness.Proc("client", args + list(extra), os.path.join(env.tmp, "client.log"))
    env.procs.append(proc)
    env.client = proc
    return proc, path


def released(path, env):
    ui = TestUi.connect(path, ns=env.ns, tun_name="rtether0")
    ui.greeting()
    ui.expect_line(">HOLD:Waiting for hold release:0")
    ui.send("version 3")
    ui.on_hold()
    return ui


def until_needok(ui, kind):
    return ui.expect(lambda l: l.startswith(f">NEED-OK:Need '{kind}'"), kind)[0]


def expect_fatal(ui, proc, text):
    ui.expect_line(f">FATAL:{text}", handle_needok=False)
    ui.wait_eof()
    rc = proc.popen.wait(timeout=10)
    check(rc == 1, f"daemon exit status {rc} after FATAL (expected 1)")


def test_opentun_cancelled(env):
    proc, path = start_daemon(env)
    ui = released(path, env)
    until_needok(ui, "OPENTUN")
    ui.send("needok 'OPENTUN' cancel")
    ui.expect_line("SUCCESS: 'OPENTUN' needok-confirmation entered, but not yet verified")
    expect_fatal(ui, proc, "ERROR: Cannot open TUN")
    ui.close()


def test_opentun_without_descriptor(env):
    proc, path = start_daemon(env)
    ui = released(path, env)
    until_needok(ui, "OPENTUN")
    ui.send("needok 'OPENTUN' ok")
    expect_fatal(ui, proc, "ERROR: Cannot open TUN")
    ui.close()


def test_unknown_persist_action(env):
    proc, path = start_daemon(env)
    ui = released(path, env)
    until_needok(ui, "PERSIST_TUN_ACTION")
    ui.send("needok PERSIST_TUN_ACTION OPEN_AFTER_CLOSE")
    expect_fatal(ui, proc, "Unknown persist tun action OPEN_AFTER_CLOSE")
    ui.close()


def test_malformed_lines_get_openvpn_errors(env):
    proc, path = start_daemon(env)
    ui = TestUi.connect(path, ns=env.ns)
    ui.greeting()
    ui.expect_line(">HOLD:Waiting for hold release:0")
    pid = f"SUCCESS: pid={proc.pid}"
    cases = [
        (b'needok "IFCONFIG ok\n', "ERROR: Options error: No closing quotation (\") in TCP:0"),
        (b"bogus arguments\n", "ERROR: unknown command, enter 'help' for more options"),
        (b"x" * 3000 + b"\npid\n", pid),  # the overlong line is dropped whole
        (b"\x00\xff\x01p\x7fid\r\n", pid),
        (b"needok 'IFCONFIG' ok\n", "ERROR: no needok-confirmation is currently needed at this time"),
        (b"state maybe\n", "ERROR: state parameter must be 'on' or 'off' or some number n or 'all'"),
        (b"hold sometimes\n", "ERROR: bad hold command parameter"),
        (b"signal SIGFOO\n", "ERROR: signal 'SIGFOO' is not a known signal type"),
        (b"bytecount\n", "ERROR: the 'bytecount' command requires 1 parameter"),
        (b"signal SIGUSR1\n", "ERROR: signal 'SIGUSR1' is currently ignored"),
    ]
    for data, reply in cases:
        ui.sock.sendall(data)
        line, _ = ui.next_line()
        check(line == reply, f"{data[:40]!r}: got {line!r}, expected {reply!r}")
    ui.expect_line(">HOLD:Waiting for hold release:0")
    ui.send("log all")
    log_lines = []
    while True:
        line, _ = ui.next_line()
        if line == "END":
            break
        log_lines.append(line)
    check(any("discarded a command line longer than 1024 bytes" in l for l in log_lines),
          "the overlong line is not in the log")
    ui.on_hold()
    question = until_needok(ui, "IFCONFIG")
    ui.send("needok 'ROUTE' ok")
    ui.expect_line("ERROR: needok-confirmation of type 'ROUTE' entered, but we need one of type "
                   "'IFCONFIG'", handle_needok=False)
    ui.send("needok IFCONFIG")
    ui.expect_line("ERROR: the 'needok' command requires 2 parameters", handle_needok=False)
    ui.answer_needok(question, [])
    ui.run_to_connected()
    check(proc.alive(), "daemon died on bad input")
    ui.close()


def test_ui_gone_in_listen_mode_is_asked_again(env):
    proc, path = start_daemon(env)
    ui = released(path, env)
    question = until_needok(ui, "ROUTE6")
    ui.close()  # gone with a NEED-OK pending
    time.sleep(0.3)
    check(proc.alive(), "the daemon exited when its listen-mode UI left")
    ui = TestUi.connect(path, ns=env.ns, tun_name="rtether0")
    ui.greeting()
    line, _ = ui.next_line()
    check(line == question, f"the pending NEED-OK was not asked again: {line!r}")
    ui.send("state on")
    ui.answer_needok(line, [])
    ui.run_to_connected()
    ui.close()


def test_ui_gone_in_client_mode_ends_the_daemon(env):
    path = os.path.join(env.tmp, "ui.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    listener.settimeout(10)
    proc = harness.Proc("client", [env.rtether, "-v", "client", "--relay", env.relay_address(),
                                   "--management", path, "--management-client",
                                   "--management-hold"], os.path.join(env.tmp, "client.log"))
    env.procs.append(proc)
    env.client = proc
    conn, _ = listener.accept()
    ui = TestUi(conn)
    ui.greeting()
    ui.expect_line(">HOLD:Waiting for hold release:0")
    ui.close()
    rc = proc.popen.wait(timeout=10)
    check(rc == 0, f"daemon exit status {rc} after its UI left")
    listener.close()
    # Nobody listening at all: the daemon says so and fails.
    r = harness.run([env.rtether, "client", "--relay", env.relay_address(), "--management",
                     path + ".none", "--management-client"], check_rc=False, timeout=15)
    check(r.returncode == 1 and "management-client" in r.stderr, f"no UI: rc {r.returncode}, "
          f"{r.stderr.strip()}")


def test_second_ui_waits_for_the_first(env):
    proc, path = start_daemon(env)
    first = TestUi.connect(path, ns=env.ns)
    first.greeting()
    second = TestUi.connect(path, ns=env.ns)
    check(not second._fill(1.0) or not second.pending, "a second UI was served while the first "
                                                        "was connected")
    first.send("pid")
    first.expect_line(f"SUCCESS: pid={proc.pid}")
    first.send("exit")
    first.wait_eof()
    first.close()
    second.greeting()
    second.expect_line(">HOLD:Waiting for hold release:0")
    second.close()


def test_other_uid_is_refused(env):
    os.chmod(env.tmp, 0o711)  # the other user may reach the socket file
    proc, path = start_daemon(env)
    deadline = time.monotonic() + 10
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    check(os.stat(path).st_mode & 0o777 == 0o600, "socket file is not 0600")
    os.chmod(path, 0o666)  # let the other user reach the uid check itself
    code = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\n"
            "s.settimeout(5)\nprint(repr(s.recv(200)))\n")

    def as_nobody():
        os.setgid(65534)
        os.setuid(65534)

    r = subprocess.run(["python3", "-c", code, path], capture_output=True, text=True, timeout=20,
                       preexec_fn=as_nobody)
    check(r.returncode == 0 and r.stdout.strip() == "b''",
          f"uid 65534 was not refused: {r.stdout.strip()} {r.stderr.strip()}")
    ui = TestUi.connect(path, ns=env.ns)
    ui.greeting()
    ui.close()
    proc.stop(signal.SIGTERM)
    # The same user, allowed by option.
    proc, path = start_daemon(env, extra=["--management-allow-uid", "65534"])
    deadline = time.monotonic() + 10
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.chmod(path, 0o666)
    r = subprocess.run(["python3", "-c", code, path], capture_output=True, text=True, timeout=20,
                       preexec_fn=as_nobody)
    check("Management Interface" in r.stdout, f"allowed uid was refused: {r.stdout.strip()}")
