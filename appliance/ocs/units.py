"""Units of account and the rounding rules of the OCS core.

Every quantity in the core is an ``int`` travelling with its :class:`Unit`.
Money is counted in *minor units*: ``money.scale`` of them make one unit of
currency (default 1,000,000, i.e. millionths), never a float.

Rounding rule (documented in README "Rounding"): the subscriber is charged
for every *started* block of a price's ``size`` (ceil), and money buys only
*whole* blocks (floor).  Both directions follow one rule -- a block is either
paid in full or not granted -- so neither side gains by accident.
"""
from __future__ import annotations

from enum import Enum


class Unit(str, Enum):
    """What a bucket or a quantity counts."""

    MONEY = "money"
    OCTETS = "octets"
    SECONDS = "seconds"
    MESSAGES = "messages"

    @classmethod
    def parse(cls, text: str) -> Unit:
        aliases = {"cents": cls.MONEY, "microcents": cls.MONEY, "bytes": cls.OCTETS,
                   "octet": cls.OCTETS, "second": cls.SECONDS, "message": cls.MESSAGES,
                   "events": cls.MESSAGES}
        key = text.strip().lower()
        if key in aliases:
            return aliases[key]
        return cls(key)


def cost_of(units: int, rate: int, size: int) -> int:
    """Money for ``units`` at ``rate`` per ``size`` units: every started block is paid."""
    if units <= 0:
        return 0
    return -(-units // size) * rate


def units_bought(money: int, rate: int, size: int) -> int:
    """Units that ``money`` buys at ``rate`` per ``size``: whole blocks only."""
    if money <= 0:
        return 0
    if rate <= 0:
        raise ValueError("a free price buys unlimited units; callers must not ask")
    return (money // rate) * size


def blocks(units: int, size: int) -> int:
    """Number of started blocks of ``size`` in ``units``."""
    return -(-units // size) if units > 0 else 0
