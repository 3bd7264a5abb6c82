"""The adb transport's message, as AOSP's adb/protocol.txt defines it: a
24-byte header of six little-endian 32-bit words

    command, arg0, arg1, data_length, data_crc32, magic

followed by `data_length` payload bytes. `magic` is `command ^ 0xffffffff`;
`data_crc32` is, despite its name, the sum of the payload's bytes (adb.cpp's
calculate_apacket_checksum). A bad magic, a payload over the agreed maximum
or a wrong checksum is a ProtocolError: protocol.txt says the connection
must then be closed."""

import struct

A_SYNC = 0x434E5953
A_CNXN = 0x4E584E43
A_AUTH = 0x48545541
A_OPEN = 0x4E45504F
A_OKAY = 0x59414B4F
A_CLSE = 0x45534C43
A_WRTE = 0x45545257
A_STLS = 0x534C5453
NAMES = {A_SYNC: "SYNC", A_CNXN: "CNXN", A_AUTH: "AUTH", A_OPEN: "OPEN", A_OKAY: "OKAY",
         A_CLSE: "CLSE", A_WRTE: "WRTE", A_STLS: "STLS"}

# A_VERSION_MIN. adb 29 speaks 0x01000001 (A_VERSION_SKIP_CHECKSUM) and takes
# the smaller of both versions, so answering with 0x01000000 makes the server
# checksum every payload it sends, which read_message verifies.
VERSION = 0x01000000
# What a phone answers with --skip-checksum (Android 9 and later): the
# server then sends 0 for the checksum and nobody verifies it. Summing every
# byte in Python is most of a phone's CPU; a farm of tens of phones uses it.
VERSION_SKIP_CHECKSUM = 0x01000001
# Our CNXN's maxdata: the server then sends WRTE payloads up to this size.
# protocol.txt: "Currently, version=0x01000000 and maxdata=256*1024".
MAX_PAYLOAD = 256 * 1024
# What the server may send before it knows our maxdata (its own MAX_PAYLOAD).
MAX_PAYLOAD_BEFORE_CNXN = 1024 * 1024

# AUTH(type, 0, data) types.
AUTH_TOKEN = 1
AUTH_SIGNATURE = 2
AUTH_RSAPUBLICKEY = 3

HEADER = struct.Struct("<6I")


class ProtocolError(Exception):
    pass


def checksum(payload):
    return sum(payload) & 0xFFFFFFFF


def encode(command, arg0, arg1, payload=b""):
    payload = bytes(payload)
    return HEADER.pack(command, arg0, arg1, len(payload), checksum(payload),
                       command ^ 0xFFFFFFFF) + payload


class Message:
    __slots__ = ("command", "arg0", "arg1", "payload")

    def __init__(self, command, arg0, arg1, payload):
        self.command = command
        self.arg0 = arg0
        self.arg1 = arg1
        self.payload = payload

    def name(self):
        return NAMES.get(self.command, f"0x{self.command:08x}")

    def __repr__(self):
        return f"{self.name()}({self.arg0}, {self.arg1}, {len(self.payload)} bytes)"


def _read_exact(sock, size):
    chunks = []
    left = size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the adb server closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_message(sock, max_payload, verify_checksum=True):
    """The next message on `sock`; EOFError at the end of the stream."""
    command, arg0, arg1, length, data_check, magic = HEADER.unpack(_read_exact(sock, HEADER.size))
    if magic != command ^ 0xFFFFFFFF:
        raise ProtocolError(f"bad magic 0x{magic:08x} for command 0x{command:08x}")
    if length > max_payload:
        raise ProtocolError(f"payload of {length} bytes over the maximum {max_payload}")
    payload = _read_exact(sock, length) if length else b""
    if verify_checksum and checksum(payload) != data_check:
        raise ProtocolError(f"{NAMES.get(command, hex(command))}: checksum 0x{data_check:08x}, "
                            f"payload sums to 0x{checksum(payload):08x}")
    return Message(command, arg0, arg1, payload)
