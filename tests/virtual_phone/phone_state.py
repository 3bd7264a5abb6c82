"""What a virtual phone keeps across restarts of its daemon (an unplugged
phone keeps its apps and files): the installed packages (state.json), the
files pushed through the sync service (files/ mirrors the phone's paths),
and an event log (events.jsonl, one JSON object a line) that tests read to
see what the phone was asked to do and what it did."""

import hashlib
import json
import os
import threading
import time


class PhoneState:
    def __init__(self, directory):
        self.directory = directory
        self.lock = threading.Lock()
        os.makedirs(os.path.join(directory, "files"), exist_ok=True)

    # --- packages -----------------------------------------------------------
    def _state_path(self):
        return os.path.join(self.directory, "state.json")

    def _load(self):
        try:
            with open(self._state_path()) as f:
                return json.load(f)
        except FileNotFoundError:
            return {"packages": {}}

    def _save(self, state):
        path = self._state_path()
        with open(path + ".new", "w") as f:
            json.dump(state, f)
        os.replace(path + ".new", path)

    def package(self, name):
        with self.lock:
            return self._load()["packages"].get(name)

    def install(self, name, version_code, apk):
        record = {"versionCode": version_code, "size": len(apk),
                  "sha256": hashlib.sha256(apk).hexdigest()}
        with self.lock:
            state = self._load()
            state["packages"][name] = record
            self._save(state)
        return record

    def uninstall(self, name):
        """True if the package was there."""
        with self.lock:
            state = self._load()
            found = state["packages"].pop(name, None) is not None
            self._save(state)
        return found

    # --- files --------------------------------------------------------------
    def file_path(self, device_path):
        """Where a phone path lives on the host; None for a path outside /."""
        if not device_path.startswith("/") or ".." in device_path.split("/"):
            return None
        return os.path.join(self.directory, "files", device_path.lstrip("/"))

    # --- events -------------------------------------------------------------
    def event(self, kind, **fields):
        record = {"time": round(time.time(), 3), "daemon": os.getpid(), "kind": kind, **fields}
        with self.lock:
            with open(os.path.join(self.directory, "events.jsonl"), "a") as f:
                f.write(json.dumps(record) + "\n")
