"""pysnmp glue: a MIB instrumentation controller serving the live view next to pysnmp's own MIBs.

Our subtrees (RADIUS mib-2.67 and the enterprise root) are answered from
:class:`~appliance.snmp.view.View`, rebuilt at the start of every request PDU so
values are live; everything else (SNMPv2-MIB system and snmp groups, the engine
objects of SNMP-FRAMEWORK-MIB) comes from pysnmp's default controller.  GETNEXT
returns the lexicographically smaller of the two successors (RFC 3416 §4.2.2), and
every instance goes through the access-control function the responder passes
(VACM, RFC 3415), so views restrict our objects as they restrict pysnmp's.
"""
from __future__ import annotations

import logging
from typing import Any

from pysnmp.entity.rfc3413 import cmdrsp
from pysnmp.proto import rfc1905
from pysnmp.smi import error as smi_error
from pysnmp.smi.instrum import AbstractMibInstrumController

from ..telemetry import metrics
from .view import View

log = logging.getLogger(__name__)


class Instrum(AbstractMibInstrumController):
    def __init__(self, default: Any, view: View) -> None:
        self.default = default
        self.view = view

    def get_mib_builder(self) -> Any:
        return self.default.get_mib_builder()

    def _allowed(self, oid: tuple[int, ...], value: Any, idx: int, context: dict[str, Any]) -> bool:
        """True when the instance is in the requester's read view (raises on authorization errors)."""
        ac = context.get("acFun")
        if ac is None:
            return True
        try:
            return not ac("read", (oid, value), **dict(context, idx=idx))
        except smi_error.NoAccessError:
            return False

    def _delegate(self, fun: Any, idx: int, var_bind: Any, context: dict[str, Any]) -> Any:
        try:
            return fun(var_bind, **context)[0]
        except smi_error.MibOperationError as exc:
            exc.update({"idx": idx})
            raise

    def read_variables(self, *var_binds: Any, **context: Any) -> list[Any]:
        out = []
        for idx, (name, val) in enumerate(var_binds):
            oid = tuple(name)
            if not self.view.covers(oid):
                out.append(self._delegate(self.default.read_variables, idx, (name, val), context))
                continue
            value = self.view.get(oid)
            if value is None:
                value = rfc1905.noSuchInstance if self._has_prefix(oid) else rfc1905.noSuchObject
            elif not self._allowed(oid, value, idx, context):
                value = rfc1905.noSuchObject          # not in view (RFC 3413 §3.2)
            out.append((name, value))
        return out

    def _has_prefix(self, oid: tuple[int, ...]) -> bool:
        """Whether some instance lives under the object ``oid`` names (noSuchInstance vs noSuchObject)."""
        nxt = self.view.next(oid[:-1] if len(oid) > 1 else oid)
        return nxt is not None and nxt[0][:len(oid) - 1] == oid[:-1]

    def read_next_variables(self, *var_binds: Any, **context: Any) -> list[Any]:
        out = []
        for idx, (name, val) in enumerate(var_binds):
            oid = tuple(name)
            ours = self.view.next(oid)
            while ours is not None and not self._allowed(ours[0], ours[1], idx, context):
                ours = self.view.next(ours[0])
            root = self.view.root_of(oid)
            if ours is not None and root is not None and ours[0][:len(root)] == root:
                # pysnmp's tree holds no instance inside our subtrees, and a subtree is one
                # contiguous OID range: nothing of theirs can come between oid and ours.
                out.append((name.clone(ours[0]) if hasattr(name, "clone") else ours[0], ours[1]))
                continue
            theirs = self._delegate(self.default.read_next_variables, idx, (name, val), context)
            if ours is not None and (_end(theirs[1]) or ours[0] < tuple(theirs[0])):
                out.append((name.clone(ours[0]) if hasattr(name, "clone") else ours[0], ours[1]))
            else:
                out.append(theirs)
        return out

    def write_variables(self, *var_binds: Any, **context: Any) -> list[Any]:
        for idx, (name, _val) in enumerate(var_binds):
            if self.view.covers(tuple(name)):
                raise smi_error.NotWritableError(name=name, idx=idx)
        return self.default.write_variables(*var_binds, **context)


def _end(value: Any) -> bool:
    return getattr(value, "tagSet", None) == rfc1905.endOfMibView.tagSet


class _Refreshing:
    """Mixin: rebuild the view once per request PDU, before the operation runs."""

    view: View

    def handle_management_operation(self, snmpEngine: Any, stateReference: Any, contextName: Any,
                                    PDU: Any) -> None:
        try:
            self.view.rebuild()
        except Exception:                      # a bad source must not stop the agent
            log.exception("view refresh failed; answering from the previous one")
            metrics.inc("snmp.refresh.errors")
        metrics.inc("snmp.requests")
        super().handle_management_operation(snmpEngine, stateReference, contextName, PDU)  # type: ignore[misc]


def responders(engine: Any, context: Any, view: View) -> list[Any]:
    """GET, GETNEXT, GETBULK over the live view; SET is refused (read-only agent)."""
    made = []
    for base in (cmdrsp.GetCommandResponder, cmdrsp.NextCommandResponder, cmdrsp.BulkCommandResponder):
        cls = type(base.__name__, (_Refreshing, base), {"view": view})
        made.append(cls(engine, context))
    made.append(cmdrsp.SetCommandResponder(engine, context))
    return made
