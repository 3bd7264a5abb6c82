"""`autorun`, `autostart` and the live status with rtether.exe under Wine: the
Linux tests of tests/e2e/test_autorun.py, imported and run with `rtether` =
`wine rtether.exe` and the Windows adb stand-in (wine_host.py): devices that
come, go and come back, a long device list, the adb server going away and
back, Ctrl+C (Wine turns the test's SIGINT into a console CTRL_C_EVENT) and
the plain status lines in a pipe. On a terminal, Wine's console (a Unix pty
behind it) passes rtether.exe's VT sequences on character by character with
its own cursor sequences around each: those are taken out before the Linux
checks. test_background_job_draws_nothing has no Windows counterpart (a
console has no foreground job: every program on it may draw)."""

import re

import pytest

from wine_host import adb_world_class, rtether, wine_prefix  # noqa: F401 (fixtures)
from test_autorun import autorun_on_a_terminal, check_status_block
from test_autorun import (  # noqa: F401 (collected here, against rtether.exe)
    test_ctrl_c_cancels_a_start_under_way, test_devices_appear_disappear_reappear,
    test_long_device_list, test_no_server_at_start_retries, test_plain_status_lines,
    test_server_goes_away_and_comes_back, test_usb_permissions_hint)


def without_wine_console_sequences(out):
    """What rtether.exe wrote, from what Wine's tty console shows: its cursor
    hiding around each character gone, a blank drawn as erase-and-step back
    to a blank, its CR before each LF dropped."""
    out = out.replace("\x1b[?25l", "").replace("\x1b[?25h", "")
    out = out.replace("\x1b[K\x1b[1C", " ")
    return re.sub(r"\r+\n", "\n", out)


@pytest.mark.world(devices={"AAA": "device"}, installed={"AAA": 9})
def test_terminal_status_block(rtether, world):
    out, rc = autorun_on_a_terminal(rtether, world)
    check_status_block(without_wine_console_sequences(out), rc)
