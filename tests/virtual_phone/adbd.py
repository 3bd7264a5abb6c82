#!/usr/bin/env python3
"""A virtual phone's adb daemon: listens on TCP (`adb connect ADDR:PORT`
attaches it to a real adb server), speaks the adb transport protocol
(transport.py) and offers the services Gnirehtet's host commands use
(services.py). Run it inside the phone's network namespace:

    ip netns exec NS python3 tests/virtual_phone/adbd.py --listen 198.51.100.2:5555 \\
        --netns NS --state DIR --rtether build/rtether

The CNXN banner is "device::ro.product.name=...;ro.product.model=...;
ro.product.device=...;features=FEATURES". Features choose the paths adb 29's
client takes (client/adb_install.cpp, commandline.cpp):
  "cmd"        `adb install` streams: exec:cmd package 'install' ... -S SIZE,
               `adb uninstall` runs shell:cmd package 'uninstall' ...
  "" (none)    `adb install` pushes through sync: (STAT, SEND/DATA/DONE, QUIT)
               and runs shell:pm 'install' ..., then shell:rm ...;
               `adb uninstall` runs shell:pm 'uninstall' ...
Neither lists shell_v2 (the client then uses shell: with output until close,
no exit status, as rtether's GnirehtetApp expects) nor abb_exec (it would
replace exec:cmd package with abb_exec:).

SIGTERM or SIGINT: the phone is unplugged. Connections and reverse forwards
close; the app (gnirehtet_app.py) keeps running, as on a real phone."""

import argparse
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gnirehtet_app import GnirehtetApp  # noqa: E402
from phone_state import PhoneState  # noqa: E402
from services import Services  # noqa: E402
from transport import Transport  # noqa: E402

DEFAULT_FEATURES = "cmd"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}.{int(time.time() * 1000) % 1000:03} adbd] {message}",
          flush=True)


def banner(product, model, device, features):
    # adb.cpp parse_banner splits on ':' then ';' then '=': no value may hold those.
    for value in (product, model, device, features):
        if any(c in value for c in ":;="):
            raise ValueError(f"banner value {value!r} holds one of ':;='")
    return (f"device::ro.product.name={product};ro.product.model={model};"
            f"ro.product.device={device};features={features}")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", required=True, metavar="ADDR:PORT")
    parser.add_argument("--netns", required=True, help="the phone's network namespace (the app's)")
    parser.add_argument("--state", required=True, metavar="DIR", help="kept across restarts")
    parser.add_argument("--rtether", required=True, help="the rtether binary the app runs")
    parser.add_argument("--mode", choices=("device", "unauthorized", "offline"), default="device")
    parser.add_argument("--features", default=DEFAULT_FEATURES, help="comma-separated")
    parser.add_argument("--product", default="rtether_vphone")
    parser.add_argument("--model", default="Virtual_Phone")
    parser.add_argument("--device", default="vphone")
    parser.add_argument("--skip-checksum", action="store_true",
                        help="answer version 0x01000001: payloads are not checksummed")
    parser.add_argument("--answer-delay", action="append", default=[], metavar="TEXT=SECONDS",
                        help="hold back the answer of shell commands holding TEXT (a slow phone)")
    args = parser.parse_args(argv)
    args.answer_delays = {}
    for item in args.answer_delay:
        text, _, seconds = item.rpartition("=")
        args.answer_delays[text] = float(seconds)
    return args


def main(argv):
    args = parse_arguments(argv)
    host, _, port = args.listen.rpartition(":")
    state = PhoneState(args.state)
    app = GnirehtetApp(state, os.path.abspath(args.rtether), args.netns, log)
    services = Services(state, app, log, args.answer_delays)
    identity = banner(args.product, args.model, args.device, args.features)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, int(port)))
    listener.listen(16)
    transports = []
    lock = threading.Lock()
    stopping = threading.Event()

    def serve(conn, peer):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport = Transport(conn, identity, args.mode, services.open, log,
                              skip_checksum=args.skip_checksum)
        with lock:
            transports.append(transport)
        log(f"connection from {peer[0]}:{peer[1]} ({args.mode})")
        state.event("transport-open", peer=f"{peer[0]}:{peer[1]}", mode=args.mode)
        transport.run()
        with lock:
            transports.remove(transport)
        state.event("transport-closed", peer=f"{peer[0]}:{peer[1]}")

    def accept_loop():
        while not stopping.is_set():
            try:
                conn, peer = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn, peer), daemon=True).start()

    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    threading.Thread(target=accept_loop, daemon=True).start()
    log(f"listening on {args.listen}: {identity}")
    state.event("daemon-start", listen=args.listen, banner=identity)
    while not stopping.wait(0.2):
        pass
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()
    with lock:
        current = list(transports)
    for transport in current:
        transport.close()
    state.event("daemon-stop")
    log("stopped (unplugged)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
