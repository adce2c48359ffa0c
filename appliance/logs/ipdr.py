"""IPDR records built from accounting log records, and IPDR document files.

Record layouts follow the IPDR.org / TM Forum service specifications the
operators' mediation expects: *Public WLAN Access – WISP Use Case* (type
``wlan``) and *VoIP* (type ``voip``), IPDR 3.5 naming (``ipdrCreationTime``,
``seqNum``, ``gmtSessionStartDateTime`` …).  Date-times are ISO 8601 UTC
(``2026-11-23T10:00:00.000Z``).  ``chargeAmount`` is an integer in the
appliance's money minor units (``money.scale`` per ``chargeCurrencyType``).

A session yields one IPDR when its final record is seen: RADIUS
Accounting-Request Stop (RFC 2866 §5.1) or Diameter CCR TERMINATION_REQUEST
(RFC 4006 §8.3).  Totals: RADIUS Stop carries the session's cumulative
counters (RFC 2866 §5.3-5.7); Diameter reports used units per request
(RFC 4006 §8.19), so those are summed over the session's records; the money
charged is summed over all the session's records for both.  A session is
``voip`` when its service is ``voice``, else ``wlan``.

An IPDR document file is a framed log (see framing.py, kind ``ipdr``): an
``IPDRDoc`` header frame, the IPDR frames, an ``IPDRDoc.End`` frame (count,
endTime), written to a temporary file, fsynced and renamed.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .framing import FILE_HEADER, NotALogFile, ScanStats, encode, file_header, parse_file_header, scan

VERSION = "3.5"

WLAN_FIELDS = (
    "ipdrCreationTime", "seqNum", "username", "scId", "acctSessionId", "userIpAddress", "callingStationId",
    "calledStationId", "nasIpAddress", "nasId", "nasPortType", "sessionDuration", "inputOctets", "outputOctets",
    "class", "gmtSessionStartDateTime", "gmtSessionEndDateTime", "sessionTerminateCause", "chargeableUnit",
    "chargeableQuantity", "chargeAmount", "chargeCurrencyType", "serviceName", "protocol", "resultCode")
VOIP_FIELDS = (
    "ipdrCreationTime", "seqNum", "startTime", "endTime", "hostName", "subscriberId", "uniqueCallID", "ani",
    "destinationID", "callCompletionCode", "disconnectReason", "callDuration", "unitsConsumed", "chargeAmount",
    "chargeCurrencyType", "type", "protocol")
FIELDS = {"wlan": WLAN_FIELDS, "voip": VOIP_FIELDS}

FINAL = frozenset({"stop", "termination"})


def iso(us: int) -> str:
    """µs since the epoch -> ISO 8601 UTC with milliseconds."""
    dt = datetime.fromtimestamp(us // 1_000_000, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{(us % 1_000_000) // 1000:03d}Z"


def parse_iso(text: str) -> int:
    """ISO 8601 (``Z`` or offset; naive = UTC) -> µs since the epoch."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


@dataclass
class _Session:
    first_us: int
    charged: int = 0
    used: dict[str, int] = field(default_factory=dict)
    input_octets: int = 0
    output_octets: int = 0
    seen: dict[str, Any] = field(default_factory=dict)   # last non-empty identity/location fields


_CARRY = ("subscriber", "username", "imsi", "msisdn", "nai", "calling_station_id", "called_station_id",
          "nas_ip", "nas_id", "nas_port_type", "framed_ip", "class", "service", "destination", "calling_party",
          "peer", "protocol")


class SessionBuilder:
    """Feeds accounting records in log order; returns an IPDR dict for each session's final record."""

    def __init__(self, currency: str, since_us: int | None = None, until_us: int | None = None,
                 max_sessions: int = 1_000_000) -> None:
        self.currency, self.since_us, self.until_us = currency, since_us, until_us
        self.max_sessions = max_sessions
        self.sessions: dict[str, _Session] = {}
        self.evicted = 0

    def feed(self, rec: Mapping[str, Any]) -> dict[str, Any] | None:
        sid = rec.get("session_id")
        ts = rec.get("ts")
        if not isinstance(sid, str) or not isinstance(ts, int):
            return None
        if self.until_us is not None and ts >= self.until_us:
            return None
        rtype = rec.get("request_type")
        if rtype in ("on", "off", "event"):
            return None
        s = self.sessions.get(sid)
        if s is None:
            if len(self.sessions) >= self.max_sessions:       # bound: forget the oldest open session
                self.sessions.pop(next(iter(self.sessions)))
                self.evicted += 1
            s = self.sessions[sid] = _Session(ts)
        charged = rec.get("charged")
        if isinstance(charged, int) and not rec.get("duplicate"):
            s.charged += charged
        for k in _CARRY:
            v = rec.get(k)
            if v not in (None, ""):
                s.seen[k] = v
        if rec.get("protocol") != "radius" and not rec.get("duplicate"):
            for u in rec.get("units") or ():
                if isinstance(u, dict) and isinstance(u.get("used"), int):
                    s.used[u.get("unit", "?")] = s.used.get(u.get("unit", "?"), 0) + u["used"]
                    s.input_octets += u.get("input") or 0
                    s.output_octets += u.get("output") or 0
        if rtype not in FINAL:
            return None
        del self.sessions[sid]
        if self.since_us is not None and ts < self.since_us:
            return None
        return self._ipdr(sid, s, rec, ts)

    def _ipdr(self, sid: str, s: _Session, rec: Mapping[str, Any], end_us: int) -> dict[str, Any]:
        seen = s.seen
        radius = rec.get("protocol") == "radius"
        if radius and isinstance(rec.get("session_time"), int):
            duration = rec["session_time"]
            start_us = min(s.first_us, end_us - duration * 1_000_000)
        else:
            start_us = s.first_us
            duration = s.used.get("seconds", max(0, (end_us - start_us) // 1_000_000))
        result = rec.get("result")
        if seen.get("service") == "voice":
            return {"type": "voip", "startTime": iso(start_us), "endTime": iso(end_us),
                    "hostName": seen.get("peer"), "subscriberId": seen.get("subscriber") or seen.get("imsi"),
                    "uniqueCallID": sid, "ani": seen.get("calling_party") or seen.get("msisdn"),
                    "destinationID": seen.get("destination"), "callCompletionCode": result,
                    "disconnectReason": rec.get("terminate_cause") or rec.get("reason"),
                    "callDuration": duration, "unitsConsumed": s.used.get("seconds", duration),
                    "chargeAmount": s.charged, "chargeCurrencyType": self.currency,
                    "protocol": seen.get("protocol"), "_end_us": end_us}
        inp: int
        out: int
        if radius:
            i, o = rec.get("input_octets"), rec.get("output_octets")
            inp, out = (i if isinstance(i, int) else 0), (o if isinstance(o, int) else 0)
        else:
            inp, out = s.input_octets, s.output_octets
        octets = (inp + out) if radius else s.used.get("octets", inp + out)
        unit, qty = ("octets", octets) if octets or not duration else ("seconds", duration)
        return {"type": "wlan", "username": seen.get("username") or seen.get("nai") or seen.get("subscriber"),
                "scId": seen.get("imsi") or seen.get("msisdn") or seen.get("subscriber"),
                "acctSessionId": sid, "userIpAddress": seen.get("framed_ip"),
                "callingStationId": seen.get("calling_station_id"), "calledStationId": seen.get("called_station_id"),
                "nasIpAddress": seen.get("nas_ip"), "nasId": seen.get("nas_id"),
                "nasPortType": seen.get("nas_port_type"), "sessionDuration": duration,
                "inputOctets": inp, "outputOctets": out, "class": seen.get("class"),
                "gmtSessionStartDateTime": iso(start_us), "gmtSessionEndDateTime": iso(end_us),
                "sessionTerminateCause": rec.get("terminate_cause"), "chargeableUnit": unit,
                "chargeableQuantity": qty, "chargeAmount": s.charged, "chargeCurrencyType": self.currency,
                "serviceName": seen.get("service"), "protocol": seen.get("protocol"), "resultCode": result,
                "_end_us": end_us}


def build(records: Iterable[Mapping[str, Any]], currency: str, since_us: int | None = None,
          until_us: int | None = None) -> Iterator[dict[str, Any]]:
    """IPDR dicts (with ``type`` and an internal ``_end_us``) for sessions ending in [since, until)."""
    b = SessionBuilder(currency, since_us, until_us)
    for rec in records:
        out = b.feed(rec)
        if out is not None:
            yield out


def write_document(directory: Path, start_us: int, end_us: int, ipdrs: Iterable[dict[str, Any]],
                   recorder: str, now_us: int) -> Path:
    """Write one IPDR document atomically (temp file, fsync, rename); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"ipdr-{_stamp(start_us)}-{_stamp(end_us)}.log"
    final = directory / name
    tmp = directory / f".{name}.tmp"
    count = 0
    with open(tmp, "wb") as fh:
        fh.write(file_header(0, now_us, "ipdr"))
        fh.write(encode({"IPDRDoc": {"docId": str(uuid.uuid4()), "version": VERSION, "creationTime": iso(now_us),
                                     "IPDRRecorderInfo": recorder, "startTime": iso(start_us),
                                     "endTime": iso(end_us)}}))
        for rec in ipdrs:
            count += 1
            doc = {k: v for k, v in rec.items() if not k.startswith("_")}
            doc.update(ipdrCreationTime=iso(now_us), seqNum=count)
            fh.write(encode(doc))
        fh.write(encode({"IPDRDoc.End": {"count": count, "endTime": iso(now_us)}}))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return final


def _stamp(us: int) -> str:
    return datetime.fromtimestamp(us // 1_000_000, UTC).strftime("%Y%m%dT%H%M%SZ")


def list_documents(directory: Path) -> list[Path]:
    """Archived documents, oldest first (names sort by their start time)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("ipdr-*.log"))


@dataclass
class DocumentInfo:
    header: dict[str, Any] = field(default_factory=dict)
    end: dict[str, Any] | None = None       # None: the IPDRDoc.End frame is missing (truncated file)


def read_document(data: bytes, stats: ScanStats, info: DocumentInfo | None = None) -> Iterator[dict[str, Any]]:
    """IPDR records of one document's bytes; raises NotALogFile if it is not an IPDR document."""
    head = parse_file_header(data)
    if head.kind != "ipdr":
        raise NotALogFile(f"a {head.kind!r} log, not an IPDR document")
    for frame in scan(data, FILE_HEADER.size, stats):
        if "IPDRDoc" in frame:
            if info is not None:
                info.header = frame["IPDRDoc"]
            stats.records -= 1
        elif "IPDRDoc.End" in frame:
            if info is not None:
                info.end = frame["IPDRDoc.End"]
            stats.records -= 1
        else:
            yield frame
