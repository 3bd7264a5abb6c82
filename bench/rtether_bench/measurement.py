"""The measurements of one translator, in order: TCP download (1 and 4
streams) and upload with iperf3, the connection rate, UDP round trips, and
the memory of many held connections. Each is bounded in time; one that fails
is recorded as `Failed` and the next one still runs."""

import json
import os
import select
import subprocess
import time

from . import procfs
from .load_generators import helper_command
from .processes import free_port, log, stop, verbose_log
from .results import (ConnectionRate, Failed, HeldConnections, Throughput, TranslatorResult,
                      UdpRtt)
from .translators import Rtether


def throughput(translator, options, reverse=False, streams=1, meter_pids=None):
    """iperf3 -s -1 on 127.0.0.1, the client in the namespace (-R: download)."""
    port = free_port()
    log_path = os.path.join(options.logdir, "%s-iperf3-server-%d.log" % (translator.tag, port))
    with open(log_path, "wb") as f:
        server = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port)],
                                  stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while not procfs.tcp_listening(port):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("iperf3 server did not start")
            time.sleep(0.02)
        cmd = translator.command_prefix + [
            "iperf3", "-c", translator.peer, "-p", str(port), "-t", str(options.seconds), "-J",
            "--connect-timeout", "3000"]
        if reverse:
            cmd.append("-R")
        if streams > 1:
            cmd += ["-P", str(streams)]
        meter = procfs.CpuMeter(meter_pids) if meter_pids else None
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=options.seconds + 20)
        except subprocess.TimeoutExpired:
            raise RuntimeError("iperf3 client timed out")
        cpu = meter.percent() if meter else None
        cpu_by_pid = meter.percent_by_pid() if meter else {}
        try:
            report = json.loads(r.stdout)
        except ValueError:
            raise RuntimeError("iperf3: %s" % (r.stderr.strip() or r.stdout.strip())[-200:])
        if "error" in report:
            raise RuntimeError("iperf3: %s" % report["error"])
        return Throughput(gbps=report["end"]["sum_received"]["bits_per_second"] / 1e9,
                          cpu_pct=cpu, cpu_pct_by_pid=cpu_by_pid,
                          retransmits=report["end"].get("sum_sent", {}).get("retransmits"))
    finally:
        stop(server, 1)


def _last_json_line(result, what):
    try:
        return json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError("%s: %s" % (what, result.stderr.strip()[-200:]))


def connection_rate(translator, options, meter_pids, server_pid):
    meter = procfs.CpuMeter(meter_pids) if meter_pids else None
    server_meter = procfs.CpuMeter([server_pid])
    cmd = translator.command_prefix + helper_command(
        "cps", translator.peer, options.tcp_port, options.seconds, options.cps_workers)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=options.seconds + 30)
    cpu = meter.percent() if meter else None
    server_cpu = server_meter.percent()
    stats = _last_json_line(r, "cps client")
    return ConnectionRate(cps=stats["ok"] / stats["elapsed"], errors=stats["err"] + stats["short"],
                          last_err=stats["last_err"], cpu_pct=cpu, server_cpu_pct=server_cpu,
                          client_cpu_pct=100.0 * stats["cpu_s"] / stats["elapsed"])


def udp_rtt(translator, options):
    cmd = translator.command_prefix + helper_command("udprtt", translator.peer, options.udp_port,
                                                     options.udp_count)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    stats = _last_json_line(r, "udp client")
    if not stats.get("n"):
        raise RuntimeError("no UDP reply (%d lost)" % stats.get("lost", 0))
    return UdpRtt(**stats)


def held_connections(translator, options, pids_to_measure):
    """Opens options.hold connections, measures VmRSS of PIDS_TO_MEASURE()
    while they are open, then closes them."""
    cmd = translator.command_prefix + helper_command("hold", translator.peer, options.tcp_port,
                                                     options.hold)
    client = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            readable, _, _ = select.select([client.stdout], [], [], 1.0)
            if readable:
                line = client.stdout.readline()
                break
            if client.poll() is not None:
                break
        if not line.startswith("READY"):
            raise RuntimeError("hold client did not get ready: %s" % (
                client.stderr.read()[-200:] if client.poll() is not None else "timeout"))
        opened = int(line.split()[1])
        time.sleep(0.3)
        rss = {pid: procfs.status_kib(pid, "VmRSS") for pid in pids_to_measure()}
        client.stdin.write("\n")
        client.stdin.flush()
        out, _ = client.communicate(timeout=30)
        stats = json.loads(out.strip().splitlines()[-1])
        return HeldConnections(opened=opened, rss_kib=rss, **stats)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()


def measure_translator(translator, options, server_pid):
    """Starts TRANSLATOR, runs every measurement through it, stops it."""
    result = TranslatorResult(name=translator.name)
    t0 = time.monotonic()
    try:
        translator.start()
    except Exception as e:  # noqa: BLE001
        result.error = "failed to start: %s" % e
        log(translator.name, result.error)
        translator.stop()
        return result
    try:
        result.peer = translator.peer
        pids = translator.translator_pids()
        result.pids = {p: procfs.command_name(p) for p in pids}
        result.rss_start_mib = procfs.memory_mib(pids, "VmRSS")
        result.mode = getattr(translator, "mode", None)
        log(translator.name, "ready (peer %s, translator pids %s)" % (translator.peer,
                                                                     result.pids))

        def step(key, measure):
            try:
                setattr(result, key, measure())
                verbose_log(translator.name, key, getattr(result, key))
            except Exception as e:  # noqa: BLE001
                setattr(result, key, Failed(str(e)))
                log(translator.name, key, "failed:", e)

        step("download_1_stream", lambda: throughput(
            translator, options, reverse=True, streams=1, meter_pids=translator.translator_pids()))
        step("download_4_streams", lambda: throughput(
            translator, options, reverse=True, streams=4, meter_pids=translator.translator_pids()))
        step("upload_1_stream", lambda: throughput(
            translator, options, reverse=False, streams=1,
            meter_pids=translator.translator_pids()))
        step("connection_rate", lambda: connection_rate(
            translator, options, translator.translator_pids(), server_pid))
        pids = translator.translator_pids()
        result.peak_rss_after_connections_mib = procfs.memory_mib(pids, "VmHWM")
        result.rss_after_connections_mib = procfs.memory_mib(pids, "VmRSS")
        step("udp_rtt", lambda: udp_rtt(translator, options))
        is_rtether_relay = isinstance(translator, Rtether) and translator.relay
        if is_rtether_relay:
            relay = set(translator.relay_pids())
            for key in ("download_1_stream", "download_4_streams", "upload_1_stream"):
                measured = result.measured(key)
                if measured is not None:
                    measured.relay_cpu_pct = sum(v for p, v in measured.cpu_pct_by_pid.items()
                                                 if p in relay)
        if options.hold > 0:
            step("held_connections",
                 lambda: held_connections(translator, options, translator.translator_pids))
            held = result.measured("held_connections")
            if is_rtether_relay and held is not None:
                # The relay alone, for the Gnirehtet comparison (client = device side).
                relay = set(translator.relay_pids())
                held.relay_rss_mib = sum(v for p, v in held.rss_kib.items()
                                         if p in relay and v) / 1024.0
        result.peak_rss_at_end_mib = procfs.memory_mib(translator.translator_pids(), "VmHWM")
        result.alive_at_end = all(p.poll() is None for p in translator.processes)
    finally:
        translator.stop()
        result.wall_s = time.monotonic() - t0
    return result
