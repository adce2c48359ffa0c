"""``appliance db``: schema migrations and the SQLite -> PostgreSQL copy.

    appliance db migrate                         create/upgrade the configured database's schema
    appliance db copy-from-sqlite [FILE] [--dsn DSN] [--replace]
        copy an SQLite database (default: the configured database.path) into PostgreSQL
        (default: database.dsn); stop the appliance first.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

from ..config import Config


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="database schema and backend moves",
                               description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = db.add_subparsers(dest="sub", required=True)
    m = sub.add_parser("migrate", help="apply the schema migrations to the configured database")
    m.set_defaults(func=cmd_migrate)
    c = sub.add_parser("copy-from-sqlite", help="copy an SQLite database into PostgreSQL (one transaction)")
    c.add_argument("sqlite", nargs="?", help="SQLite file (default: the configured database.path)")
    c.add_argument("--dsn", help="PostgreSQL DSN (default: database.dsn)")
    c.add_argument("--replace", action="store_true", help="empty the PostgreSQL tables first")
    c.set_defaults(func=cmd_copy)


def cmd_migrate(cfg: Config, args: argparse.Namespace) -> int:
    from . import open_store
    from .sqlite import migrations
    store = open_store(cfg)   # opening migrates, under a lock (PostgreSQL: an advisory lock)
    store.close()
    where = str(cfg.database_path) if cfg.database.backend == "sqlite" else _redact(cfg.database.dsn)
    print(json.dumps({"backend": cfg.database.backend, "version": migrations(cfg.database.backend)[-1][0],
                      "database": where}))
    return 0


def cmd_copy(cfg: Config, args: argparse.Namespace) -> int:
    from ..cli import CliError
    from .copy import CopyError, copy_sqlite_to_postgres
    source = args.sqlite or str(cfg.database_path)
    dsn = args.dsn or cfg.database.dsn
    if not dsn:
        raise CliError("no PostgreSQL DSN: give --dsn or set database.dsn")
    try:
        import psycopg
        counts = copy_sqlite_to_postgres(source, dsn, replace=args.replace)
    except CopyError as exc:
        raise CliError(str(exc)) from None
    except psycopg.Error as exc:
        raise CliError(f"PostgreSQL: {exc}".strip()) from None
    print(json.dumps({"from": source, "to": _redact(dsn), "rows": counts}, sort_keys=True))
    return 0


def _redact(dsn: str) -> str:
    """The DSN without its password (never printed)."""
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
        parts = conninfo_to_dict(dsn)
    except Exception:  # unparsable: show nothing of it
        return "<dsn>"
    if "password" in parts:
        parts["password"] = "***"
    return make_conninfo(**{k: v for k, v in parts.items() if v is not None})
