"""The device services a virtual phone offers on a stream the adb server
opened (SERVICES.TXT "LOCAL SERVICES", SYNC.TXT), as far as Gnirehtet's host
commands use them through adb 29:

  shell:CMD   CMD's output, then close (no shell_v2: no exit status)
              dumpsys package P, pm install/uninstall, cmd package uninstall,
              rm, am start / am startservice (Gnirehtet's START and STOP)
  exec:CMD    the same without a shell; `cmd package install ... -S SIZE`
              reads SIZE apk bytes from the stream first (streamed install)
  sync:       SYNC.TXT: STAT, SEND (DATA chunks, DONE), QUIT (adb push)
  reverse:... forward:[norebind:]LOCAL;REMOTE, killforward:LOCAL,
              killforward-all, list-forward (reverse_forwards.py)

Any other service is refused (CLSE), as adbd does for what it lacks. Every
service request and its outcome is a line in the phone's event log. A slow
phone (`answer_delays`) holds a shell answer back after the command acted,
until the delay ends or the server closes the stream (its client was
killed)."""

import hashlib
import os
import re
import shlex
import struct
import threading

from reverse_forwards import ForwardError, ReverseForwards
from transport import StreamClosed

PACKAGE = "com.genymobile.gnirehtet"
ACTIVITY = f"{PACKAGE}/.GnirehtetActivity"
SERVICE = f"{PACKAGE}/.GnirehtetService"
START = f"{PACKAGE}.START"
STOP = f"{PACKAGE}.STOP"
# Any apk installed on a virtual phone becomes Gnirehtet at this version
# (the host commands install when dumpsys shows another versionCode).
INSTALLED_VERSION_CODE = 9

SYNC_HEADER = struct.Struct("<4sI")
SYNC_DATA_MAX = 64 * 1024  # SYNC.TXT: "Each chunk must not be larger than 64k"
SYNC_PATH_MAX = 1024


def _protocol_string(text):
    data = text.encode()
    return b"%04x" % len(data) + data


class Services:
    def __init__(self, state, app, log, answer_delays=None):
        self.state = state
        self.app = app
        self.log = log
        # Seconds a shell command's answer waits after it acted, by a text
        # the command holds ("dumpsys", "gnirehtet.START"): a slow phone,
        # for a Ctrl+C while adb waits.
        self.answer_delays = dict(answer_delays or {})
        self.forwards_lock = threading.Lock()
        self.forwards = {}  # transport -> ReverseForwards

    def open(self, transport, stream, service):
        """Runs one service on `stream` (in the stream's own thread)."""
        self.state.event("service", service=service, stream=stream.local_id)
        try:
            if service.startswith("shell:"):
                stream.accept()
                command = service[len("shell:"):]
                answer = self.command(command, None)
                delay = next((seconds for text, seconds in self.answer_delays.items()
                              if text in command), 0.0)
                if delay:
                    self.state.event("answer-delayed", service=service, seconds=delay)
                    stream.wait_closed(delay)
                stream.write(answer.encode())
            elif service.startswith("exec:"):
                stream.accept()
                stream.write(self.command(service[len("exec:"):], stream).encode())
            elif service == "sync:":
                stream.accept()
                self.sync(stream)
            elif service.startswith("reverse:"):
                stream.accept()
                stream.write(self.reverse(transport, service[len("reverse:"):]))
            else:
                self.log(f"refused service {service!r}")
                self.state.event("refused", service=service)
                stream.refuse()
                return
        except (StreamClosed, OSError) as e:
            self.log(f"{service!r}: {e}")
        stream.close()

    # --- shell and exec -------------------------------------------------------
    def command(self, text, stream):
        try:
            words = [w for w in shlex.split(text) if not w.startswith("<")]
        except ValueError as e:
            return f"/system/bin/sh: syntax error: {e}\n"
        if not words:
            return ""
        program, args = words[0], words[1:]
        if program == "dumpsys" and args[:1] == ["package"] and len(args) == 2:
            return self.dumpsys_package(args[1])
        if program == "cmd" and args[:1] == ["package"]:
            return self.package_manager(args[1:], stream)
        if program == "pm":
            return self.package_manager(args, None)
        if program == "rm":
            return self.remove_files(args)
        if program == "am" and args[:1] in (["start"], ["startservice"]):
            return self.activity_manager(args[0], args[1:])
        return f"/system/bin/sh: {program}: inaccessible or not found\n"

    def dumpsys_package(self, name):
        out = "Activity Resolver Table:\n  Non-Data Actions:\n\n"
        package = self.state.package(name)
        if package is not None:
            out += (f"Packages:\n  Package [{name}] (5d1e3a0):\n    userId=10123\n"
                    f"    versionCode={package['versionCode']} minSdk=21 targetSdk=29\n"
                    f"    versionName=2.5\n")
        return out

    def package_manager(self, args, stream):
        if args[:1] == ["install"]:
            options = args[1:]
            if "-S" in options:
                # Streamed install: the apk follows on the stream itself.
                at = options.index("-S")
                if stream is None or at + 1 >= len(options) or not options[at + 1].isdigit():
                    return "Error: -S SIZE needs the apk on an exec: stream\n"
                apk = stream.read_exact(int(options[at + 1]))
                return self._install(apk, "streamed")
            paths = [o for o in options if not o.startswith("-")]
            local = self.state.file_path(paths[-1]) if paths else None
            if local is None or not os.path.isfile(local):
                return "Failure [INSTALL_FAILED_INVALID_URI]\n"
            with open(local, "rb") as f:
                return self._install(f.read(), "pushed " + paths[-1])
        if args[:1] == ["uninstall"] and len(args) == 2:
            found = self.state.uninstall(args[1])
            self.state.event("uninstall", package=args[1], found=found)
            return "Success\n" if found else "Failure [DELETE_FAILED_INTERNAL_ERROR]\n"
        return f"Unknown command: {' '.join(args[:1])}\n"

    def _install(self, apk, how):
        record = self.state.install(PACKAGE, INSTALLED_VERSION_CODE, apk)
        self.log(f"installed {PACKAGE} ({how}, {len(apk)} bytes)")
        self.state.event("install", package=PACKAGE, how=how, **record)
        return "Success\n"

    def remove_files(self, args):
        out = ""
        for path in (a for a in args if not a.startswith("-")):
            local = self.state.file_path(path)
            try:
                os.unlink(local)
                self.state.event("rm", path=path)
            except (OSError, TypeError):
                out += f"rm: {path}: No such file or directory\n"
        return out

    def activity_manager(self, verb, args):
        action = component = None
        extras = {}
        i = 0
        while i < len(args):
            if args[i] == "-a" and i + 1 < len(args):
                action = args[i + 1]
                i += 2
            elif args[i] == "-n" and i + 1 < len(args):
                component = args[i + 1]
                i += 2
            elif args[i] == "--esa" and i + 2 < len(args):
                extras[args[i + 1]] = args[i + 2]
                i += 3
            else:
                return f"Error: unknown option: {args[i]}\n"
        self.state.event("am", verb=verb, action=action, component=component, extras=extras)
        expected = ACTIVITY if verb == "start" else SERVICE
        intent = (f"Intent {{ act={action} cmp={component}"
                  f"{' (has extras)' if extras else ''} }}")
        head = f"Starting: {intent}\n" if verb == "start" else f"Starting service: {intent}\n"
        if component != expected or self.state.package(PACKAGE) is None:
            if verb == "start":
                return (head + "Error type 3\n"
                        f"Error: Activity class {{{component}}} does not exist.\n")
            return head + "Error: Not found; no service started.\n"
        if action == START:
            self.app.start(extras.get("dnsServers"), extras.get("routes"))
        elif action == STOP:
            self.app.stop()
        return head

    # --- sync -------------------------------------------------------------------
    def sync(self, stream):
        """SYNC.TXT requests until QUIT or the end of the stream."""
        while True:
            try:
                request, length = SYNC_HEADER.unpack(stream.read_exact(SYNC_HEADER.size))
            except StreamClosed:
                return
            if request == b"QUIT":
                return
            if length > SYNC_PATH_MAX:
                stream.write(self._sync_fail(f"path of {length} bytes"))
                return
            path = stream.read_exact(length).decode(errors="replace")
            if request == b"STAT":
                stream.write(self._sync_stat(path))
            elif request == b"SEND":
                reply = self._sync_receive(stream, path)
                if reply is None:
                    return
                stream.write(reply)
            else:
                stream.write(self._sync_fail(f"unsupported sync request {request!r}"))
                return

    def _sync_stat(self, path):
        local = self.state.file_path(path)
        try:
            info = os.stat(local)
            values = (info.st_mode, info.st_size, int(info.st_mtime))
        except (OSError, TypeError):
            values = (0, 0, 0)  # stat v1 has no error field: all zero means missing
        return b"STAT" + struct.pack("<3I", *values)

    @staticmethod
    def _sync_fail(message):
        data = message.encode()
        return SYNC_HEADER.pack(b"FAIL", len(data)) + data

    def _sync_receive(self, stream, path_and_mode):
        """SEND: DATA chunks until DONE; the OKAY or FAIL reply (None when
        the stream broke off)."""
        path, _, mode = path_and_mode.rpartition(",")
        local = self.state.file_path(path)
        digest = hashlib.sha256()
        chunks = []
        size = 0
        while True:
            try:
                request, length = SYNC_HEADER.unpack(stream.read_exact(SYNC_HEADER.size))
            except StreamClosed:
                return None
            if request == b"DONE":
                break
            if request != b"DATA" or length > SYNC_DATA_MAX:
                return self._sync_fail(f"expected DATA of at most {SYNC_DATA_MAX} bytes, "
                                       f"got {request!r} of {length}")
            data = stream.read_exact(length)
            digest.update(data)
            chunks.append(data)
            size += length
        if local is None or not re.fullmatch(r"\d+", mode):
            return self._sync_fail(f"bad destination '{path_and_mode}'")
        os.makedirs(os.path.dirname(local), exist_ok=True)
        with open(local, "wb") as f:
            f.write(b"".join(chunks))
        self.state.event("push", path=path, size=size, sha256=digest.hexdigest())
        return SYNC_HEADER.pack(b"OKAY", 0)

    # --- reverse ----------------------------------------------------------------
    def _forget_forwards(self, transport):
        with self.forwards_lock:
            self.forwards.pop(transport, None)

    def reverse(self, transport, command):
        with self.forwards_lock:
            forwards = self.forwards.get(transport)
            new = forwards is None
            if new:
                forwards = ReverseForwards(transport, self.state, self.log)
                self.forwards[transport] = forwards
        if new:
            transport.when_closed(lambda: self._forget_forwards(transport))
        try:
            if command == "list-forward":
                return _protocol_string(forwards.listing())
            if command == "killforward-all":
                forwards.remove_all()
                return b"OKAY"
            if command.startswith("killforward:"):
                forwards.remove(command[len("killforward:"):])
                return b"OKAY"
            if command.startswith("forward:"):
                spec = command[len("forward:"):]
                no_rebind = spec.startswith("norebind:")
                if no_rebind:
                    spec = spec[len("norebind:"):]
                local, _, remote = spec.partition(";")
                if not local or not remote:
                    raise ForwardError(f"bad forward: {spec}")
                forwards.add(local, remote, no_rebind)
                return b"OKAY"
        except ForwardError as e:
            return b"FAIL" + _protocol_string(str(e))
        return b"FAIL" + _protocol_string(f"unknown reverse command: {command}")
