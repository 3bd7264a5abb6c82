"""A "host" of the test's own for relay features that touch more than
loopback: ping sockets (net.ipv4.ping_group_range is per network namespace)
and routed test hosts. conftest.py's `host_env` fixture makes one.

Topology (every namespace created here, unique names, removed at the end):

    device ns  <- tun (rtether client) -- relay in HOST ns
    HOST ns:   lo, veth h0 192.0.2.1/24 2001:db8:1::1/64
                 -> ROUTER ns: r0 192.0.2.2/24 2001:db8:1::2/64   (a test host)
                               r1 198.51.100.1/24 2001:db8:2::1/64, forwarding on
                 -> FAR ns:    f0 198.51.100.2/24 2001:db8:2::2/64, link MTU
                               `far_mtu` on both ends of r1-f0 (a path with a
                               smaller MTU than the host's own link)
    HOST routes 198.51.100.0/24 and 2001:db8:2::/64 via the router; nothing
    else: 203.0.113.0/24 is unreachable from HOST (no route).

The relay and the client both run inside HOST (`ip netns exec`), linked by
an abstract UNIX socket (per namespace too); the client puts its tun in the
device namespace as usual. With transport="direct" there is no client: the
relay in HOST opens the tun in the device namespace itself (`--netns`).
The relay runs as root, so it has CAP_NET_RAW unless `relay_net_raw=False`
(setpriv drops it from its bounding and inheritable sets, so the exec'd
relay never gets it back).
"""

import os
import time

import harness
from harness import TestFailure, run

ROUTER_V4 = "192.0.2.2"
ROUTER_V6 = "2001:db8:1::2"
MISSING_V4 = "192.0.2.99"         # on HOST's link, nobody answers ARP
FAR_V4 = "198.51.100.2"
FAR_V6 = "2001:db8:2::2"
UNROUTED_V4 = "203.0.113.7"       # HOST has no route there


class HostNsEnv(harness.Env):
    def __init__(self, rtether, ping_allowed=True, far_mtu=1280, relay_args=(), client_args=(),
                 relay_net_raw=True, transport="unix"):
        super().__init__(rtether, transport=transport, client_args=client_args,
                         relay_args=relay_args)
        self.ping_allowed = ping_allowed
        self.relay_net_raw = relay_net_raw
        self.far_mtu = far_mtu
        self.host = harness.unique_name("rte2eh")
        self.router = harness.unique_name("rte2er")
        self.far = harness.unique_name("rte2ef")
        self.extra_ns = []

    def _add_ns(self, name):
        run(["ip", "netns", "add", name])
        self.extra_ns.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])

    def _ns(self, name, *args):
        return run(["ip", "-n", name] + list(args))

    def _sysctl(self, name, key, value):
        run(["ip", "netns", "exec", name, "sysctl", "-q", "-w", f"{key}={value}"])

    def setup(self):
        for name in (self.host, self.router, self.far):
            self._add_ns(name)
        gid_range = "0 2147483647" if self.ping_allowed else "1 0"
        self._sysctl(self.host, "net.ipv4.ping_group_range", gid_range)
        # Veth pairs are created inside HOST / ROUTER, so nothing is ever
        # added to the root namespace.
        suffix = str(os.getpid() % 100000)
        self._ns(self.host, "link", "add", "h0", "type", "veth", "peer", "name", "r0" + suffix)
        self._ns(self.host, "link", "set", "r0" + suffix, "netns", self.router)
        self._ns(self.router, "link", "set", "r0" + suffix, "name", "r0")
        self._ns(self.router, "link", "add", "r1", "type", "veth", "peer", "name", "f0" + suffix)
        self._ns(self.router, "link", "set", "f0" + suffix, "netns", self.far)
        self._ns(self.far, "link", "set", "f0" + suffix, "name", "f0")
        self._ns(self.router, "link", "set", "r1", "mtu", str(self.far_mtu))
        self._ns(self.far, "link", "set", "f0", "mtu", str(self.far_mtu))
        for ns, dev, v4, v6 in ((self.host, "h0", "192.0.2.1/24", "2001:db8:1::1/64"),
                                (self.router, "r0", "192.0.2.2/24", "2001:db8:1::2/64"),
                                (self.router, "r1", "198.51.100.1/24", "2001:db8:2::1/64"),
                                (self.far, "f0", "198.51.100.2/24", "2001:db8:2::2/64")):
            self._ns(ns, "addr", "add", v4, "dev", dev)
            self._ns(ns, "-6", "addr", "add", v6, "dev", dev, "nodad")
            self._ns(ns, "link", "set", dev, "up")
        self._sysctl(self.router, "net.ipv4.ip_forward", "1")
        self._sysctl(self.router, "net.ipv6.conf.all.forwarding", "1")
        self._ns(self.host, "route", "add", "198.51.100.0/24", "via", ROUTER_V4)
        self._ns(self.host, "-6", "route", "add", "2001:db8:2::/64", "via", ROUTER_V6)
        self._ns(self.far, "route", "add", "default", "via", "198.51.100.1")
        self._ns(self.far, "-6", "route", "add", "default", "via", "2001:db8:2::1")
        super().setup()

    def _base(self):
        return ["ip", "netns", "exec", self.host] + super()._base()

    def start_relay(self, port=None, log_name=None):
        if self.unix_name is None:
            self.unix_name = harness.unique_name("rtether-e2e")
        listen = (self.direct_args() if self.direct
                  else ["--unix", "@" + self.unix_name, "--no-tcp"])
        args = self._base() + ["relay"] + listen + self.relay_args
        if not self.relay_net_raw:
            at = args.index(self.rtether)
            args[at:at] = ["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw"]
        proc = harness.Proc("relay", args, os.path.join(self.tmp, "relay.log"))
        self.procs.append(proc)
        self.relay = proc
        if self.direct:
            self.wait_tun()
            return proc
        deadline = time.monotonic() + 10
        while True:
            if not proc.alive():
                raise TestFailure(f"relay exited early with {proc.returncode()}: {args}")
            listening = run(["ip", "netns", "exec", self.host, "cat", "/proc/net/unix"]).stdout
            if "@" + self.unix_name in listening:
                return proc
            if time.monotonic() > deadline:
                raise TestFailure(f"relay not listening after 10 s: {args}")
            time.sleep(0.05)

    def teardown(self):
        try:
            super().teardown()
        finally:
            for name in self.extra_ns:
                run(["ip", "netns", "del", name], check_rc=False)
            self.extra_ns = []

