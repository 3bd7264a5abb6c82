"""`rtether client --no-ipv6` sends the relay no IPv6 at all: the stream the
client writes is recorded by a stand-in relay of the test's own (a loopback
listener that sends a client id and keeps every byte), then cut into packets.
With --no-ipv6 the tun has IPv6 off (disable_ipv6 = 1, not even a link-local
address), so the kernel's router solicitations and MLD reports never start,
and an IPv6 packet put on the tun by hand (a packet socket, which the
kernel's switch does not stop) is dropped by the client's uplink: only IPv4
reaches the stream. With IPv6 on, the same recording shows the kernel's
IPv6 packets and the hand-made one, so the recording would see a leak."""

import socket
import struct
import threading
import time

import pytest

import harness
from harness import check, log

# Long enough for the kernel's first router solicitation after link-up
# (RFC 4861 6.3.7: up to 1 s delay, after the 1 s DAD of the link-local
# address, RFC 4862 5.4), as the control case shows; it waits up to twice
# that for one and stops at the first.
LISTEN_SECONDS = 3.0
MARKER_PORT = 9  # discard; nobody needs to answer

INJECT = r'''
import socket, sys
# An IPv6 header alone (next header 59: none), fe80::1 -> ff02::2.
packet = bytes([0x60, 0, 0, 0, 0, 0, 59, 255]) + \
    socket.inet_pton(socket.AF_INET6, "fe80::1") + socket.inet_pton(socket.AF_INET6, "ff02::2")
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x86DD))
s.sendto(packet, (sys.argv[1], 0x86DD))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"marker", (sys.argv[2], int(sys.argv[3])))
'''


class RecordingRelay:
    """Accepts one client on 127.0.0.1, sends it client id 1, keeps its bytes."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(15)
        self.port = self.listener.getsockname()[1]
        self.received = bytearray()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.sendall(struct.pack(">I", 1))
            conn.settimeout(0.2)
            while not self.stop.is_set():
                try:
                    data = conn.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:
                    return
                with self.lock:
                    self.received += data

    def packets(self):
        """The recorded stream cut into packets by each one's IP length."""
        with self.lock:
            stream = bytes(self.received)
        packets = []
        offset = 0
        while offset < len(stream):
            version = stream[offset] >> 4
            if version == 4 and offset + 4 <= len(stream):
                length = struct.unpack_from(">H", stream, offset + 2)[0]
            elif version == 6 and offset + 6 <= len(stream):
                length = 40 + struct.unpack_from(">H", stream, offset + 4)[0]
            else:
                raise harness.TestFailure(f"no IP packet at offset {offset}: "
                                          f"{stream[offset:offset + 8].hex()}")
            packets.append(stream[offset:offset + length])
            offset += length
        return packets

    def close(self):
        self.stop.set()
        self.listener.close()
        self.thread.join(timeout=5)


@pytest.mark.parametrize("ipv6", [False, True], ids=["no-ipv6", "ipv6"])
def test_only_ipv4_leaves_the_client_with_no_ipv6(make_env, ipv6):
    relay = RecordingRelay()
    try:
        env = make_env(client=False, relay=False,
                       client_args=[] if ipv6 else ["--no-ipv6"])
        env.port = relay.port
        env.start_client()
        env.wait_tun()
        switch = env.ns_run(["cat", f"/proc/sys/net/ipv6/conf/{harness.TUN}/disable_ipv6"])
        check(switch.stdout.strip() == ("0" if ipv6 else "1"),
              f"disable_ipv6 on the tun is {switch.stdout.strip()}")
        addresses6 = env.ns_run(["ip", "-6", "addr", "show", "dev", harness.TUN]).stdout
        if not ipv6:
            check(addresses6.strip() == "", f"IPv6 addresses on the tun: {addresses6}")
        deadline = time.monotonic() + (2 * LISTEN_SECONDS if ipv6 else LISTEN_SECONDS)
        while time.monotonic() < deadline:
            if ipv6 and any(p[0] >> 4 == 6 for p in relay.packets()):
                break
            time.sleep(0.05)
        env.ns_python(INJECT, [harness.TUN, harness.HOST_ALIAS, MARKER_PORT])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            packets = relay.packets()
            if any(p[0] >> 4 == 4 and p.endswith(b"marker") for p in packets):
                break
            time.sleep(0.05)
        else:
            raise harness.TestFailure("the IPv4 marker datagram never reached the relay")
        versions = [p[0] >> 4 for p in packets]
        ipv6_packets = [p for p in packets if p[0] >> 4 == 6]
        log(f"ipv6={ipv6}: {len(packets)} packets, {len(ipv6_packets)} IPv6, "
            f"next headers {[p[6] for p in ipv6_packets]}")
        if ipv6:
            check(any(p[6] == 59 for p in ipv6_packets),
                  f"the hand-made IPv6 packet did not reach the relay: {versions}")
            check(any(p[6] != 59 for p in ipv6_packets),
                  f"the kernel sent no IPv6 of its own within {LISTEN_SECONDS} s: {versions}")
        else:
            check(not ipv6_packets, f"IPv6 left the client with --no-ipv6: "
                                    f"{[p[:48].hex() for p in ipv6_packets]}")
    finally:
        relay.close()
