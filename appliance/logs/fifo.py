"""A log as a fixed ring of fixed-size files, shared by every worker process.

Layout of ``<dir>``: ``<kind>.0000.log`` … ``<kind>.<N-1>.log`` and a state file
``.<kind>.state`` (8 bytes: the sequence number of the file being written).
File ``seq`` lives in slot ``seq % N``; when it is full the writer starts
``seq + 1`` in the next slot, truncating the oldest file (FIFO reuse).  So a
log never holds more than N files of at most ``size`` bytes each.

Multi-process safety (the documented choice): ONE set of files per log, written
by every process with ``O_APPEND`` and each write made under an exclusive
``flock`` on the state file.  The lock serialises the size check, the rotation
and the write, so records of different processes never interleave and the
size bound holds; the kernel drops the lock of a killed process.  Cost: two
``flock`` calls and one ``lseek`` per write (a write is a record in
write-through mode, a batch in buffered mode) -- see benchmarks/translog.py.
"""
from __future__ import annotations

import fcntl
import mmap
import os
import re
import struct
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .framing import (
    FILE_HEADER,
    FRAME_HEADER,
    MAX_PAYLOAD,
    NotALogFile,
    ScanStats,
    file_header,
    parse_file_header,
    scan,
)

_SEQ = struct.Struct("<Q")
MIN_SIZE = 4096


def state_path(directory: Path, kind: str) -> Path:
    return directory / f".{kind}.state"


def slot_path(directory: Path, kind: str, slot: int) -> Path:
    return directory / f"{kind}.{slot:04d}.log"


class FifoLog:
    """Appends framed records to the ring of files of one log (``kind``: acct, auth)."""

    def __init__(self, directory: str | os.PathLike[str], kind: str, files: int, size: int,
                 sync_batches: bool = False) -> None:
        self.sync_batches = sync_batches   # fdatasync after every write() batch (logs.fsync: batch)
        if files < 1:
            raise ValueError("a log needs at least one file")
        if size < MIN_SIZE:
            raise ValueError(f"log file size must be at least {MIN_SIZE} bytes")
        self.directory = Path(directory)
        self.kind, self.files, self.size = kind, files, size
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(state_path(self.directory, kind), os.O_RDWR | os.O_CREAT, 0o644)
        if os.fstat(self._lock_fd).st_size < _SEQ.size:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                if os.fstat(self._lock_fd).st_size < _SEQ.size:
                    os.ftruncate(self._lock_fd, _SEQ.size)
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        self._state = mmap.mmap(self._lock_fd, _SEQ.size)
        self._fd = -1
        self._seq = 0
        self.dropped = 0        # records too large for one file
        self.rotations = 0
        self.syncs = 0          # fdatasync calls (logs.fsync: batch)

    # -- under the lock ---------------------------------------------------------------------

    def _current_seq(self) -> int:
        seq = _SEQ.unpack_from(self._state)[0]
        if seq == 0:            # fresh or lost state: continue after the newest file on disk
            seq = max((h.seq for _p, h in list_files(self.directory, self.kind)), default=0) + 1
            _SEQ.pack_into(self._state, 0, seq)
        return seq

    def _open(self, seq: int, truncate: bool = False) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        path = slot_path(self.directory, self.kind, seq % self.files)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        head = os.pread(fd, FILE_HEADER.size, 0)
        try:
            stale = truncate or parse_file_header(head).seq != seq
        except NotALogFile:
            stale = True
        if stale:
            os.ftruncate(fd, 0)
            _write_all(fd, file_header(seq, time.time_ns() // 1000, self.kind))
        self._fd, self._seq = fd, seq

    def _rotate(self, seq: int) -> None:
        self._open(seq + 1, truncate=True)
        _SEQ.pack_into(self._state, 0, seq + 1)
        self.rotations += 1

    # -- API ----------------------------------------------------------------------------------

    def write(self, frames: Sequence[bytes]) -> None:
        """Append whole frames; one ``write()`` per run of frames that fits the current file."""
        limit = min(self.size - FILE_HEADER.size, FRAME_HEADER.size + MAX_PAYLOAD)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            seq = self._current_seq()
            if seq != self._seq or self._fd < 0:
                self._open(seq)
            used = os.lseek(self._fd, 0, os.SEEK_END)     # the end, including other processes' writes
            chunk: list[bytes] = []
            chunk_len = 0
            for f in frames:
                if len(f) > limit:
                    self.dropped += 1
                    continue
                if used + chunk_len + len(f) > self.size:
                    if chunk:
                        _write_all(self._fd, b"".join(chunk))
                        chunk, chunk_len = [], 0
                    if self.sync_batches:
                        os.fdatasync(self._fd)      # the full file is on disk before the next one starts
                    self._rotate(self._seq)
                    used = FILE_HEADER.size
                chunk.append(f)
                chunk_len += len(f)
            if chunk:
                _write_all(self._fd, chunk[0] if len(chunk) == 1 else b"".join(chunk))
                if self.sync_batches:
                    os.fdatasync(self._fd)
                    self.syncs += 1
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def rotate(self) -> int:
        """Close the current file and start the next one (scheduled archive); returns the new seq."""
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            seq = self._current_seq()
            self._rotate(seq)
            return seq + 1
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def fsync(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        try:
            self._state.close()
        except (BufferError, ValueError):
            pass
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


_NAME = re.compile(r"^(?P<kind>[a-z]+)\.(?P<slot>\d{4})\.log$")


def list_files(directory: Path, kind: str) -> list[tuple[Path, Any]]:
    """(path, FileHeader) of the log's files with a valid header, oldest first."""
    found = []
    if not directory.is_dir():
        return []
    for p in directory.iterdir():
        m = _NAME.match(p.name)
        if not m or m.group("kind") != kind:
            continue
        try:
            with open(p, "rb") as fh:
                found.append((p, parse_file_header(fh.read(FILE_HEADER.size))))
        except (OSError, NotALogFile):
            continue
    found.sort(key=lambda item: item[1].seq)
    return found


@dataclass
class ReadStats(ScanStats):
    files: int = 0
    reused: int = 0            # files overwritten by a writer while this reader was reading
    bad_files: list[str] = field(default_factory=list)


def read_log(directory: str | os.PathLike[str], kind: str, stats: ReadStats | None = None,
             since_us: int | None = None, until_us: int | None = None) -> Iterator[dict[str, Any]]:
    """Records of a live log, oldest file first (within a file in write order).

    The file being written is read up to its size taken under the writers'
    lock, so a record being appended is not mistaken for a torn one.  A file the
    writers reuse (FIFO) while the reader is still busy with older ones is
    recognised by its new header and skipped (counted in ``reused``).
    ``since_us``/``until_us`` filter on the record's ``ts`` (half-open).
    """
    st = stats if stats is not None else ReadStats()
    d = Path(directory)
    limit: dict[Path, int] = {}
    sp = state_path(d, kind)
    if sp.exists():
        fd = os.open(sp, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            files = list_files(d, kind)
            for p, _h in files:
                limit[p] = p.stat().st_size
        finally:
            os.close(fd)
    else:
        files = list_files(d, kind)
    good = {f for f, _ in files}
    for p in sorted(q for q in d.glob(f"{kind}.*.log") if _NAME.match(q.name)) if d.is_dir() else []:
        if p not in good and _size(p) > 0:      # empty: a writer was killed while starting the file
            st.bad_files.append(str(p))
    for path, header in files:
        try:
            with open(path, "rb") as fh:
                data = fh.read(limit.get(path, -1))
        except OSError:
            st.bad_files.append(str(path))
            continue
        try:
            if parse_file_header(data).seq != header.seq:
                st.reused += 1          # the ring reused this file while we read older ones: its
                continue                # records are gone; the new ones are after our snapshot
        except NotALogFile:
            st.reused += 1
            continue
        st.files += 1
        for rec in scan(data, FILE_HEADER.size, st):
            ts = rec.get("ts", 0)
            if since_us is not None and ts < since_us:
                continue
            if until_us is not None and ts >= until_us:
                continue
            yield rec
