"""A CPU of its own for each virtual phone, as real phones have: each phone's
processes (its adbd, the app it starts, and what a test runs in its
namespace) go into a cgroup of their own with the same CPU weight and the
same hard limit (`cpu_limit`, a fraction of one CPU: cpu.max, or the CFS
quota on v1), so the kernel shares the host's cores equally among phones
rather than among their threads, and no phone runs on CPU time another
left idle, as no real phone can. A farm of tens of phones on 2 cores is
CPU-bound in the phones (Python adbd, curl, the app): with weights alone
the first pipelines to get going ran on the others' idle time and finished
at up to 2.6 times the mean rate; with the limit, what differs between the
phones' rates is what the relay and the adb server give each.

Both cgroup layouts: v2 (/sys/fs/cgroup with the cpu controller, enabled in
our own subtree) and v1 (the cpu hierarchy at /sys/fs/cgroup/cpu). The farm's
group is `rtether-e2e-farm-PID-N`; `close()` moves nothing back (our
processes are gone by then) and removes the groups, retrying while exiting
tasks still hold them."""

import os
import time

import harness
from harness import check

V2_ROOT = "/sys/fs/cgroup"
V1_ROOT = "/sys/fs/cgroup/cpu"
REMOVE_TIMEOUT = 10  # seconds to wait for a group's last task to be gone


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _layout():
    """("v2", root) or ("v1", root); a failed check when neither has cpu."""
    try:
        with open(os.path.join(V2_ROOT, "cgroup.controllers")) as f:
            if "cpu" in f.read().split():
                return "v2", V2_ROOT
    except FileNotFoundError:
        pass
    if os.path.exists(os.path.join(V1_ROOT, "cpu.shares")):
        return "v1", V1_ROOT
    check(False, "no cgroup with the cpu controller (v2 /sys/fs/cgroup or v1 "
                 "/sys/fs/cgroup/cpu): virtual phones cannot get a CPU share each")


class CpuGroups:
    MIN_QUOTA_US = 1000  # the kernel's least quota per period

    def __init__(self, cpu_limit):
        """cpu_limit: the CPU time each group may use, as a fraction of one
        CPU (0.05: 5 % of every period). The period is the shortest that
        leaves the kernel's least quota (1 ms), and at least 5 ms: a phone
        throttled for most of a long period would run in bursts, which is
        not how a slow CPU of its own behaves."""
        check(0 < cpu_limit <= 64, f"cpu_limit {cpu_limit}: a fraction of one CPU")
        self.period_us = max(5000, int(self.MIN_QUOTA_US / cpu_limit) + 1)
        self.quota_us = max(self.MIN_QUOTA_US, int(cpu_limit * self.period_us))
        self.version, root = _layout()
        self.path = os.path.join(root, harness.unique_name("rtether-e2e-farm"))
        os.mkdir(self.path)
        if self.version == "v2":
            # Children get the cpu controller (needs it in the parent's own
            # subtree_control, which a systemd host already has).
            _write(os.path.join(self.path, "cgroup.subtree_control"), "+cpu")
        self.groups = []

    def new_group(self, name):
        """A group of the same weight and limit as every other; returns the
        file a PID is written to to join it."""
        path = os.path.join(self.path, name)
        os.mkdir(path)
        self.groups.append(path)
        if self.version == "v2":
            _write(os.path.join(path, "cpu.weight"), "100")
            _write(os.path.join(path, "cpu.max"), f"{self.quota_us} {self.period_us}")
        else:
            _write(os.path.join(path, "cpu.shares"), "1024")
            _write(os.path.join(path, "cpu.cfs_period_us"), str(self.period_us))
            _write(os.path.join(path, "cpu.cfs_quota_us"), str(self.quota_us))
        return os.path.join(path, "cgroup.procs")

    @staticmethod
    def join(procs_file, pid):
        _write(procs_file, str(pid))

    def close(self):
        """Removes the groups; the problems met (empty if none)."""
        problems = []
        for path in self.groups + [self.path]:
            deadline = time.monotonic() + REMOVE_TIMEOUT
            while True:
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    if time.monotonic() > deadline:
                        problems.append(f"cgroup {path} not removed: {e}")
                        break
                    time.sleep(0.05)
        self.groups = []
        return problems
