#!/usr/bin/env python3
"""What a MiB costs the relay in system calls and CPU: rtether-tcp (the Linux
relay) against rtether-wine (the Windows build's relay under Wine, with its
wineserver), during one fixed-size iperf3 transfer each way through the same
translators bench/run.py measures.

    sudo python3 bench/syscall_profile.py --rtether build/rtether \\
        --rtether-exe build-windows/rtether.exe [--mib 512] [--only rtether-wine]

Per relay process: system calls per MiB and CPU ms per MiB (`perf stat -e
raw_syscalls:sys_enter,task-clock -p PID`, low overhead), then, in a second
transfer of the same size, the calls by name (`strace -c -f -p PID`; strace
slows the relay, so only its names and shares are used). Everything it starts
is stopped on exit; traffic stays on loopback and in its namespace."""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types

from rtether_bench import procfs
from rtether_bench.load_generators import helper_command
from rtether_bench.processes import free_port, log, stop
from rtether_bench.translators import RtetherTcpLink, RtetherWine

TOP_CALLS = 6


def parse_options():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rtether", required=True, help="the Linux rtether (client, rtether-tcp)")
    ap.add_argument("--rtether-exe", help="the Windows rtether.exe (rtether-wine)")
    ap.add_argument("--only", default="rtether-tcp,rtether-wine")
    ap.add_argument("--mib", type=int, default=512, help="MiB per transfer")
    ap.add_argument("--mtu", type=int, default=65520)
    return ap.parse_args()


def transfer(translator, port, mib, reverse):
    """One iperf3 transfer of MIB MiB (-R: host -> device); returns seconds."""
    server = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while not procfs.tcp_listening(port):
            if time.monotonic() > deadline:
                raise RuntimeError("iperf3 server did not start")
            time.sleep(0.02)
        cmd = translator.command_prefix + ["iperf3", "-c", translator.peer, "-p", str(port),
                                           "-n", "%dM" % mib, "-J"] + (["-R"] if reverse else [])
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        report = json.loads(r.stdout)
        if "error" in report:
            raise RuntimeError("iperf3: %s" % report["error"])
        return report["end"]["sum_received"]["seconds"]
    finally:
        stop(server, 1)


def attach(tool_args, pids, tmp, label):
    """Starts TOOL_ARGS (perf stat / strace) on each of PIDS, output to files."""
    attached = {}
    for pid in pids:
        path = os.path.join(tmp, "%s-%d.txt" % (label, pid))
        process = subprocess.Popen(tool_args(pid, path), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        attached[pid] = (process, path)
    time.sleep(1.0)  # both tools need a moment to attach
    return attached


def detach(attached):
    for process, _ in attached.values():
        process.send_signal(signal.SIGINT)
    for process, _ in attached.values():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def perf_counts(path):
    """{"raw_syscalls:sys_enter": n, "task-clock": ms} from `perf stat -x,`."""
    counts = {}
    with open(path) as f:
        for line in f:
            fields = line.strip().split(",")
            if len(fields) >= 3 and fields[0].replace(".", "").isdigit():
                counts[fields[2]] = float(fields[0])
    return counts


def strace_calls(path):
    """[(calls, name)] from `strace -c`, most called first."""
    calls = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            # % time, seconds, usecs/call, calls, [errors], syscall
            if len(fields) >= 5 and re.match(r"^\d+\.\d+$", fields[0]) and fields[-1] != "total":
                calls.append((int(fields[3]), fields[-1]))
    return sorted(calls, reverse=True)


def profile(translator, options, tmp):
    pids = translator.relay_pids()
    names = {pid: procfs.command_name(pid) for pid in pids}
    rows = []
    for label, reverse in (("download", True), ("upload", False)):
        perf = attach(lambda pid, path: ["perf", "stat", "-x,", "-e",
                                         "raw_syscalls:sys_enter,task-clock", "-p", str(pid),
                                         "-o", path], pids, tmp, "perf-%s" % label)
        seconds = transfer(translator, free_port(), options.mib, reverse)
        detach(perf)
        strace = attach(lambda pid, path: ["strace", "-c", "-f", "-p", str(pid), "-o", path],
                        pids, tmp, "strace-%s" % label)
        transfer(translator, free_port(), options.mib, reverse)
        detach(strace)
        for pid in pids:
            counts = perf_counts(perf[pid][1])
            calls = strace_calls(strace[pid][1])
            total = sum(n for n, _ in calls) or 1
            rows.append({
                "translator": translator.name, "transfer": label, "process": names[pid],
                "gbps": options.mib * 8 * 1.048576 / 1000 / seconds,
                "syscalls_per_mib": counts.get("raw_syscalls:sys_enter", 0) / options.mib,
                "cpu_ms_per_mib": counts.get("task-clock", 0) / options.mib,
                "top": ["%s %.0f%%" % (name, 100.0 * n / total) for n, name in calls[:TOP_CALLS]],
            })
    return rows


def main():
    options = parse_options()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces, perf and strace on the relay)")
    for tool in ("perf", "strace", "iperf3"):
        if not shutil.which(tool):
            sys.exit("missing tool: %s" % tool)
    tmp = tempfile.mkdtemp(prefix="rtether-syscalls-")
    settings = types.SimpleNamespace(
        rtether=os.path.abspath(options.rtether), mtu=options.mtu, logdir=tmp,
        rtether_exe=os.path.abspath(options.rtether_exe) if options.rtether_exe else None,
        rtether_mode="separate", rtether_link="tcp")
    settings.probe_port = free_port()
    probe = subprocess.Popen(helper_command("tcpserver", settings.probe_port),
                             stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    rows = []
    try:
        if probe.stdout.readline().strip() != "LISTENING":
            sys.exit("could not start the probe server")
        for name in options.only.split(","):
            translator = {"rtether-tcp": RtetherTcpLink, "rtether-wine": RtetherWine}[name](
                settings)
            log("=== %s" % name)
            try:
                translator.start()
                rows += profile(translator, options, tmp)
            finally:
                translator.stop()
    finally:
        stop(probe, 1)
    print("%d MiB per transfer, MTU %d" % (options.mib, options.mtu))
    print("%-13s %-9s %-13s %7s %11s %11s  %s" % ("translator", "transfer", "process", "Gbit/s",
                                                "calls/MiB", "CPU ms/MiB", "calls by name"))
    for row in rows:
        print("%-13s %-9s %-13s %7.2f %11.0f %11.1f  %s" % (
            row["translator"], row["transfer"], row["process"], row["gbps"],
            row["syscalls_per_mib"], row["cpu_ms_per_mib"], ", ".join(row["top"])))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
