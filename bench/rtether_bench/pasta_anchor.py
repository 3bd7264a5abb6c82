"""Current pasta, built from the passt source snapshot in ../shared/anchors/
(passt-2c174f1.tar.gz, 2025-01-09): unpacked and built with its own
Makefile (`make pasta`, no dependencies) once, then reused from the cache
directory, keyed by the tarball's SHA-256."""

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile

from .processes import log

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_TARBALL = os.path.join(os.path.dirname(REPO), "shared", "anchors", "passt-2c174f1.tar.gz")
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                     "rtether-bench")


def build(tarball):
    """The path of the pasta binary built from TARBALL (cached)."""
    tarball = os.path.abspath(tarball or DEFAULT_TARBALL)
    if not os.path.isfile(tarball):
        raise RuntimeError("pasta 2025: no source tarball at %s (--pasta-anchor PATH)" % tarball)
    with open(tarball, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    target = os.path.join(CACHE, "pasta-" + digest)
    binary = os.path.join(target, "pasta")
    if os.access(binary, os.X_OK):
        return binary
    log("building pasta from %s (cached in %s)" % (os.path.basename(tarball), target))
    os.makedirs(CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as work:
        with tarfile.open(tarball) as archive:
            archive.extractall(work, filter="data")
        tops = [d for d in os.listdir(work) if os.path.isdir(os.path.join(work, d))]
        if len(tops) != 1:
            raise RuntimeError("pasta 2025: %s does not hold one source folder" % tarball)
        source = os.path.join(work, tops[0])
        r = subprocess.run(["make", "-C", source, "-j%d" % (os.cpu_count() or 1), "pasta"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise RuntimeError("pasta 2025: make failed:\n" + r.stdout[-2000:])
        built = os.path.join(work, "built")
        os.makedirs(built)
        # pasta is a link to passt: the binary tells the two apart by its name.
        shutil.copy2(os.path.join(source, "passt"), os.path.join(built, "pasta"))
        os.rename(built, target)
    return binary
