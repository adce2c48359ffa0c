"""Service lifecycle actions of the wallet API: a small, safe set of operations parsed from text.

The walkthrough (seeds/wallet-rating-walkthrough.txt) writes state actions as script snippets:
``engine.debit_wallet(context.getJsonObject('debit'));
wallet.add_buckets_j(context.getJsonArray('buckets')); 'success'``.
They are parsed -- statement by statement, each against a fixed pattern -- into :class:`Op`
values; nothing is ever evaluated.  Anything else is refused when the state is created.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class OpKind(str, Enum):
    DEBIT_WALLET = "debit_wallet"      # debit the wallet with the service property <key>
    ADD_BUCKETS = "add_buckets"        # add the buckets listed in the service property <key>
    EMIT = "emit"                      # the state's result: an event naming a transition
    DELETE = "delete"                  # end (delete) this lifecycle instance


@dataclass(frozen=True, slots=True)
class Op:
    kind: OpKind
    arg: str = ""


_NAME = r"[A-Za-z_][A-Za-z0-9_-]{0,63}"
_STR = rf"""(?:'({_NAME})'|"({_NAME})")"""
PATTERNS: tuple[tuple[OpKind, re.Pattern[str]], ...] = (
    (OpKind.DEBIT_WALLET, re.compile(
        rf"engine\s*\.\s*debit_wallet\s*\(\s*context\s*\.\s*getJsonObject\s*\(\s*{_STR}\s*\)\s*\)")),
    (OpKind.ADD_BUCKETS, re.compile(
        rf"wallet\s*\.\s*add_buckets(?:_j)?\s*\(\s*context\s*\.\s*getJsonArray\s*\(\s*{_STR}\s*\)\s*\)")),
    (OpKind.DELETE, re.compile(r"lifecycle\s*\.\s*delete\s*\(\s*\)")),
    (OpKind.EMIT, re.compile(_STR)),
)
SUPPORTED = ("engine.debit_wallet(context.getJsonObject('KEY'))",
             "wallet.add_buckets_j(context.getJsonArray('KEY'))", "lifecycle.delete()", "'EVENT'")
MAX_STATEMENTS = 16


class ActionError(ValueError):
    """The action text uses something outside the supported operations."""


def parse_action(text: str) -> tuple[Op, ...]:
    """``'a(); b(); 'event''`` -> ops, in order; an empty action does nothing."""
    if len(text) > 4096:
        raise ActionError("action longer than 4096 characters")
    statements = [s.strip() for s in text.split(";")]
    statements = [s for s in statements if s]
    if len(statements) > MAX_STATEMENTS:
        raise ActionError(f"more than {MAX_STATEMENTS} statements")
    ops: list[Op] = []
    for statement in statements:
        for kind, pattern in PATTERNS:
            m = pattern.fullmatch(statement)
            if m:
                arg = next((g for g in m.groups() if g), "") if m.groups() else ""
                ops.append(Op(kind, arg))
                break
        else:
            raise ActionError(f"unsupported statement {statement[:60]!r}; supported: {', '.join(SUPPORTED)}")
    if any(op.kind is OpKind.EMIT for op in ops[:-1]):
        raise ActionError("an event ('name') may only be the last statement")
    return tuple(ops)
