"""Bulk TCP through `wine rtether.exe relay`: curl in the namespace downloads
64 MiB from a host HTTP server at 10.0.2.2 and uploads 32 MiB, both
byte-exact (tests/e2e/test_http_download_upload.py's download and upload)."""

import pytest

import harness
import test_http_download_upload as transfers

DOWNLOAD_SIZE = 64 << 20
UPLOAD_SIZE = 32 << 20

pytestmark = pytest.mark.timeout(150)


def test_download_64_mib(env, http_server):
    server = http_server(harness.deterministic_bytes(DOWNLOAD_SIZE, seed=64))
    transfers.download(env, server)
    env.assert_alive()


def test_upload_32_mib(env, http_server):
    server = http_server(b"x")
    transfers.upload(env, server, "PUT", size=UPLOAD_SIZE)
    env.assert_alive()


def test_slow_host_server_reading_an_upload(env, http_server):
    # The relay pushes back on the device instead of buffering without bound.
    transfers.test_slow_host_server_reading_an_upload(env, http_server)
