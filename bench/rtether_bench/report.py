"""The report: one row per metric, one column per translator (plus
rtether÷pasta-2025 and rtether÷pasta), as a text table on stdout and optionally Markdown; the notes
under it; the machine and tool versions; and the raw results as JSON."""

import datetime
import json
import os
import platform
from dataclasses import dataclass
from typing import Callable, Optional

from .processes import run


def _ratio(numerator, denominator, scale=1.0):
    if numerator is None or not denominator:
        return None
    return numerator * scale / denominator


def _held_rss_mib(held):
    return sum(v for v in held.rss_kib.values() if v) / 1024.0 if held.rss_kib else None


@dataclass
class Row:
    label: str
    value: Callable            # (TranslatorResult) -> number, tuple or None
    format: str
    measurement: Optional[str]  # the measurement it comes from: "fail" if that failed


def _of(key, read):
    """A row value read from measurement KEY when it completed."""
    def value(result):
        measured = result.measured(key)
        return None if measured is None else read(measured)
    return value


DL1, DL4, UL1 = "download_1_stream", "download_4_streams", "upload_1_stream"
CPS, UDP, HOLD = "connection_rate", "udp_rtt", "held_connections"

ROWS = [
    Row("TCP download, 1 stream (Gbit/s)", _of(DL1, lambda m: m.gbps), "%.2f", DL1),
    Row("TCP download, 4 streams (Gbit/s)", _of(DL4, lambda m: m.gbps), "%.2f", DL4),
    Row("TCP upload, 1 stream (Gbit/s)", _of(UL1, lambda m: m.gbps), "%.2f", UL1),
    Row("TCP connections/s (connect+req+resp+close)", _of(CPS, lambda m: m.cps), "%.0f", CPS),
    Row("UDP request/response RTT p50 (µs)", _of(UDP, lambda m: m.p50_us), "%.0f", UDP),
    Row("UDP request/response RTT p99 (µs)", _of(UDP, lambda m: m.p99_us), "%.0f", UDP),
    Row("Translator CPU % during 1-stream download", _of(DL1, lambda m: m.cpu_pct), "%.0f", DL1),
    Row("Translator CPU % per Gbit/s (1-stream download)",
        _of(DL1, lambda m: _ratio(m.cpu_pct, m.gbps)), "%.1f", DL1),
    Row("  of which rtether relay", _of(DL1, lambda m: m.relay_cpu_pct), "%.0f", DL1),
    Row("Translator CPU % during 4-stream download", _of(DL4, lambda m: m.cpu_pct), "%.0f", DL4),
    Row("Translator CPU % during upload", _of(UL1, lambda m: m.cpu_pct), "%.0f", UL1),
    Row("Translator CPU % during connection test", _of(CPS, lambda m: m.cpu_pct), "%.0f", CPS),
    # % of one core for 1 s is 10 ms; per 1,000 connections.
    Row("Translator CPU ms per 1,000 connections",
        _of(CPS, lambda m: _ratio(m.cpu_pct, m.cps, 10000.0)), "%.0f", CPS),
    Row("Load generator CPU % (client / server) in connection test",
        _of(CPS, lambda m: (m.client_cpu_pct, m.server_cpu_pct)
            if m.server_cpu_pct is not None else None), "%.0f / %.0f", CPS),
    Row("Translator RSS at start (MiB)", lambda r: r.rss_start_mib, "%.1f", None),
    Row("Translator peak RSS after connection test (MiB)",
        lambda r: r.peak_rss_after_connections_mib, "%.1f", None),
    Row("Translator RSS with N connections open (MiB)", _of(HOLD, _held_rss_mib), "%.1f", HOLD),
    Row("  of which rtether relay (MiB)", _of(HOLD, lambda m: m.relay_rss_mib), "%.1f", HOLD),
    Row("Translator peak RSS at end (MiB)", lambda r: r.peak_rss_at_end_mib, "%.1f", None),
]


def _missing_cell(result, row):
    """What a cell without a number says: n/a (translator did not start),
    fail (its measurement failed) or — (not measured)."""
    if result.error is not None:
        return "n/a"
    if row.measurement and result.measured(row.measurement) is None \
            and getattr(result, row.measurement) is not None:
        return "fail"
    return "—"


# Ratio columns: rtether against each pasta measured in the same run.
RATIOS = (("rtether-direct", "pasta-2025"), ("rtether", "pasta-2025"), ("rtether", "pasta"))


def build_table(results, order, held_count):
    """(header, rows) of strings, columns in ORDER."""
    columns = [name for name in order if name in results]
    header = ["Metric"] + [("direct loopback" if c == "direct" else c) for c in columns]
    ratios = [(a, b) for a, b in RATIOS if a in columns and b in columns]
    header += ["%s÷%s" % pair for pair in ratios]
    rows = []
    for row in ROWS:
        label = row.label.replace("N connections", "%d connections" % held_count)
        if label.startswith("  of which") and not any(c.startswith("rtether") for c in columns):
            continue
        cells = [label]
        values = {}
        for column in columns:
            result = results[column]
            value = row.value(result)
            values[column] = value
            cells.append(_missing_cell(result, row) if value is None else row.format % value)
        for a_name, b_name in ratios:
            a, b = values.get(a_name), values.get(b_name)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
                cells.append("%.2f" % (a / b))
            else:
                cells.append("—")
        rows.append(cells)
    return header, rows


def text_table(header, rows):
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    out = []
    for j, cells in enumerate([header] + rows):
        out.append("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                             for i, c in enumerate(cells)))
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for cells in rows:
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


JSON_MEASUREMENT_NAMES = {DL1: "dl1", DL4: "dl4", UL1: "ul1", CPS: "cps", UDP: "udp",
                          HOLD: "hold"}


def notes(results, options):
    """Lines saying what failed, what was incomplete, and how rtether ran."""
    out = []
    for name, result in results.items():
        if result.error is not None:
            out.append("%s: %s" % (name, result.error))
            continue
        for key, error in result.failures():
            out.append("%s %s: %s" % (name, JSON_MEASUREMENT_NAMES[key], error))
        rate = result.measured(CPS)
        if rate is not None and rate.errors:
            out.append("%s connection test: %d failed connections (last: %s)" % (
                name, rate.errors, rate.last_err))
        rtt = result.measured(UDP)
        if rtt is not None and rtt.lost:
            out.append("%s UDP: %d of %d requests lost" % (name, rtt.lost, rtt.lost + rtt.n))
        held = result.measured(HOLD)
        if held is not None and held.opened < options.hold:
            out.append("%s: only %d of %d held connections opened (last error: %s)" % (
                name, held.opened, options.hold, held.last_err))
        if result.alive_at_end is False:
            out.append("%s: a translator process exited during the run" % name)
        if result.mode:
            out.append("%s ran in %s mode, peer %s" % (name, result.mode, result.peer))
    return out


def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "loadavg_end": load_average(), "kernel": platform.release(), "cpu": cpu,
            "cores": os.cpu_count(), "python": platform.python_version()}


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def versions(options):
    found = {}
    for name, cmd in (("iperf3", ["iperf3", "--version"]),
                      ("slirp4netns", ["slirp4netns", "--version"])):
        try:
            found[name] = run(cmd).stdout.splitlines()[0].strip()
        except Exception:  # noqa: BLE001
            found[name] = "?"
    try:
        found["pasta"] = run(["dpkg-query", "-W", "-f", "${Version}", "passt"]).stdout.strip()
    except Exception:  # noqa: BLE001
        found["pasta"] = "?"
    found["pasta-2025"] = "2c174f1 (2025-01-09, built from the anchor)"
    if getattr(options, "rtether_exe", None):
        try:
            found["wine"] = run(["wine", "--version"]).stdout.strip()
        except Exception:  # noqa: BLE001
            found["wine"] = "?"
    if options.rtether:
        try:
            r = run([options.rtether, "--version"])
            found["rtether"] = ((r.stdout or r.stderr).strip().splitlines()[0]
                                if r.returncode == 0 else options.rtether)
        except Exception:  # noqa: BLE001
            found["rtether"] = options.rtether
    return found


def settings_line(options):
    generator = getattr(options, "load_generator", "python")
    return ("%d s per throughput/connection test, MTU %d, %d connection workers, "
            "%d UDP requests, %d held connections, %s TCP load generator" % (
                options.seconds, options.mtu, options.cps_workers, options.udp_count,
                options.hold, "C (bench/load/tcp_load.c)" if generator == "c" else "Python"))


def print_report(info, options, header, rows, note_lines):
    print()
    print("rtether benchmark, %s, %s (%d cores), kernel %s, load average %s at start, %s at end"
          % (info["date"], info["cpu"], info["cores"], info["kernel"], info["loadavg_start"],
             info["loadavg_end"]))
    print(settings_line(options))
    print()
    print(text_table(header, rows))
    if note_lines:
        print()
        for line in note_lines:
            print("note:", line)


def write_markdown(path, info, command, found_versions, options, header, rows, note_lines):
    with open(path, "w") as f:
        f.write("Measured %s on %s (%d cores), kernel %s; load average %s at start, "
                "%s at end.\n\n" % (info["date"], info["cpu"], info["cores"], info["kernel"],
                                     info["loadavg_start"], info["loadavg_end"]))
        f.write("Command: `%s`\n\n" % command)
        f.write("Versions: %s\n\n" % ", ".join("%s %s" % kv for kv in found_versions.items()))
        f.write(settings_line(options) + ".\n\n")
        f.write(markdown_table(header, rows) + "\n")
        if note_lines:
            f.write("\n" + "\n".join("- " + x for x in note_lines) + "\n")


def write_json(path, info, command, found_versions, options, results, header, rows, note_lines):
    with open(path, "w") as f:
        json.dump({"machine": info, "versions": found_versions, "command": command,
                   "options": dict(vars(options)),
                   "results": {name: r.to_json() for name, r in results.items()},
                   "table": {"header": header, "rows": rows}, "notes": note_lines},
                  f, indent=2, default=str)
