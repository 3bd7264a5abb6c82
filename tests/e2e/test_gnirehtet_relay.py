"""`rtether client --no-ipv6` against a real peer: Gnirehtet's own Java relay
(Gnirehtet 2.5.1, commit 1eb2e58, its relay-java sources), built once with
plain javac (Debian's default-jdk-headless; no gradle, no network) into the
build tree and started as Gnirehtet starts it: main class
com.genymobile.gnirehtet.Main, command `relay`, on 127.0.0.1. Its default
port is 31416; the test gives `-p` a free port so that a real relay on the
host is never in the way. Checked through it: an HTTP download and upload
byte-exact, UDP datagrams echoed exactly, and a relay restart after which
the client reconnects by itself and traffic works again.

The sources come from the Gnirehtet tarball, found as
shared/anchors/gnirehtet-1eb2e58.tar.gz in a parent folder of this file, or
given as RTETHER_GNIREHTET_TARBALL."""

import hashlib
import os
import pathlib
import signal
import tarfile
import tempfile
import time

import pytest

import harness
from harness import check, log

TARBALL_NAME = "gnirehtet-1eb2e58.tar.gz"
MAIN_CLASS = "com.genymobile.gnirehtet.Main"
SOURCES = "relay-java/src/main/java"
DOWNLOAD_SIZE = 8 << 20
UPLOAD_SIZE = 4 << 20
UDP_SIZES = [1, 100, 1400, 8000]
RECOVERY_LIMIT = 15.0
# The JVM's exit status for SIGTERM (128 + 15): Gnirehtet's relay installs
# no handler.
JAVA_SIGTERM_EXIT = 143

pytestmark = pytest.mark.timeout(120)


def tarball():
    given = os.environ.get("RTETHER_GNIREHTET_TARBALL")
    if given:
        return pathlib.Path(given)
    for folder in pathlib.Path(__file__).resolve().parents:
        candidate = folder / "shared" / "anchors" / TARBALL_NAME
        if candidate.is_file():
            return candidate
    raise harness.TestFailure(f"{TARBALL_NAME} not found in shared/anchors/ above {__file__}; "
                      f"set RTETHER_GNIREHTET_TARBALL")


def build_relay(build_dir):
    """The class folder of Gnirehtet's Java relay, compiled once per tarball
    (keyed by its SHA-256) under the build tree."""
    source = tarball()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    classes = pathlib.Path(build_dir) / "peers" / f"gnirehtet-relay-java-{digest}"
    if (classes / "com" / "genymobile" / "gnirehtet" / "Main.class").is_file():
        return classes
    classes.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(dir=classes.parent) as work:
        with tarfile.open(source) as archive:
            members = [m for m in archive.getmembers()
                       if f"/{SOURCES}/" in m.name and m.name.endswith(".java") and m.isfile()]
            check(members, f"no {SOURCES} sources in {source}")
            archive.extractall(work, members=members)
        java_files = sorted(str(p) for p in pathlib.Path(work).rglob("*.java"))
        out = pathlib.Path(work) / "classes"
        harness.run(["javac", "-nowarn", "-encoding", "UTF-8", "-d", str(out)] + java_files,
                    timeout=180)
        os.rename(out, classes)  # complete or absent, never half built
    log(f"built Gnirehtet's Java relay ({len(java_files)} files) in "
        f"{time.monotonic() - t0:.1f}s: {classes}")
    return classes


class GnirehtetRelayEnv(harness.Env):
    """An Env whose relay is Gnirehtet's Java relay on a loopback port."""

    def __init__(self, rtether, classes, client_args=()):
        super().__init__(rtether, client_args=client_args)
        self.classes = classes

    def start_relay(self, port=None, log_name=None):
        if self.port is None:
            self.port = harness.free_tcp_port()
        n = sum(1 for p in self.procs if p.name.startswith("relay"))
        name = log_name or ("relay" if n == 0 else f"relay#{n + 1}")
        args = ["java", "-cp", str(self.classes), MAIN_CLASS, "relay", "-p", str(self.port)]
        proc = harness.Proc(name, args, os.path.join(self.tmp, f"{name}.log"))
        self.procs.append(proc)
        self.relay = proc
        deadline = time.monotonic() + 20
        while not harness._tcp_listening(self.port):
            if not proc.alive():
                raise harness.TestFailure(f"Gnirehtet's relay exited early with "
                                          f"{proc.returncode()}")
            if time.monotonic() > deadline:
                raise harness.TestFailure(f"Gnirehtet's relay not listening on {self.port} "
                                          f"after 20 s")
            time.sleep(0.05)
        return proc

    def stop_relay(self, expect_rc=JAVA_SIGTERM_EXIT):
        return super().stop_relay(expect_rc)


@pytest.fixture(scope="module")
def relay_classes(rtether):
    return build_relay(os.path.dirname(rtether))


@pytest.fixture
def gnirehtet_env(make_env, relay_classes):
    return make_env(GnirehtetRelayEnv, classes=relay_classes, client_args=["--no-ipv6"])


def download(env, server):
    out = os.path.join(env.tmp, "download.bin")
    t0 = time.monotonic()
    r = env.curl(["-o", out, f"http://{harness.HOST_ALIAS}:{server.port}/"], timeout=60,
                 check_rc=False)
    secs = time.monotonic() - t0
    check(r.returncode == 0, f"download through Gnirehtet's relay: curl rc {r.returncode}: "
                             f"{r.stderr.strip()}")
    got = pathlib.Path(out).read_bytes()
    os.unlink(out)
    check(got == server.body, f"downloaded {len(got)} bytes, expected {len(server.body)} "
                              f"(equal: {got == server.body})")
    log(f"download {len(got)} bytes in {secs:.2f}s, byte-exact")


def upload(env, server):
    data = harness.deterministic_bytes(UPLOAD_SIZE, seed=14)
    path = os.path.join(env.tmp, "upload.bin")
    pathlib.Path(path).write_bytes(data)
    t0 = time.monotonic()
    r = env.curl(["-T", path, f"http://{harness.HOST_ALIAS}:{server.port}/upload"], timeout=60,
                 check_rc=False)
    secs = time.monotonic() - t0
    os.unlink(path)
    check(r.returncode == 0, f"upload through Gnirehtet's relay: curl rc {r.returncode}: "
                             f"{r.stderr.strip()}")
    check(server.uploads and server.uploads[-1] == (len(data), harness.sha256(data)),
          f"server received {server.uploads[-1:]} for {len(data)} bytes")
    log(f"upload {len(data)} bytes in {secs:.2f}s, byte-exact")


UDP = r'''
import json, random, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((host, port))
s.settimeout(2.0)
results = {}
for size in [int(x) for x in sys.argv[3].split(",")]:
    data = random.Random(size).randbytes(size)
    outcome = "timeout"
    for attempt in range(3):
        s.send(data)
        try:
            got = s.recv(65535)
        except socket.timeout:
            continue
        outcome = "ok" if got == data else f"mismatch: {len(got)} bytes"
        break
    results[str(size)] = outcome
print(json.dumps(results))
'''


def test_download_upload_udp_and_a_relay_restart(gnirehtet_env, http_server, udp_echo_server):
    env = gnirehtet_env
    page = http_server(harness.deterministic_bytes(DOWNLOAD_SIZE, seed=31416))
    download(env, page)
    upload(env, page)
    echo = udp_echo_server()
    results = env.ns_python_json(UDP, [harness.HOST_ALIAS, echo.port,
                                       ",".join(map(str, UDP_SIZES))])
    log(f"UDP through Gnirehtet's relay: {results}")
    check(all(v == "ok" for v in results.values()), f"UDP echo: {results}")

    old = env.relay
    rc, secs, killed = old.stop(signal.SIGTERM)
    check(not killed and rc == JAVA_SIGTERM_EXIT,
          f"Gnirehtet's relay on SIGTERM: rc {rc}, killed {killed}")
    check(env.client.alive(), "client exited when the relay went away")
    env.start_relay()
    t_up = time.monotonic()
    out = os.path.join(env.tmp, "again.bin")
    small = http_server(harness.deterministic_bytes(256 << 10, seed=2))
    attempts = 0
    while True:
        attempts += 1
        r = env.curl(["-o", out, f"http://{harness.HOST_ALIAS}:{small.port}/"], timeout=8,
                     check_rc=False)
        if r.returncode == 0 and pathlib.Path(out).read_bytes() == small.body:
            break
        check(env.client.alive(), f"client died while reconnecting "
                                  f"(exit {env.client.returncode()})")
        check(time.monotonic() - t_up < RECOVERY_LIMIT,
              f"no working connection {RECOVERY_LIMIT}s after Gnirehtet's relay came back "
              f"({attempts} attempts; last curl rc {r.returncode}: {r.stderr.strip()})")
        time.sleep(0.3)
    log(f"after the restart: a fetch works {time.monotonic() - t_up:.2f}s later "
        f"({attempts} attempts)")
    download(env, page)
    env.wait_tun(timeout=2)
    env.assert_alive()
