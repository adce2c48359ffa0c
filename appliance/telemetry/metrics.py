"""Per-process counters in memory-mapped files, summed by readers (the SNMP agent, `status`).

Each process owns ONE file ``<run_dir>/counters/<role>-<pid>.cnt`` and is its only
writer.  Layout (little-endian, fixed): a 16-byte header ``b"OCSC" | version u32
| used slots u32 | pid u32``, then ``SLOTS`` slots of 64 bytes: a NUL-padded
UTF-8 name (56 bytes) and a signed 64-bit value.  A slot's name is written
before the slot count is raised, so readers never see a half-registered slot.

Names ending in ``.gauge`` are gauges: readers sum them over live processes
only.  Other counters are monotonic and keep counting after their process died
(a restarted worker's old file still adds to the totals).
"""
from __future__ import annotations

import mmap
import os
import struct
from bisect import bisect_left
from pathlib import Path

MAGIC = b"OCSC"
VERSION = 1
SLOTS = 1024
OVERFLOW = "metrics.overflow"       # the last slot: counts of names that found no free slot
HEADER = 16
SLOT = 64
NAME = 56
SIZE = HEADER + SLOTS * SLOT


class Counters:
    """A process's counters; with no path they live in memory only (tests, CLI)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = str(path) if path else None
        if self.path:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.ftruncate(fd, SIZE)
                self._buf: mmap.mmap | bytearray = mmap.mmap(fd, SIZE)
            finally:
                os.close(fd)
        else:
            self._buf = bytearray(SIZE)
        self._buf[0:HEADER] = struct.pack("<4sIII", MAGIC, VERSION, 0, os.getpid())
        self._values = memoryview(self._buf)[HEADER:].cast("q")  # slot i value at index i*8+7
        self._index: dict[str, int] = {}

    def slot(self, name: str) -> int:
        idx = self._index.get(name)
        if idx is None:
            encoded = name.encode()
            if len(encoded) > NAME:
                raise ValueError(f"counter name too long: {name}")
            idx = len(self._index)
            if idx >= SLOTS - 1:
                # Full (names made from peer input, e.g. unknown Application-Ids, must never stop a
                # worker): every further name counts in the last slot, ``metrics.overflow``.
                if OVERFLOW not in self._index:
                    self._register(OVERFLOW, SLOTS - 1)
                return self._index[OVERFLOW]
            self._register(name, idx)
        return idx

    def _register(self, name: str, idx: int) -> None:
        off = HEADER + idx * SLOT
        self._buf[off:off + NAME] = name.encode().ljust(NAME, b"\0")
        self._values[idx * 8 + 7] = 0
        self._index[name] = idx
        struct.pack_into("<I", self._buf, 8, max(idx + 1, struct.unpack_from("<I", self._buf, 8)[0]))

    def inc(self, name: str, n: int = 1) -> None:
        i = self.slot(name) * 8 + 7
        self._values[i] += n

    def cells(self, *names: str) -> tuple[int, ...]:
        """Value positions of ``names`` (registered now) for :meth:`inc_cells` on a hot path."""
        return tuple(self.slot(n) * 8 + 7 for n in names)

    def inc_cells(self, cells: tuple[int, ...]) -> None:
        """Add one to each counter of ``cells`` (from :meth:`cells` of this object)."""
        values = self._values
        for i in cells:
            values[i] += 1

    def set(self, name: str, value: int) -> None:
        self._values[self.slot(name) * 8 + 7] = value

    def get(self, name: str) -> int:
        idx = self._index.get(name)
        return 0 if idx is None else int(self._values[idx * 8 + 7])

    def snapshot(self) -> dict[str, int]:
        return {n: int(self._values[i * 8 + 7]) for n, i in self._index.items()}


# Latency histograms live in the same files: fixed buckets, one counter each, named
# ``lat.<interface>.<command>.b<i>`` (requests that took at most LATENCY_BOUNDS_US[i] µs, not
# cumulative; ``b<len>`` the rest) and ``lat.<...>.sum_us`` (total µs).  Readers add them up like
# any monotonic counter; the Prometheus exposition makes them cumulative.
LATENCY_BOUNDS_US = (250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
                     1_000_000, 2_500_000)
LATENCY_PREFIX = "lat."
LATENCY_MAX = 24                          # histograms per process; further names share ``lat.other``


class Latency:
    """One histogram's cells in the current process file, resolved on first use (and again after
    :func:`open_process_counters` replaced the default file)."""

    __slots__ = ("_cells", "_owner", "name")

    def __init__(self, name: str) -> None:
        self.name = LATENCY_PREFIX + name
        self._owner: Counters | None = None
        self._cells: tuple[int, ...] = ()

    def observe(self, seconds: float) -> None:
        counters = _default
        if self._owner is not counters:
            names = [f"{self.name}.b{i}" for i in range(len(LATENCY_BOUNDS_US) + 1)]
            self._cells = counters.cells(*names, f"{self.name}.sum_us")
            self._owner = counters
        us = int(seconds * 1_000_000)
        values = counters._values
        cells = self._cells
        values[cells[bisect_left(LATENCY_BOUNDS_US, us)]] += 1
        values[cells[-1]] += us


_latencies: dict[str, Latency] = {}


def latency(name: str) -> Latency:
    """The histogram ``lat.<name>`` (bounded by the callers: names come from fixed tables)."""
    hist = _latencies.get(name)
    if hist is None:
        if len(_latencies) >= LATENCY_MAX:     # 15 slots each: keep the file's 1,024 for counters
            name = "other"
            hist = _latencies.get(name)
        if hist is None:
            hist = _latencies[name] = Latency(name)
    return hist


_default = Counters()


def default() -> Counters:
    return _default


def open_process_counters(run_dir: str | os.PathLike[str], role: str) -> Counters:
    """Create this process's counter file and make it the default."""
    global _default
    _default = Counters(Path(run_dir) / "counters" / f"{role}-{os.getpid()}.cnt")
    return _default


def inc(name: str, n: int = 1) -> None:
    _default.inc(name, n)


def read_file(path: str | os.PathLike[str]) -> tuple[int, dict[str, int]]:
    data = Path(path).read_bytes()
    if len(data) < HEADER or data[:4] != MAGIC:
        return 0, {}
    _magic, _version, used, pid = struct.unpack_from("<4sIII", data, 0)
    values: dict[str, int] = {}
    for i in range(min(used, SLOTS)):
        off = HEADER + i * SLOT
        name = data[off:off + NAME].rstrip(b"\0").decode(errors="replace")
        (value,) = struct.unpack_from("<q", data, off + NAME)
        values[name] = value
    return pid, values


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (another user's process counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_all(run_dir: str | os.PathLike[str]) -> dict[str, int]:
    """Sum every process's counters now (gauges only over live processes)."""
    totals: dict[str, int] = {}
    folder = Path(run_dir) / "counters"
    if not folder.is_dir():
        return totals
    for path in sorted(folder.glob("*.cnt")):
        pid, values = read_file(path)
        alive = pid_alive(pid)
        for name, value in values.items():
            if name.endswith(".gauge") and not alive:
                continue
            totals[name] = totals.get(name, 0) + value
    return totals

