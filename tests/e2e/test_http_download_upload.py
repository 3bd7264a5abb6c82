#!/usr/bin/env python3
"""curl inside the namespace downloads 50 MiB from a host HTTP server at
10.0.2.2 (SHA-256 must match) and uploads 20 MiB (the server's SHA-256 of
what it received must match)."""

import os
import time

import sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import harness  # noqa: E402
from harness import check, log  # noqa: E402

DOWNLOAD_SIZE = 50 * 1024 * 1024
UPLOAD_SIZE = 20 * 1024 * 1024


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


def upload(env, server, method="PUT"):
    data = harness.deterministic_bytes(UPLOAD_SIZE, seed=20)
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


def t_download(env):
    server = env.add_server(harness.HttpServer(body()))
    download(env, server)
    env.assert_alive()


def t_upload_put(env):
    server = env.add_server(harness.HttpServer(b"x"))
    upload(env, server, "PUT")
    env.assert_alive()


def t_upload_post(env):
    server = env.add_server(harness.HttpServer(b"x"))
    upload(env, server, "POST")
    env.assert_alive()


def t_repeated_uploads(env):
    # Five 20 MiB PUTs in a row, each must finish within 2 s (typical: ~0.15 s
    # on loopback). A slower one means the relay dropped device data it had
    # window for and waited for the device's retransmission timeout.
    server = env.add_server(harness.HttpServer(b"x"))
    times = []
    for _ in range(5):
        t0 = time.monotonic()
        upload(env, server, "PUT")
        times.append(round(time.monotonic() - t0, 2))
    log(f"upload times: {times}")
    check(max(times) < 2.0, f"a 20 MiB upload took {max(times)}s (all: {times}): "
                            f"device->host stall (RTO recovery)")
    env.assert_alive()


def t_slow_reader(env):
    # The device reads slowly (curl --limit-rate): the relay must hold back
    # (pull, not push) and lose nothing; 16 MiB at 8 MB/s = ~2 s.
    data = harness.deterministic_bytes(16 * 1024 * 1024, seed=16)
    server = env.add_server(harness.HttpServer(data))
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


def t_slow_server(env):
    # The host server reads the upload slowly: the relay must push back on the
    # device (window), not buffer without bound, and lose nothing.
    server = env.add_server(harness.HttpServer(b"x", read_delay=0.01))
    upload(env, server, "PUT")
    env.assert_alive()


def t_gnirehtet_mtu(env):
    # The MTU Gnirehtet's app uses; both directions again.
    server = env.add_server(harness.HttpServer(body()))
    download(env, server)
    upload(env, server, "PUT")
    env.assert_alive()


if __name__ == "__main__":
    harness.main([
        ("download 50 MiB (default MTU)", harness.with_env(t_download)),
        ("upload 20 MiB PUT (default MTU)", harness.with_env(t_upload_put)),
        ("upload 20 MiB POST (default MTU)", harness.with_env(t_upload_post)),
        ("download+upload with --mtu 16384", harness.with_env(t_gnirehtet_mtu, mtu=16384)),
        ("5 uploads of 20 MiB, each < 2 s", harness.with_env(t_repeated_uploads)),
        ("slow reader on the device (16 MiB at 8 MB/s)", harness.with_env(t_slow_reader)),
        ("slow host server reading a 20 MiB upload", harness.with_env(t_slow_server)),
        ("download+upload with --mtu 1500 over unix socket",
         harness.with_env(t_gnirehtet_mtu, mtu=1500, transport="unix")),
    ])
