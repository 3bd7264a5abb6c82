"""Servers and load generators. Each runs as its own process,
`python3 bench/run.py _helper KIND ARGS...`, on the host (servers on
127.0.0.1) or inside a translator's namespace (clients), and prints its
result as one JSON line."""

import asyncio
import json
import os
import resource
import socket
import statistics
import sys
import time

REQUEST = b"GET /bench HTTP/1.0\r\n\r\n"            # 23 bytes
RESPONSE = b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 45  # 64 bytes
HOLD_REQUEST = b"HOLD\r\n"

RUN_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "run.py")


# The C load generator (native_load.build()) once use_native() names it:
# it then serves the TCP server and the connection-rate client, which the
# Python versions below otherwise are.
NATIVE = {"binary": None}
NATIVE_KINDS = {"tcpserver": "server", "cps": "cps"}


def use_native(binary):
    NATIVE["binary"] = binary


def helper_command(kind, *args):
    """The command line that runs helper KIND with ARGS."""
    if NATIVE["binary"] and kind in NATIVE_KINDS:
        return [NATIVE["binary"], NATIVE_KINDS[kind]] + [str(a) for a in args]
    return [sys.executable, RUN_PY, "_helper", kind] + [str(a) for a in args]


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ValueError, OSError):
        pass


class _ResponderProtocol(asyncio.Protocol):
    """Answers REQUEST with RESPONSE and closes; HOLD_REQUEST with RESPONSE,
    keeping the connection open."""

    def connection_made(self, transport):
        self.transport = transport
        self.holding = False

    def data_received(self, data):
        if self.holding:
            return
        if data.startswith(HOLD_REQUEST):
            self.holding = True
            self.transport.write(RESPONSE)
        else:
            # Answer and close first (HTTP/1.0 style); the client closes after
            # EOF, so no TIME_WAIT piles up on the client's ephemeral ports.
            self.transport.write(RESPONSE)
            self.transport.close()

    def connection_lost(self, exc):
        pass


def tcp_server(port):
    raise_nofile()

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_ResponderProtocol, "127.0.0.1", port,
                                          backlog=4096, reuse_address=True)
        print("LISTENING", flush=True)
        async with server:
            await server.serve_forever()
    asyncio.run(main())


def udp_echo(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    print("LISTENING", flush=True)
    while True:
        data, addr = s.recvfrom(65535)
        s.sendto(data, addr)


def connection_rate_client(host, port, seconds, workers):
    """connect / request / response / close in a loop, WORKERS at once."""
    raise_nofile()
    seconds = float(seconds)
    workers = int(workers)
    port = int(port)

    async def worker(loop, deadline, stats):
        addr = (host, port)
        while time.monotonic() < deadline:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                await asyncio.wait_for(loop.sock_connect(s, addr), 5)
                await loop.sock_sendall(s, REQUEST)
                got = 0
                while True:
                    data = await asyncio.wait_for(loop.sock_recv(s, 4096), 5)
                    if not data:
                        break
                    got += len(data)
                if got == len(RESPONSE):
                    stats["ok"] += 1
                else:
                    stats["short"] += 1
            except (OSError, asyncio.TimeoutError) as e:
                stats["err"] += 1
                stats["last_err"] = repr(e)
                await asyncio.sleep(0.01)
            finally:
                s.close()

    async def main():
        loop = asyncio.get_running_loop()
        stats = {"ok": 0, "err": 0, "short": 0, "last_err": None}
        t0 = time.monotonic()
        deadline = t0 + seconds
        await asyncio.gather(*(worker(loop, deadline, stats) for _ in range(workers)))
        stats["elapsed"] = time.monotonic() - t0
        usage = resource.getrusage(resource.RUSAGE_SELF)
        stats["cpu_s"] = usage.ru_utime + usage.ru_stime
        print(json.dumps(stats), flush=True)
    asyncio.run(main())


def udp_rtt_client(host, port, count):
    """COUNT requests, one at a time (30 s at most); RTT percentiles in µs."""
    count = int(count)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, int(port)))
    s.settimeout(1.0)
    payload = b"x" * 32
    rtts = []
    lost = 0
    deadline = time.monotonic() + 30
    for i in range(count):
        if time.monotonic() > deadline:
            break
        message = i.to_bytes(4, "big") + payload
        t0 = time.perf_counter_ns()
        s.send(message)
        try:
            while True:
                data = s.recv(2048)
                if data[:4] == message[:4]:
                    break
            rtts.append((time.perf_counter_ns() - t0) / 1000.0)
        except socket.timeout:
            lost += 1
    out = {"n": len(rtts), "lost": lost}
    if rtts:
        rtts.sort()
        out["p50_us"] = rtts[len(rtts) // 2]
        out["p99_us"] = rtts[min(len(rtts) - 1, int(len(rtts) * 0.99))]
        out["mean_us"] = statistics.fmean(rtts)
    print(json.dumps(out), flush=True)


def hold_client(host, port, count):
    """Opens COUNT connections and keeps them open; prints READY n, waits for
    a line on stdin, closes them all, prints JSON."""
    raise_nofile()
    count = int(count)
    port = int(port)

    async def one(loop, limit, sockets, stats):
        async with limit:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                await asyncio.wait_for(loop.sock_connect(s, (host, port)), 10)
                await loop.sock_sendall(s, HOLD_REQUEST)
                got = 0
                while got < len(RESPONSE):
                    data = await asyncio.wait_for(loop.sock_recv(s, 4096), 10)
                    if not data:
                        break
                    got += len(data)
                if got == len(RESPONSE):
                    sockets.append(s)
                    return
                stats["err"] += 1
            except (OSError, asyncio.TimeoutError) as e:
                stats["err"] += 1
                stats["last_err"] = repr(e)
            s.close()

    async def main():
        loop = asyncio.get_running_loop()
        limit = asyncio.Semaphore(64)
        sockets = []
        stats = {"err": 0, "last_err": None}
        t0 = time.monotonic()
        await asyncio.gather(*(one(loop, limit, sockets, stats) for _ in range(count)))
        stats["open"] = len(sockets)
        stats["open_s"] = time.monotonic() - t0
        print("READY %d" % len(sockets), flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        for s in sockets:
            s.close()
        print(json.dumps(stats), flush=True)
    asyncio.run(main())


HELPERS = {"tcpserver": tcp_server, "udpecho": udp_echo, "cps": connection_rate_client,
           "udprtt": udp_rtt_client, "hold": hold_client}


def run_helper(argv):
    kind, args = argv[0], argv[1:]
    if kind in ("tcpserver", "udpecho"):
        HELPERS[kind](int(args[0]))
    else:
        HELPERS[kind](*args)
