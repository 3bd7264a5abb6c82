"""Direct mode's ways of naming a namespace (`rtether relay --netns
NAME|PATH|PID`): the transfer, UDP, ICMP, IPv6, half-close and refusal
scenarios run with NAME through the Env (transport="direct"); here a PID
(a process that lives in a namespace of its own, as a container's does) and
a PATH (the namespace's bind-mounted file) are attached to, byte-exact both
ways, and the relay's own namespace or a missing one is refused at start."""

import hashlib
import os
import subprocess
import time

import harness
from harness import check, log

BODY = harness.deterministic_bytes(4 << 20, seed=13)


class Attached:
    """`rtether relay --netns TARGET`, stopped by PID; the tun must go with it."""

    def __init__(self, rtether, target, tmp, prefix):
        self.prefix = prefix  # runs a command inside the namespace
        self.relay = harness.Proc("relay", [rtether, "relay", "--netns", target],
                                  os.path.join(tmp, "relay.log"))

    def wait_tun(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check(self.relay.alive(), f"relay exited with {self.relay.returncode()}: "
                                      f"{self.relay.log_text()}")
            r = harness.run(self.prefix + ["ip", "-j", "addr", "show", "dev", harness.TUN],
                            check_rc=False)
            if r.returncode == 0 and f'"{harness.DEVICE_ADDRESS}"' in r.stdout:
                return
            time.sleep(0.05)
        raise harness.TestFailure(f"no tun within {timeout} s: {self.relay.log_text()}")

    def stop_and_check_tun_gone(self):
        rc, secs, killed = self.relay.stop()
        self.relay.close()
        check(not killed and rc == 0, f"relay exit {rc} on SIGTERM (killed: {killed})")
        r = harness.run(self.prefix + ["ip", "link", "show", harness.TUN], check_rc=False)
        check(r.returncode != 0, "the tun outlived the relay")


def transfer_both_ways(prefix, server):
    """A 4 MiB download and a 4 MiB upload through 10.0.2.2, by SHA-256."""
    url = f"http://{harness.HOST_ALIAS}:{server.port}/"
    curl = ["curl", "--noproxy", "*", "-sS", "--max-time", "30"]
    r = subprocess.run(prefix + curl + [url], capture_output=True, timeout=40)
    check(r.returncode == 0 and hashlib.sha256(r.stdout).digest() == hashlib.sha256(BODY).digest(),
          f"download: rc {r.returncode}, {len(r.stdout)} bytes, stderr {r.stderr[-500:]!r}")
    r = subprocess.run(prefix + curl + ["-T", "-", url], input=BODY, capture_output=True,
                       timeout=40)
    # The server answers "LENGTH SHA256" of what it received.
    expected = f"{len(BODY)} {hashlib.sha256(BODY).hexdigest()}"
    check(r.returncode == 0 and r.stdout.decode().strip() == expected,
          f"upload: rc {r.returncode}, answer {r.stdout[-200:]!r}, stderr {r.stderr[-500:]!r}")
    log("4 MiB both ways byte-exact")


def test_a_pid_names_the_namespace_of_that_process(rtether, http_server, tmp_path):
    server = http_server(BODY)
    holder = subprocess.Popen(["unshare", "--net", "sleep", "120"])
    try:
        prefix = ["nsenter", "-t", str(holder.pid), "-n"]
        # unshare execs sleep once the namespace exists.
        deadline = time.monotonic() + 5
        while os.readlink(f"/proc/{holder.pid}/ns/net") == os.readlink("/proc/self/ns/net"):
            check(time.monotonic() < deadline, "unshare made no namespace")
            time.sleep(0.02)
        harness.run(prefix + ["ip", "link", "set", "lo", "up"])
        attached = Attached(rtether, str(holder.pid), str(tmp_path), prefix)
        try:
            attached.wait_tun()
            transfer_both_ways(prefix, server)
        finally:
            attached.stop_and_check_tun_gone()
    finally:
        holder.kill()
        holder.wait()


def test_a_path_names_a_bind_mounted_namespace(rtether, http_server, tmp_path):
    server = http_server(BODY)
    name = harness.unique_name()
    harness.run(["ip", "netns", "add", name])
    try:
        prefix = ["ip", "netns", "exec", name]
        attached = Attached(rtether, f"/run/netns/{name}", str(tmp_path), prefix)
        try:
            attached.wait_tun()
            transfer_both_ways(prefix, server)
            # A path has no /etc/netns/NAME/ of its own: nothing is written there.
            check(not os.path.exists(f"/etc/netns/{name}/resolv.conf"),
                  "resolv.conf written for a namespace given by path")
        finally:
            attached.stop_and_check_tun_gone()
    finally:
        harness.run(["ip", "netns", "del", name], check_rc=False)


def test_its_own_namespace_or_a_missing_one_is_refused_at_start(rtether):
    for target, needle in ((str(os.getpid()), "own network namespace"),
                           (harness.unique_name("rte2e-none"), "No such file")):
        r = subprocess.run([rtether, "relay", "--netns", target], capture_output=True,
                           text=True, timeout=20)
        log(f"--netns {target}: rc {r.returncode}, {r.stderr.strip().splitlines()[-1:]}")
        check(r.returncode == 1 and needle in r.stderr,
              f"--netns {target}: expected exit 1 with {needle!r}; rc {r.returncode}, "
              f"stderr {r.stderr[-1000:]!r}")
