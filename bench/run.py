#!/usr/bin/env python3
"""Side-by-side benchmark: rtether vs pasta vs slirp4netns (plus a direct
host-loopback baseline).

Each translator gives a network namespace whose applications reach a server on
the host's loopback.  Servers run on 127.0.0.1 in the initial namespace, load
generators run inside the namespace (the Linux kernel is the device's TCP/IP
stack).  Python 3 standard library only; needs root, iperf3, iproute2,
nsenter; pasta (package passt) and slirp4netns for their columns; wine64
for rtether-wine (the Windows build's relay under Wine, Linux client).

    sudo python3 bench/run.py --rtether build/rtether [--quick]
        [--only rtether-direct,rtether,pasta,slirp4netns] [--markdown FILE] [--json FILE]
    sudo python3 bench/run.py --rtether build/rtether
        --rtether-exe build-windows/rtether.exe --only rtether-tcp,rtether-wine

Everything it creates (namespaces, processes) is removed on exit.  All traffic
stays on loopback and inside the namespaces it creates.  The parts live in
bench/rtether_bench/ (see its __init__.py).
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

from rtether_bench import native_load, processes, report
from rtether_bench.load_generators import helper_command, raise_nofile, run_helper, use_native
from rtether_bench.measurement import measure_translator
from rtether_bench.processes import free_port, log, stop
from rtether_bench.translators import TRANSLATORS, DirectLoopback


def parse_options():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rtether", help="path to the rtether binary")
    ap.add_argument("--rtether-exe",
                    help="path to the Windows rtether.exe, for rtether-wine (its relay under Wine)")
    ap.add_argument("--only",
                    default="rtether-direct,rtether-direct-1t,rtether,rtether-tcp,pasta-2025,pasta,"
                            "slirp4netns",
                    help="comma list of translators (rtether-direct,rtether-direct-1t,rtether,rtether-tcp,"
                         "rtether-wine,pasta-2025,pasta,slirp4netns)")
    ap.add_argument("--pasta-anchor", metavar="TARBALL",
                    help="passt source tarball for the pasta-2025 column (default "
                         "../shared/anchors/passt-2c174f1.tar.gz beside the repository)")
    ap.add_argument("--no-direct", action="store_true",
                    help="skip the direct host-loopback baseline column")
    ap.add_argument("--quick", action="store_true", help="2 s per test instead of 6 s")
    ap.add_argument("--seconds", type=int, help="seconds per throughput/connection test")
    ap.add_argument("--mtu", type=int, default=65520, help="MTU for every translator")
    ap.add_argument("--rtether-mode", choices=["auto", "separate", "shell"], default="auto",
                    help="separate: relay + client --netns (default, falls back to shell)")
    ap.add_argument("--rtether-link", choices=["tcp", "unix"], default="unix",
                    help="relay link in separate mode (TCP 127.0.0.1 or abstract UNIX)")
    ap.add_argument("--cps-workers", type=int, default=16,
                    help="concurrent connections in the connection-rate client")
    ap.add_argument("--load-generator", choices=["c", "python"], default="c",
                    help="TCP server and connection-rate client: C (bench/load/tcp_load.c, "
                         "built with cc and cached; default) or the Python helpers")
    ap.add_argument("--udp-count", type=int, default=None, help="UDP requests (default 2000)")
    ap.add_argument("--hold", type=int, default=1500,
                    help="connections held open for the RSS test (0 = skip)")
    ap.add_argument("--markdown", help="write the table (and notes) as Markdown to FILE")
    ap.add_argument("--json", help="write raw results as JSON to FILE")
    ap.add_argument("--logdir", help="directory for translator logs (default: temp dir)")
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap.parse_args()


def start_server(kind, port, servers):
    """A TCP or UDP server on 127.0.0.1:PORT for the translators' clients
    (added to SERVERS, which are stopped at the end)."""
    server = subprocess.Popen(helper_command(kind, port), stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True)
    servers.append(server)
    if server.stdout.readline().strip() != "LISTENING":
        sys.exit("could not start the %s helper" % kind)
    return server


def main():
    options = parse_options()
    processes.VERBOSE = options.verbose

    if os.geteuid() != 0:
        sys.exit("run.py needs root (network namespaces): sudo python3 bench/run.py ...")
    for tool in ("ip", "iperf3", "nsenter"):
        if not shutil.which(tool):
            sys.exit("missing tool: %s" % tool)
    names = [n.strip() for n in options.only.split(",") if n.strip()]
    for name in names:
        if name not in TRANSLATORS:
            sys.exit("unknown translator %r (choose from %s)" % (name, ", ".join(TRANSLATORS)))
    if options.seconds is None:
        options.seconds = 2 if options.quick else 6
    if options.udp_count is None:
        options.udp_count = 500 if options.quick else 2000
    if options.rtether:
        options.rtether = os.path.abspath(options.rtether)
    if options.rtether_exe:
        options.rtether_exe = os.path.abspath(options.rtether_exe)
    temporary_logdir = not options.logdir
    if temporary_logdir:
        options.logdir = tempfile.mkdtemp(prefix="rtether-bench-")
    os.makedirs(options.logdir, exist_ok=True)
    raise_nofile()
    if options.load_generator == "c":
        use_native(native_load.build())

    # SIGTERM -> clean exit through the finally blocks.
    def on_term(*_):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)

    load_at_start = report.load_average()
    servers = []
    results = {}
    # Columns in TRANSLATORS order (rtether first, the pastas next to it).
    order = ([] if options.no_direct else ["direct"]) + [n for n in TRANSLATORS if n in names]
    try:
        options.udp_port = free_port(socket.SOCK_DGRAM)
        start_server("udpecho", options.udp_port, servers)
        log("UDP server on 127.0.0.1:%d; %d s per test; logs in %s" % (
            options.udp_port, options.seconds, options.logdir))
        for name in order:
            # A TCP server of its own on a fresh port for each column: the
            # connections of the column before leave tens of thousands of
            # TIME-WAIT sockets on the old port, which the next column's
            # connects would have to pick their ports around.
            options.tcp_port = free_port()
            options.probe_port = options.tcp_port
            tcp_server = start_server("tcpserver", options.tcp_port, servers)
            translator = (DirectLoopback if name == "direct" else TRANSLATORS[name])(options)
            log("=== %s (TCP server on 127.0.0.1:%d)" % (name, options.tcp_port))
            results[name] = measure_translator(translator, options, tcp_server.pid)
            stop(tcp_server, 1)
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
    finally:
        for server in servers:
            stop(server, 1)

    header, rows = report.build_table(results, order, options.hold)
    info = report.machine_info()
    info["loadavg_start"] = load_at_start
    found_versions = report.versions(options)
    note_lines = report.notes(results, options)
    report.print_report(info, options, header, rows, note_lines)
    command = "sudo python3 bench/run.py " + " ".join(sys.argv[1:])
    if options.markdown:
        report.write_markdown(options.markdown, info, command, found_versions, options, header,
                              rows, note_lines)
    if options.json:
        report.write_json(options.json, info, command, found_versions, options, results,
                          header, rows, note_lines)
    if temporary_logdir and not any(r.has_errors() for r in results.values()):
        shutil.rmtree(options.logdir, ignore_errors=True)
    else:
        print("logs: %s" % options.logdir)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_helper":
        try:
            run_helper(sys.argv[2:])
        except KeyboardInterrupt:
            pass
        sys.exit(0)
    sys.exit(main())
