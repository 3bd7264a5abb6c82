"""The relay's control socket (`rtether relay --control`), with a relay and a
client running: `rtether forward add` opens a new host port that reaches a
server inside the client's namespace without a restart, `forward remove`
closes it (a connection through it is reset, a new one refused; a UDP
peer's next datagram is refused by the host's kernel);
`status --json` parses and its byte counters move by exactly the bytes of
the datagrams just sent (the client runs with --no-ipv6, so the device's
kernel sends nothing else meanwhile); another uid is refused, by the socket
file's mode (0600) or, on an abstract socket, by the peer uid check; and
`autorun --control` (fake adb server) names its device's client by serial."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import harness
from harness import check, log

DEVICE_PORT = 8000
# A uid no process of the test suite runs as (setpriv needs no passwd entry).
OTHER_UID = 54321

DEVICE_ECHO = r'''
import socket, sys, threading
port = int(sys.argv[1])
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", port)); t.listen(16)
def echo(conn):
    try:
        while True:
            data = conn.recv(1 << 16)
            if not data:
                break
            conn.sendall(data)
    except OSError:
        pass
    conn.close()
def accept_loop():
    while True:
        conn, _ = t.accept()
        threading.Thread(target=echo, args=(conn,), daemon=True).start()
threading.Thread(target=accept_loop, daemon=True).start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", port))
def udp_echo():
    while True:
        data, peer = u.recvfrom(65535)
        u.sendto(data, peer)
threading.Thread(target=udp_echo, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
'''

UDP_BURST = r'''
import json, socket, sys
port, count, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect(("10.0.2.2", port))
echoed = 0
for i in range(count):
    payload = bytes([i % 256]) * size
    s.send(payload)
    if s.recv(65535) == payload:
        echoed += 1
print(json.dumps({"echoed": echoed}))
'''


@pytest.fixture
def control_dir():
    folder = tempfile.mkdtemp(prefix="rte2e-control-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def wait_listening(path, relay, timeout=10):
    deadline = time.monotonic() + timeout
    while not harness._unix_listening(path):
        check(relay.alive(), f"relay exited early with {relay.returncode()}")
        check(time.monotonic() < deadline, f"no control socket at {path} after {timeout} s")
        time.sleep(0.05)


def control_env(make_env, path, client_args=()):
    env = make_env(relay_args=["--control", path], client_args=list(client_args))
    wait_listening(path, env.relay)
    env.control = path
    return env


def rtether(env, args, check_rc=True, user=None):
    prefix = []
    if user is not None:
        prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
    return harness.run(prefix + [env.rtether] + list(args) + ["--control", env.control],
                       check_rc=check_rc)


class DeviceEcho:
    def __init__(self, env):
        self.popen = subprocess.Popen(
            ["ip", "netns", "exec", env.ns, "python3", "-c", DEVICE_ECHO, str(DEVICE_PORT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.popen.stdout.readline().strip()
        check(line == "ready", f"device echo server did not start: {line!r}")

    def close(self):
        self.popen.kill()
        self.popen.wait(10)
        self.popen.stdin.close()
        self.popen.stdout.close()


def echo_through(port, payload):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.settimeout(10)
        s.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def test_forward_add_and_remove_act_on_the_running_relay(make_env, control_dir):
    env = control_env(make_env, os.path.join(control_dir, "control"))
    relay_pid = env.relay.popen.pid
    device = DeviceEcho(env)
    try:
        port = harness.free_tcp_port()
        rule = f"tcp:{port}:{DEVICE_PORT}"
        canonical = f"tcp:127.0.0.1:{port}:{DEVICE_PORT}"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        rtether(env, ["forward", "add", rule])
        listed = rtether(env, ["forward", "list"]).stdout.split()
        check(listed == [canonical], f"forward list: {listed}")
        payload = harness.deterministic_bytes(200_000, 11)
        check(echo_through(port, payload) == payload, "the new forward's echo differs")
        log(f"forward add {rule}: 200000 bytes echoed by the device's server")
        # A connection through the forward stays open across the removal.
        held = socket.create_connection(("127.0.0.1", port), timeout=10)
        held.settimeout(10)
        held.sendall(b"ping")
        check(held.recv(4) == b"ping", "the held connection's echo differs")
        rtether(env, ["forward", "remove", rule])
        # Reset before the reply: the relay aborts the host side at once.
        with pytest.raises(ConnectionResetError):
            held.recv(1)
        held.close()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        check(rtether(env, ["forward", "list"]).stdout.split() == [], "forward list not empty")
        again = rtether(env, ["forward", "remove", rule], check_rc=False)
        check(again.returncode == 1 and f"no forward {canonical}" in again.stderr,
              f"second remove: rc {again.returncode}, {again.stderr!r}")
    finally:
        device.close()
    check(env.relay.alive() and env.relay.popen.pid == relay_pid, "the relay was restarted")
    check(env.relay.log_lines(f"control: forward {canonical} added"), "no 'added' log line")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_forward_remove_closes_a_udp_forward_and_its_peer_learns_next_send(make_env,
                                                                          control_dir):
    # UDP has no reset, and the relay sends no ICMP of its own (that needs a
    # raw socket): the flow's socket closes with the forward, so the host
    # peer's next datagram meets a closed port and the kernel answers ICMP
    # port unreachable (ECONNREFUSED on its connected socket). Logged.
    env = control_env(make_env, os.path.join(control_dir, "control"))
    device = DeviceEcho(env)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        port = free_udp_port()
        rule = f"udp:{port}:{DEVICE_PORT}"
        rtether(env, ["forward", "add", rule])
        peer.settimeout(10)
        peer.connect(("127.0.0.1", port))
        peer.send(b"ping")
        check(peer.recv(100) == b"ping", "the UDP forward's echo differs")
        rtether(env, ["forward", "remove", rule])
        check(env.relay.log_lines("removed: 0 TCP connection(s) reset, 1 UDP peer(s) closed"),
              f"no log line for the closed UDP peer:\n{env.relay.log_text()}")
        peer.send(b"after")
        with pytest.raises(ConnectionRefusedError):
            peer.recv(100)
    finally:
        peer.close()
        device.close()


def test_status_json_counts_the_bytes_just_sent(make_env, control_dir, udp_echo_server):
    env = control_env(make_env, os.path.join(control_dir, "control"), ["--no-ipv6"])
    count, size = 20, 1000
    ip_bytes = count * (20 + 8 + size)  # IPv4 header, UDP header, payload

    def status():
        out = rtether(env, ["status", "--json"]).stdout
        value = json.loads(out)
        check(len(value["clients"]) == 1, f"clients: {value['clients']}")
        return value

    server = udp_echo_server()
    before = status()
    result = env.ns_python_json(UDP_BURST, [server.port, count, size])
    check(result["echoed"] == count, f"echoed {result['echoed']} of {count}")
    after = status()
    client_before, client_after = before["clients"][0], after["clients"][0]
    for direction in ("from_device", "to_device"):
        moved = client_after[f"bytes_{direction}"] - client_before[f"bytes_{direction}"]
        packets = client_after[f"packets_{direction}"] - client_before[f"packets_{direction}"]
        log(f"bytes_{direction}: +{moved} (expected +{ip_bytes}), packets +{packets}")
        check(moved == ip_bytes, f"bytes_{direction} moved by {moved}, not {ip_bytes}")
        check(packets == count, f"packets_{direction} moved by {packets}, not {count}")
        total = after["totals"][f"bytes_{direction}"] - before["totals"][f"bytes_{direction}"]
        check(total == ip_bytes, f"totals bytes_{direction} moved by {total}")
    check(client_after["id"] == 0 and client_after["serial"] == "", f"client: {client_after}")
    check(after["totals"]["udp_flows_opened"] >= 1, "no UDP flow counted")
    table = rtether(env, ["status"]).stdout
    check("relay: 1 client," in table, f"status table: {table!r}")


@pytest.mark.parametrize("where", ["file", "abstract"])
def test_another_uid_is_refused(make_env, control_dir, where):
    if where == "file":
        path = os.path.join(control_dir, "control")
        os.chmod(control_dir, 0o755)  # the folder is open: the socket's own mode refuses
    else:
        path = "@" + harness.unique_name("rtether-e2e-control")
    env = control_env(make_env, path)
    if where == "file":
        mode = os.stat(path).st_mode & 0o777
        check(mode == 0o600, f"socket file mode {oct(mode)}")
    refused = rtether(env, ["status"], check_rc=False, user=OTHER_UID)
    log(f"uid {OTHER_UID} ({where}): rc {refused.returncode}, {refused.stderr.strip()!r}")
    check(refused.returncode == 1, f"rc {refused.returncode}")
    expected = ("Permission denied" if where == "file"
                else f"refused: uid {OTHER_UID} may not use this control socket")
    check(expected in refused.stderr, f"stderr: {refused.stderr!r}")
    if where == "abstract":
        check(env.relay.log_lines(f"control: refused a connection from uid {OTHER_UID}"),
              "the relay did not log the refusal")
    # The relay's own user (root here) still gets its answer.
    check(json.loads(rtether(env, ["status", "--json"]).stdout)["flows"] >= 0, "no status")


@pytest.mark.world(devices={"AAA": "device"}, installed={"AAA": 9})
def test_autorun_takes_control_and_names_the_device(rtether, world):
    """autorun --control (fake adb server, device AAA): a client on AAA's own
    relay port shows in `status --json` with that serial, and a forward to
    @AAA is added and listed on the running autorun."""
    path = "@" + harness.unique_name("rtether-e2e-autorun-control")
    proc = world.spawn(rtether, "autorun", ["autorun", "-p", str(harness.free_tcp_port()),
                                            "--control", path])
    world.server.wait_for(lambda s: any(x == "AAA" for x, _ in s.reverses), 30,
                          "a reverse tunnel for AAA")
    wait_listening(path, proc)
    remote = next(r for s, r in world.server.reverses if s == "AAA").split(";")[1]
    device = socket.create_connection(("127.0.0.1", int(remote[len("tcp:"):])), timeout=10)
    try:
        device.settimeout(10)
        check(len(device.recv(4)) == 4, "no client id from the relay")

        def control(args):
            return harness.run([rtether] + args + ["--control", path])

        status = json.loads(control(["status", "--json"]).stdout)
        serials = [client["serial"] for client in status["clients"]]
        check(serials == ["AAA"], f"status clients: {status['clients']}")
        port = harness.free_tcp_port()
        control(["forward", "add", f"tcp:{port}:80@AAA"])
        listed = control(["forward", "list"]).stdout.split()
        check(listed == [f"tcp:127.0.0.1:{port}:80@AAA"], f"forward list: {listed}")
    finally:
        device.close()
    rc, _, killed = proc.stop(signal.SIGINT, timeout=20)
    check(not killed and rc == 0, f"autorun after SIGINT: exit {rc}\n{proc.log_text()}")
