"""The Windows release (scripts/package-windows.sh): rtether.exe imports only
DLLs Windows ships; the zip holds rtether.exe, rtether-run.cmd and
README-windows.txt; and, unpacked with adb.exe (the Windows adb stand-in,
wine_host.py) and gnirehtet.apk beside rtether.exe, rtether-run.cmd runs
`rtether.exe run` from its folder under Wine's cmd, stops on Ctrl+C without a
pause and pauses on an error. adb and the apk are found next to rtether.exe
from any current directory (adb/host_files.hpp)."""

import os
import shutil
import signal
import subprocess
import time
import zipfile

import pytest

import harness
from adb_env import adb_get_serialno, adb_install, adb_start_sequence
from harness import check
from wine_host import adb_world_class, rtether, wine_prefix, stand_in_path  # noqa: F401

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ZIP_NAME = "rtether-windows-x86_64.zip"
ZIP_FILES = {"rtether.exe", "rtether-run.cmd", "README-windows.txt"}
# Windows 10's System32 has them all; the C++ runtime, libgcc and winpthreads
# are linked into rtether.exe.
SYSTEM_DLLS = {"advapi32.dll", "bcrypt.dll", "iphlpapi.dll", "kernel32.dll", "msvcrt.dll", "shell32.dll",
               "user32.dll", "ws2_32.dll"}
SERIAL = "0123456789ABCDEF"


def windows_path(path):
    """The path Wine's Z: drive gives a Unix path."""
    return "Z:" + path.replace("/", "\\")


def imported_dlls(exe):
    out = subprocess.run(["x86_64-w64-mingw32-objdump", "-p", exe], capture_output=True,
                         text=True, check=True).stdout
    return {line.split("DLL Name:")[1].strip() for line in out.splitlines() if "DLL Name:" in line}


@pytest.fixture(scope="module")
def release_zip(wine_prefix):
    build = os.path.dirname(wine_prefix.exe)
    subprocess.run([os.path.join(REPO, "scripts", "package-windows.sh"), build], check=True,
                   capture_output=True, timeout=120)
    return os.path.join(build, ZIP_NAME)


@pytest.fixture
def unpacked(release_zip, world, wine_prefix):
    """The zip unpacked into a folder of the world's, with adb.exe and
    gnirehtet.apk put beside rtether.exe as its README says."""
    folder = os.path.join(world.tmp, "rtether-windows")
    with zipfile.ZipFile(release_zip) as z:
        z.extractall(folder)
    shutil.copy(stand_in_path(wine_prefix.exe), os.path.join(folder, "adb.exe"))
    shutil.copy(world.apk, os.path.join(folder, "gnirehtet.apk"))
    return folder


def release_env(world, wine_prefix):
    """The world's environment without ADB and GNIREHTET_APK: found by rtether."""
    env = world.env(**wine_prefix.environment)
    env.pop("ADB")
    env.pop("GNIREHTET_APK")
    return env


def test_exe_imports_only_dlls_windows_ships(wine_prefix):
    dlls = imported_dlls(wine_prefix.exe)
    check(dlls and {d.lower() for d in dlls} <= SYSTEM_DLLS,
          f"rtether.exe imports {sorted(dlls)}; beyond Windows' own: "
          f"{sorted(d for d in dlls if d.lower() not in SYSTEM_DLLS)}")


def test_zip_holds_the_exe_the_double_click_script_and_the_readme(release_zip, wine_prefix):
    with zipfile.ZipFile(release_zip) as z:
        check(set(z.namelist()) == ZIP_FILES, f"{release_zip}: {z.namelist()}")
        check(z.read("rtether.exe") == open(wine_prefix.exe, "rb").read(),
              "the zip's rtether.exe is not the build's")
        script = z.read("rtether-run.cmd").decode()
        readme = z.read("README-windows.txt").decode()
    check(all(line.endswith("\r") for line in script.split("\n")[:-1]),
          f"rtether-run.cmd lacks CRLF line ends: {script!r}")
    check('"%~dp0rtether.exe" run %*' in script and "pause" in script,
          f"rtether-run.cmd: {script!r}")
    for needed in ("adb.exe", "gnirehtet.apk", "rtether-run.cmd", "Ctrl+C", "ADB",
                   "GNIREHTET_APK"):
        check(needed in readme, f"README-windows.txt does not mention {needed}")


@pytest.mark.world(devices={SERIAL: "device"})
def test_adb_and_apk_are_found_next_to_rtether_from_anywhere(unpacked, world, wine_prefix):
    # The current directory holds no apk: the one beside rtether.exe is used.
    elsewhere = os.path.join(world.tmp, "elsewhere")
    os.mkdir(elsewhere)
    mark = world.server.mark()
    r = subprocess.run(["wine", os.path.join(unpacked, "rtether.exe"), "install"], cwd=elsewhere,
                       env=release_env(world, wine_prefix), capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    check(r.returncode == 0, f"install from the folder: {r.returncode} {r.stderr!r}")
    apk = windows_path(os.path.join(unpacked, "gnirehtet.apk"))
    check(world.adb_calls() == [f"install -r {apk}"],
          f"adb beside rtether.exe not run with the apk beside it: {world.adb_calls()}")
    got = world.server.requests_since(mark)
    check(got == adb_install(None, world.apk_size), f"install requests: {got}")


def rtether_pids(folder):
    """The Wine processes running the unpacked rtether.exe."""
    name = os.path.join(folder, "rtether.exe").encode()
    marker = windows_path(os.path.join(folder, "rtether.exe")).encode().lower()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if name in cmdline or marker in cmdline.lower():
                pids.append(int(entry))
    return pids


@pytest.mark.world(devices={SERIAL: "device"}, installed={SERIAL: 9})
def test_double_click_runs_run_until_ctrl_c(unpacked, world, wine_prefix):
    port = harness.free_tcp_port()
    log_path = os.path.join(world.tmp, "cmd.log")
    with open(log_path, "wb") as log:
        cmd = subprocess.Popen(["wine", "cmd", "/c", windows_path(os.path.join(unpacked,
                                                                            "rtether-run.cmd")),
                                "-p", str(port)], cwd=world.tmp,
                               env=release_env(world, wine_prefix), stdin=subprocess.DEVNULL,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        world.server.wait_for(lambda s: any(".START" in c for _, c in s.am_starts), 30,
                              "rtether-run.cmd to start the device")
        got = world.server.requests_since()
        check(got == adb_get_serialno() + adb_start_sequence(SERIAL, port),
              f"run's requests: {got}")
        pids = rtether_pids(unpacked)
        check(len(pids) == 1, f"rtether.exe processes of the folder: {pids}")
        deadline = time.monotonic() + 10
        while not harness._tcp_listening(port):
            check(time.monotonic() < deadline, "run's relay is not listening")
            time.sleep(0.05)
        os.kill(pids[0], signal.SIGINT)  # Ctrl+C, as Wine delivers it to rtether.exe
        rc = cmd.wait(timeout=30)
    finally:
        if cmd.poll() is None:
            cmd.kill()
            cmd.wait(10)
    output = open(log_path, errors="replace").read()
    check(rc == 0, f"rtether-run.cmd after Ctrl+C: exit {rc}: {output}")
    check(any(".STOP" in c for _, c in world.server.am_starts), "Ctrl+C did not stop the app")
    check("Press any key" not in output, f"a pause after a clean stop: {output}")


@pytest.mark.world(devices={})
def test_double_click_pauses_on_an_error(unpacked, world, wine_prefix):
    r = subprocess.run(["wine", "cmd", "/c",
                        windows_path(os.path.join(unpacked, "rtether-run.cmd"))],
                       cwd=world.tmp, env=release_env(world, wine_prefix), input="x\n",
                       capture_output=True, text=True, timeout=60)
    output = r.stdout + r.stderr
    check("no device connected" in output, f"rtether-run.cmd without a phone: {output!r}")
    check("Press any key" in output, f"no pause after the error: {output!r}")
