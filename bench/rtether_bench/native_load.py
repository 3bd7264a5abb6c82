"""The C connection-rate load (bench/load/tcp_load.c: the tcpserver and cps
helpers of load_generators.py, much cheaper per connection), built with the
system's cc once and reused from the cache directory, keyed by the
source's SHA-256."""

import hashlib
import os
import shutil
import subprocess

from .pasta_anchor import CACHE, REPO
from .processes import log

SOURCE = os.path.join(REPO, "bench", "load", "tcp_load.c")


def build():
    """The path of the tcp_load binary (cached)."""
    with open(SOURCE, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    binary = os.path.join(CACHE, "tcp_load-" + digest)
    if os.access(binary, os.X_OK):
        return binary
    compiler = shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        raise RuntimeError("the C load generator needs cc (apt-get install gcc), "
                           "or run with --load-generator python")
    log("building %s (cached as %s)" % (os.path.relpath(SOURCE, REPO), binary))
    os.makedirs(CACHE, exist_ok=True)
    partial = binary + ".partial"
    r = subprocess.run([compiler, "-O2", "-Wall", "-Wextra", "-o", partial, SOURCE],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError("tcp_load: cc failed:\n" + r.stdout[-2000:])
    os.rename(partial, binary)
    return binary
