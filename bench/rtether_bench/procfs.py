"""What the bench reads from /proc: process trees, CPU time, memory."""

import os
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (state first)."""
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    return stat[stat.rfind(")") + 2:].split()


def children_map():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            parent = int(_stat_fields(int(entry))[1])
        except OSError:
            continue
        children.setdefault(parent, []).append(int(entry))
    return children


def descendants(pids):
    """PIDS and every process below them."""
    children = children_map()
    out, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_ticks(pid):
    """utime + stime in clock ticks, None if the process is gone."""
    try:
        fields = _stat_fields(pid)
        return int(fields[11]) + int(fields[12])
    except OSError:
        return None


def start_time(pid):
    """The start time of a live process (its identity with the PID), None if
    gone or a zombie."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return None
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def status_kib(pid, key):
    """A kB field of /proc/PID/status (VmRSS, VmHWM), None if unknown."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def memory_mib(pids, key):
    """The sum of a /proc/PID/status field over PIDS, in MiB."""
    values = [status_kib(p, key) for p in pids]
    values = [v for v in values if v is not None]
    return sum(values) / 1024.0 if values else None


def command_name(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


def tcp_listening(port):
    want = ":%04X" % port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[1].endswith(want) and parts[3] == "0A":
                        return True
        except OSError:
            pass
    return False


class CpuMeter:
    """utime+stime of a set of processes over a wall-clock window, as % of
    one core."""

    def __init__(self, pids):
        self.pids = list(pids)
        self.started = time.monotonic()
        self.ticks_at_start = {p: cpu_ticks(p) for p in self.pids}

    def percent_by_pid(self):
        elapsed = time.monotonic() - self.started
        out = {}
        for pid in self.pids:
            before, now = self.ticks_at_start.get(pid), cpu_ticks(pid)
            if before is not None and now is not None and elapsed > 0:
                out[pid] = 100.0 * (now - before) / CLOCK_TICKS / elapsed
        return out

    def percent(self):
        elapsed = time.monotonic() - self.started
        total = 0
        for pid in self.pids:
            before, now = self.ticks_at_start.get(pid), cpu_ticks(pid)
            if before is not None and now is not None:
                total += now - before
        return 100.0 * total / CLOCK_TICKS / elapsed if elapsed > 0 else None
