"""`adb reverse` on the phone (SERVICES.TXT, "reverse:<forward-command>"):
listeners on the phone whose connections become streams toward the adb
server, which connects them to the host's end (`tcp:PORT`).

A reverse forward belongs to its transport, as in adbd: when the adb server
goes away (phone unplugged, daemon stopped) every listener closes. Each
accepted connection opens OPEN(local-id, 0, REMOTE) on the transport; once
the server answers OKAY, two pumps copy bytes both ways (a socket read
becomes WRTEs, a WRTE becomes a socket write), and either end closing closes
both (adb streams have no half-close)."""

import socket
import threading

ACCEPT_POLL = 0.2  # seconds: how often an accept loop looks at its stop flag
RECV_SIZE = 64 * 1024


class ForwardError(Exception):
    pass


class Listener:
    def __init__(self, local, remote, sock):
        self.local = local
        self.remote = remote
        self.sock = sock
        self.stopping = threading.Event()
        self.thread = None

    def stop(self):
        # The accept loop's poll holds the socket until it returns: only
        # once that thread is gone is the name free to bind again.
        self.stopping.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(2 * ACCEPT_POLL + 1)
        self.sock.close()


def _listen(local):
    kind, _, name = local.partition(":")
    if kind == "localabstract" and name:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address = "\0" + name
    elif kind == "tcp" and name.isdigit():
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        address = ("127.0.0.1", int(name))
    else:
        raise ForwardError(f"cannot bind listener: unsupported socket '{local}'")
    try:
        sock.bind(address)
        sock.listen(64)
    except OSError as e:
        sock.close()
        raise ForwardError(f"cannot bind listener: {e.strerror}")
    sock.settimeout(ACCEPT_POLL)
    return sock


class ReverseForwards:
    def __init__(self, transport, state, log):
        self.transport = transport
        self.state = state
        self.log = log
        self.lock = threading.Lock()
        self.listeners = {}  # local -> Listener
        self.closed = False
        transport.when_closed(self.close)

    def close(self):
        """The transport is gone: every listener with it, and no new one."""
        with self.lock:
            self.closed = True
        self.remove_all()

    def add(self, local, remote, no_rebind):
        with self.lock:
            if self.closed:
                raise ForwardError("the adb server went away")
            old = self.listeners.get(local)
            if old is not None:
                if no_rebind:
                    raise ForwardError("cannot rebind existing socket")
                if old.remote == remote:
                    return
                del self.listeners[local]
                old.stop()
            listener = Listener(local, remote, _listen(local))
            self.listeners[local] = listener
        listener.thread = threading.Thread(target=self._accept_loop, args=(listener,), daemon=True)
        listener.thread.start()
        self.log(f"reverse {local} -> {remote}")
        self.state.event("reverse-forward", local=local, remote=remote)

    def remove(self, local):
        with self.lock:
            listener = self.listeners.pop(local, None)
        if listener is None:
            raise ForwardError(f"listener '{local}' not found")
        listener.stop()
        self.state.event("reverse-killforward", local=local)

    def remove_all(self):
        with self.lock:
            listeners, self.listeners = list(self.listeners.values()), {}
        for listener in listeners:
            listener.stop()
        if listeners:
            self.state.event("reverse-removed", locals=[l.local for l in listeners])

    def listing(self):
        """list-forward's text: "host LOCAL REMOTE" lines (SERVICES.TXT)."""
        with self.lock:
            return "".join(f"host {l.local} {l.remote}\n" for l in self.listeners.values())

    def _accept_loop(self, listener):
        while not listener.stopping.is_set():
            try:
                conn, _ = listener.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=self._connect, args=(listener, conn), daemon=True).start()

    def _connect(self, listener, conn):
        stream = self.transport.open(listener.remote)
        if stream is None:
            self.log(f"the adb server refused {listener.remote}")
            self.state.event("reverse-refused", local=listener.local, remote=listener.remote)
            conn.close()
            return
        self.state.event("reverse-stream", local=listener.local, remote=listener.remote,
                         stream=stream.local_id)
        done = threading.Event()
        threading.Thread(target=self._to_server, args=(conn, stream, done), daemon=True).start()
        self._to_phone(conn, stream, done)

    @staticmethod
    def _finish(conn, stream, done):
        if done.is_set():
            return
        done.set()
        stream.close()
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _to_server(self, conn, stream, done):
        try:
            while True:
                data = conn.recv(RECV_SIZE)
                if not data:
                    break
                stream.write(data)
        except Exception as e:  # noqa: BLE001 - a pump ends on any failure
            self.log(f"stream {stream.local_id} to the server ended: {e}")
        self._finish(conn, stream, done)

    def _to_phone(self, conn, stream, done):
        try:
            while True:
                data = stream.read()
                if not data:
                    break
                conn.sendall(data)
        except Exception as e:  # noqa: BLE001
            self.log(f"stream {stream.local_id} to the phone ended: {e}")
        self._finish(conn, stream, done)
        conn.close()
