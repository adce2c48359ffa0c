"""Diameter applications: each module defines ``install(node, ctx)`` (see docs/diameter.md)."""
