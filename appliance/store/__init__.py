"""Storage backends implementing :mod:`appliance.ocs.ports`."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config
    from ..ocs.ports import Store
    from .secrets import SecretBox


log = logging.getLogger("appliance.store")


def open_store(cfg: Config) -> Store:
    """Open the configured backend (creating/migrating the schema as needed), sealing secrets with
    the configured key file (:mod:`appliance.store.secrets`)."""
    box = secret_box(cfg)
    if cfg.database.backend == "postgres":
        from .postgres import PostgresStore  # optional dependency: psycopg
        return PostgresStore(cfg.database.dsn, pool_size=cfg.database.pool_size, box=box)
    from .sqlite import SqliteStore
    path = cfg.database_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteStore(str(path), batch_max=cfg.database.batch_max, synchronous=cfg.database.synchronous, box=box,
                       cache_subscribers=cfg.database.cache_subscribers, page_cache_mb=cfg.database.page_cache_mb)


def secret_key_path(cfg: Config) -> Path | None:
    name = cfg.database.secret_key_file
    if not name:
        return None
    path = Path(name)
    if path.is_absolute():
        return path
    # beside the SQLite file, so every process that opens that file finds the same key
    return (cfg.database_path.parent if cfg.database.backend == "sqlite" else cfg.path(cfg.data_dir)) / path


def secret_box(cfg: Config) -> SecretBox | None:
    """The key file's box.  SQLite: the file is created on first use (one node, one file).
    PostgreSQL: every node must share one key, so it is never created here (``appliance db
    keygen``, then copy it to each node); without it secrets are written in clear, with a warning."""
    from . import secrets
    path = secret_key_path(cfg)
    if path is None:
        return None
    box = secrets.load_key_file(path, create=cfg.database.backend == "sqlite")
    if box is None:
        log.warning("no secret key file %s: subscriber and client secrets are stored in clear "
                    "(appliance db keygen creates one)", path)
    return box

