"""tmf635: being written (see docs/notes/issue-9.md)."""
from __future__ import annotations

from .routes import Route

API = "usageManagement/v4"


def routes() -> list[Route]:
    return []
