"""Real upstream proxies for tests/e2e/test_proxy.py, each started by the
test with its own config file, log and pid file in a temp directory, on a
free 127.0.0.1 port (the relay runs in the root namespace, on loopback):

- `Danted`: Debian's dante-server (SOCKS5, RFC 1928), with or without
  `socksmethod: username` (RFC 1929; danted checks the system's users, so
  `ProxyUser` makes one with a password and removes it after), with UDP
  ASSOCIATE, and optional `socks block` rules for ports it must refuse.
- `Tinyproxy`: Debian's tinyproxy (HTTP CONNECT, RFC 9110 9.3.6), whose
  ConnectPort list permits the given ports only.

Both run in the foreground as children of the test (harness.Proc), stopped
by PID with SIGTERM (danted's mother process then ends its children)."""

import os
import time

import harness
from harness import TestFailure, run


def _wait_listening(proc, port, what):
    deadline = time.monotonic() + 10
    while not harness._tcp_listening(port):
        if not proc.alive():
            raise TestFailure(f"{what} exited early ({proc.returncode()}): {proc.log_text()}")
        if time.monotonic() > deadline:
            raise TestFailure(f"{what} not listening on {port} after 10 s: {proc.log_text()}")
        time.sleep(0.05)


class Danted:
    def __init__(self, tmp, username=False, blocked_ports=()):
        self.port = harness.free_tcp_port()
        self.dir = os.path.join(tmp, f"danted-{self.port}")
        os.makedirs(self.dir)
        self.log_path = os.path.join(self.dir, "danted.log")
        method = "username" if username else "none"
        blocks = "".join(
            "socks block {\n  from: 0.0.0.0/0 to: 127.0.0.0/8 port = %d\n  log: connect error\n}\n"
            % port for port in blocked_ports)
        config = (f"logoutput: {self.log_path}\n"
                  f"internal: 127.0.0.1 port = {self.port}\n"
                  "external: 127.0.0.1\n"
                  f"socksmethod: {method}\n"
                  "clientmethod: none\n"
                  "user.privileged: root\n"
                  "user.unprivileged: nobody\n"
                  "client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  log: connect error\n}\n"
                  + blocks +
                  "socks pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n"
                  "  command: connect udpassociate udpreply\n"
                  "  log: connect disconnect error\n}\n")
        self.config_path = os.path.join(self.dir, "danted.conf")
        with open(self.config_path, "w") as f:
            f.write(config)
        self.proc = harness.Proc("danted", ["danted", "-f", self.config_path, "-p",
                                            os.path.join(self.dir, "danted.pid")],
                                 os.path.join(self.dir, "stderr.log"))
        _wait_listening(self.proc, self.port, "danted")

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def close(self):
        self.proc.stop()
        self.proc.close()


class Tinyproxy:
    def __init__(self, tmp, connect_ports):
        self.port = harness.free_tcp_port()
        self.dir = os.path.join(tmp, f"tinyproxy-{self.port}")
        os.makedirs(self.dir)
        # tinyproxy drops to `nobody` before it opens its log.
        os.chmod(self.dir, 0o777)
        self.log_path = os.path.join(self.dir, "tinyproxy.log")
        config = (f"Port {self.port}\nListen 127.0.0.1\nTimeout 30\nLogLevel Connect\n"
                  "MaxClients 16\nAllow 127.0.0.1\nUser nobody\nGroup nogroup\n"
                  f"PidFile \"{os.path.join(self.dir, 'tinyproxy.pid')}\"\n"
                  f"LogFile \"{self.log_path}\"\n"
                  + "".join(f"ConnectPort {port}\n" for port in connect_ports))
        self.config_path = os.path.join(self.dir, "tinyproxy.conf")
        with open(self.config_path, "w") as f:
            f.write(config)
        self.proc = harness.Proc("tinyproxy", ["tinyproxy", "-d", "-c", self.config_path],
                                 os.path.join(self.dir, "stderr.log"))
        _wait_listening(self.proc, self.port, "tinyproxy")

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def close(self):
        self.proc.stop()
        self.proc.close()


class ProxyUser:
    """A system user with a password for danted's `socksmethod: username`
    (no home, no shell), removed by close()."""

    def __init__(self):
        self.name = f"rtp{os.getpid() % 100000}"
        self.password = "pr0xy-" + os.urandom(6).hex()
        run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", self.name])
        run(["chpasswd"], input=f"{self.name}:{self.password}\n")

    def close(self):
        run(["userdel", self.name], check_rc=False)
