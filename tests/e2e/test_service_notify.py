"""Readiness for systemd (Type=notify units, packaging/linux/): `relay` and
`autorun` send READY=1 with a STATUS= line to $NOTIFY_SOCKET once their
listeners accept connections, a STATUS= line with clients, flows, bytes and
devices every --status-interval, STOPPING=1 when SIGTERM ends them, and
nothing when listening failed. The test is the service manager: it binds
the datagram socket NOTIFY_SOCKET names and reads what systemd would
(sd_notify(3))."""

import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile

import harness
from harness import check


class NotifySocket:
    """A datagram socket at a temp path, as systemd binds for a service (its
    folder also holds the relay's log)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix=harness.unique_name("rtnotify") + "-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def receive(self, timeout=10):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(4096).decode()
        except socket.timeout:
            return None

    def pending(self):
        self.sock.setblocking(False)
        try:
            return self.sock.recv(4096).decode()
        except BlockingIOError:
            return None

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir)


def client_id_from(address, family, timeout=5):
    """Connects to a listening relay and reads the 4-byte client id it
    writes first (Gnirehtet's protocol): the relay accepts."""
    with socket.socket(family, socket.SOCK_STREAM) as client:
        client.settimeout(timeout)
        client.connect(address)
        data = b""
        while len(data) < 4:
            chunk = client.recv(4 - len(data))
            check(chunk, f"the relay closed before its client id ({data!r})")
            data += chunk
        return struct.unpack("!I", data)[0]


def test_relay_is_ready_once_it_accepts_and_says_stopping_on_sigterm(rtether):
    notify = NotifySocket()
    port = harness.free_tcp_port()
    name = "@" + harness.unique_name("rtnotify")
    # --status-interval 0: no periodic line comes between the two.
    relay = harness.Proc("relay", [rtether, "relay", "-p", str(port), "--unix", name,
                                   "--status-interval", "0"],
                         os.path.join(notify.dir, "relay.log"),
                         env=dict(os.environ, NOTIFY_SOCKET=notify.path))
    try:
        ready = notify.receive()
        check(ready == f"READY=1\nSTATUS=relaying; clients connect to 127.0.0.1:{port} and "
                       f"unix:{name}", f"readiness: {ready!r}\n{relay.log_text()}")
        # Ready means both listeners accept now, without a retry.
        client_id_from(("127.0.0.1", port), socket.AF_INET)
        client_id_from("\0" + name[1:], socket.AF_UNIX)
        check(notify.pending() is None, "more than one datagram before SIGTERM")
        rc, _, killed = relay.stop(signal.SIGTERM)
        check(rc == 0 and not killed, f"relay after SIGTERM: {rc}, killed={killed}")
        stopping = notify.receive()
        check(stopping == "STOPPING=1\nSTATUS=stopping", f"stopping: {stopping!r}")
    finally:
        relay.close()
        notify.close()


def test_relay_status_lines_count_its_clients(rtether):
    notify = NotifySocket()
    port = harness.free_tcp_port()
    relay = harness.Proc("relay", [rtether, "relay", "-p", str(port), "--status-interval", "1"],
                         os.path.join(notify.dir, "relay.log"),
                         env=dict(os.environ, NOTIFY_SOCKET=notify.path))
    prefix = f"STATUS=relaying; clients connect to 127.0.0.1:{port}: "
    try:
        check(notify.receive().startswith("READY=1\n"), "no readiness first")
        first = notify.receive(timeout=5)
        check(first == prefix + "0 clients, 0 flows, 0 B down, 0 B up since start",
              f"status without clients: {first!r}")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            check(len(client.recv(4)) == 4, "no client id")
            # Bounded: the line after the connect counts it (1 s apart).
            for _ in range(3):
                line = notify.receive(timeout=5)
                if line == prefix + "1 client, 0 flows, 0 B down, 0 B up since start":
                    break
            else:
                raise harness.TestFailure(f"no status line with the client: {line!r}")
        relay.stop(signal.SIGTERM)
    finally:
        relay.close()
        notify.close()


def test_relay_that_cannot_listen_is_never_ready(rtether):
    notify = NotifySocket()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([rtether, "relay", "-p", str(port)],
                                env=dict(os.environ, NOTIFY_SOCKET=notify.path),
                                capture_output=True, text=True, timeout=20,
                                stdin=subprocess.DEVNULL)
    try:
        check(result.returncode == 1, f"relay on a used port: {result.returncode}\n"
                                      f"{result.stderr}")
        check(notify.pending() is None, "READY sent by a relay that could not listen")
    finally:
        notify.close()


def test_autorun_is_ready_once_its_relay_accepts(rtether, world):
    notify = NotifySocket()
    port = harness.free_tcp_port()
    proc = world.spawn(rtether, "autorun", ["autorun", "-p", str(port), "--status-interval", "0"],
                       NOTIFY_SOCKET=notify.path)
    try:
        ready = notify.receive()
        check(ready == f"READY=1\nSTATUS=relaying on tcp:{port}, starting every device adb "
                       f"lists", f"readiness: {ready!r}\n{proc.log_text()}")
        client_id_from(("127.0.0.1", port), socket.AF_INET)
        rc, _, killed = proc.stop(signal.SIGTERM, timeout=20)
        check(rc == 0 and not killed, f"autorun after SIGTERM: {rc}, killed={killed}")
        stopping = notify.receive()
        check(stopping == "STOPPING=1\nSTATUS=stopping the devices", f"stopping: {stopping!r}")
    finally:
        notify.close()
