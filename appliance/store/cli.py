"""``appliance db``: schema migrations and the SQLite -> PostgreSQL copy.

    appliance db migrate                         create/upgrade the configured database's schema
    appliance db copy-from-sqlite [FILE] [--dsn DSN] [--replace]
        copy an SQLite database (default: the configured database.path) into PostgreSQL
        (default: database.dsn); stop the appliance first.
    appliance db keygen                          create database.secret_key_file (0600) if absent
    appliance db rekey [--drop-old]              a new sealing key first in the key file, and every
        secret (passwords, K/OPc, client secrets) sealed again with it; --drop-old then keeps only it
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
    k = sub.add_parser("keygen", help="create the secret key file (database.secret_key_file) if absent")
    k.set_defaults(func=cmd_keygen)
    r = sub.add_parser("rekey", help="seal every secret with a new key (key rotation)")
    r.add_argument("--drop-old", action="store_true", help="afterwards keep only the new key in the file")
    r.set_defaults(func=cmd_rekey)


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


def cmd_keygen(cfg: Config, args: argparse.Namespace) -> int:
    from ..cli import CliError
    from . import secret_key_path, secrets
    path = secret_key_path(cfg)
    if path is None:
        raise CliError("database.secret_key_file is empty: secrets are stored in clear")
    existed = path.exists()
    secrets.load_key_file(path, create=True)
    print(json.dumps({"key_file": str(path), "created": not existed}))
    return 0


def cmd_rekey(cfg: Config, args: argparse.Namespace) -> int:
    """Rotation: the new key goes first (it seals), the old ones stay (they open) until every secret
    is sealed again; then, with --drop-old, only the new key is kept."""
    from ..cli import CliError
    from . import open_store, secret_key_path, secrets
    path = secret_key_path(cfg)
    if path is None or not path.exists():
        raise CliError("no secret key file: appliance db keygen first")
    old = path.read_text()
    new_line = secrets.new_key_line()
    _write_private(path, new_line + "\n" + old)
    store = open_store(cfg)
    try:
        def reseal(l: Any) -> dict[str, int]:
            services = l.list_services()
            for service in services:
                l.put_service(service)
            clients = l.list_clients()
            for client in clients:
                l.put_client(client)
            return {"services": len(services), "clients": len(clients)}
        counts = store.transact(reseal)
    finally:
        store.close()
    if args.drop_old:
        _write_private(path, new_line + "\n")
    print(json.dumps({"key_file": str(path), "key_id": new_line.split(":", 1)[0], "resealed": counts,
                      "old_keys_dropped": bool(args.drop_old)}, sort_keys=True))
    return 0


def _write_private(path: Any, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, mode 0600."""
    import os
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


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
