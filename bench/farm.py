#!/usr/bin/env python3
"""Device farm: the relay's RSS and CPU with N virtual phones (32 by
default) under one `rtether autorun` with Debian's real adb server, idle and
busy (every phone downloading MiB at once from a host loopback server through
its reverse tunnel), as tests/e2e/test_real_adb_farm.py sets them up
(tests/virtual_phone/farm.py: a namespace, adbd.py and `adb connect` per
phone). Needs root, Debian's adb, curl, iproute2.

    sudo python3 bench/farm.py --rtether build/rtether [--phones 32] [--mib 16] [--idle 10]

The relay is autorun's process: its CPU is utime+stime of all its threads
(/proc/PID/stat; the adb clients it runs are children, not counted), as %
of one core over each phase; RSS is VmRSS, and VmHWM for the busy peak. The
adb server's CPU is shown beside it (every byte crosses it too)."""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(ROOT, "tests", "e2e"), os.path.join(ROOT, "tests", "virtual_phone")]

import harness  # noqa: E402
from adb_env import start_autorun, stop_cleanly, wait_relaying  # noqa: E402
from farm import PhoneFarm  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


class Usage:
    """CPU of some processes over a phase, as % of one core."""

    def __init__(self, pids):
        self.pids = pids
        self.t0 = time.monotonic()
        self.cpu0 = {pid: cpu_seconds(pid) for pid in pids}

    def percent(self):
        seconds = time.monotonic() - self.t0
        return {pid: 100 * (cpu_seconds(pid) - self.cpu0[pid]) / seconds for pid in self.pids}


def download(phone, port, timeout):
    script = (f"curl --noproxy '*' -sS --max-time {timeout} "
              f"-w '%{{stderr}}%{{size_download}} %{{time_total}}\\n' "
              f"http://{harness.HOST_ALIAS}:{port}/ | sha256sum")
    return subprocess.Popen(["ip", "netns", "exec", phone.ns, "sh", "-c", script],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rtether", required=True, help="the rtether binary")
    parser.add_argument("--phones", type=int, default=32)
    parser.add_argument("--mib", type=int, default=16, help="MiB each phone downloads")
    parser.add_argument("--idle", type=float, default=10, help="seconds of the idle phase")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")

    size = args.mib << 20
    body = harness.deterministic_bytes(size, 32)
    expected = harness.sha256(body)
    server = harness.HttpServer(body)
    farm = PhoneFarm(os.path.abspath(args.rtether))
    rows = []
    try:
        proc, _ = start_autorun(farm, (), ["--status-interval", "60"])
        time.sleep(1)
        relay, adb_server = proc.pid, farm.server.proc.pid
        rows.append(("autorun, no phone", "", "", status_kib(relay, "VmRSS"), ""))
        t0 = time.monotonic()
        phones = farm.add_phones(args.phones, installed=9, skip_checksum=True)
        wait_relaying(phones, timeout=120)
        setup = time.monotonic() - t0

        usage = Usage([relay, adb_server])
        time.sleep(args.idle)
        idle = usage.percent()
        rows.append((f"{args.phones} phones idle ({args.idle:.0f} s)", f"{idle[relay]:.1f}",
                     f"{idle[adb_server]:.1f}", status_kib(relay, "VmRSS"), ""))

        usage = Usage([relay, adb_server])
        t1 = time.monotonic()
        downloads = [(phone, download(phone, server.port, 120)) for phone in phones]
        rates = []
        for phone, popen in downloads:
            out, err = popen.communicate(timeout=150)
            got_size, seconds = err.strip().splitlines()[-1].split()
            if popen.returncode != 0 or int(got_size) != size or out.split()[0] != expected:
                sys.exit(f"{phone.serial}: download failed or not byte-exact: {err!r}")
            rates.append(size / float(seconds))
        wall = time.monotonic() - t1
        busy = usage.percent()
        mean = sum(rates) / len(rates)
        rows.append((f"{args.phones} phones busy ({wall:.1f} s)", f"{busy[relay]:.1f}",
                     f"{busy[adb_server]:.1f}", status_kib(relay, "VmRSS"),
                     status_kib(relay, "VmHWM")))
        stop_cleanly(proc)
    finally:
        problems = farm.close()
        farm.cleanup_tmp()
        server.close()
    print(f"rtether autorun, {args.phones} virtual phones (setup {setup:.1f} s), "
          f"{args.mib} MiB each at once: {args.phones * size / wall / 1e6:.1f} MB/s in all; "
          f"per phone mean {mean / 1e6:.2f} MB/s, min {min(rates) / 1e6:.2f}, "
          f"max {max(rates) / 1e6:.2f}\n")
    print("| phase | relay CPU % | adb server CPU % | relay RSS KiB | relay peak RSS KiB |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    if problems:
        sys.exit("teardown: " + "; ".join(problems))


if __name__ == "__main__":
    main()
