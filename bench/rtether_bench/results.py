"""Typed results: one dataclass per measurement, and `TranslatorResult`
holding all of them for one translator. A measurement that failed is a
`Failed` in its place; a translator that did not start has `error` set and
no measurement."""

import dataclasses
from dataclasses import dataclass
from typing import Dict, Optional, Union


@dataclass
class Failed:
    """A measurement that did not complete, and why."""
    error: str


@dataclass
class Throughput:
    """One iperf3 run (`end.sum_received`), with the translator's CPU."""
    gbps: float
    cpu_pct: Optional[float]               # translator CPU, % of one core
    cpu_pct_by_pid: Dict[int, float]
    retransmits: Optional[int]
    relay_cpu_pct: Optional[float] = None  # rtether: the relay's share


@dataclass
class ConnectionRate:
    """connect / request / response / close loops for a fixed time."""
    cps: float
    errors: int
    last_err: Optional[str]
    cpu_pct: Optional[float]               # translator CPU
    server_cpu_pct: Optional[float]        # the host's TCP server
    client_cpu_pct: float                  # the namespace's client


@dataclass
class UdpRtt:
    """One request at a time: round-trip percentiles in µs."""
    n: int
    lost: int
    p50_us: Optional[float] = None
    p99_us: Optional[float] = None
    mean_us: Optional[float] = None


@dataclass
class HeldConnections:
    """Many connections open at once, and the memory that costs."""
    err: int
    last_err: Optional[str]
    open: int
    open_s: float                          # seconds to open them all
    opened: int
    rss_kib: Dict[int, Optional[int]]      # VmRSS per translator process
    relay_rss_mib: Optional[float] = None  # rtether: the relay's share


Measured = Union[Throughput, ConnectionRate, UdpRtt, HeldConnections, Failed, None]


@dataclass
class TranslatorResult:
    name: str
    error: Optional[str] = None            # set when the translator did not start
    peer: Optional[str] = None
    pids: Optional[Dict[int, str]] = None  # translator processes and their names
    rss_start_mib: Optional[float] = None
    mode: Optional[str] = None             # rtether: separate or shell
    download_1_stream: Measured = None
    download_4_streams: Measured = None
    upload_1_stream: Measured = None
    connection_rate: Measured = None
    peak_rss_after_connections_mib: Optional[float] = None
    rss_after_connections_mib: Optional[float] = None
    udp_rtt: Measured = None
    held_connections: Measured = None
    peak_rss_at_end_mib: Optional[float] = None
    alive_at_end: Optional[bool] = None
    wall_s: Optional[float] = None

    MEASUREMENTS = ("download_1_stream", "download_4_streams", "upload_1_stream",
                    "connection_rate", "udp_rtt", "held_connections")

    def measured(self, key):
        """The measurement KEY if it completed, else None."""
        value = getattr(self, key)
        return None if isinstance(value, Failed) else value

    def failures(self):
        """(measurement, error) for each measurement that failed."""
        return [(key, getattr(self, key).error) for key in self.MEASUREMENTS
                if isinstance(getattr(self, key), Failed)]

    def has_errors(self):
        return self.error is not None or self.alive_at_end is False or bool(self.failures())

    # The JSON's keys, as before the results were typed.
    JSON_NAMES = {"download_1_stream": "dl1", "download_4_streams": "dl4",
                  "upload_1_stream": "ul1", "connection_rate": "cps", "udp_rtt": "udp",
                  "held_connections": "hold", "peak_rss_after_connections_mib":
                  "hwm_after_cps_mib", "rss_after_connections_mib": "rss_after_cps_mib",
                  "peak_rss_at_end_mib": "hwm_end_mib"}

    # Fields the JSON has even when unknown (null); the others only when set.
    KEPT_WHEN_NONE = ("peer", "pids", "rss_start_mib", "peak_rss_after_connections_mib",
                      "rss_after_connections_mib", "peak_rss_at_end_mib", "last_err",
                      "cpu_pct", "server_cpu_pct", "retransmits")

    def to_json(self):
        """A dict for the JSON file: the name and the error of a translator
        that did not start, else everything measured."""
        if self.error is not None:
            return {"name": self.name, "error": self.error}
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.name not in self.KEPT_WHEN_NONE:
                continue
            if dataclasses.is_dataclass(value):
                value = {k: v for k, v in dataclasses.asdict(value).items()
                         if v is not None or k in self.KEPT_WHEN_NONE}
            out[self.JSON_NAMES.get(f.name, f.name)] = value
        return out
