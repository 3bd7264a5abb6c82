"""Running, starting and stopping the commands the bench uses."""

import signal
import socket
import subprocess
import sys

VERBOSE = False


def log(*parts):
    print("[bench]", *parts, file=sys.stderr, flush=True)


def verbose_log(*parts):
    if VERBOSE:
        log(*parts)


def free_port(kind=socket.SOCK_STREAM):
    """A port nobody uses on 127.0.0.1 right now (bind to 0, close)."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, timeout=10, check=False):
    verbose_log("run", " ".join(map(str, cmd)))
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(map(str, cmd)), result.returncode,
                                                    result.stderr.strip()[-300:]))
    return result


def stop(process, grace=3.0):
    """SIGTERM to a Popen we started, SIGKILL after GRACE seconds."""
    if process is None or process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    except ProcessLookupError:
        pass


def log_tail(path, size=400):
    """The last SIZE bytes of a log, on one line."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data[-size:].decode(errors="replace").replace("\n", " | ").strip()
    except OSError:
        return ""
