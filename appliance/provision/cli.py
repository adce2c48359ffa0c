"""``appliance import FILE``: bulk provisioning of subscribers from CSV (with a header) or JSON lines.

Each row is one service (identities, credentials), its product when the row names an offer, and
the product's initial balances (top-ups through the ledger, in buckets named ``initial`` that a
second import of the same ids replaces).  Rows are written in transactions of ``--batch`` rows.

By default the whole file is checked first and nothing is written if one row is bad; with
``--skip-bad`` bad rows are reported and the others imported.  Errors are one line each, naming
the file, the line and the field; secrets (password, K, OPc) are never printed.  A progress bar
goes to stderr when it is a terminal; the summary is one JSON line on stdout.
"""
from __future__ import annotations

import argparse
import csv
import gc
import io
import itertools
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TextIO

from ..ocs.ports import Store
from .rows import FIELDS, RowError, Subscriber, from_json, parse

MAX_REPORTED = 20            # bad rows printed one a line (the others are counted)
KEEP_PARSED = 200_000        # rows kept parsed between the check and the write (about 1 kB each)
Row = tuple[int, dict[str, str] | RowError]


def register(sub: Any) -> None:
    p = sub.add_parser("import", help="bulk provisioning: services, products and initial balances from "
                                      "CSV or JSON lines", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help="CSV file with a header, or JSON lines; - for stdin")
    p.add_argument("--format", choices=("csv", "jsonl"), help="default: from the file name, else its first "
                                                               "character ({ is JSON lines)")
    p.add_argument("--skip-bad", action="store_true", help="import the good rows, report the bad ones")
    p.add_argument("--batch", type=int, default=5000, help="rows per transaction (default 5000)")
    p.set_defaults(func=cmd_import)


def cmd_import(cfg: Any, args: argparse.Namespace) -> int:
    from ..cli import CliError, _store
    name = "stdin" if args.file == "-" else args.file
    if not 1 <= args.batch <= 100_000:
        raise CliError("--batch must be 1 to 100000")
    try:
        if args.file == "-":
            text: str | None = sys.stdin.read() if not args.skip_bad else None
            stream: TextIO = io.StringIO(text) if text is not None else sys.stdin
        else:
            stream = open(args.file, encoding="utf-8-sig", newline="")
            text = None
    except OSError as exc:
        raise CliError(f"cannot read {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CliError(f"{name}: not UTF-8 text ({exc.reason})") from None
    store = _store(cfg)
    gc.disable()                        # a million small objects, no cycles: no collector passes
    try:
        offers = {o.name for o in store.transact(lambda l: l.list_offers())}
        run = Import(store, name, offers, args.batch, sys.stderr, _ledger_socket(cfg))
        try:
            first, lines = _peek(stream)
            fmt = args.format or _format(args.file, first)
            if args.skip_bad:
                total = _count_lines(args.file) - (fmt == "csv") if args.file != "-" else None
                run.write(run.checked_batches(_rows(name, fmt, lines), lenient=True), total)
            else:
                kept: Iterable[list[Subscriber]] | None = run.check(_rows(name, fmt, lines))
                if run.skipped:
                    raise CliError(f"{name}: {run.skipped} bad row{'s' if run.skipped > 1 else ''}: nothing "
                                   "imported (--skip-bad imports the good ones)")
                if kept is None:        # too many rows to keep: read the file again
                    stream.close()
                    stream = io.StringIO(text) if text is not None else open(args.file, encoding="utf-8-sig",
                                                                             newline="")
                    kept = run.parsed_batches(_rows(name, fmt, stream))
                run.write(kept, run.checked - run.skipped)
        except UnicodeDecodeError as exc:
            raise CliError(f"{name}: not UTF-8 text ({exc.reason})") from None
        except ValueError as exc:       # the store refused a batch (an identity taken meanwhile)
            raise CliError(f"{name}: {exc}: the rows before were imported") from None
    finally:
        gc.enable()
        store.close()
        stream.close()
    print(json.dumps(run.summary(), sort_keys=True))
    return 0


LEDGER_CHUNK = 1_000      # initial balances per ledger operation: the ledger's loop stays responsive


def _ledger_socket(cfg: Any) -> tuple[str, float] | None:
    """The running ledger role's socket (and the wait allowed), or None: balances written here."""
    if cfg.processes.ledger <= 0:
        return None
    from ..ledger.server import socket_path
    path = socket_path(cfg)
    return (str(path), max(cfg.processes.ledger_timeout, 5.0)) if path.exists() else None


class Import:
    """Rows to subscribers to batches; the checks that span rows (an identity, a service id given
    once in the file and not owned by another service in the store; a product named without an
    offer exists).  The store's work on one batch overlaps the parsing of the next."""

    def __init__(self, store: Store, name: str, offers: set[str], batch: int, err: TextIO,
                 ledger: tuple[str, float] | None = None) -> None:
        self.store, self.name, self.offers, self.batch, self.err = store, name, offers, batch, err
        self.ledger = ledger          # (socket, timeout) of the running ledger role: it writes the balances
        self.checked = self.imported = self.skipped = self.products = self.buckets = 0
        self.started = self.writing = time.monotonic()
        self.owners: dict[str, tuple[str, int]] = {}     # identity -> (service id, line) in the file
        self.created: set[str] = set()                   # products the file creates
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="import")

    # --- checking
    def check(self, rows: Iterable[Row]) -> list[list[Subscriber]] | None:
        """Check every row, nothing written; bad rows are reported and counted in ``skipped``.
        Returns the parsed batches, or None past :data:`KEEP_PARSED` rows."""
        kept: list[list[Subscriber]] | None = []
        wanted: dict[str, int] = {}
        progress = Progress(None, self.err, "checked") if self.err.isatty() else None
        for batch in self.checked_batches(rows, wanted=wanted):
            if kept is not None:
                kept.append(batch)
                if self.checked > KEEP_PARSED:
                    kept = None
            if progress is not None:
                progress.show(self.checked)
        if progress is not None:
            progress.done(self.checked)
        missing = self._missing_products([p for p in wanted if p not in self.created])
        for product in sorted(missing, key=wanted.__getitem__):
            self._report(wanted[product], RowError("product", f"no such product {product!r} (give an offer "
                                                              "to create it)"))
        return kept

    def checked_batches(self, rows: Iterable[Row], wanted: dict[str, int] | None = None,
                        lenient: bool = False) -> Iterator[list[Subscriber]]:
        """The good subscribers of each chunk of rows.  ``wanted``: products named without an offer
        and not (yet) created by the file, with the first line naming each (checked by the caller);
        ``lenient``: such rows are checked against the store chunk by chunk instead."""
        previous: tuple[list[tuple[int, Subscriber]], Future[dict[str, str]]] | None = None
        for chunk in _chunks(rows, self.batch):
            parsed, idents = self._parse_chunk(chunk)
            future = self.pool.submit(self.store.transact, lambda l, idents=idents: l.identity_owners(idents))
            if previous is not None:
                yield self._store_checked(*previous, wanted, lenient)
            previous = (parsed, future)
        if previous is not None:
            yield self._store_checked(*previous, wanted, lenient)

    def _parse_chunk(self, chunk: list[Row]) -> tuple[list[tuple[int, Subscriber]], list[str]]:
        """The chunk's good rows and all their identities."""
        owners = self.owners
        parsed: list[tuple[int, Subscriber]] = []
        idents: list[str] = []
        for line, row in chunk:
            self.checked += 1
            try:
                if isinstance(row, RowError):
                    raise row
                sub = parse(row, self.offers)
                service = sub.service
                identities = service.identities()
                for ident in identities:
                    seen = owners.get(ident)
                    if seen is not None:
                        field = _field(service, ident)
                        if seen[0] == service.id and field == "id":
                            raise RowError("id", f"service {service.id!r} is already on line {seen[1]}")
                        raise RowError(field, f"{ident} is already given to service {seen[0]!r} on line {seen[1]}")
            except RowError as exc:
                self._report(line, exc)
                continue
            for ident in identities:
                owners[ident] = (service.id, line)
            idents.extend(identities)
            parsed.append((line, sub))
        return parsed, idents

    def _store_checked(self, parsed: list[tuple[int, Subscriber]], future: Future[dict[str, str]],
                       wanted: dict[str, int] | None, lenient: bool) -> list[Subscriber]:
        owners = future.result()
        good: list[Subscriber] = []
        local: dict[str, int] = {}
        for line, sub in parsed:
            service = sub.service
            if owners:
                owner = next((o for i in service.identities() if (o := owners.get(i, service.id)) != service.id), None)
                if owner is not None:
                    ident = next(i for i in service.identities() if owners.get(i, service.id) == owner)
                    self._report(line, RowError(_field(service, ident), f"{ident} belongs to service {owner!r} "
                                                                        "in the store"))
                    continue
            if sub.product is not None:
                self.created.add(sub.product.id)
            elif service.product_id not in self.created:
                local.setdefault(service.product_id or "", line)
            good.append(sub)
        if lenient and local:
            missing = set(self._missing_products(list(local)))
            kept = []
            for sub in good:
                if sub.product is None and sub.service.product_id in missing:
                    self._report(local[sub.service.product_id or ""],
                                 RowError("product", f"no such product {sub.service.product_id!r} "
                                                     "(give an offer to create it)"))
                else:
                    kept.append(sub)
            good = kept
        elif wanted is not None:
            for product, line in local.items():
                wanted.setdefault(product, line)
        return good

    def parsed_batches(self, rows: Iterable[Row]) -> Iterator[list[Subscriber]]:
        """The subscribers of rows already checked (the file read a second time)."""
        for chunk in _chunks(rows, self.batch):
            yield [parse(row, self.offers) for _line, row in chunk if not isinstance(row, RowError)]

    def _missing_products(self, products: list[str]) -> list[str]:
        if not products:
            return []
        return self.store.transact(lambda l: [p for p in products if l.get_product(p) is None])

    def _report(self, line: int, exc: Exception) -> None:
        self.skipped += 1
        if self.skipped <= MAX_REPORTED:
            self.err.write(f"appliance: {self.name}: line {line}: {exc}\n")
        elif self.skipped == MAX_REPORTED + 1:
            self.err.write(f"appliance: {self.name}: more bad rows (counted in the summary)\n")

    # --- writing
    def write(self, batches: Iterable[list[Subscriber]], total: int | None) -> None:
        """Write each batch in one transaction (the next is prepared while one is written)."""
        from ..ledger import book
        progress = Progress(total, self.err, "imported") if self.err.isatty() else None
        self.writing = time.monotonic()
        pending: Future[None] | None = None
        try:
            for batch in batches:
                products = list({s.product.id: s.product for s in batch if s.product is not None}.values())
                services = [s.service for s in batch]
                # the last row giving a product a balance of a unit sets it
                buckets = list({(b.product_id, b.unit): b for s in batch for b in s.buckets}.values())
                now = int(time.time())

                def put(l: Any, products: list[Any] = products, services: list[Any] = services,
                        buckets: list[Any] = buckets, now: int = now) -> None:
                    l.put_subscribers(products, services)
                    if buckets and self.ledger is None:
                        book.top_up_initial(l, buckets, now)
                if pending is not None:
                    pending.result()           # the previous batch is committed (or its error raised here)
                pending = self.pool.submit(self._commit, put, len(services), len(products), buckets, now)
                if progress is not None:
                    progress.show(self.imported + self.skipped)
            if pending is not None:
                pending.result()
        finally:
            self.pool.shutdown(wait=True)
        if progress is not None:
            progress.done(self.imported + self.skipped)

    def _commit(self, put: Any, services: int, products: int, buckets: list[Any], now: int) -> None:
        self.store.transact(put)
        if buckets and self.ledger is not None:
            # the initial balances through the one writer of balances: a named operation per
            # LEDGER_CHUNK buckets (replacing a product's ``initial`` buckets: a resend is harmless)
            from ..ledger.remote import call_blocking
            path, timeout = self.ledger
            for i in range(0, len(buckets), LEDGER_CHUNK):
                call_blocking(path, "top_up_initial", (now, tuple(
                    (b.product_id, b.unit.value, b.remaining, b.end, b.name) for b in buckets[i:i + LEDGER_CHUNK])),
                    timeout)
        self.imported += services
        self.products += products
        self.buckets += len(buckets)

    def summary(self) -> dict[str, Any]:
        now = time.monotonic()
        elapsed = max(now - self.started, 1e-9)
        return {"file": self.name, "imported": self.imported, "skipped": self.skipped,
                "products": self.products, "buckets": self.buckets, "seconds": round(elapsed, 3),
                "checking_seconds": round(self.writing - self.started, 3), "per_second": int(self.imported / elapsed)}


class Progress:
    """One line on a terminal, redrawn at most 5 times a second: counts, rate, ETA."""

    WIDTH = 24

    def __init__(self, total: int | None, out: TextIO, verb: str) -> None:
        self.total, self.out, self.verb = total, out, verb
        self.started = self.drawn = time.monotonic()

    def show(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.drawn < 0.2:
            return
        self.drawn = now
        rate = done / max(now - self.started, 1e-9)
        if self.total:
            part = min(done / self.total, 1.0)
            bar = "#" * int(part * self.WIDTH)
            eta = (self.total - done) / rate if rate > 0 else 0
            text = (f"[{bar:<{self.WIDTH}}] {done:,}/{self.total:,} {self.verb}  {rate:,.0f}/s  "
                    f"ETA {int(eta) // 60}:{int(eta) % 60:02d}")
        else:
            text = f"{done:,} {self.verb}  {rate:,.0f}/s"
        self.out.write(f"\r{text}\x1b[K")
        self.out.flush()

    def done(self, done: int) -> None:
        self.show(done, force=True)
        self.out.write("\n")
        self.out.flush()


def _field(service: Any, ident: str) -> str:
    for name in ("id", "imsi", "msisdn", "nai"):
        if getattr(service, name) == ident:
            return name
    return "id"


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _peek(stream: TextIO) -> tuple[str, Iterable[str]]:
    first = stream.readline()
    return first, itertools.chain((first,), stream)


def _format(path: str, first: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext == ".csv":
        return "csv"
    if ext in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "jsonl" if first.lstrip().startswith("{") else "csv"


def _count_lines(path: str) -> int:
    count = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            count += block.count(b"\n")
    return count


def _rows(name: str, fmt: str, lines: Iterable[str]) -> Iterator[Row]:
    """(line number, row text or the row's error) for each record of the file."""
    from ..cli import CliError
    if fmt == "jsonl":
        for number, text in enumerate(lines, 1):
            if not text.strip():
                continue
            try:
                yield number, from_json(json.loads(text))
            except json.JSONDecodeError as exc:
                yield number, RowError("", f"not JSON ({exc.msg}, column {exc.colno})")
            except RowError as exc:
                yield number, exc
        return
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if header is None:
            return
        names = [h.strip().lower() for h in header]
        for column, h in enumerate(names, 1):
            if h not in FIELDS:
                raise CliError(f"{name}: line {reader.line_num}: column {column}: unknown field {h[:40]!r} "
                               f"(known: {', '.join(FIELDS)})")
            if names.count(h) > 1:
                raise CliError(f"{name}: line {reader.line_num}: field {h!r} is in the header twice")
        if "id" not in names:
            raise CliError(f"{name}: line {reader.line_num}: the header has no 'id' field")
        width = len(names)
        for record in reader:
            if not record:
                continue
            if len(record) != width:
                yield reader.line_num, RowError("", f"{len(record)} fields, the header has {width}")
                continue
            yield reader.line_num, {h: (v if h == "password" else v.strip()) for h, v in zip(names, record) if v}
    except csv.Error as exc:
        raise CliError(f"{name}: line {reader.line_num}: {exc}") from None


__all__ = ["register", "cmd_import", "Import", "Progress"]
