"""No root: `rtether shell` and `rtether relay --netns PID` run by an
unprivileged user the test creates (useradd, removed at the end).

Everything runs inside a network namespace of the test's own ("host" HNS,
lo only) so that its net.ipv4.ping_group_range can let the user's group
open ping sockets (the relay, not being root, has no raw sockets) without
touching the machine's; the loopback servers are made there. The user
needs /dev/net/tun to be openable, as it is on a desktop (0666): where it
is root-only the test widens it for its run and puts the mode back.

- shell: inside, a Python client checks uid 0 (the user namespace), lo and
  rtether0 only, resolv.conf -> 10.0.2.3, then byte-exact TCP download and
  upload with half-close via 10.0.2.2, UDP echo, IPv6 via fd00::2:2, a
  refused connection to a closed port (fast), and `ping` (ICMP).
- PID: the user's `unshare -rn` process is attached to by the user's
  `rtether relay --netns PID`: the same client runs there; once it exits,
  the relay notices (pidfd) and ends by itself with status 0.
- with user namespaces disabled (user.max_user_namespaces = 0 in a user
  namespace of the test's), `rtether shell` fails at once, naming the sysctl.
"""

import ctypes
import hashlib
import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time

import pytest

import harness
from harness import check, log

DOWNLOAD = harness.deterministic_bytes(3 << 20, seed=41)
UPLOAD_SIZE = 2 << 20
TIMEOUT = 90
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000

CLIENT = r'''
import hashlib, json, os, random, socket, subprocess, sys, time
dl, dl6, ul, udp, closed, wait_tun = (sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4],
                                      sys.argv[5], sys.argv[6] == "wait")
out = {}
if wait_tun:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        r4 = subprocess.run(["ip", "route", "show", "default"], capture_output=True, text=True)
        r6 = subprocess.run(["ip", "-6", "route", "show", "default"], capture_output=True,
                            text=True)
        if "rtether0" in r4.stdout and "rtether0" in r6.stdout:
            break
        time.sleep(0.05)
else:
    out["uid"] = os.getuid()
    out["links"] = sorted(os.listdir("/sys/class/net"))
    out["resolv"] = open("/etc/resolv.conf").read()

def download(host, port):
    s = socket.create_connection((host, int(port)), timeout=20)
    h = hashlib.sha256(); n = 0
    while True:
        b = s.recv(65536)
        if not b:
            break
        h.update(b); n += len(b)
    s.close()
    return [n, h.hexdigest()]

out["download"] = download("10.0.2.2", dl)
out["download6"] = download("fd00::2:2", dl6)
data = random.Random(5).randbytes(%d)
s = socket.create_connection(("10.0.2.2", int(ul)), timeout=20)
s.sendall(data)
s.shutdown(socket.SHUT_WR)  # half-close: the reply still comes
reply = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    reply += b
s.close()
out["upload_sent"] = hashlib.sha256(data).hexdigest()
out["upload_reply"] = reply.decode()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
out["udp"] = None
for attempt in range(5):
    u.sendto(b"rootless-udp-%%d" %% attempt, ("10.0.2.2", int(udp)))
    try:
        got, _ = u.recvfrom(2048)
        out["udp"] = got.decode()
        break
    except socket.timeout:
        pass
t0 = time.monotonic()
try:
    socket.create_connection(("10.0.2.2", int(closed)), timeout=10).close()
    out["refused"] = "connected"
except ConnectionRefusedError:
    out["refused"] = "refused"
except OSError as e:
    out["refused"] = repr(e)
out["refused_secs"] = time.monotonic() - t0
p = subprocess.run(["ping", "-n", "-c", "2", "-i", "0.2", "-W", "3", "10.0.2.2"],
                   capture_output=True, text=True)
out["ping_rc"] = p.returncode
out["ping"] = p.stdout[-400:] + p.stderr[-400:]
print(json.dumps(out))
''' % UPLOAD_SIZE


libc = ctypes.CDLL(None, use_errno=True)


class InNetns:
    """The calling thread inside a network namespace for a `with` block (the
    sockets made there stay in it)."""

    def __init__(self, name):
        self.path = f"/run/netns/{name}"

    def __enter__(self):
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)

    def __exit__(self, *exc):
        if libc.setns(self.home, CLONE_NEWNET) != 0:
            os._exit(99)  # this thread would stay in the wrong namespace
        os.close(self.home)


def upload_handler(conn, addr):
    h = hashlib.sha256()
    while True:
        b = conn.recv(65536)
        if not b:
            break
        h.update(b)
    conn.sendall(h.hexdigest().encode())
    return "ok"


def download_handler(conn, addr):
    conn.sendall(DOWNLOAD)
    return "ok"


class Scene:
    """A user, a copy of rtether it can run, a host namespace with servers."""

    def __init__(self, rtether):
        self.cleanups = []
        try:
            self._make(rtether)
        except BaseException:
            self.close()
            raise

    def _make(self, rtether):
        self.user = f"rte2eu{os.getpid()}"
        harness.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh",
                     "--user-group", self.user])
        self.cleanups.append(lambda: harness.run(["userdel", self.user], check_rc=False))
        entry = pwd.getpwnam(self.user)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.tmp = tempfile.mkdtemp(prefix="rte2e-rootless-")
        self.cleanups.append(lambda: shutil.rmtree(self.tmp, ignore_errors=True))
        os.chmod(self.tmp, 0o755)
        self.rtether = os.path.join(self.tmp, "rtether")
        shutil.copy(rtether, self.rtether)
        os.chmod(self.rtether, 0o755)
        self.client = os.path.join(self.tmp, "client.py")
        with open(self.client, "w") as f:
            f.write(CLIENT)
        os.chmod(self.client, 0o644)
        mode = os.stat("/dev/net/tun").st_mode
        if mode & 0o006 != 0o006:
            os.chmod("/dev/net/tun", stat.S_IMODE(mode) | 0o006)
            self.cleanups.append(lambda: os.chmod("/dev/net/tun", stat.S_IMODE(mode)))
        self.hns = harness.unique_name("rte2euh")
        harness.run(["ip", "netns", "add", self.hns])
        self.cleanups.append(lambda: harness.run(["ip", "netns", "delete", self.hns],
                                                 check_rc=False))
        harness.run(["ip", "-n", self.hns, "link", "set", "lo", "up"])
        harness.run(["ip", "netns", "exec", self.hns, "sysctl", "-q", "-w",
                     f"net.ipv4.ping_group_range={self.gid} {self.gid}"])
        with InNetns(self.hns):
            self.dl = harness.TcpServer(download_handler)
            self.dl6 = harness.TcpServer(download_handler, host="::1")
            self.ul = harness.TcpServer(upload_handler)
            self.udp = harness.UdpEchoServer()
            closed = socket.socket()
            closed.bind(("127.0.0.1", 0))
            self.closed_port = closed.getsockname()[1]
            closed.close()
        for server in (self.dl, self.dl6, self.ul):
            self.cleanups.append(server.close)
        self.cleanups.append(self.udp.close)

    def as_user(self, args):
        """argv running `args` as the user inside the host namespace."""
        return ["ip", "netns", "exec", self.hns, "setpriv", f"--reuid={self.uid}",
                f"--regid={self.gid}", "--clear-groups", "env", f"HOME={self.tmp}"] + args

    def client_args(self, wait):
        return ["python3", self.client, str(self.dl.port), str(self.dl6.port),
                str(self.ul.port), str(self.udp.port), str(self.closed_port),
                "wait" if wait else "now"]

    def close(self):
        for cleanup in reversed(self.cleanups):
            cleanup()


@pytest.fixture
def scene(rtether):
    s = Scene(rtether)
    yield s
    s.close()


def check_client(out, what):
    check(out["download"] == [len(DOWNLOAD), hashlib.sha256(DOWNLOAD).hexdigest()],
          f"{what}: IPv4 download not byte-exact: {out['download']}")
    check(out["download6"] == [len(DOWNLOAD), hashlib.sha256(DOWNLOAD).hexdigest()],
          f"{what}: IPv6 download (fd00::2:2) not byte-exact: {out['download6']}")
    check(out["upload_reply"] == out["upload_sent"],
          f"{what}: upload after half-close: server saw {out['upload_reply']!r}, "
          f"sent {out['upload_sent']}")
    check(out["udp"] is not None and out["udp"].startswith("rootless-udp-"),
          f"{what}: UDP echo: {out['udp']!r}")
    check(out["refused"] == "refused" and out["refused_secs"] < 2,
          f"{what}: connection to a closed port: {out['refused']} after "
          f"{out['refused_secs']:.2f} s (expected refused within 2 s)")
    check(out["ping_rc"] == 0, f"{what}: ping 10.0.2.2: rc {out['ping_rc']}: {out['ping']}")


def parse_output(r, what):
    check(r.returncode == 0, f"{what}: rc {r.returncode}\nstdout: {r.stdout[-2000:]}\n"
                             f"stderr: {r.stderr[-4000:]}")
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise harness.TestFailure(f"{what}: no JSON from the client: {r.stdout!r} "
                                  f"{r.stderr[-3000:]}")


def test_rootless_shell_transfers_udp_icmp_ipv6_half_close_refusal(scene):
    before_ns = set(harness.netns_list())
    before_tmp = {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("rtether-resolv")}
    r = subprocess.run(scene.as_user([scene.rtether, "shell", "--"] + scene.client_args(False)),
                       capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    out = parse_output(r, "rtether shell as an unprivileged user")
    log(f"rootless shell: {json.dumps(out)[:600]}")
    check(out["uid"] == 0, f"uid inside the shell: {out['uid']} (expected 0, the user "
                           f"namespace's root)")
    check(out["links"] == ["lo", "rtether0"], f"/sys/class/net inside: {out['links']}")
    check(out["resolv"] == "nameserver 10.0.2.3\n", f"/etc/resolv.conf inside: "
                                                   f"{out['resolv']!r}")
    check_client(out, "rootless shell")
    check(set(harness.netns_list()) - before_ns == set(),
          f"named namespaces left: {set(harness.netns_list()) - before_ns}")
    after_tmp = {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("rtether-resolv")}
    check(after_tmp <= before_tmp, f"resolv.conf sources left in /tmp: {after_tmp - before_tmp}")


def test_rootless_relay_attaches_to_an_unshare_rn_process_and_ends_with_it(scene):
    holder = subprocess.Popen(scene.as_user(["unshare", "-rn"] + scene.client_args(True)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    relay = None
    try:
        # Attach once unshare has made its namespace (until then /proc/PID/ns/net
        # is the host namespace, which the relay refuses as its own).
        host_ino = os.stat(f"/run/netns/{scene.hns}").st_ino
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if holder.poll() is not None:  # (communicate() would wait for it)
                raise harness.TestFailure(f"unshare -rn exited: {holder.communicate()}")
            try:
                if os.stat(f"/proc/{holder.pid}/ns/net").st_ino != host_ino:
                    break
            except FileNotFoundError:
                pass
            time.sleep(0.02)
        else:
            raise harness.TestFailure("unshare -rn made no network namespace within 10 s")
        relay = subprocess.Popen(scene.as_user([scene.rtether, "relay", "--netns",
                                                str(holder.pid)]),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = holder.communicate(timeout=TIMEOUT)
        r = subprocess.CompletedProcess(holder.args, holder.returncode, stdout, stderr)
        try:
            out = parse_output(r, "client in unshare -rn")
        except harness.TestFailure:
            relay.terminate()
            raise harness.TestFailure(f"{r.stderr[-2000:]}\nrelay: {relay.communicate()}")
        log(f"attached by PID: {json.dumps(out)[:600]}")
        check_client(out, "relay --netns PID as the user")
        try:
            rc = relay.wait(timeout=5)
        except subprocess.TimeoutExpired:
            raise harness.TestFailure("relay --netns PID still runs 5 s after the process "
                                      "exited")
        _, relay_err = relay.communicate()
        check(rc == 0 and f"process {holder.pid}" in relay_err and "exited" in relay_err,
              f"relay after the target's exit: rc {rc}, log:\n{relay_err[-3000:]}")
    finally:
        for p in (holder, relay):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()


def test_rootless_shell_says_when_user_namespaces_are_disabled(scene):
    # user.max_user_namespaces is per user namespace: 0 in one of the test's
    # own (the user's uid and gid mapped through) turns them off for what
    # runs inside, as the sysctl does for a whole machine.
    log_path = os.path.join(scene.tmp, "disabled.log")
    mapped_r, mapped_w = os.pipe()
    made_r, made_w = os.pipe()
    # Opened here: the child, once the user, may not create files in our tmp.
    out = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    child = os.fork()
    if child == 0:
        try:
            os.close(mapped_w)
            os.close(made_r)
            if libc.unshare(CLONE_NEWUSER) != 0:
                os._exit(120)
            os.write(made_w, b"u")
            if os.read(mapped_r, 1) != b"m":
                os._exit(121)
            with open("/proc/sys/user/max_user_namespaces", "w") as f:
                f.write("0")
            os.setgroups([])
            os.setresgid(scene.gid, scene.gid, scene.gid)
            os.setresuid(scene.uid, scene.uid, scene.uid)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.execv(scene.rtether, [scene.rtether, "shell", "--", "true"])
        finally:
            os._exit(122)
    os.close(mapped_r)
    os.close(made_w)
    os.close(out)
    try:
        check(os.read(made_r, 1) == b"u", "the test's user namespace was not made")
        with open(f"/proc/{child}/uid_map", "w") as f:
            f.write(f"{scene.uid} {scene.uid} 1")
        with open(f"/proc/{child}/gid_map", "w") as f:
            f.write(f"{scene.gid} {scene.gid} 1")
        os.write(mapped_w, b"m")
        t0 = time.monotonic()
        deadline = t0 + 20
        status = None
        while time.monotonic() < deadline:
            pid, status = os.waitpid(child, os.WNOHANG)
            if pid == child:
                break
            time.sleep(0.02)
        else:
            os.kill(child, 9)
            os.waitpid(child, 0)
            raise harness.TestFailure("rtether shell with user namespaces off did not end in 20 s")
        secs = time.monotonic() - t0
    finally:
        os.close(mapped_w)
        os.close(made_r)
    text = open(log_path).read()
    rc = os.waitstatus_to_exitcode(status)
    log(f"user namespaces off: rc {rc} in {secs:.2f} s: {text.strip()}")
    check(rc not in (0, 120, 121, 122) and "user.max_user_namespaces is 0" in text,
          f"expected a failure naming user.max_user_namespaces; rc {rc}, output:\n{text}")
