"""A fake adb server for end-to-end tests: it speaks the adb server's host
protocol ("smart sockets") on 127.0.0.1, so Debian's real `adb` client and
rtether itself talk to it through ADB_SERVER_SOCKET=tcp:127.0.0.1:PORT.

It answers what adb 29's client sends for the commands rtether runs, learned
by logging that client's requests:
  host:version                      -> OKAY + "0029" (server version 41), close
  host:features / host-serial:S:features -> OKAY + feature list ("cmd"), close
  host:get-serialno                 -> OKAY + the only device's serial, close
  host:tport:any / host:tport:serial:S   -> OKAY + 8-byte transport id, then
                                           one service on the same connection:
    shell:CMD                         -> OKAY, CMD's output, close
    exec:cmd package 'install' ... -S N -> OKAY, read N bytes, "Success\n", close
    reverse:forward:LOCAL;REMOTE      -> OKAY OKAY, close
  host:track-devices                -> OKAY, then one framed device list per change
  host:track-devices-l              -> the same in the long form (adb's "%-22s %s", then
                                       model:Fake_<serial> for ready devices, transport_id)
Device selection fails as the real server does ("no devices/emulators found",
"more than one device/emulator", "device 'S' not found", "device unauthorized.").
Every request is recorded, in order, in `requests`.
"""

import re
import socket
import threading
import time

SERVER_VERSION = "0029"  # adb 1.0.41 (Debian's adb 29)
FEATURES = "cmd"  # no shell_v2: `shell:` services, output until close
PACKAGE = "com.genymobile.gnirehtet"

UNAUTHORIZED = ("device unauthorized.\nThis adb server's $ADB_VENDOR_KEYS is not set\n"
                "Try 'adb kill-server' if that seems wrong.\n"
                "Otherwise check for a confirmation dialog on your device.")


def frame(text):
    data = text.encode() if isinstance(text, str) else text
    return b"%04x" % len(data) + data


def _read_exact(conn, size):
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


class FakeAdbServer:
    def __init__(self, devices=None, installed=None, port=0):
        self.lock = threading.Lock()
        self.devices = dict(devices or {})          # serial -> state
        self.installed = dict(installed or {})      # serial -> versionCode
        self.requests = []                          # (serial or None, request)
        self.reverses = []                          # (serial, "local;remote")
        self.am_starts = []                         # (serial, command)
        self.installs = []                          # (serial, apk bytes)
        self.trackers = []
        self.stop_delay = 0.0  # seconds `am start ...STOP` takes to answer
        self.start_delay = 0.0  # seconds `am start ...START` takes to answer
        self.dumpsys_delay = 0.0  # seconds `dumpsys package` takes to answer
        self.delayed_answers = 0
        self.port = port
        self.sock = None
        self.running = False
        self.start()

    # --- lifecycle ---------------------------------------------------------
    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.running = True
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def stop(self):
        """The server goes away: listener and every connection closed."""
        self.running = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(2)
        with self.lock:
            trackers, self.trackers = self.trackers, []
        for conn, _ in trackers:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def address(self):
        return f"tcp:127.0.0.1:{self.port}"

    # --- test controls -------------------------------------------------------
    def set_devices(self, devices):
        with self.lock:
            self.devices = dict(devices)
            trackers = list(self.trackers)
            messages = {form: self._device_list_locked(form) for form in (False, True)}
        for conn, long_form in trackers:
            try:
                conn.sendall(frame(messages[long_form]))
            except OSError:
                pass

    def send_raw_to_trackers(self, data):
        with self.lock:
            trackers = list(self.trackers)
        for conn, _ in trackers:
            conn.sendall(data)

    def tracker_count(self):
        with self.lock:
            return len(self.trackers)

    def mark(self):
        with self.lock:
            return len(self.requests)

    def requests_since(self, mark=0):
        with self.lock:
            return [r for _, r in self.requests[mark:]]

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self):
                    return
            time.sleep(0.05)
        raise AssertionError(f"fake adb server: timed out after {timeout}s waiting for {what}; "
                             f"requests: {self.requests}")

    # --- protocol --------------------------------------------------------------
    def _device_list_locked(self, long_form=False):
        if not long_form:
            return "".join(f"{serial}\t{state}\n" for serial, state in self.devices.items())
        return "".join(f"{serial:<22} {state}{' model:Fake_' + serial if state == 'device' else ''}"
                       f" transport_id:{i + 1}\n"
                       for i, (serial, state) in enumerate(self.devices.items()))

    def _accept_loop(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _record(self, serial, request):
        with self.lock:
            self.requests.append((serial, request))

    def _select(self, serial):
        """(serial, None) or (None, failure text), as the real server decides."""
        with self.lock:
            devices = dict(self.devices)
        if serial is not None:
            if serial not in devices:
                return None, f"device '{serial}' not found"
            state = devices[serial]
        else:
            if not devices:
                return None, "no devices/emulators found"
            if len(devices) > 1:
                return None, "more than one device/emulator"
            serial, state = next(iter(devices.items()))
        if state == "unauthorized":
            return None, UNAUTHORIZED
        if state != "device":
            return None, f"device {state}"
        return serial, None

    def _serve(self, conn):
        keep = False
        try:
            conn.settimeout(30)
            serial = None
            while True:
                request = _read_exact(conn, int(_read_exact(conn, 4), 16)).decode()
                self._record(serial, request)
                if request == "host:version":
                    conn.sendall(b"OKAY" + frame(SERVER_VERSION))
                    return
                if request in ("host:track-devices", "host:track-devices-l"):
                    long_form = request.endswith("-l")
                    with self.lock:
                        conn.sendall(b"OKAY" + frame(self._device_list_locked(long_form)))
                        self.trackers.append((conn, long_form))
                    keep = True
                    return
                if request == "host:get-serialno":
                    chosen, failure = self._select(None)
                    conn.sendall(b"FAIL" + frame(failure) if failure else b"OKAY" + frame(chosen))
                    return
                m = re.fullmatch(r"host(?:-serial:(.+))?:features", request)
                if m:
                    chosen, failure = self._select(m.group(1))
                    conn.sendall(b"FAIL" + frame(failure) if failure else b"OKAY" + frame(FEATURES))
                    return
                m = re.fullmatch(r"host:(tport|transport)(?::serial:|:)(.+)|host:(tport:any|transport-any)",
                                 request)
                if m:
                    wanted = None if m.group(3) or m.group(2) == "any" else m.group(2)
                    chosen, failure = self._select(wanted)
                    if failure:
                        conn.sendall(b"FAIL" + frame(failure))
                        return
                    serial = chosen
                    conn.sendall(b"OKAY" + ((1).to_bytes(8, "little") if m.group(1) == "tport"
                                            or m.group(3) == "tport:any" else b""))
                    continue
                if serial is None:
                    conn.sendall(b"FAIL" + frame(f"unknown host service '{request}'"))
                    return
                self._service(conn, serial, request)
                return
        except (EOFError, OSError, ValueError):
            pass
        finally:
            if not keep:
                conn.close()

    def _service(self, conn, serial, request):
        if request.startswith("reverse:forward:"):
            with self.lock:
                self.reverses.append((serial, request[len("reverse:forward:"):]))
            conn.sendall(b"OKAY" + b"OKAY")
            return
        m = re.match(r"exec:cmd package 'install' .*-S (\d+)", request)
        if m:
            conn.sendall(b"OKAY")
            apk = _read_exact(conn, int(m.group(1)))
            with self.lock:
                self.installs.append((serial, apk))
                self.installed[serial] = 9
            conn.sendall(b"Success\n")
            return
        if request.startswith("shell:"):
            conn.sendall(b"OKAY" + self._shell(serial, request[len("shell:"):]).encode())
            return
        conn.sendall(b"FAIL" + frame(f"unknown service '{request}'"))

    def _shell(self, serial, command):
        if command == f"dumpsys package {PACKAGE}":
            if self.dumpsys_delay:
                time.sleep(self.dumpsys_delay)
            with self.lock:
                version = self.installed.get(serial)
            out = "Activity Resolver Table:\n  Non-Data Actions:\n\n"
            if version is not None:
                out += (f"Packages:\n  Package [{PACKAGE}] (1a2b3c):\n    userId=10123\n"
                        f"    versionCode={version} minSdk=21 targetSdk=29\n"
                        f"    versionName=2.5.1\n")
            return out
        if command.startswith("cmd package 'uninstall'") or command.startswith("pm uninstall"):
            with self.lock:
                found = self.installed.pop(serial, None) is not None
            return "Success\n" if found else "Failure [DELETE_FAILED_INTERNAL_ERROR]\n"
        if command.startswith("am start"):
            with self.lock:
                self.am_starts.append((serial, command))
            delay = self.stop_delay if ".STOP" in command else self.start_delay
            if delay:
                time.sleep(delay)
                self.delayed_answers += 1
            action = re.search(r"-a (\S+)", command)
            return (f"Starting: Intent {{ act={action.group(1) if action else '?'} "
                    f"cmp={PACKAGE}/.GnirehtetActivity }}\n")
        return ""
