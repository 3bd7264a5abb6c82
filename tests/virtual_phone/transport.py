"""One adb transport: the TCP connection from the adb server to the virtual
phone's daemon, and the streams multiplexed on it (protocol.txt).

Handshake: the server speaks first with CNXN(version, maxdata, "host::...").
A `device` phone answers CNXN(VERSION, MAX_PAYLOAD, banner); an
`unauthorized` phone answers AUTH(TOKEN) to that and to every signature the
server tries, so the server ends with its public key and lists the phone as
"unauthorized"; an `offline` phone never answers, so the server keeps it
"offline".

Streams: OPEN(remote-id, 0, "service") from the server makes a Stream and a
service thread (`on_open`), answered OKAY(local-id, remote-id), or CLSE(0,
remote-id) for a service the phone does not have. The phone opens streams too
(reverse forwards: OPEN(local-id, 0, "tcp:PORT")), which the server accepts
with OKAY or refuses with CLSE. Flow control is protocol.txt's one message in
flight: after a WRTE the writer waits for the peer's OKAY, and the phone sends
its OKAY for a WRTE only once the service has taken the data, so a slow
consumer slows the server down instead of growing a queue."""

import os
import queue
import socket
import threading

import adb_message as m

# How long a write waits for the server's OKAY, and an OPEN for its answer.
READY_TIMEOUT = 30.0


class StreamClosed(Exception):
    pass


class Stream:
    def __init__(self, transport, local_id, remote_id, may_write):
        self.transport = transport
        self.local_id = local_id
        self.remote_id = remote_id
        self.incoming = queue.Queue()  # payloads; None once closed
        self.ready = threading.Condition()
        self.may_write = may_write  # an OPEN from the peer implies a READY
        self.closed = False
        self.opened = threading.Event()  # our OPEN was answered (OKAY or CLSE)
        self.pending = b""

    # --- what services call -------------------------------------------------
    def read(self):
        """The next payload the server wrote; b"" once the stream is closed.
        Taking it sends the OKAY that lets the server write again."""
        if self.pending:
            data, self.pending = self.pending, b""
            return data
        data = self.incoming.get()
        if data is None:
            self.incoming.put(None)
            return b""
        self.transport.send(m.A_OKAY, self.local_id, self.remote_id)
        return data

    def read_exact(self, size):
        parts = []
        left = size
        while left:
            data = self.read()
            if not data:
                raise StreamClosed(f"stream closed with {left} of {size} bytes still to come")
            if len(data) > left:
                self.pending = data[left:]
                data = data[:left]
            parts.append(data)
            left -= len(data)
        return b"".join(parts)

    def write(self, data):
        view = memoryview(bytes(data))
        step = self.transport.max_payload
        for start in range(0, len(view), step):
            with self.ready:
                if not self.ready.wait_for(lambda: self.may_write or self.closed, READY_TIMEOUT):
                    raise StreamClosed(f"no OKAY from the server within {READY_TIMEOUT} s")
                if self.closed:
                    raise StreamClosed("stream closed by the server")
                self.may_write = False
            self.transport.send(m.A_WRTE, self.local_id, self.remote_id, view[start:start + step])

    def wait_closed(self, timeout):
        """Waits up to `timeout` seconds for the server to close the stream."""
        with self.ready:
            self.ready.wait_for(lambda: self.closed, timeout)

    def accept(self):
        """Answers the server's OPEN: OKAY(local-id, remote-id)."""
        self.transport.send(m.A_OKAY, self.local_id, self.remote_id)

    def refuse(self):
        """Answers the server's OPEN with CLSE(0, remote-id): no such service."""
        self.mark_closed()
        self.transport.forget(self)
        self.transport.send(m.A_CLSE, 0, self.remote_id)

    def close(self):
        """Our end closes: CLSE(local-id, remote-id), once."""
        if self.mark_closed():
            self.transport.send(m.A_CLSE, self.local_id, self.remote_id)
        self.transport.forget(self)

    # --- what the transport calls -------------------------------------------
    def mark_closed(self):
        with self.ready:
            was_open = not self.closed
            self.closed = True
            self.ready.notify_all()
        self.incoming.put(None)
        self.opened.set()
        return was_open

    def peer_ready(self, remote_id):
        with self.ready:
            if self.remote_id == 0:
                self.remote_id = remote_id
            self.may_write = True
            self.ready.notify_all()
        self.opened.set()


class Transport:
    def __init__(self, sock, banner, mode, on_open, log, skip_checksum=False):
        self.sock = sock
        self.skip_checksum = skip_checksum  # answer VERSION_SKIP_CHECKSUM: nothing is summed
        self.banner = banner
        self.mode = mode  # "device", "unauthorized" or "offline"
        self.on_open = on_open  # (transport, stream, service) -> None, in a thread of its own
        self.log = log
        self.send_lock = threading.Lock()
        self.streams_lock = threading.Lock()
        self.streams = {}  # local id -> Stream
        self.next_id = 1
        self.max_payload = m.MAX_PAYLOAD_BEFORE_CNXN
        self.online = False
        self.closed = False
        self.on_close = []  # callables run once the connection is gone

    def send(self, command, arg0, arg1, payload=b""):
        data = m.encode(command, arg0, arg1, payload)
        with self.send_lock:
            self.sock.sendall(data)

    def when_closed(self, callback):
        """Runs `callback` once the connection is gone (at once if it is)."""
        with self.streams_lock:
            if not self.closed:
                self.on_close.append(callback)
                return
        callback()

    def forget(self, stream):
        with self.streams_lock:
            self.streams.pop(stream.local_id, None)

    def _new_stream(self, remote_id, may_write):
        with self.streams_lock:
            local_id = self.next_id
            self.next_id += 1
            stream = Stream(self, local_id, remote_id, may_write)
            self.streams[local_id] = stream
        return stream

    def open(self, destination):
        """Opens a stream toward the server (a reverse forward's connection);
        the Stream once the server accepted it, None if it refused."""
        stream = self._new_stream(0, False)
        try:
            self.send(m.A_OPEN, stream.local_id, 0, destination.encode() + b"\0")
        except OSError:
            self.forget(stream)
            return None  # the server went away meanwhile
        if not stream.opened.wait(READY_TIMEOUT) or stream.closed:
            self.forget(stream)
            return None
        return stream

    def run(self):
        """Reads and dispatches messages until the server goes away."""
        try:
            while True:
                limit = self.max_payload if self.online else m.MAX_PAYLOAD_BEFORE_CNXN
                message = m.read_message(self.sock, limit,
                                         verify_checksum=not (self.online and self.skip_checksum))
                self._dispatch(message)
        except (EOFError, OSError) as e:
            self.log(f"transport closed: {e}")
        except m.ProtocolError as e:
            self.log(f"protocol error, closing the connection: {e}")
        finally:
            self.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        with self.streams_lock:
            self.closed = True
            streams, self.streams = list(self.streams.values()), {}
            callbacks, self.on_close = self.on_close, []
        for stream in streams:
            stream.mark_closed()
        for callback in callbacks:
            callback()

    def _dispatch(self, message):
        command = message.command
        if command == m.A_CNXN:
            self._connect(message)
            return
        if command == m.A_AUTH:
            if self.mode == "unauthorized" and message.arg0 == m.AUTH_SIGNATURE:
                # No key is ever accepted: ask again until the server gives up
                # and sends its public key (then it lists us "unauthorized").
                self.send(m.A_AUTH, m.AUTH_TOKEN, 0, os.urandom(20))
            elif message.arg0 == m.AUTH_RSAPUBLICKEY:
                self.log("the server sent its public key: no user is there to accept it")
            return
        if not self.online:
            return  # protocol.txt: nothing but CNXN counts before CNXN
        if command == m.A_OPEN:
            self._open(message)
        elif command == m.A_OKAY:
            stream = self._stream(message.arg1)
            if stream is not None:
                stream.peer_ready(message.arg0)
        elif command == m.A_WRTE:
            stream = self._stream(message.arg1)
            if stream is not None:
                stream.incoming.put(message.payload)
        elif command == m.A_CLSE:
            stream = self._stream(message.arg1)
            if stream is not None:
                stream.mark_closed()
                self.forget(stream)
        else:
            raise m.ProtocolError(f"unexpected {message!r}")

    def _stream(self, local_id):
        with self.streams_lock:
            return self.streams.get(local_id)

    def _connect(self, message):
        if message.arg0 < m.VERSION or message.arg1 < 4096:
            raise m.ProtocolError(f"CNXN version 0x{message.arg0:08x} maxdata {message.arg1}")
        identity = message.payload.rstrip(b"\0").decode(errors="replace")
        self.log(f"CNXN from the server: {identity}")
        if self.mode == "offline":
            return
        if self.mode == "unauthorized":
            self.send(m.A_AUTH, m.AUTH_TOKEN, 0, os.urandom(20))
            return
        self.max_payload = min(message.arg1, m.MAX_PAYLOAD)
        self.online = True
        version = m.VERSION_SKIP_CHECKSUM if self.skip_checksum else m.VERSION
        self.send(m.A_CNXN, version, m.MAX_PAYLOAD, self.banner.encode())

    def _open(self, message):
        if message.arg0 == 0 or message.arg1 != 0:
            return
        service = message.payload.rstrip(b"\0").decode(errors="replace")
        stream = self._new_stream(message.arg0, True)
        threading.Thread(target=self.on_open, args=(self, stream, service), daemon=True,
                         name=f"service-{stream.local_id}").start()
