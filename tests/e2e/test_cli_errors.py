"""Bad command lines: every bad option value, unknown command or unusable
resource ends with one clear line on stderr and exit status 2 (or 1 for a
failure at start-up), never a crash or a stack trace; --help and --version
exit 0."""

import os
import socket
import subprocess
import tempfile

import pytest

import harness
from harness import check

BAD_VALUES = [
    (["relay", "-p", "abc"], "--port"),
    (["relay", "-p", "0"], "--port"),
    (["relay", "-p", "70000"], "--port"),
    (["relay", "--bind", "nonsense"], "--bind"),
    (["relay", "--busy-poll-us", "-5"], "--busy-poll-us"),
    (["relay", "--dns-upstream", "2001:db8::53"], "--dns-upstream"),
    (["relay", "--dns-upstream", "192.0.2.53:0"], "--dns-upstream"),
    (["relay", "--resolv-conf", "/nonexistent/resolv.conf"], "--resolv-conf"),
    (["relay", "--netns", "x", "-p", "31999"], "excludes"),
    (["relay", "--mtu", "1500"], "requires --netns"),
    (["relay", "--netns", "x", "--mtu", "20"], "--mtu"),
    (["client", "-r", "1.2.3.4/40"], "prefix length"),
    (["client", "-r", "not-a-cidr"], "--routes"),
    (["client", "-d", "8.8.8.8,bad"], "--dns"),
    (["client", "--relay", "nohostport"], "--relay"),
    (["client", "--relay", "127.0.0.1:99999"], "--relay"),
    (["client", "--mtu", "20"], "--mtu"),
    (["client", "--management", "/tmp/rtether-none.sock", "tcp"], "neither an IP address"),
    (["client", "--management", "127.0.0.1", "0"], "not a TCP port"),
    (["client", "--management", "127.0.0.1", "7505", "pw", "x"], "--management"),
    (["client", "--management", "0.0.0.0", "7505"], "add --management-allow-remote"),
    (["client", "--management", "127.0.0.1", "7505", "--management-client"],
     "needs a UNIX socket PATH"),
    (["client", "--management", "127.0.0.1", "7505", "--management-allow-uid", "0"],
     "is for a UNIX socket PATH"),
    (["client", "--management", "/tmp/rtether-none.sock", "--management-allow-remote"],
     "is for --management IP PORT"),
    (["client", "--management", "127.0.0.1", "7505", "/nonexistent/pwfile"], "cannot read it"),
    (["client", "--management-hold"], "needs --management"),
    (["vpnservice"], "--management"),
    (["bogus"], "unknown command"),
    ([], "subcommand"),
]


def run(rtether, args):
    return subprocess.run([rtether] + args, capture_output=True, text=True, timeout=20)


@pytest.mark.parametrize("args, expected", BAD_VALUES,
                         ids=[" ".join(args) or "no-arguments" for args, _ in BAD_VALUES])
def test_bad_option_value_exits_2_with_one_clear_line(rtether, args, expected):
    r = run(rtether, args)
    check(r.returncode == 2, f"rtether {' '.join(args)}: exit {r.returncode}, expected 2 "
                             f"(stderr {r.stderr.strip()!r})")
    check(expected in r.stderr, f"rtether {' '.join(args)}: stderr {r.stderr.strip()!r} "
                                f"does not mention {expected!r}")
    check("Traceback" not in r.stderr and "terminate called" not in r.stderr,
          f"rtether {' '.join(args)} crashed: {r.stderr!r}")


def test_a_port_in_use_is_reported_with_exit_1(rtether):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        r = run(rtether, ["relay", "-p", str(port)])
        check(r.returncode == 1, f"relay on a used port: exit {r.returncode}, expected 1")
        check(f"127.0.0.1:{port}" in r.stderr and "in use" in r.stderr,
              f"relay on a used port said {r.stderr.strip()!r}")
    finally:
        blocker.close()


def test_a_management_socket_in_use_is_refused_with_exit_1(rtether):
    # A management socket a live process listens on is refused (exit 1), not
    # unlinked and taken over; both the daemon and the UI side.
    path = os.path.join(tempfile.gettempdir(), harness.unique_name("rtmgmt") + ".sock")
    blocker = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    blocker.bind(path)
    blocker.listen()
    try:
        for args in (["client", "--management", path, "unix"],
                     ["vpnservice", "--listen", "--management", path]):
            r = run(rtether, args)
            check(r.returncode == 1, f"rtether {' '.join(args)} on a live socket: exit "
                                     f"{r.returncode}, expected 1 (stderr {r.stderr.strip()!r})")
            check("in use" in r.stderr, f"rtether {' '.join(args)} said {r.stderr.strip()!r}")
            check(os.path.exists(path), f"rtether {' '.join(args)} removed the live socket")
        # The listener still works: a new connection reaches it.
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(path)
        probe.close()
    finally:
        blocker.close()
        if os.path.exists(path):
            os.unlink(path)


def test_a_missing_namespace_is_reported_with_exit_1(rtether):
    r = run(rtether, ["client", "--netns", harness.unique_name("rtmissing")])
    check(r.returncode == 1, f"client with a missing namespace: exit {r.returncode}")
    check("does not exist" in r.stderr, f"client with a missing namespace said {r.stderr!r}")


@pytest.mark.parametrize("args", [["--help"], ["relay", "--help"], ["client", "--help"],
                                  ["shell", "--help"], ["vpnservice", "--help"]],
                         ids=lambda args: " ".join(args))
def test_help_exits_0(rtether, args):
    r = run(rtether, args)
    check(r.returncode == 0 and "Usage" in r.stdout, f"rtether {' '.join(args)}: {r}")


def test_version_exits_0(rtether):
    r = run(rtether, ["--version"])
    check(r.returncode == 0 and r.stdout.startswith("rtether "), f"--version: {r}")
