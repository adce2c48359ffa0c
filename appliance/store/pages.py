"""Bounded, keyset-paged reads of the documents of one kind (the console's session lists).

``Ledger.list_docs`` reads a whole kind; a node with a million open sessions cannot be listed
that way.  :func:`doc_page` reads at most ``limit`` documents with keys after a cursor, in key
order, with one indexed range scan on the ``doc`` table's primary key (kind, key) of either
backend.  A ledger of another implementation (an in-memory test double) is read through
``list_docs`` and cut, which is correct but not bounded in memory.
"""
from __future__ import annotations

import json
from typing import Any

MAX_PAGE = 500
_HIGH = "\uffff"


def _backend(ledger: Any) -> str:
    module = type(ledger).__module__
    if module.endswith("store.sqlite"):
        return "sqlite"
    if module.endswith("store.postgres"):
        return "postgres"
    return ""


def doc_page(ledger: Any, kind: str, prefix: str = "", after: str = "",
             limit: int = 100) -> list[tuple[str, dict[str, Any]]]:
    """Up to ``limit`` (at most :data:`MAX_PAGE`) documents of ``kind`` whose key starts with
    ``prefix`` and sorts after ``after`` (exclusive), in key order."""
    limit = max(1, min(int(limit), MAX_PAGE))
    backend = _backend(ledger)
    # one lower bound, so the index range starts at the cursor (two make SQLite scan from the first)
    low, op = (after, ">") if after >= prefix else (prefix, ">=")
    if backend == "sqlite":
        rows = ledger.c.execute(f"SELECT key, doc FROM doc WHERE kind = ? AND key {op} ? AND key < ? "
                                "ORDER BY key LIMIT ?", (kind, low, prefix + _HIGH, limit)).fetchall()
    elif backend == "postgres":
        rows = ledger.c.execute(f"SELECT key, doc FROM doc WHERE kind = %s AND key {op} %s AND key < %s "
                                "ORDER BY key LIMIT %s", (kind, low, prefix + _HIGH, limit)).fetchall()
    else:
        return [(k, d) for k, d in ledger.list_docs(kind, prefix) if k > after][:limit]
    return [(k, json.loads(d) if isinstance(d, str) else d) for k, d in rows]


def doc_count(ledger: Any, kind: str, prefix: str = "") -> int:
    """How many documents of ``kind`` have a key starting with ``prefix`` (an index range count)."""
    backend = _backend(ledger)
    if backend == "sqlite":
        row = ledger.c.execute("SELECT count(*) FROM doc WHERE kind = ? AND key >= ? AND key < ?",
                               (kind, prefix, prefix + _HIGH)).fetchone()
    elif backend == "postgres":
        row = ledger.c.execute("SELECT count(*) FROM doc WHERE kind = %s AND key >= %s AND key < %s",
                               (kind, prefix, prefix + _HIGH)).fetchone()
    else:
        return len(ledger.list_docs(kind, prefix))
    return int(row[0])
