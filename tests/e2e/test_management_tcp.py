"""`rtether client --management 127.0.0.1 PORT PWFILE`: OpenVPN's TCP
management port for monitoring tools, beside the in-process UI that owns
the tun. A real third-party management client from the npm registry,
telnet-openvpn 0.1.9 (run with the system's nodejs), logs in with the
password, follows a SIGUSR1 restart through its parsed >STATE lines and
reads the byte counts (>BYTECOUNT, load-stats, status 2), which must cover
a download made through the tun; with a wrong password it never gets in.
The prompt and the three-try limit are also checked byte for byte.

telnet-openvpn is installed once per tests/e2e/npm/package-lock.json
(`npm ci`, keyed by the lock's SHA-256) into BUILD/peers/."""

import hashlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import harness
from harness import check, log

NPM_DIR = pathlib.Path(__file__).resolve().parent / "npm"
MONITOR = NPM_DIR / "telnet_openvpn_monitor.js"
PASSWORD = "correct horse battery"
SIZE = 2 << 20

pytestmark = pytest.mark.timeout(120)


def install_npm_peers(build_dir):
    """node_modules of tests/e2e/npm/, installed once per package-lock.json."""
    lock = (NPM_DIR / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock).hexdigest()[:16]
    target = pathlib.Path(build_dir) / "peers" / f"npm-{digest}"
    if (target / "node_modules" / "telnet-openvpn" / "package.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        install = pathlib.Path(work) / "peers"
        install.mkdir()
        for name in ("package.json", "package-lock.json"):
            shutil.copy(NPM_DIR / name, install)
        harness.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts",
                     "--prefix", str(install), "--cache", str(target.parent / "npm-cache")],
                    timeout=180, input="")
        os.rename(install, target)  # complete or absent, never half installed
    log(f"npm ci (telnet-openvpn) in {time.monotonic() - t0:.1f}s: {target}")
    return target


@pytest.fixture(scope="module")
def npm_peers(rtether):
    return install_npm_peers(os.path.dirname(rtether))


@pytest.fixture
def monitored(make_env, tmp_path):
    password_file = tmp_path / "management-password"
    password_file.write_text(PASSWORD + "\n")
    port = harness.free_tcp_port()
    env = make_env(client_args=["--no-ipv6", "--management", "127.0.0.1", str(port),
                                str(password_file)])
    deadline = time.monotonic() + 10
    while not harness._tcp_listening(port):
        check(time.monotonic() < deadline, f"management port {port} not listening")
        time.sleep(0.05)
    return env, port


def run_monitor(npm_peers, port, password, *extra):
    args = ["node", str(MONITOR), "127.0.0.1", str(port), password, *extra]
    # The script finds telnet-openvpn in the peers' node_modules.
    environment = dict(os.environ, NODE_PATH=str(npm_peers / "node_modules"))
    try:
        r = subprocess.run(args, env=environment, text=True, capture_output=True, timeout=40)
    except subprocess.TimeoutExpired as e:
        raise harness.TestFailure(f"telnet-openvpn script hung: {e.stdout!r} {e.stderr!r}")
    try:
        result = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise harness.TestFailure(f"telnet-openvpn script printed no result (rc {r.returncode}): "
                                  f"{r.stdout!r} {r.stderr!r}")
    return r.returncode, result


def test_telnet_openvpn_logs_in_and_reads_state_and_byte_counts(monitored, npm_peers,
                                                                http_server):
    env, port = monitored
    server = http_server(harness.deterministic_bytes(SIZE, seed=21))
    out = os.path.join(env.tmp, "download.bin")
    env.curl(["-o", out, f"http://{harness.HOST_ALIAS}:{server.port}/"], timeout=60)
    check(pathlib.Path(out).read_bytes() == server.body, "download through the tun not exact")

    rc, result = run_monitor(npm_peers, port, PASSWORD)
    log(f"telnet-openvpn: {json.dumps(result)[:2000]}")
    check(rc == 0 and result["authenticated"] and not result["errors"],
          f"telnet-openvpn failed (rc {rc}): {result['errors']}")
    names = [state[1] for state in result["states"]]
    check("RECONNECTING" in names and names[-1] == "CONNECTED",
          f"real-time states seen: {names}")
    connected = result["states"][-1]
    relay_port = env.relay_address().rsplit(":", 1)[1]
    check(connected[2:6] == ["SUCCESS", harness.DEVICE_ADDRESS, "127.0.0.1", relay_port],
          f">STATE CONNECTED fields: {connected}")
    restart = result["states"][names.index("RECONNECTING")]
    check(restart[2] == "SIGUSR1", f"RECONNECTING detail: {restart}")

    # The counts survive the restart; each later reading is at least the one before.
    bytecount_in, bytecount_out = result["bytecounts"][0]
    stats = [s for s in result["successes"] if s.startswith("nclients=")]
    check(len(stats) == 1, f"load-stats replies: {result['successes']}")
    fields = dict(item.split("=") for item in stats[0].split(","))
    check(fields["nclients"] == "0", f"load-stats: {stats[0]}")
    status = {line.split(",")[0]: line.split(",", 1)[1] for line in result["lines"]
              if "," in line and not line[0].isdigit()}
    status_in = int(status["TCP/UDP read bytes"])
    status_out = int(status["TCP/UDP write bytes"])
    check(SIZE <= bytecount_in <= int(fields["bytesin"]) <= status_in,
          f"bytes in: bytecount {bytecount_in}, load-stats {fields['bytesin']}, "
          f"status {status_in} (download {SIZE})")
    check(0 < bytecount_out <= int(fields["bytesout"]) <= status_out,
          f"bytes out: bytecount {bytecount_out}, load-stats {fields['bytesout']}, "
          f"status {status_out}")
    check("OpenVPN STATISTICS" in result["lines"] and "END" in result["lines"],
          f"status 2 lines: {result['lines']}")
    state_lines = [line for line in result["lines"] if ",CONNECTED,SUCCESS," in line]
    check(state_lines, f"`state` reply: {result['lines']}")

    rc, refused = run_monitor(npm_peers, port, "wrong password", "--expect-refused")
    check(rc == 0 and refused["closed"] and not refused["authenticated"],
          f"a wrong password got in or hung: rc {rc}, {refused}")
    env.assert_alive()


def test_prompt_and_three_wrong_passwords_close_the_connection(monitored):
    env, port = monitored
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        def read_until(expected):
            data = b""
            while not data.endswith(expected):
                chunk = s.recv(4096)
                check(chunk, f"closed after {data!r}, expected {expected!r}")
                data += chunk
            return data
        check(read_until(b"ENTER PASSWORD:") == b"ENTER PASSWORD:", "prompt")
        for attempt in range(2):
            s.sendall(b"guess\n")
            check(read_until(b"ENTER PASSWORD:") == b"ENTER PASSWORD:",
                  f"prompt after wrong password {attempt + 1}")
        s.sendall(b"guess\n")
        check(s.recv(4096) == b"", "the third wrong password did not close the connection")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        read_until_prompt = s.recv(4096)
        check(read_until_prompt == b"ENTER PASSWORD:", f"prompt: {read_until_prompt!r}")
        s.sendall(PASSWORD.encode() + b"\nload-stats\n")
        data = b""
        while b"nclients=" not in data or not data.endswith(b"\r\n"):
            chunk = s.recv(4096)
            check(chunk, f"closed after {data!r}")
            data += chunk
        check(data.startswith(b"SUCCESS: password is correct\r\n>INFO:OpenVPN Management "
                              b"Interface Version 5 -- type 'help' for more info\r\n"
                              b"SUCCESS: nclients=0,bytesin="), f"after the password: {data!r}")
    env.assert_alive()
