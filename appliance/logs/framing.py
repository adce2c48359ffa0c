"""Record framing for transaction and IPDR log files.

A log file is a 32-byte file header followed by frames::

    file header: b"OCSTLOG1" | seq u64 | created_us u64 | kind 8 bytes (NUL padded)
    frame:       b"TR" | length u32 | crc32(payload) u32 | payload (UTF-8 JSON object)

All integers little-endian.  A frame is written with one ``write()``; a crash
can leave at most the frame being written incomplete.  Readers check the
magic, the length bound and the CRC-32; on a bad frame they count one skipped
region and resynchronise on the next ``b"TR"`` whose frame checks out, so a torn
record (at the tail, or in the middle after a writer was killed and another
appended) costs exactly that record.
"""
from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

FILE_MAGIC = b"OCSTLOG1"
FILE_HEADER = struct.Struct("<8sQQ8s")
FRAME_MAGIC = b"TR"
FRAME_HEADER = struct.Struct("<2sII")
MAX_PAYLOAD = 1 << 20          # a record over 1 MiB is treated as corrupt by readers


class NotALogFile(Exception):
    """The file does not start with a transaction log header (wrong file or overwritten)."""


@dataclass(frozen=True, slots=True)
class FileHeader:
    seq: int
    created_us: int
    kind: str


def file_header(seq: int, created_us: int, kind: str) -> bytes:
    return FILE_HEADER.pack(FILE_MAGIC, seq, created_us, kind.encode()[:8].ljust(8, b"\0"))


def parse_file_header(data: bytes) -> FileHeader:
    if len(data) < FILE_HEADER.size:
        raise NotALogFile("shorter than the 32-byte log header")
    magic, seq, created, kind = FILE_HEADER.unpack_from(data)
    if magic != FILE_MAGIC:
        raise NotALogFile("no OCSTLOG1 header")
    return FileHeader(seq, created, kind.rstrip(b"\0").decode("ascii", "replace"))


_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str, ensure_ascii=False)
try:    # the C encoder built once, without the circular-reference markers (records are trees):
    # half the cost of JSONEncoder.encode, which builds both per call
    from _json import encode_basestring as _c_string
    from _json import make_encoder as _c_make_encoder
    _C_ENCODE: Any = _c_make_encoder(None, str, _c_string, None, ":", ",", False, False, True)
except ImportError:                                       # pragma: no cover - no C accelerator
    _C_ENCODE = None


def encode_payload(record: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, the same bytes as ``json.dumps(record, separators=(",", ":"),
    ensure_ascii=False, default=str)``; raises ValueError/TypeError (or RecursionError) on bad input."""
    if _C_ENCODE is None:
        return _ENCODER.encode(record).encode()
    return "".join(_C_ENCODE(record, 0)).encode()


def frame(payload: bytes) -> bytes:
    """One framed record (header + payload)."""
    return FRAME_HEADER.pack(FRAME_MAGIC, len(payload), zlib.crc32(payload)) + payload


def encode(record: dict[str, Any]) -> bytes:
    return frame(encode_payload(record))


@dataclass(slots=True)
class ScanStats:
    records: int = 0
    skipped: int = 0           # torn or corrupt regions skipped (each usually one record)
    skipped_bytes: int = 0


def _frame_at(data: bytes | memoryview, pos: int) -> tuple[int, bytes] | None:
    """(end, payload) if a valid frame starts at ``pos``, else None."""
    end_hdr = pos + FRAME_HEADER.size
    if end_hdr > len(data):
        return None
    magic, length, crc = FRAME_HEADER.unpack_from(data, pos)
    if magic != FRAME_MAGIC or length > MAX_PAYLOAD or end_hdr + length > len(data):
        return None
    payload = bytes(data[end_hdr:end_hdr + length])
    if zlib.crc32(payload) != crc:
        return None
    return end_hdr + length, payload


def scan(data: bytes, start: int, stats: ScanStats) -> Iterator[dict[str, Any]]:
    """Yield the JSON records of the frames in ``data[start:]``; bad regions are counted in ``stats``."""
    pos, n = start, len(data)
    bad_from = -1
    while pos < n:
        found = _frame_at(data, pos)
        record: Any = None
        if found is not None:
            try:
                record = json.loads(found[1])
            except ValueError:
                record = None
        if isinstance(record, dict) and found is not None:
            if bad_from >= 0:
                stats.skipped += 1
                stats.skipped_bytes += pos - bad_from
                bad_from = -1
            stats.records += 1
            pos = found[0]
            yield record
            continue
        if bad_from < 0:
            bad_from = pos
        nxt = data.find(FRAME_MAGIC, pos + 1)
        pos = n if nxt < 0 else nxt
    if bad_from >= 0:
        stats.skipped += 1
        stats.skipped_bytes += n - bad_from
