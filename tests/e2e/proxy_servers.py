"""Real upstream proxies for tests/e2e/test_proxy.py, each started by the
test with its own config file, log and pid file in a temp directory, on a
free 127.0.0.1 port (the relay runs in the root namespace, on loopback):

- `Danted`: Debian's dante-server (SOCKS5, RFC 1928), with or without
  `socksmethod: username` (RFC 1929; danted checks the system's users, so
  `ProxyUser` makes one with a password and removes it after), with UDP
  ASSOCIATE (or with it granted and its replies blocked), and optional
  `socks block` rules for ports it must refuse.
- `Tinyproxy`: Debian's tinyproxy (HTTP CONNECT, RFC 9110 9.3.6), whose
  ConnectPort list permits the given ports only.

Both run in the foreground as children of the test (harness.Proc), stopped
by PID with SIGTERM (danted's mother process then ends its children). Each
can listen on other addresses (IPv6 ones too) and run in a namespace of
the test's own:

- `ProxyNamespace`: a namespace joined to the root one by a veth pair
  (root 203.0.113.201/30, namespace 203.0.113.202/30) whose loopback
  also holds 192.0.2.153/32, an address only the namespace has: a
  server there (dnsmasq) is reachable from the relay only through a proxy
  in the namespace. Both ends of the veth go with close()."""

import os
import time

import harness
from harness import TestFailure, run


def _listening_in(netns, port):
    """Whether a TCP socket listens on `port` in namespace `netns`."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        r = run(["ip", "netns", "exec", netns, "cat", table], check_rc=False)
        for line in r.stdout.splitlines()[1:]:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


def _in(netns, args):
    """`args` run in namespace `netns` (ip netns exec execs it: same PID)."""
    return (["ip", "netns", "exec", netns] if netns else []) + args


def _wait_listening(proc, port, what, netns=None):
    deadline = time.monotonic() + 10
    while not (_listening_in(netns, port) if netns else harness._tcp_listening(port)):
        if not proc.alive():
            raise TestFailure(f"{what} exited early ({proc.returncode()}): {proc.log_text()}")
        if time.monotonic() > deadline:
            raise TestFailure(f"{what} not listening on {port} after 10 s: {proc.log_text()}")
        time.sleep(0.05)


class Danted:
    def __init__(self, tmp, username=False, blocked_ports=(), internals=("127.0.0.1",),
                 external="127.0.0.1", clients=("127.0.0.0/8",), netns=None, udp=True):
        self.port = harness.free_tcp_port()
        self.dir = os.path.join(tmp, f"danted-{self.port}")
        os.makedirs(self.dir)
        self.log_path = os.path.join(self.dir, "danted.log")
        method = "username" if username else "none"
        blocks = "".join(
            "socks block {\n  from: 0.0.0.0/0 to: 127.0.0.0/8 port = %d\n  log: connect error\n}\n"
            % port for port in blocked_ports)
        # "0/0": any address of either family (Dante 1.4). Without `udp`
        # only CONNECT passes: a UDP ASSOCIATE is refused (a rule's block).
        # With udp="no-replies" the association is granted and the client's
        # datagrams go out, but every reply to them is blocked: UDP that
        # goes unanswered, as behind a proxy whose host lets no UDP in.
        no_replies = udp == "no-replies"
        commands = ("connect udpassociate" if no_replies else
                    "connect udpassociate udpreply" if udp else "connect")
        reply_rule = "block" if no_replies else "pass"
        config = (f"logoutput: {self.log_path}\n"
                  + "".join(f"internal: {address} port = {self.port}\n" for address in internals)
                  + f"external: {external}\n"
                  f"socksmethod: {method}\n"
                  "clientmethod: none\n"
                  "user.privileged: root\n"
                  "user.unprivileged: nobody\n"
                  + "".join("client pass {\n  from: %s to: 0/0\n  log: connect error\n}\n"
                            % client for client in clients)
                  + blocks
                  + "".join("socks pass {\n  from: %s to: 0/0\n"
                            "  command: %s\n"
                            "  log: connect disconnect error\n}\n"
                            # Replies to a client's UDP from wherever it sent.
                            "socks %s {\n  from: 0/0 to: %s\n  command: udpreply\n"
                            "  log: connect disconnect error\n}\n"
                            % (client, commands, reply_rule, client)
                            for client in clients)
                  + ("" if udp else "socks block {\n  from: 0/0 to: 0/0\n"
                     "  command: udpassociate\n  log: connect error\n}\n"))
        self.config_path = os.path.join(self.dir, "danted.conf")
        with open(self.config_path, "w") as f:
            f.write(config)
        self.proc = harness.Proc("danted", _in(netns, ["danted", "-f", self.config_path, "-p",
                                                       os.path.join(self.dir, "danted.pid")]),
                                 os.path.join(self.dir, "stderr.log"))
        _wait_listening(self.proc, self.port, "danted", netns)

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
    def __init__(self, tmp, connect_ports, listen="127.0.0.1", allow="127.0.0.1", netns=None):
        self.port = harness.free_tcp_port()
        self.dir = os.path.join(tmp, f"tinyproxy-{self.port}")
        os.makedirs(self.dir)
        # tinyproxy drops to `nobody` before it opens its log.
        os.chmod(self.dir, 0o777)
        self.log_path = os.path.join(self.dir, "tinyproxy.log")
        config = (f"Port {self.port}\nListen {listen}\nTimeout 30\nLogLevel Connect\n"
                  f"MaxClients 16\nAllow {allow}\nUser nobody\nGroup nogroup\n"
                  f"PidFile \"{os.path.join(self.dir, 'tinyproxy.pid')}\"\n"
                  f"LogFile \"{self.log_path}\"\n"
                  + "".join(f"ConnectPort {port}\n" for port in connect_ports))
        self.config_path = os.path.join(self.dir, "tinyproxy.conf")
        with open(self.config_path, "w") as f:
            f.write(config)
        self.proc = harness.Proc("tinyproxy", _in(netns, ["tinyproxy", "-d", "-c", self.config_path]),
                                 os.path.join(self.dir, "stderr.log"))
        _wait_listening(self.proc, self.port, "tinyproxy", netns)

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


class ProxyNamespace:
    """See the module's doc: the relay's side 203.0.113.201, the proxy's
    203.0.113.202, and FAR_ADDRESS that only the namespace has."""

    ROOT_ADDRESS = "203.0.113.201"
    ADDRESS = "203.0.113.202"
    FAR_ADDRESS = "192.0.2.153"

    def __init__(self):
        self.name = harness.unique_name("rtpx")
        tag = f"{os.getpid() % 10000}{harness._counter % 100}"
        self.root_link = f"rtpx{tag}r"
        self.made = False
        try:
            self._make()
        except BaseException:
            self.close()
            raise

    def _make(self):
        run(["ip", "netns", "add", self.name])
        self.made = True
        run(["ip", "-n", self.name, "link", "set", "lo", "up"])
        # On the namespace's loopback: an address of its own, routed nowhere else.
        run(["ip", "-n", self.name, "addr", "add", f"{self.FAR_ADDRESS}/32", "dev", "lo"])
        run(["ip", "link", "add", self.root_link, "type", "veth", "peer", "name", "px0",
             "netns", self.name])
        run(["ip", "addr", "add", f"{self.ROOT_ADDRESS}/30", "dev", self.root_link])
        run(["ip", "link", "set", self.root_link, "up"])
        run(["ip", "-n", self.name, "addr", "add", f"{self.ADDRESS}/30", "dev", "px0"])
        run(["ip", "-n", self.name, "link", "set", "px0", "up"])
        # The veth's carrier: a connect before it is up fails.
        deadline = time.monotonic() + 5
        while "LOWER_UP" not in run(["ip", "link", "show", self.root_link]).stdout:
            if time.monotonic() > deadline:
                raise TestFailure(f"{self.root_link} has no carrier after 5 s")
            time.sleep(0.05)

    def close(self):
        run(["ip", "link", "del", self.root_link], check_rc=False)
        if self.made:
            run(["ip", "netns", "del", self.name], check_rc=False)


class FarDnsmasq:
    """dnsmasq in a ProxyNamespace on FAR_ADDRESS:53 (UDP and TCP), the only
    server of NAME (A ADDRESS), logging its queries."""

    NAME = "behind-proxy.test"
    ADDRESS = "192.0.2.78"

    def __init__(self, tmp, space):
        self.log_path = os.path.join(tmp, f"dnsmasq-{space.name}.log")
        args = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--bind-interfaces", f"--listen-address={space.FAR_ADDRESS}",
                "--port=53", "--user=root", "--pid-file=", "--log-queries", "--log-facility=-",
                f"--address=/{self.NAME}/{self.ADDRESS}"]
        self.proc = harness.Proc("dnsmasq", _in(space.name, args), self.log_path)
        deadline = time.monotonic() + 5
        while not self.proc.log_lines("started, version"):
            if not self.proc.alive():
                raise TestFailure(f"dnsmasq exited early: {self.proc.log_text()}")
            if time.monotonic() > deadline:
                raise TestFailure("dnsmasq did not start within 5 s")
            time.sleep(0.05)

    def queries(self):
        return [line for line in self.proc.log_lines("query[") if self.NAME in line]

    def close(self):
        self.proc.stop()
        self.proc.close()
