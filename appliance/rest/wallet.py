"""wallet: being written (see docs/notes/issue-9.md)."""
from __future__ import annotations

from .routes import Route


def routes() -> list[Route]:
    return []
