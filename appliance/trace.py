"""Per-subscriber live trace: ``appliance trace <IMSI|MSISDN|NAI>``.

The command writes a request ``<run_dir>/trace/<name>.json`` (the subscriber's identities, an end
time, an event limit, the events file). Each worker re-reads that folder once a second (only when
its modification time changed) into :data:`ACTIVE`; while nobody traces :data:`ACTIVE` is empty
and the request path pays one truth test of an empty dict. A traced request and its answer are
appended, decoded (AVP names from the dictionary, key material masked), as JSON lines to the
events file, as are the subscriber's Gx policy pushes (:func:`event`, from appliance.pcrf) and EAP
steps (:func:`eap_step`, the EAP framework's observer, set only while someone traces), which every
worker of the node appends to (``O_APPEND``, one write per line) and the command reads. Bounded: a
request lasts at most :data:`MAX_SECONDS` and :data:`MAX_EVENTS`, :data:`MAX_SESSIONS` Session-Ids
are followed per worker.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("appliance.trace")

MAX_SECONDS = 3600
MAX_EVENTS = 100_000
MAX_SESSIONS = 10_000
MAX_DEPTH = 6
# AVPs carrying key material or authentication vectors (RFC 4072 EAP-Master-Session-Key, TS 29.229/
# 29.273 SIP-Authenticate/-Authorization, Confidentiality-/Integrity-Key, RFC 4006 none): values masked.
MASKED = frozenset({(464, 0), (609, 10415), (610, 10415), (625, 10415), (626, 10415), (1447, 10415),
                    (2, 0), (3, 0), (79, 0), (80, 0)})


@dataclass(eq=False)                      # compared by identity (kept in sets)
class Trace:
    name: str
    identities: frozenset[str]
    until: float
    max_events: int
    events: Path
    count: int = 0
    sessions: set[str] = field(default_factory=set)
    outbox: list[dict[str, Any]] | None = None   # another node's trace: events for its store queue


ACTIVE: dict[str, Trace] = {}          # identity -> trace; empty when nobody traces
_SESSIONS: dict[str, tuple[Trace, str]] = {}   # Session-Ids seen with a traced identity, and it
# The worker's balance reader (identity -> JSON-able balance), set by a role that has the store;
# called only for a traced answer.
balance_reader: Callable[[str], Any] | None = None
_seen_mtime: float = -1.0
_local: dict[str, Trace] = {}          # from this node's request files
_remote: dict[str, Trace] = {}         # trace name -> another node's request (shared store)
# Set by a worker whose store other nodes share (PostgreSQL): (store, this node's host).
shared: tuple[Any, str] | None = None
REQUEST_KIND = "trace_request"         # a trace request, read by every node's workers
EVENT_KIND = "trace_event"             # an event of another node, queued for the tracing node
SHARED_TRACES = 16                     # requests a worker follows from other nodes
PULL_MAX = 500                         # queued events read per pull
_NAME = re.compile(r"^[a-z]*\d+-\d+-[0-9a-f]{8}$")


def folder(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / "trace"


def refresh(run_dir: str | os.PathLike[str], now: float) -> None:
    """Re-read the trace requests when the folder changed, and drop ended traces."""
    global _seen_mtime
    path = folder(run_dir)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        mtime = 0.0
    if mtime != _seen_mtime:
        _seen_mtime = mtime
        traces: dict[str, Trace] = {}
        for req in sorted(path.glob("*.json")) if mtime else ():
            try:
                doc = json.loads(req.read_text())
                trace = Trace(req.stem, frozenset(str(i) for i in doc["identities"][:16]),
                              min(float(doc["until"]), now + MAX_SECONDS),
                              min(int(doc["max_events"]), MAX_EVENTS), Path(doc["events"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue                  # half-written or removed meanwhile: read again next change
            old = next((t for t in ACTIVE.values() if t.name == trace.name), None)
            if old is not None:
                trace.count, trace.sessions = old.count, old.sessions
            for ident in trace.identities:
                traces[ident] = trace
        _local.clear()
        _local.update(traces)
        _replace({**_merged_remote(), **_local})
    if any(t.until <= now or t.count >= t.max_events for t in ACTIVE.values()):
        _replace({i: t for i, t in ACTIVE.items() if t.until > now and t.count < t.max_events})


def _merged_remote() -> dict[str, Trace]:
    return {ident: t for t in _remote.values() for ident in t.identities}


def _replace(traces: dict[str, Trace]) -> None:
    ACTIVE.clear()
    ACTIVE.update(traces)
    _observe_eap(bool(traces))
    live = set(traces.values())
    for sid in [s for s, (t, _i) in _SESSIONS.items() if t not in live]:
        del _SESSIONS[sid]


async def watch(run_dir: str | os.PathLike[str], stop: asyncio.Event, every: float = 1.0) -> None:
    """A worker's once-a-second look at the trace requests."""
    while not stop.is_set():
        try:
            refresh(run_dir, time.time())
            if shared is not None:
                await sync_shared(time.time())
        except Exception:                # tracing must never stop a worker
            log.exception("reading trace requests failed")
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass


def _record(trace: Trace, event: dict[str, Any]) -> None:
    if trace.count >= trace.max_events:
        return
    trace.count += 1
    if trace.outbox is not None:
        trace.outbox.append(event)
        return
    line = (json.dumps(event, default=str, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    try:
        fd = os.open(trace.events, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError as exc:
        log.warning("trace %s: cannot append to %s: %s", trace.name, trace.events, exc)


def avps_out(avps: list[Any], depth: int = 0) -> list[Any]:
    """AVPs as ``[name, value]`` (grouped: a nested list), key material masked."""
    from .diameter import codec as c
    out: list[Any] = []
    for a in avps:
        name = c.NAMES.get((a.code, a.vendor), f"{a.code}/{a.vendor}")
        if (a.code, a.vendor) in MASKED:
            out.append([name, "***"])
            continue
        try:
            value = a.value
        except Exception:                 # an undecodable payload is shown as hex
            value = a.data
        if isinstance(value, list):
            value = avps_out(value, depth + 1) if depth < MAX_DEPTH else "..."
        elif isinstance(value, bytes):
            value = value.hex()
        out.append([name, value])
    return out


def _identities(msg: Any) -> list[str]:
    found = []
    for a in msg.avps:
        if a.code == 1 and a.vendor == 0:                     # User-Name
            found.append(a.data.decode("utf-8", "replace"))
        elif a.code == 443 and a.vendor == 0:                 # Subscription-Id / Subscription-Id-Data
            found += [x.data.decode("utf-8", "replace") for x in a.group() if x.code == 444]
    return found


def event(identities: Any, fields: dict[str, Any]) -> bool:
    """Record ``fields`` (a policy push, an EAP step ...) for the first of ``identities`` someone
    traces; whether one matched.  Callers test ``ACTIVE`` first: nothing is done while nobody traces."""
    for identity in identities:
        found = ACTIVE.get(identity) if identity else None
        if found is not None:
            _record(found, {"time": time.time(), "pid": os.getpid(), **fields, "identity": identity})
            return True
    return False


def eap_identities(identity: str | None) -> list[str]:
    """The identities an EAP identity may name: itself, its user part, and for an EAP-AKA/AKA'
    permanent identity (RFC 4187 §4.1.1.6, RFC 5448 §3: ``0``/``6`` + IMSI) the IMSI."""
    if not identity:
        return []
    user = identity.split("@", 1)[0]
    out = [identity, user]
    if len(user) > 6 and user[0] in "0156" and user[1:].isdigit():
        out.append(user[1:])
    return out


def eap_step(conversation: Any, outcome: Any) -> None:
    """The EAP framework's observer (appliance.eap.framework.observer, set while someone traces):
    one event per EAP round of a traced subscriber: method, state, what was answered, a refusal's
    reason.  Never a packet's payload or key material (MSK/EMSK)."""
    kind = type(outcome).__name__.lower()                # send | accept | reject | ignore
    ids = eap_identities(conversation.identity)
    extra = getattr(outcome, "service_id", None)
    if isinstance(extra, str):
        ids.append(extra)
    fields: dict[str, Any] = {"protocol": "eap", "event": "eap-" + kind, "eap_identity": conversation.identity,
                              "method": conversation.method_type, "state": conversation.state.value,
                              "round": conversation.rounds}
    if kind in ("reject", "ignore"):
        fields["reason"] = getattr(outcome, "reason", "")
    if kind == "accept":
        fields["method"] = outcome.method
    event(ids, fields)


def _observe_eap(on: bool) -> None:
    try:
        from .eap import framework
    except ImportError:                  # a role without the EAP package
        return
    framework.observer = eap_step if on else None


def diameter(msg: Any, answer: bytes, app: str, peer: str) -> None:
    """A request and its answer, when the request belongs to a traced subscriber or session."""
    from .diameter import codec as c
    sid_avp = next((a for a in msg.avps if a.code == 263 and a.vendor == 0), None)
    sid = sid_avp.data.decode("utf-8", "replace") if sid_avp is not None else ""
    known = _SESSIONS.get(sid) if sid else None
    if known is not None:
        trace, identity = known
    else:
        for identity in _identities(msg):
            found = ACTIVE.get(identity)
            if found is not None:
                break
        else:
            return
        trace = found
        if sid and len(_SESSIONS) < MAX_SESSIONS:
            _SESSIONS[sid] = (trace, identity)
    now = time.time()
    base = {"time": now, "pid": os.getpid(), "protocol": "diameter", "app": app, "peer": peer, "session": sid,
            "command": msg.code}
    _record(trace, {**base, "event": "request", "identity": identity, "avps": avps_out(msg.avps)})
    try:
        ans = c.decode(answer)
        result = ans.u32(c.RESULT_CODE)
        event: dict[str, Any] = {**base, "event": "answer", "result": result, "avps": avps_out(ans.avps)}
    except Exception as exc:              # our own answer should decode; say so rather than fail
        event = {**base, "event": "answer", "error": str(exc)}
    if balance_reader is not None:
        try:
            event["balance"] = balance_reader(identity)      # after this answer's charge was committed
        except Exception as exc:
            event["balance"] = {"error": str(exc)}
    _record(trace, event)


async def sync_shared(now: float) -> None:
    """A worker's look at the other nodes' trace requests in the shared store (at most
    :data:`SHARED_TRACES`, each bounded as its node set it), and the hand-over of their events to
    the store queue the tracing node reads (:func:`pull`).  Requests that ended an hour ago are
    removed with their queued events (a tracing command that died never cleans up)."""
    if shared is None:
        return
    store, node = shared
    outgoing = [(t.name, list(t.outbox)) for t in _remote.values() if t.outbox]
    for t in _remote.values():
        if t.outbox:
            t.outbox.clear()

    def exchange(ledger: Any) -> list[tuple[str, dict[str, Any]]]:
        from .store.pages import doc_page
        for name, events in outgoing:
            if ledger.get_doc(REQUEST_KIND, name) is None:
                continue                              # stopped meanwhile: nobody reads them
            for n, ev in enumerate(events):
                ledger.put_doc(EVENT_KIND, f"{name}/{node}-{os.getpid()}-{int(now * 1000)}-{n:06d}",
                               {**ev, "node": node})
        requests = doc_page(ledger, REQUEST_KIND, limit=SHARED_TRACES * 4)
        for name, doc in requests:
            if float(doc.get("until", 0)) + 3600 < now:
                _remove_shared(ledger, name)
        return requests
    requests = await store.atransact(exchange)
    seen: dict[str, Trace] = {}
    for name, doc in requests:
        if doc.get("node") == node or float(doc.get("until", 0)) <= now or len(seen) >= SHARED_TRACES:
            continue
        old = _remote.get(name)
        if old is not None:
            seen[name] = old
            continue
        try:
            seen[name] = Trace(name, frozenset(str(i) for i in doc["identities"][:16]),
                               min(float(doc["until"]), now + MAX_SECONDS),
                               min(int(doc["max_events"]), MAX_EVENTS), Path(), outbox=[])
        except (KeyError, TypeError, ValueError):
            continue
    if seen.keys() != _remote.keys():
        _remote.clear()
        _remote.update(seen)
        _replace({**_merged_remote(), **_local})


def _remove_shared(ledger: Any, name: str) -> None:
    from .store.pages import doc_page
    ledger.delete_doc(REQUEST_KIND, name)
    for key, _doc in doc_page(ledger, EVENT_KIND, prefix=name + "/", limit=PULL_MAX):
        ledger.delete_doc(EVENT_KIND, key)


def pull(store: Any, run_dir: str | os.PathLike[str], name: str) -> int:
    """Move the events other nodes queued for trace ``name`` into its events file (in time order,
    each once: an event is taken by the transaction that deleted it); how many."""
    def take(ledger: Any) -> list[dict[str, Any]]:
        from .store.pages import doc_page
        return [doc for key, doc in doc_page(ledger, EVENT_KIND, prefix=name + "/", limit=PULL_MAX)
                if ledger.delete_doc(EVENT_KIND, key)]
    events = sorted(store.transact(take), key=lambda e: float(e.get("time", 0)))
    if events:
        with open(folder(run_dir) / f"{name}.events", "ab") as out:
            out.write(b"".join((json.dumps(e, default=str, ensure_ascii=False, separators=(",", ":")) + "\n")
                               .encode() for e in events))
    return len(events)


def shared_store(cfg: Any) -> Any:
    """The store when other nodes share it (PostgreSQL), else None: a trace then stays on this node."""
    if cfg.database.backend != "postgres":
        return None
    from .store import open_store
    return open_store(cfg)


def start(run_dir: str | os.PathLike[str], identities: list[str], seconds: float, max_events: int,
          tag: str = "", store: Any = None, node: str = "") -> str:
    """Ask every worker to trace ``identities`` for ``seconds`` or ``max_events``; the trace's name
    (its request ``<name>.json`` and events file ``<name>.events`` in the trace folder)."""
    seconds = min(max(seconds, 1.0), MAX_SECONDS)
    max_events = min(max(max_events, 1), MAX_EVENTS)
    path = folder(run_dir)
    path.mkdir(parents=True, exist_ok=True)
    name = f"{tag}{os.getpid()}-{int(time.time() * 1000)}-{secrets.token_hex(4)}"
    events = path / f"{name}.events"
    events.touch(mode=0o600)
    tmp = path / f".{name}.tmp"
    tmp.write_text(json.dumps({"identities": identities[:16], "until": time.time() + seconds,
                               "max_events": max_events, "events": str(events)}))
    tmp.replace(path / f"{name}.json")        # atomic: a worker never reads half a request
    if store is not None:                     # the other nodes' workers follow it too
        doc = json.loads((path / f"{name}.json").read_text())
        store.transact(lambda l: l.put_doc(REQUEST_KIND, name, {**doc, "node": node, "events": ""}))
    return name


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name))


def request_of(run_dir: str | os.PathLike[str], name: str) -> dict[str, Any] | None:
    """A trace's request as written by :func:`start` (None once stopped or unknown)."""
    if not valid_name(name):
        return None
    try:
        doc = json.loads((folder(run_dir) / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def read_events(run_dir: str | os.PathLike[str], name: str, offset: int,
                max_bytes: int = 1 << 20) -> tuple[list[dict[str, Any]], int]:
    """The complete event lines of trace ``name`` from byte ``offset``, and the offset after them."""
    if not valid_name(name):
        return [], offset
    try:
        with open(folder(run_dir) / f"{name}.events", "rb") as src:
            src.seek(offset)
            chunk = src.read(max_bytes)
    except OSError:
        return [], offset
    end = chunk.rfind(b"\n") + 1
    events = [json.loads(line) for line in chunk[:end].split(b"\n") if line.strip()]
    return events, offset + end


def stop(run_dir: str | os.PathLike[str], name: str, store: Any = None) -> None:
    """End trace ``name`` in every worker (at their next look) and remove its files (and its
    request and queued events in the shared store)."""
    if not valid_name(name):
        return
    if store is not None:
        store.transact(lambda l: _remove_shared(l, name))
    for suffix in (".json", ".events"):
        try:
            (folder(run_dir) / f"{name}{suffix}").unlink()
        except FileNotFoundError:
            pass


def remove_ended(run_dir: str | os.PathLike[str], now: float, grace: float = 3600.0, tag: str = "") -> int:
    """Remove the files of ``tag`` traces that ended more than ``grace`` seconds ago (a console
    page that went away never stops its trace); how many."""
    removed = 0
    for req in folder(run_dir).glob(f"{tag}*.json"):
        doc = request_of(run_dir, req.stem)
        if doc is not None and float(doc.get("until", 0)) + grace < now:
            stop(run_dir, req.stem)
            removed += 1
    return removed


def follow(run_dir: str | os.PathLike[str], identities: list[str], seconds: float, max_events: int,
           emit: Callable[[dict[str, Any]], None], poll: float = 0.2, store: Any = None, node: str = "") -> int:
    """The command's side: ask every worker to trace ``identities`` and pass each event to ``emit``
    until ``seconds`` or ``max_events``; with a shared ``store``, the other nodes' workers too."""
    seconds = min(max(seconds, 1.0), MAX_SECONDS)
    max_events = min(max(max_events, 1), MAX_EVENTS)
    name = start(run_dir, identities, seconds, max_events, store=store, node=node)
    count, offset = 0, 0
    deadline = time.monotonic() + seconds
    try:
        while count < max_events and time.monotonic() < deadline:
            if store is not None:
                pull(store, run_dir, name)
            events, offset = read_events(run_dir, name, offset)
            if not events:
                time.sleep(poll)
                continue
            for event in events[:max_events - count]:
                count += 1
                emit(event)
    finally:
        stop(run_dir, name, store)
    return count


def radius(identity: str, port: str, peer: str, request: dict[str, Any], answer: dict[str, Any]) -> None:
    """A traced subscriber's RADIUS request and answer (``port``: "auth" or "acct"), each already
    decoded with its secrets masked by the caller (:func:`appliance.radius.names.describe`)."""
    trace = ACTIVE.get(identity)
    if trace is None:
        return
    base = {"time": time.time(), "pid": os.getpid(), "protocol": "radius", "app": port, "peer": peer}
    _record(trace, {**base, "event": "request", "identity": identity, **request})
    event: dict[str, Any] = {**base, "event": "answer", **answer}
    if balance_reader is not None:
        try:
            event["balance"] = balance_reader(identity)
        except Exception as exc:
            event["balance"] = {"error": str(exc)}
    _record(trace, event)
