"""`--metrics`: a client downloads through the relay (`rtether relay`, and
`rtether autorun` with a device of the fake adb server, whose tunnel port
names its serial); the endpoint's text passes Debian's `promtool check
metrics`, and a real Prometheus server (Debian's `prometheus`, its own
config and storage in a temp dir, scraping every second, on a loopback
port) scrapes it and answers an HTTP API query for the client's (relay) or
the device's (autorun) byte counter with the value the endpoint shows.
Prometheus is stopped by PID."""

import json
import os
import shutil
import signal
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import harness
from harness import check, log

DOWNLOAD_SIZE = 4 * 1024 * 1024
CLIENT_BYTES = 'rtether_client_bytes_total{client="0",direction="to_device"}'
DEVICE_BYTES = 'rtether_device_bytes_total{serial="AAA",direction="to_device"}'

pytestmark = pytest.mark.timeout(120)


def fetch(url, timeout=5):
    """(status, body text) of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(text):
    """The sample lines of an exposition text: {"name{labels}": value}."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def wait_for(what, probe, timeout):
    """probe() until it returns something truthy (at most `timeout` s)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise harness.TestFailure(f"{what}: not within {timeout} s")
        time.sleep(0.2)


def steady_metrics(url, series):
    """The endpoint's text once `series` stopped moving."""
    last = [None]

    def probe():
        status, text = fetch(url)
        check(status == 200, f"GET /metrics answered {status}")
        value = samples(text).get(series)
        steady = value is not None and value == last[0]
        last[0] = value
        return text if steady else None

    return wait_for(f"{series} steady", probe, 10)


def download(env, server):
    out = os.path.join(env.tmp, "download.bin")
    env.curl(["-o", out, f"http://{harness.HOST_ALIAS}:{server.port}/"], timeout=60)
    check(os.path.getsize(out) == DOWNLOAD_SIZE, "download incomplete")
    os.unlink(out)


def check_promtool(text):
    lint = harness.run(["promtool", "check", "metrics"], input=text, check_rc=False)
    check(lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(),
          f"promtool check metrics ({lint.returncode}): {lint.stdout}{lint.stderr}")


def check_prometheus_answers(metrics_port, series, value):
    """A Prometheus server of the test's own scrapes the endpoint until its
    HTTP API answers `series` with `value`; stopped by PID after."""
    work = tempfile.mkdtemp(prefix="rtether-prometheus-")
    prometheus = None
    try:
        config = os.path.join(work, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: rtether\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{metrics_port}']\n")
        api_port = harness.free_tcp_port()
        prometheus = harness.Proc("prometheus", [
            "prometheus", f"--config.file={config}",
            f"--storage.tsdb.path={os.path.join(work, 'data')}",
            f"--web.listen-address=127.0.0.1:{api_port}"], os.path.join(work, "prometheus.log"))
        api = f"http://127.0.0.1:{api_port}"

        def ready():
            check(prometheus.alive(), f"prometheus exited: {prometheus.log_text(30)}")
            try:
                return fetch(f"{api}/-/ready", timeout=2)[0] == 200
            except OSError:
                return False

        wait_for("prometheus ready", ready, 30)

        def query(expression):
            status, body = fetch(f"{api}/api/v1/query?" +
                                 urllib.parse.urlencode({"query": expression}))
            check(status == 200, f"query {expression}: HTTP {status}: {body}")
            answer = json.loads(body)
            check(answer["status"] == "success", f"query {expression}: {answer}")
            return answer["data"]["result"]

        def scraped():
            result = query(series)
            return result if result and float(result[0]["value"][1]) == value else None

        try:
            result = wait_for(f"prometheus has {series}", scraped, 30)
        except harness.TestFailure:
            raise harness.TestFailure(f"last answer {query(series)}, endpoint says {value}; "
                                      f"prometheus log:\n{prometheus.log_text(30)}")
        check(len(result) == 1, f"more than one series: {result}")
        check(result[0]["metric"].get("job") == "rtether", f"labels: {result[0]['metric']}")
        up = query('up{job="rtether"}')
        check(up and up[0]["value"][1] == "1", f"up: {up}")
        log(f"prometheus answered {series} = {result[0]['value'][1]}")
    finally:
        if prometheus is not None:
            rc, seconds, killed = prometheus.stop(timeout=10)
            prometheus.close()
            log(f"prometheus stopped (exit {rc} after {seconds:.1f} s{', killed' if killed else ''})")
        shutil.rmtree(work, ignore_errors=True)


def test_prometheus_scrapes_the_client_byte_counter(make_env, http_server):
    metrics_port = harness.free_tcp_port()
    env = make_env(relay_args=["--metrics", f"127.0.0.1:{metrics_port}"])
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    download(env, http_server(body=harness.deterministic_bytes(DOWNLOAD_SIZE, seed=11)))

    text = steady_metrics(url, CLIENT_BYTES)
    found = samples(text)
    value = found[CLIENT_BYTES]
    check(value >= DOWNLOAD_SIZE, f"{CLIENT_BYTES} is {value}, below the {DOWNLOAD_SIZE} bytes "
                                  f"downloaded")
    check(found.get("rtether_sessions") == 1, f"rtether_sessions: {found.get('rtether_sessions')}")
    check(found.get('rtether_client_flows_opened_total{client="0",protocol="tcp"}', 0) >= 1,
          "no TCP flow counted")
    check(found.get("process_resident_memory_bytes", 0) > 0, "no resident memory")
    check(found.get("process_open_fds", 0) > 0, "no open fds")
    log(f"{CLIENT_BYTES} = {value:.0f} after a {DOWNLOAD_SIZE}-byte download")
    check_promtool(text)
    check(fetch(f"http://127.0.0.1:{metrics_port}/")[0] == 404, "GET / is not 404")
    check_prometheus_answers(metrics_port, CLIENT_BYTES, value)
    env.assert_alive()


def reverse_port(world, serial):
    """The relay port of `serial`'s reverse tunnel (autorun: its own)."""
    remote = next(r for s, r in world.server.reverses if s == serial).split(";")[1]
    check(remote.startswith("tcp:"), f"{serial}'s reverse tunnel goes to {remote}")
    return int(remote[len("tcp:"):])


@pytest.mark.world(devices={"AAA": "device"}, installed={"AAA": 9})
def test_prometheus_scrapes_the_device_byte_counter_across_a_reconnect(rtether, world, make_env,
                                                                       http_server):
    metrics_port = harness.free_tcp_port()
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    proc = world.spawn(rtether, "autorun", ["autorun", "-p", str(harness.free_tcp_port()),
                                            "--metrics", str(metrics_port)])
    world.server.wait_for(lambda s: any(x == "AAA" for x, _ in s.reverses), 30,
                          "AAA's reverse tunnel")
    # The app's side of AAA's tunnel: a Linux client on the device's port.
    env = make_env(relay=False, client=False)
    env.port = reverse_port(world, "AAA")
    server = http_server(body=harness.deterministic_bytes(DOWNLOAD_SIZE, seed=12))
    env.start_client()
    env.wait_tun()
    download(env, server)
    first = samples(steady_metrics(url, DEVICE_BYTES))[DEVICE_BYTES]
    check(first >= DOWNLOAD_SIZE, f"{DEVICE_BYTES} is {first} after one download")
    # The client reconnects (as the app does): the device's counter goes on.
    env.stop_client()
    env.start_client()
    env.wait_tun()
    download(env, server)
    text = steady_metrics(url, DEVICE_BYTES)
    found = samples(text)
    value = found[DEVICE_BYTES]
    check(value >= first + DOWNLOAD_SIZE, f"{DEVICE_BYTES} went from {first} to {value} over a "
                                          f"second {DOWNLOAD_SIZE}-byte download")
    reconnects = found.get('rtether_device_reconnects_total{serial="AAA"}')
    check(reconnects == 1, f"AAA's reconnects: {reconnects}")
    check(found.get('rtether_device_connected{serial="AAA"}') == 1, "AAA is not connected")
    client_series = [name for name in found
                     if name.startswith("rtether_client_bytes_total{") and 'serial="AAA"' in name]
    check(client_series, f"no client series labelled with AAA's serial:\n{text}")
    log(f"{DEVICE_BYTES} = {value:.0f} after two {DOWNLOAD_SIZE}-byte downloads")
    check_promtool(text)
    check_prometheus_answers(metrics_port, DEVICE_BYTES, value)
    env.stop_client()
    rc, _, killed = proc.stop(signal.SIGINT, timeout=20)
    check(rc == 0 and not killed, f"autorun after SIGINT: exit {rc}\n{proc.log_text()}")
