"""RADIUS front end: authentication (PAP, CHAP, EAP), accounting with charging, Disconnect/CoA.

``packet`` (codec and crypto), ``clients`` (clients table), ``auth`` / ``authorize``,
``acct``, ``coa``, ``server`` (the UDP hot path), ``worker`` (the supervised role),
``cli`` (``appliance radius ...``), ``dictionaries/`` (FreeRADIUS-format, for pyrad).
"""
from __future__ import annotations

from pathlib import Path

DICTIONARY = Path(__file__).parent / "dictionaries" / "dictionary"
