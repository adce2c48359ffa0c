"""Enumerated RADIUS values by name, from the shipped FreeRADIUS-format dictionaries (pyrad).

Used off the per-packet path only for what is logged (``Acct-Terminate-Cause`` → ``User-Request``);
loaded once per process on first use.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

DICTIONARY = Path(__file__).with_name("dictionaries") / "dictionary"


@cache
def _dictionary() -> Any:
    from pyrad.dictionary import Dictionary
    return Dictionary(str(DICTIONARY))


@cache
def _values(attribute: str) -> dict[int, str]:
    attr = _dictionary().attributes[attribute]
    return {int.from_bytes(code, "big") if isinstance(code, bytes) else int(code): str(name)
            for name, code in attr.values.forward.items()}


def value_name(attribute: str, code: int | None) -> str | None:
    """``value_name("NAS-Port-Type", 19)`` → ``"Wireless-802.11"``; unknown codes as their number."""
    if code is None:
        return None
    return _values(attribute).get(code, str(code))
