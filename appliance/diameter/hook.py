"""The operator's charging hook: a Python callable that sees each CCR and may override the answer.

Configured as ``diameter.charging_hook: "package.module:function"``; the equivalent of
Kamailio ims_ocs's ``event_route[ocs:ccr-orig]`` / ``ccr-term`` with
``ccr_result(resultcode, grantedunits, finalunit)``.  The function receives a
:class:`CcrView` (the CCR and the core's decision) and returns ``None`` (keep the core's
decision), an :class:`Override`, a dict with the same keys, or a tuple
``(result_code, granted, final)``.  It may be ``async``.  A hook that raises or takes longer
than ``diameter.hook_timeout_ms`` is logged and counted, and the core's decision stands.
Sync hooks run in a thread so that a slow one cannot stall the event loop.
"""
from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..telemetry import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CcrView:
    """What the hook sees (names follow the ims_ocs faked SIP message)."""

    session_case: str | None      # "originating" | "terminating" | None (Role-Of-Node)
    request_type: str             # "start" | "interim" | "stop" | "event"
    from_: str | None             # Calling-Party-Address
    to: str | None                # Called-Party-Address
    charging_id: str | None       # IMS-Charging-Identifier (else the Session-Id)
    session_id: str
    subscriber: str | None
    requested: int | None         # first service unit requested (None: none)
    used: int                     # first service unit used
    unit: str                     # "seconds" | "octets" | "messages"
    access_network: str | None    # Access-Network-Information
    service_identifier: int | None
    service_context: str | None
    result_code: int              # the core's decision
    granted: int
    final: bool


@dataclass(frozen=True, slots=True)
class Override:
    result_code: int | None = None
    granted: int | None = None
    final: bool | None = None


def load_hook(spec: str) -> Callable[[CcrView], Any] | None:
    """Import ``module:function``; an empty spec means no hook.  Errors are start-up errors."""
    if not spec:
        return None
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"diameter.charging_hook: expected 'module:function', got {spec!r}")
    fn = getattr(importlib.import_module(module_name), attr)
    if not callable(fn):
        raise ValueError(f"diameter.charging_hook: {spec} is not callable")
    return fn


def _coerce(value: Any) -> Override | None:
    if value is None or isinstance(value, Override):
        return value
    if isinstance(value, dict):
        return Override(value.get("result_code"), value.get("granted"), value.get("final"))
    if isinstance(value, (tuple, list)) and len(value) == 3:
        rc, granted, final = value
        return Override(int(rc) if rc is not None else None, int(granted) if granted is not None else None,
                        bool(int(final)) if final is not None else None)
    raise TypeError(f"hook returned {type(value).__name__}")


async def run_hook(fn: Callable[[CcrView], Any], view: CcrView, timeout_ms: int) -> Override | None:
    """Run the hook within its time budget; any failure leaves the core's decision."""
    try:
        if inspect.iscoroutinefunction(fn):
            result = await asyncio.wait_for(fn(view), timeout_ms / 1000)
        else:
            loop = asyncio.get_running_loop()
            result = await asyncio.wait_for(loop.run_in_executor(None, fn, view), timeout_ms / 1000)
        override = _coerce(result)
    except TimeoutError:
        metrics.inc("diameter.ro.hook.timeouts")
        log.warning("charging hook exceeded %d ms for %s; core decision kept", timeout_ms, view.session_id)
        return None
    except Exception as exc:  # noqa: BLE001 - an operator's script may raise anything
        metrics.inc("diameter.ro.hook.errors")
        log.warning("charging hook failed for %s: %r; core decision kept", view.session_id, exc)
        return None
    if override is not None and override != Override():
        metrics.inc("diameter.ro.hook.overrides")
    return override
