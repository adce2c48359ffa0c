"""``export_ipdr``: IPDR documents (or a time range of the live acct log) to CSV.

Exit status: 0 every record exported; 1 exported, but torn or corrupt records
were skipped (counted on stderr); 2 usage error; 3 an input is missing or
unreadable; 4 an input is not an IPDR document / transaction log; 5 the output
cannot be written.  One CSV header line (the IPDR field names of the chosen
type), one row per IPDR record; empty cells for absent values.
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .fifo import ReadStats, list_files, read_log
from .framing import NotALogFile, ScanStats, parse_file_header
from .ipdr import FIELDS, DocumentInfo, build, list_documents, parse_iso, read_document

OK, SKIPPED, USAGE, MISSING, CORRUPT, OUTPUT = 0, 1, 2, 3, 4, 5


class ExportError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _time_us(text: str | None) -> int | None:
    if text is None:
        return None
    if text.isdigit():
        return int(text) * 1_000_000
    try:
        return parse_iso(text)
    except ValueError:
        raise ExportError(USAGE, f"bad time {text!r}: use epoch seconds or ISO 8601") from None


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = max(total, 1), 0, enabled
        self._last = -1

    def advance(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        pct = min(100, self.done * 100 // self.total)
        if pct != self._last:
            self._last = pct
            bar = "#" * (pct // 4)
            sys.stderr.write(f"\rexport_ipdr [{bar:<25}] {pct:3d}%")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled and self._last >= 0:
            sys.stderr.write("\n")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ExportError(MISSING, f"{path}: no such file") from None
    except IsADirectoryError:
        raise ExportError(MISSING, f"{path}: is a directory") from None
    except OSError as exc:
        raise ExportError(MISSING, f"{path}: cannot read: {exc.strerror}") from None


def archived(paths: list[Path], stats: ScanStats, progress: Progress,
             warnings: list[str]) -> Iterator[dict[str, Any]]:
    for path in paths:
        data = _read(path)
        info = DocumentInfo()
        try:
            yield from read_document(data, stats, info)
        except NotALogFile as exc:
            raise ExportError(CORRUPT, f"{path}: not an IPDR document ({exc})") from None
        if info.end is None:
            warnings.append(f"{path}: IPDRDoc.End missing (truncated document)")
        progress.advance(len(data))


def live(acct_dir: Path, currency: str, since: int | None, until: int | None, stats: ReadStats,
         progress: Progress) -> Iterator[dict[str, Any]]:
    if not acct_dir.is_dir():
        raise ExportError(MISSING, f"{acct_dir}: no such accounting log directory")
    if not list_files(acct_dir, "acct") and not any(acct_dir.glob("acct.*.log")):
        raise ExportError(MISSING, f"{acct_dir}: no accounting log files")
    records = read_log(acct_dir, "acct", stats, until_us=until)
    # sessions are built from all earlier records; only those ending in [since, until) are emitted
    yield from build(records, currency, since, until)
    progress.advance(progress.total)


def resolve_inputs(inputs: list[str]) -> list[Path]:
    paths: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            docs = list_documents(p)
            if not docs:
                raise ExportError(MISSING, f"{p}: no IPDR documents (ipdr-*.log)")
            paths.extend(docs)
        else:
            paths.append(p)
    return paths


def export(out: IO[str], rows: Iterator[dict[str, Any]], kind: str, since: int | None,
           until: int | None) -> int:
    fields = FIELDS[kind]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    n = 0
    for rec in rows:
        if rec.get("type") != kind:
            continue
        end = rec.get("_end_us")
        if end is None:
            stamp = rec.get("gmtSessionEndDateTime") or rec.get("endTime")
            try:
                end = parse_iso(stamp) if isinstance(stamp, str) else None
            except ValueError:
                end = None
        if since is not None and (end is None or end < since):
            continue
        if until is not None and (end is None or end >= until):
            continue
        writer.writerow(["" if rec.get(f) is None else rec.get(f) for f in fields])
        n += 1
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="export_ipdr", description=(
        "Export IPDR records to CSV: archived IPDR documents (default: all in logs.ipdr_log_dir), "
        "or with --live the sessions ending in a time range of the live accounting log."),
        epilog="exit status: 0 ok; 1 torn/corrupt records skipped; 2 usage; 3 missing input; "
               "4 not an IPDR document/log; 5 output error")
    p.add_argument("-c", "--config", help="appliance configuration (default: $APPLIANCE_CONFIG, ...)")
    p.add_argument("-i", "--input", action="append", default=[],
                   help="IPDR document or directory of documents (repeatable); with --live: acct log directory")
    p.add_argument("--live", action="store_true", help="read the live accounting log instead of archives")
    p.add_argument("-o", "--output", default="-", help="CSV file (default: stdout)")
    p.add_argument("-t", "--type", choices=sorted(FIELDS), default="wlan", help="record type (default: wlan)")
    p.add_argument("-s", "--start", help="sessions ending at or after (epoch seconds or ISO 8601)")
    p.add_argument("-e", "--end", help="sessions ending before (epoch seconds or ISO 8601)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except ExportError as exc:
        print(f"export_ipdr: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


def run(args: argparse.Namespace) -> int:
    from ..config import ConfigError, load
    since, until = _time_us(args.start), _time_us(args.end)
    if since is not None and until is not None and until <= since:
        raise ExportError(USAGE, "--end must be after --start")
    try:
        cfg = load(args.config)
    except ConfigError as exc:
        raise ExportError(USAGE, f"config error: {exc}") from None
    tty = sys.stderr.isatty() and not args.no_progress
    warnings: list[str] = []
    stats: ScanStats
    if args.live:
        acct_dir = Path(args.input[0]) if args.input else cfg.path(cfg.logs.acct_log_dir)
        if len(args.input) > 1:
            raise ExportError(USAGE, "--live takes one acct log directory")
        stats = ReadStats()
        progress = Progress(1, tty)
        rows = live(acct_dir, cfg.money.currency, since, until, stats, progress)
    else:
        paths = resolve_inputs(args.input or [str(cfg.path(cfg.logs.ipdr_log_dir))])
        for path in paths:            # fail before writing anything: missing or wrong files
            if not path.exists():
                raise ExportError(MISSING, f"{path}: no such file")
            try:
                with open(path, "rb") as fh:
                    head = parse_file_header(fh.read(32))
            except NotALogFile as exc:
                raise ExportError(CORRUPT, f"{path}: not an IPDR document ({exc})") from None
            except OSError as exc:
                raise ExportError(MISSING, f"{path}: cannot read: {exc.strerror}") from None
            if head.kind != "ipdr":
                raise ExportError(CORRUPT, f"{path}: a {head.kind!r} log, not an IPDR document "
                                           "(use --live for the accounting log)")
        stats = ScanStats()
        progress = Progress(sum(p.stat().st_size for p in paths), tty)
        rows = archived(paths, stats, progress, warnings)
    out: IO[str]
    if args.output == "-":
        out, close = sys.stdout, False
    else:
        try:
            out, close = open(args.output, "w", newline="", encoding="utf-8"), True
        except OSError as exc:
            raise ExportError(OUTPUT, f"{args.output}: cannot write: {exc.strerror}") from None
    try:
        n = export(out, rows, args.type, since, until)
        out.flush()
    except OSError as exc:
        raise ExportError(OUTPUT, f"{args.output}: write failed: {exc.strerror}") from None
    finally:
        progress.finish()
        if close:
            out.close()
    for w in warnings:
        print(f"export_ipdr: warning: {w}", file=sys.stderr)
    bad = getattr(stats, "bad_files", [])
    for b in bad:
        print(f"export_ipdr: warning: {b}: not a log file, skipped", file=sys.stderr)
    print(f"export_ipdr: {n} {args.type} records exported"
          + (f", {stats.skipped} torn or corrupt records skipped" if stats.skipped else ""), file=sys.stderr)
    return SKIPPED if stats.skipped or bad else OK


if __name__ == "__main__":
    sys.exit(main())

