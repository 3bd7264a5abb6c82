"""A device made by hand: a Python client of the relay's stream link that
writes IP packets it builds itself, as a remote client could (any
destination, 127.0.0.1 included, which a real device's kernel never sends
out of its tun), and reads the relay's packets back. Optionally answers the
--secret challenge (docs/SECURITY.md has the bytes)."""

import hashlib
import hmac
import socket
import struct
import time

SECRET_LABEL = b"rtether secret v1"
NONCE_SIZE = 32


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def ipv4(source, destination, protocol, payload):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, protocol,
                         0, socket.inet_aton(source), socket.inet_aton(destination))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def pseudo_header(source, destination, protocol, length):
    return socket.inet_aton(source) + socket.inet_aton(destination) + struct.pack(
        "!BBH", 0, protocol, length)


def tcp_syn(source, destination, source_port, destination_port, seq=1000):
    segment = struct.pack("!HHIIBBHHH", source_port, destination_port, seq, 0, 5 << 4, 0x02,
                          65535, 0, 0)
    sum_ = checksum(pseudo_header(source, destination, 6, len(segment)) + segment)
    segment = segment[:16] + struct.pack("!H", sum_) + segment[18:]
    return ipv4(source, destination, 6, segment)


def udp(source, destination, source_port, destination_port, payload):
    datagram = struct.pack("!HHHH", source_port, destination_port, 8 + len(payload), 0) + payload
    sum_ = checksum(pseudo_header(source, destination, 17, len(datagram)) + datagram) or 0xFFFF
    datagram = datagram[:6] + struct.pack("!H", sum_) + datagram[8:]
    return ipv4(source, destination, 17, datagram)


def secret_answer(secret, client_id, nonce):
    return hmac.new(secret, SECRET_LABEL + struct.pack(">I", client_id) + nonce,
                    hashlib.sha256).digest()


class RawDevice:
    def __init__(self, port, host="127.0.0.1", timeout=5):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""
        self.client_id = struct.unpack(">I", self._read_exactly(4))[0]

    def _read_exactly(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"relay closed after {len(self.buffer)} bytes")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_nonce(self):
        return self._read_exactly(NONCE_SIZE)

    def send(self, data):
        self.sock.sendall(data)

    def packets(self, limit):
        """Packets from the relay until `limit` seconds pass or it closes."""
        found = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            while len(self.buffer) >= 20:
                length = struct.unpack("!H", self.buffer[2:4])[0]
                if self.buffer[0] >> 4 == 6:
                    length += 40
                if len(self.buffer) < length:
                    break
                found.append(self.buffer[:length])
                self.buffer = self.buffer[length:]
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                return found, True
            if not chunk:
                return found, True
            self.buffer += chunk
        return found, False

    def next_packet(self, limit=5):
        """The first packet within `limit` seconds, or None."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            found, closed = self.packets(0.1)
            if found:
                self.buffer = b"".join(found[1:]) + self.buffer
                return found[0]
            if closed:
                return None
        return None

    def close(self):
        self.sock.close()


def describe(packet):
    """(protocol, source, tcp flags or (icmp type, code)) of an IPv4 packet."""
    protocol = packet[9]
    source = socket.inet_ntoa(packet[12:16])
    body = packet[(packet[0] & 0xF) * 4:]
    if protocol == 6:
        return "tcp", source, body[13]
    if protocol == 1:
        return "icmp", source, (body[0], body[1])
    return protocol, source, None
