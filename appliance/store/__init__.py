"""Storage backends implementing :mod:`appliance.ocs.ports`."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config
    from ..ocs.ports import Store


def open_store(cfg: Config) -> Store:
    """Open the configured backend (creating/migrating the schema as needed)."""
    if cfg.database.backend == "postgres":
        from .postgres import PostgresStore  # optional dependency: psycopg
        return PostgresStore(cfg.database.dsn, pool_size=cfg.database.pool_size)
    from .sqlite import SqliteStore
    path = cfg.database_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteStore(str(path), batch_max=cfg.database.batch_max, synchronous=cfg.database.synchronous)
