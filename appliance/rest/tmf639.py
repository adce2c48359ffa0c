"""tmf639: being written (see docs/notes/issue-9.md)."""
from __future__ import annotations

from .routes import Route

API = "resourceInventoryManagement/v4"


def routes() -> list[Route]:
    return []
