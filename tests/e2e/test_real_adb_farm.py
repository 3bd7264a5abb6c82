"""A device farm: 32 virtual phones under one `rtether autorun` with Debian's
real adb server, each downloading 16 MiB at the same time from a host
loopback server through its own reverse tunnel (phone -> adbd -> adb server
-> relay). Every download is byte-exact, each phone's rate is within 30 % of
the mean (the relay serves its sessions fairly), and the relay's memory per
phone stays bounded: its RSS is printed idle (no phone), with the phones
connected, and at the peak of the downloads (VmHWM).

The 32 curls wait on one start line (a FIFO), then go together, and the
server answers none of them before all 32 have asked (a barrier): the
transfers start at once, not as each phone's connection got through on a
busy host (measured: the first phones done in under 0.5 s while the last
were still connecting). Each phone's rate is its 16 MiB over the time from
that common start (the barrier's release) to its body being complete (a
timestamp taken in the phone's namespace, same clock). After the downloads,
autorun's control socket must count at least 16 MiB sent to each serial.

Each phone has a CPU of its own (cpu_groups.py: a cgroup limited to
CPU_PER_PHONE): on 2 cores the farm is CPU-bound in the phones' own
processes, which real phones run on their own CPUs, and the relay's
fairness is what is tested.

Setup is parallel (farm.add_phones); the relay is autorun's own process, so
its RSS is autorun's."""

import json
import os
import socket
import subprocess
import threading
import time

import pytest

import harness
from harness import check
from adb_env import start_autorun, stop_cleanly, wait_log, wait_relaying

PHONES = 32
DOWNLOAD = 16 << 20
FAIRNESS = 0.30  # each phone's rate within this fraction of the mean
# The relay's RSS growth from idle to the downloads' peak, per phone: its
# own buffers per session and flow (a download's window queues, adb stream
# buffers), not the kernel's socket buffers. Measured ~0.3 MiB
# (docs/BENCHMARKS.md, "Device farm"); Gnirehtet's Java relay runs out of
# memory at ~40 phones.
RSS_GROWTH_PER_PHONE = 4 << 20
CURL_TIMEOUT = 60  # seconds, each download
# Half the machine shared by the phones, as CPUs of their own (cpu_groups.py);
# the other half is the relay's, the adb server's (one process for all 32)
# and the kernel's (the veths, loopback). With three quarters the path was
# short of CPU: 10 runs gave the slowest phone 0.73-0.88 of the mean, with
# half 8 runs gave 0.79-0.89 (2-core machine, 2026-12-04).
CPU_PER_PHONE = 0.5 * (os.cpu_count() or 2) / PHONES


def status_kib(pid, field):
    """A `field` of /proc/PID/status (VmRSS, VmHWM) in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def start_download(phone, port, go, expected_path):
    """curl in the phone's namespace once it reads its line from the FIFO
    `go`, its body compared with `expected_path` there; stdout says "same"
    or "differ", then the wall-clock time (`date +%s.%N`, one clock for
    every namespace) when the body was complete; stderr ends with curl's
    "SIZE TIME_STARTTRANSFER TIME_TOTAL"."""
    script = (f"read line < {go}; curl --noproxy '*' -sS --max-time {CURL_TIMEOUT} "
              f"-w '%{{stderr}}%{{size_download}} %{{time_starttransfer}} %{{time_total}}\\n' "
              f"http://{harness.HOST_ALIAS}:{port}/ | "
              f"(cmp -s - {expected_path} && echo same || echo differ); date +%s.%N")
    shell = subprocess.Popen(["ip", "netns", "exec", phone.ns, "sh", "-c", script],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    # The download joins the phone's CPU share (see cpu_groups.py), from
    # here: `ip netns exec` mounts a sysfs of the namespace's own, without
    # the cgroup hierarchies. It execs sh in the same process, and sh starts
    # curl only after the start line, so curl and cmp are in it too.
    phone.farm.cpu_groups.join(phone.cpu_group, shell.pid)
    return shell


def finish_download(phone, download):
    """("same" or "differ", bytes, when the body was complete (time.time()),
    curl's own transfer seconds) of a download started by start_download."""
    try:
        out, err = download.communicate(timeout=CURL_TIMEOUT + 10)
    except subprocess.TimeoutExpired:
        download.kill()
        out, err = download.communicate()
    check(download.returncode == 0, f"{phone.serial}: sh/curl exit {download.returncode}: {err}")
    lines = err.strip().splitlines()
    check(lines and len(lines[-1].split()) == 3, f"{phone.serial}: curl said {err!r}")
    size, started, total = lines[-1].split()
    words = out.split()
    check(len(words) == 2, f"{phone.serial}: the download shell said {out!r}")
    return words[0], int(size), float(words[1]), float(total) - float(started)


def bytes_to_devices(path):
    """{serial: bytes_to_device} from the relay's control socket (`status`,
    one JSON line each way: src/control/control_protocol.hpp)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect("\0" + path[1:])
        s.sendall(b'{"command":"status"}\n')
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            check(chunk, f"the control socket closed after {len(data)} bytes")
            data += chunk
    reply = json.loads(data)
    check(reply.get("ok") is True, f"status refused: {reply}")
    counted = {}
    for client in reply["clients"]:
        counted[client["serial"]] = counted.get(client["serial"], 0) + client["bytes_to_device"]
    return counted



@pytest.mark.timeout(150)
@pytest.mark.farm(cpu_per_phone=CPU_PER_PHONE)
def test_32_phones_download_at_once_byte_exact_fairly_in_bounded_memory(phone_farm,
                                                                        http_server):
    body = harness.deterministic_bytes(DOWNLOAD, 32)
    expected = "same"
    expected_path = os.path.join(phone_farm.tmp, "body")
    with open(expected_path, "wb") as f:
        f.write(body)
    # Each GET waits for all of them before it answers.
    released = []  # when the last GET arrived and all answers began (time.time())
    barrier = threading.Barrier(PHONES, action=lambda: released.append(time.time()),
                                timeout=CURL_TIMEOUT / 2)
    server = http_server(body, gate=barrier.wait)
    t0 = time.monotonic()
    control = "@" + harness.unique_name("rtether-e2e-farm-control")
    proc, _ = start_autorun(phone_farm, (), ["--status-interval", "5", "--control", control])
    wait_log(proc, "relay listening")
    idle_kib = status_kib(proc.pid, "VmRSS")
    phones = phone_farm.add_phones(PHONES, installed=9, skip_checksum=True)
    # autorun starts each phone as the server reports it, while the others
    # are still being set up.
    wait_relaying(phones, timeout=60)
    connected_kib = status_kib(proc.pid, "VmRSS")
    setup = time.monotonic() - t0

    # The start line: one line a phone in a FIFO the test holds open, so a
    # shell that opens it late still finds its line and never blocks.
    go = os.path.join(phone_farm.tmp, "go")
    os.mkfifo(go)
    gate = os.open(go, os.O_RDWR)
    try:
        downloads = [(phone, start_download(phone, server.port, go, expected_path)) for phone in phones]
        time.sleep(0.5)  # the shells are up and waiting on the FIFO
        t1 = time.monotonic()
        os.write(gate, b"go\n" * PHONES)
        results = [(phone,) + finish_download(phone, download) for phone, download in downloads]
        wall = time.monotonic() - t1
    finally:
        os.close(gate)
    peak_kib = status_kib(proc.pid, "VmHWM")

    for phone, same, size, _, _ in results:
        check(size == DOWNLOAD and same == expected,
              f"{phone.serial}: {size} of {DOWNLOAD} bytes, body {same}")
    check(len(released) == 1, "the server's barrier never released the answers")
    counted = bytes_to_devices(control)
    short = {phone.serial: counted.get(phone.serial, 0) for phone in phones
             if counted.get(phone.serial, 0) < DOWNLOAD}
    check(not short, f"the relay counted less than {DOWNLOAD} bytes to these devices: {short}")
    # Each phone's rate from the moment all 32 answers began to when its
    # body was complete: its share of the farm's transfer. (curl's own
    # transfer time, from its first byte, makes a phone whose first bytes
    # came late look fast: it only shows where the time went.)
    rates = {phone.serial: size / (done - released[0])
             for phone, _, size, done, _ in results}
    curl_rates = [size / seconds for _, _, size, _, seconds in results]
    mean = sum(rates.values()) / len(rates)
    growth = (peak_kib - idle_kib) * 1024 / PHONES
    print(f"\n{PHONES} phones: setup {setup:.1f} s, downloads {wall:.1f} s "
          f"({PHONES * DOWNLOAD / wall / 1e6:.1f} MB/s in all)")
    print(f"rate per phone: mean {mean / 1e6:.2f} MB/s, min {min(rates.values()) / 1e6:.2f} "
          f"({min(rates.values()) / mean:.2f} of the mean), max {max(rates.values()) / 1e6:.2f} "
          f"({max(rates.values()) / mean:.2f}); from each one's first byte (curl): "
          f"{min(curl_rates) / 1e6:.2f} to {max(curl_rates) / 1e6:.2f} MB/s")
    print(f"relay RSS: idle {idle_kib} KiB, {PHONES} phones connected {connected_kib} KiB "
          f"({(connected_kib - idle_kib) / PHONES:.0f} KiB per phone), peak {peak_kib} KiB "
          f"({growth / 1024:.0f} KiB per phone over idle)")
    unfair = {serial: f"{rate / 1e6:.2f} MB/s" for serial, rate in rates.items()
              if abs(rate - mean) > FAIRNESS * mean}
    check(not unfair, f"rates beyond {FAIRNESS:.0%} of the mean {mean / 1e6:.2f} MB/s: {unfair}")
    check(growth <= RSS_GROWTH_PER_PHONE,
          f"the relay grew by {growth / 1024:.0f} KiB per phone (limit "
          f"{RSS_GROWTH_PER_PHONE >> 10} KiB)")
    stop_cleanly(proc)
