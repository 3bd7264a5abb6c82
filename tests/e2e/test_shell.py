"""`rtether shell -- CMD`: creates a namespace, runs a relay serving its tun
directly (or, with --separate, relay + client over a stream), runs CMD
inside, returns CMD's exit status and leaves no namespace behind."""

import os
import subprocess
import threading
import time

import pytest

import harness
from harness import check, log

SHELL_TIMEOUT = 60
# The shell's two ways to reach the namespace: direct mode (the default) and
# a separate client over a stream (--separate).
MODES = pytest.mark.parametrize("mode", [[], ["--separate"]], ids=["direct", "separate"])


def run_shell(rtether, args, extra=(), timeout=SHELL_TIMEOUT):
    cmd = [rtether, "shell"] + list(extra) + ["--"] + list(args)
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise harness.TestFailure(f"{cmd} did not finish in {timeout}s; stderr: "
                                  f"{(e.stderr or b'').decode(errors='replace')[-3000:]}")
    secs = time.monotonic() - t0
    return r, secs


def describe(r):
    return (f"rc {r.returncode}\nstdout: {r.stdout[-2000:]!r}\nstderr:\n"
            f"{r.stderr.decode(errors='replace')[-5000:]}")


def _other_process(name):
    """A namespace another e2e run on this machine made (rte2e*-PID-N with a
    PID not ours): tests run in parallel by other checkouts come and go."""
    parts = name.split("-")
    return (len(parts) == 3 and parts[0].startswith("rte2e") and parts[1].isdigit()
            and int(parts[1]) != os.getpid())


class Leftovers:
    """Namespaces and /etc/netns entries before vs after."""

    def __init__(self):
        self.ns = set(harness.netns_list())
        self.etc = set(os.listdir("/etc/netns")) if os.path.isdir("/etc/netns") else set()

    def check(self, what):
        # Give an asynchronous cleanup no excuse: it must be done when shell returns.
        ns = set(harness.netns_list())
        etc = set(os.listdir("/etc/netns")) if os.path.isdir("/etc/netns") else set()
        new_ns = {n for n in ns - self.ns if not _other_process(n)}
        new_etc = {n for n in etc - self.etc if not _other_process(n)}
        check(not new_ns, f"{what}: namespaces left behind: {sorted(new_ns)}")
        check(not new_etc, f"{what}: /etc/netns entries left behind: {sorted(new_etc)}")


def test_shell_returns_the_command_exit_status_and_leaves_no_namespace(rtether):
    before = Leftovers()
    r, secs = run_shell(rtether, ["sh", "-c", "exit 7"])
    log(f"shell -- sh -c 'exit 7': rc {r.returncode} in {secs:.2f}s")
    check(r.returncode == 7, f"expected exit status 7; {describe(r)}")
    before.check("after exit 7")
    r, secs = run_shell(rtether, ["true"])
    check(r.returncode == 0, f"shell -- true: {describe(r)}")
    before.check("after true")


@MODES
def test_shell_curl_reaches_a_host_server_via_10_0_2_2(rtether, http_server, mode):
    before = Leftovers()
    server = http_server(b"hello from the host via rtether shell\n")
    r, secs = run_shell(rtether, ["curl", "--noproxy", "*", "-s", "--max-time", "20",
                                  f"http://{harness.HOST_ALIAS}:{server.port}/"], extra=mode)
    log(f"shell -- curl: rc {r.returncode} in {secs:.2f}s, stdout {r.stdout!r}")
    check(r.returncode == 0, f"curl inside shell failed: {describe(r)}")
    check(r.stdout == server.body, f"stdout {r.stdout!r}, expected {server.body!r}; "
                                   f"{describe(r)}")
    before.check("after curl")


@MODES
def test_shell_command_sees_tun_mtu_route_own_namespace_and_resolv_conf(rtether, mode):
    # What the command sees: the tun with 10.0.0.2 and the asked MTU, a default
    # route, its own network namespace, the namespace's resolv.conf.
    before = Leftovers()
    script = ("ip -j addr show dev rtether0 | grep -q '\"10.0.0.2\"' && "
              "ip -j link show dev rtether0 | grep -q '\"mtu\":16384' && "
              "ip route | grep -q default && "
              "test \"$(readlink /proc/self/ns/net)\" != \"" +
              os.readlink("/proc/self/ns/net") + "\" && "
              "grep -q '^nameserver 10.0.2.3' /etc/resolv.conf && echo inside-ok")
    r, secs = run_shell(rtether, ["sh", "-c", script], extra=["--mtu", "16384"] + mode)
    check(r.returncode == 0 and r.stdout.strip() == b"inside-ok",
          f"inside view with --mtu 16384 (tun address, MTU, default route, own netns, "
          f"resolv.conf): {describe(r)}")
    before.check("after inside view")


def test_shell_sys_class_net_shows_the_namespace(rtether):
    # `ip netns exec` remounts /sys so /sys/class/net shows the namespace's
    # links; a command under `rtether shell` should see the same.
    before = Leftovers()
    r, secs = run_shell(rtether, ["sh", "-c", "ls /sys/class/net | sort | tr '\\n' ' '"])
    log(f"/sys/class/net inside shell: {r.stdout!r}")
    check(r.returncode == 0 and r.stdout.split() == [b"lo", b"rtether0"],
          f"/sys/class/net inside rtether shell should list only lo and rtether0 (as with "
          f"ip netns exec); {describe(r)}")
    before.check("after sysfs view")


def test_two_shells_in_parallel(rtether, http_server):
    # Two shells at once must not collide (namespace, tun, relay port/socket).
    before = Leftovers()
    server = http_server(b"parallel\n")
    results = [None, None]

    def one(i):
        try:
            results[i] = run_shell(rtether, ["curl", "--noproxy", "*", "-s", "--max-time", "20",
                                             f"http://{harness.HOST_ALIAS}:{server.port}/"])
        except Exception as e:  # noqa: BLE001
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SHELL_TIMEOUT + 10)
    for i, res in enumerate(results):
        check(not isinstance(res, Exception) and res is not None, f"shell {i}: {res}")
        r, secs = res
        check(r.returncode == 0 and r.stdout == b"parallel\n", f"shell {i}: {describe(r)}")
    before.check("after two parallel shells")


def test_shell_reports_a_signal_as_128_plus_n_and_a_missing_command_as_127(rtether):
    # A command killed by a signal: the shell reports it as 128+N like sh does.
    before = Leftovers()
    r, secs = run_shell(rtether, ["sh", "-c", "kill -TERM $$"])
    log(f"shell -- sh -c 'kill -TERM $$': rc {r.returncode}")
    check(r.returncode == 128 + 15, f"expected 143; {describe(r)}")
    r, secs = run_shell(rtether, ["/nonexistent/command"])
    log(f"shell -- /nonexistent/command: rc {r.returncode}")
    check(r.returncode in (126, 127), f"expected 127 for a missing command; {describe(r)}")
    before.check("after signal/missing command")
