"""curl inside the namespace downloads 50 MiB from a host HTTP server at
10.0.2.2 (SHA-256 must match) and uploads 20 MiB (the server's SHA-256 of
what it received must match)."""

import os
import time

import pytest

import harness
from harness import check, log

DOWNLOAD_SIZE = 50 * 1024 * 1024
UPLOAD_SIZE = 20 * 1024 * 1024

# Each transfer is bounded by curl's own limit (120 s), longer than the
# default timeout.
pytestmark = pytest.mark.timeout(150)


def download(env, server, out_name="download.bin"):
    out = os.path.join(env.tmp, out_name)
    t0 = time.monotonic()
    r = env.curl(["-o", out, "-w", "%{http_code} %{size_download}",
                  f"http://{harness.HOST_ALIAS}:{server.port}/"], timeout=120, check_rc=False)
    secs = time.monotonic() - t0
    check(r.returncode == 0, f"curl download failed (rc {r.returncode}): {r.stderr.strip()} "
                             f"(after {secs:.1f}s)")
    with open(out, "rb") as f:
        got = f.read()
    os.unlink(out)
    check(r.stdout.strip().startswith("200"), f"HTTP status: {r.stdout!r}")
    check(len(got) == len(server.body),
          f"downloaded {len(got)} bytes, expected {len(server.body)}")
    check(harness.sha256(got) == harness.sha256(server.body), "download SHA-256 mismatch")
    mbit = len(got) * 8 / secs / 1e6
    log(f"download {len(got)} bytes in {secs:.2f}s ({mbit:.0f} Mbit/s), SHA-256 ok")
    return secs


def upload(env, server, method="PUT", size=UPLOAD_SIZE):
    data = harness.deterministic_bytes(size, seed=20)
    path = os.path.join(env.tmp, "upload.bin")
    with open(path, "wb") as f:
        f.write(data)
    before = len(server.uploads)
    t0 = time.monotonic()
    if method == "PUT":
        args = ["-T", path]
    else:
        args = ["--data-binary", "@" + path, "-H", "Content-Type: application/octet-stream"]
    r = env.curl(args + [f"http://{harness.HOST_ALIAS}:{server.port}/upload"], timeout=120,
                 check_rc=False)
    secs = time.monotonic() - t0
    os.unlink(path)
    check(r.returncode == 0, f"curl {method} failed (rc {r.returncode}): {r.stderr.strip()} "
                             f"(after {secs:.1f}s)")
    check(len(server.uploads) == before + 1, f"server saw {len(server.uploads) - before} uploads")
    total, digest = server.uploads[-1]
    check(total == len(data), f"server received {total} bytes, expected {len(data)}")
    check(digest == harness.sha256(data), "upload SHA-256 mismatch at the server")
    check(r.stdout.split() == [str(len(data)), digest], f"server reply {r.stdout!r}")
    log(f"{method} {total} bytes in {secs:.2f}s ({total * 8 / secs / 1e6:.0f} Mbit/s), "
        f"SHA-256 ok")


def make_body():
    return harness.deterministic_bytes(DOWNLOAD_SIZE, seed=50)


BODY = None


def body():
    global BODY
    if BODY is None:
        BODY = make_body()
    return BODY


def test_download_50_mib(env, http_server):
    server = http_server(body())
    download(env, server)
    env.assert_alive()


def test_upload_20_mib_put(env, http_server):
    server = http_server(b"x")
    upload(env, server, "PUT")
    env.assert_alive()


def test_upload_20_mib_post(env, http_server):
    server = http_server(b"x")
    upload(env, server, "POST")
    env.assert_alive()


def test_five_uploads_of_20_mib_each_under_2_s(env, http_server):
    # Five 20 MiB PUTs in a row, each must finish within 2 s (typical: ~0.15 s
    # on loopback). A slower one means the relay dropped device data it had
    # window for and waited for the device's retransmission timeout.
    server = http_server(b"x")
    times = []
    for _ in range(5):
        t0 = time.monotonic()
        upload(env, server, "PUT")
        times.append(round(time.monotonic() - t0, 2))
    log(f"upload times: {times}")
    check(max(times) < 2.0, f"a 20 MiB upload took {max(times)}s (all: {times}): "
                            f"device->host stall (RTO recovery)")
    env.assert_alive()


def test_slow_reader_on_the_device(env, http_server):
    # The device reads slowly (curl --limit-rate): the relay must hold back
    # (pull, not push) and lose nothing; 16 MiB at 8 MB/s = ~2 s.
    data = harness.deterministic_bytes(16 * 1024 * 1024, seed=16)
    server = http_server(data)
    out = os.path.join(env.tmp, "slow.bin")
    t0 = time.monotonic()
    r = env.curl(["--limit-rate", "8M", "-o", out, f"http://{harness.HOST_ALIAS}:{server.port}/"],
                 timeout=60, check_rc=False)
    secs = time.monotonic() - t0
    check(r.returncode == 0, f"slow download: curl rc {r.returncode}: {r.stderr.strip()}")
    with open(out, "rb") as f:
        got = f.read()
    check(got == data, f"slow download: {len(got)} bytes, equal: {got == data}")
    log(f"slow reader: {len(got)} bytes in {secs:.2f}s, exact")
    env.assert_alive()


def test_slow_host_server_reading_an_upload(env, http_server):
    # The host server reads the upload slowly: the relay must push back on the
    # device (window), not buffer without bound, and lose nothing.
    server = http_server(b"x", read_delay=0.01)
    upload(env, server, "PUT")
    env.assert_alive()


@pytest.mark.parametrize("env", [{"mtu": 16384}, {"mtu": 1500, "transport": "unix"},
                                 {"transport": "direct"}, {"mtu": 1500, "transport": "direct"}],
                         indirect=True,
                         ids=["mtu-16384", "mtu-1500-unix-link", "direct", "mtu-1500-direct"])
def test_download_and_upload(env, http_server):
    # The MTU Gnirehtet's app uses; both directions again.
    server = http_server(body())
    download(env, server)
    upload(env, server, "PUT")
    env.assert_alive()
