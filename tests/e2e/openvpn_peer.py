"""Real OpenVPN peers for `rtether vpnservice`: OpenVPN's Android code paths
(master 3de92608 built with CMake's FAKE_ANDROID option, so it asks its UI
for the tun and protection over the management interface as on a phone) as
the client, Debian's openvpn package as the server, throwaway certificates
made with the openssl CLI.

The client build is made once per tarball (keyed by its SHA-256) under the
build tree, build/peers/openvpn-android-<digest>/openvpn, or under
RTETHER_PEERS_DIR when set (scripts/test.sh shares one between its
builds, so the sanitized run does not build OpenVPN again); the sources come
from shared/anchors/openvpn-3de92608.tar.gz in a parent folder of this file,
or from RTETHER_OPENVPN_TARBALL.

Topology (namespaces of the test's own, unique names, removed at the end):

    DEVICE ns: veth d0 192.0.2.2/24, default via 192.0.2.1 (the "real"
               network); the OpenVPN client and the tun vpnservice builds
    SERVER ns: veth s0 192.0.2.1/24; the OpenVPN server (tun ovs0, 10.8.0.1);
               on lo VIA_VPN 203.0.113.1 (reached through the VPN) and
               AROUND_VPN 198.51.100.1 (in a pushed net_gateway route:
               reached on the real network, never through the tun)
"""

import hashlib
import os
import pathlib
import shutil
import subprocess
import tarfile
import tempfile
import textwrap
import time

import harness
from harness import TestFailure, check, log, run

TARBALL_NAME = "openvpn-3de92608.tar.gz"
SERVER_OPENVPN = "/usr/sbin/openvpn"
SERVER_ADDRESS = "192.0.2.1"
DEVICE_ADDRESS = "192.0.2.2"
VIA_VPN = "203.0.113.1"
AROUND_VPN = "198.51.100.1"
SERVER_TUN_ADDRESS = "10.8.0.1"
PUSHED_DNS = "10.8.0.53"
PUSHED_DOMAIN = "example.test"
AUTH_USER = "alice"
AUTH_PASSWORD = "s3cret pass"
KEY_PASSWORD = "key pass"


def tarball():
    given = os.environ.get("RTETHER_OPENVPN_TARBALL")
    if given:
        return pathlib.Path(given)
    for folder in pathlib.Path(__file__).resolve().parents:
        candidate = folder / "shared" / "anchors" / TARBALL_NAME
        if candidate.is_file():
            return candidate
    raise TestFailure(f"{TARBALL_NAME} not found in shared/anchors/ above {__file__}; "
                      f"set RTETHER_OPENVPN_TARBALL")


def build_openvpn(build_dir):
    """The FAKE_ANDROID openvpn binary, built once per tarball."""
    source = tarball()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    peers = os.environ.get("RTETHER_PEERS_DIR") or pathlib.Path(build_dir) / "peers"
    folder = pathlib.Path(peers) / f"openvpn-android-{digest}"
    binary = folder / "openvpn"
    if binary.is_file():
        return binary
    folder.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(dir=folder.parent) as work:
        with tarfile.open(source) as archive:
            archive.extractall(work)
        (top,) = [p for p in pathlib.Path(work).iterdir() if p.is_dir()]
        build = pathlib.Path(work) / "build"
        # UNSUPPORTED_BUILDS: upstream's CMake build is for Windows and
        # development only, which this is; no pkcs11-helper, no unit tests.
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        run(["cmake", "-S", str(top), "-B", str(build)] + generator +
            ["-DFAKE_ANDROID=ON", "-DUNSUPPORTED_BUILDS=ON", "-DENABLE_PKCS11=OFF",
             "-DBUILD_TESTING=OFF", "-DUSE_WERROR=OFF", "-DCMAKE_BUILD_TYPE=Release"],
            timeout=300)
        run(["cmake", "--build", str(build), "--target", "openvpn", "-j", "2"], timeout=900)
        staged = pathlib.Path(work) / "staged"
        staged.mkdir()
        shutil.copy2(build / "openvpn", staged / "openvpn")
        os.rename(staged, folder)  # complete or absent, never half built
    log(f"built OpenVPN (FAKE_ANDROID) in {time.monotonic() - t0:.1f}s: {binary}")
    return binary


def openssl(*args, cwd):
    """The openssl CLI in `cwd` (file names relative to it)."""
    result = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True,
                            timeout=60)
    if result.returncode != 0:
        raise TestFailure(f"openssl {' '.join(args)} failed: {result.stderr}")


class Pki:
    """A CA, a server certificate and client certificates, all throwaway:
    an EC client key (also used as the external key's ECDSA case) and an
    RSA one (the RSA paddings)."""

    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self._key("ca", "ec")
        openssl("req", "-x509", "-new", "-key", "ca.key", "-out", "ca.crt", "-days", "2",
                "-subj", "/CN=rtether test CA", cwd=folder)
        self._signed("server", "ec", "serverAuth")
        self._signed("client-ec", "ec", "clientAuth")
        self._signed("client-rsa", "rsa", "clientAuth")
        # The EC key again, encrypted: OpenVPN asks >PASSWORD 'Private Key'.
        openssl("pkey", "-in", "client-ec.key", "-aes256", "-passout", f"pass:{KEY_PASSWORD}",
                "-out", "client-ec-encrypted.key", cwd=folder)

    def path(self, name):
        return os.path.join(self.folder, name)

    def _key(self, name, kind):
        if kind == "ec":
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", f"{name}.key", cwd=self.folder)
        else:
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", f"{name}.key", cwd=self.folder)

    def _signed(self, name, kind, usage):
        self._key(name, kind)
        with open(self.path(f"{name}.ext"), "w") as f:
            f.write(f"extendedKeyUsage={usage}\nkeyUsage=digitalSignature,keyAgreement\n")
        openssl("req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr", "-subj",
                f"/CN={name}", cwd=self.folder)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile",
                f"{name}.ext", cwd=self.folder)


class OpenVpnWorld:
    """The two namespaces, the server, and the client with its management
    socket; `vpnservice` runs the rtether UI against it. Everything started
    is stopped by PID in close()."""

    def __init__(self, rtether, openvpn, pki, tmp):
        self.rtether = rtether
        self.openvpn = str(openvpn)
        self.pki = pki
        self.tmp = tmp
        self.device = harness.unique_name("rte2eovd")
        self.server_ns = harness.unique_name("rte2eovs")
        self.namespaces = []
        self.procs = []
        self.port = None
        try:
            self._make_namespaces()
        except BaseException:
            self.close()
            raise

    def _make_namespaces(self):
        for name in (self.device, self.server_ns):
            run(["ip", "netns", "add", name])
            self.namespaces.append(name)
            run(["ip", "-n", name, "link", "set", "lo", "up"])
        peer = "s0" + str(os.getpid() % 100000)
        run(["ip", "-n", self.device, "link", "add", "d0", "type", "veth", "peer", "name", peer])
        run(["ip", "-n", self.device, "link", "set", peer, "netns", self.server_ns])
        run(["ip", "-n", self.server_ns, "link", "set", peer, "name", "s0"])
        for ns, dev, address in ((self.device, "d0", DEVICE_ADDRESS),
                                 (self.server_ns, "s0", SERVER_ADDRESS)):
            run(["ip", "-n", ns, "addr", "add", f"{address}/24", "dev", dev])
            run(["ip", "-n", ns, "link", "set", dev, "up"])
        run(["ip", "-n", self.device, "route", "add", "default", "via", SERVER_ADDRESS])
        for address in (VIA_VPN, AROUND_VPN):
            run(["ip", "-n", self.server_ns, "addr", "add", f"{address}/32", "dev", "lo"])

    # -- processes --------------------------------------------------------

    def start(self, name, args, ns=None, env=None):
        if ns:
            args = ["ip", "netns", "exec", ns] + list(args)
        proc = harness.Proc(name, args, os.path.join(self.tmp, f"{name}.log"), env=env)
        self.procs.append(proc)
        return proc

    def start_server(self, topology="subnet", extra=(), client_sigalgs=None):
        """Debian's openvpn in SERVER: UDP on a free port, redirect-gateway
        def1, a pushed net_gateway route, DNS and a domain. `client_sigalgs`
        (OpenSSL's ClientSignatureAlgorithms, through an OPENSSL_CONF of
        the server's own) limits the signatures it accepts from clients:
        OpenSSL prefers RSA-PSS even in TLS 1.2."""
        self.port = 20000 + os.getpid() % 20000
        config = textwrap.dedent(f"""\
            dev ovs0
            dev-type tun
            proto udp
            local {SERVER_ADDRESS}
            port {self.port}
            topology {topology}
            server 10.8.0.0 255.255.255.0
            ca {self.pki.path('ca.crt')}
            cert {self.pki.path('server.crt')}
            key {self.pki.path('server.key')}
            dh none
            keepalive 2 20
            push "redirect-gateway def1"
            push "route {AROUND_VPN.rsplit('.', 1)[0]}.0 255.255.255.0 net_gateway"
            push "dhcp-option DNS {PUSHED_DNS}"
            push "dhcp-option DOMAIN {PUSHED_DOMAIN}"
            verb 3
            """) + "".join(line + "\n" for line in extra)
        path = os.path.join(self.tmp, "server.conf")
        with open(path, "w") as f:
            f.write(config)
        env = None
        if client_sigalgs:
            openssl_conf = os.path.join(self.tmp, "server-openssl.cnf")
            with open(openssl_conf, "w") as f:
                f.write("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\n"
                        "system_default = defaults\n[defaults]\n"
                        f"ClientSignatureAlgorithms = {client_sigalgs}\n")
            env = dict(os.environ, OPENSSL_CONF=openssl_conf)
        proc = self.start("openvpn-server", [SERVER_OPENVPN, "--config", path], ns=self.server_ns,
                          env=env)
        wait_for(lambda: "Initialization Sequence Completed" in proc.log_text(400),
                 "the OpenVPN server to start", proc=proc)
        return proc

    def auth_script(self):
        """An --auth-user-pass-verify script (via-file) that takes one user."""
        path = os.path.join(self.tmp, "check-user.sh")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n"
                    f"[ \"$(sed -n 1p \"$1\")\" = '{AUTH_USER}' ] && "
                    f"[ \"$(sed -n 2p \"$1\")\" = '{AUTH_PASSWORD}' ]\n")
        os.chmod(path, 0o755)
        return path

    def client_config(self, key="client-ec", extra=(), key_file=None):
        """What ics-openvpn writes for a profile (its management lines
        included), less what only a phone has."""
        lines = [
            "client", "dev tun", "proto udp", f"remote {SERVER_ADDRESS} {self.port}", "nobind",
            f"ca {self.pki.path('ca.crt')}", f"cert {self.pki.path(key + '.crt')}",
            "management-query-passwords", "management-hold", "machine-readable-output",
            "allow-recursive-routing", "ifconfig-nowarn", "verb 4",
            "connect-retry 1 2", "persist-tun",
        ]
        if not any(line.startswith("management-external-key") for line in extra):
            lines.append(f"key {key_file or self.pki.path(key + '.key')}")
        lines += list(extra)
        path = os.path.join(self.tmp, "client.conf")
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        return path

    def start_client(self, socket_path, listen_role, config):
        """The Android-built OpenVPN in DEVICE: with `listen_role` it connects
        to the UI's socket (--management-client, ics-openvpn's way), else it
        listens there."""
        args = [self.openvpn, "--config", config, "--management", socket_path, "unix"]
        if listen_role:
            args.append("--management-client")
        return self.start("openvpn-client", args, ns=self.device)

    def vpnservice(self, socket_path, listen_role, extra=()):
        args = [self.rtether, "-v", "vpnservice", "--management", socket_path, "--netns",
                self.device, "--tun", "ovpn0"] + list(extra)
        if listen_role:
            args.append("--listen")
        return self.start("vpnservice", args)

    def connect(self, listen_role=True, client_extra=(), vpnservice_extra=(), key="client-ec",
                key_file=None):
        """Starts the UI and the client in the order the role wants; returns
        (client, vpnservice) once vpnservice shows CONNECTED."""
        socket_path = os.path.join(self.tmp, "mgmt.sock")
        config = self.client_config(key=key, extra=client_extra, key_file=key_file)
        if listen_role:
            ui = self.vpnservice(socket_path, True, vpnservice_extra)
            wait_for(lambda: os.path.exists(socket_path), "vpnservice's socket", proc=ui)
            client = self.start_client(socket_path, True, config)
        else:
            client = self.start_client(socket_path, False, config)
            wait_for(lambda: os.path.exists(socket_path), "the client's socket", proc=client)
            ui = self.vpnservice(socket_path, False, vpnservice_extra)
        self.wait_connected(ui, 1, client)
        return client, ui

    def wait_connected(self, ui, count, client, timeout=30):
        wait_for(lambda: len(ui.log_lines("state    CONNECTED")) >= count,
                 f"CONNECTED #{count} in vpnservice", timeout=timeout, proc=client, also=ui)

    # -- checks -----------------------------------------------------------

    def ns_python(self, ns, code, args=(), timeout=60):
        return run(["ip", "netns", "exec", ns, "python3", "-c", code] + [str(a) for a in args],
                   timeout=timeout)

    def routes(self):
        return run(["ip", "-n", self.device, "-4", "route", "show"]).stdout

    def link_index(self, name):
        r = run(["ip", "-n", self.device, "-o", "link", "show", name], check_rc=False)
        return r.stdout.split(":")[0] if r.returncode == 0 else None

    def close(self):
        problems = []
        for proc in reversed(self.procs):
            if proc.alive():
                proc.stop(timeout=10)
            proc.close()
        for name in self.namespaces:
            r = run(["ip", "netns", "del", name], check_rc=False)
            if r.returncode != 0:
                problems.append(f"cannot remove namespace {name}: {r.stderr.strip()}")
            shutil.rmtree(f"/etc/netns/{name}", ignore_errors=True)
        return problems

    def log_report(self):
        return "\n".join(f"--- {p.name} ({p.log_path}) ---\n{p.log_text(200)}" for p in self.procs)


def wait_for(predicate, what, timeout=30, proc=None, also=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for watched in (proc, also):
            if watched is not None and not watched.alive():
                raise TestFailure(f"{watched.name} exited ({watched.returncode()}) while "
                                  f"waiting for {what}:\n{watched.log_text(60)}")
        time.sleep(0.05)
    raise TestFailure(f"timed out after {timeout}s waiting for {what}")
