"""RADIUS attribute and value names, from the shipped FreeRADIUS-format dictionaries (pyrad).

Used off the per-packet path only: what is logged (``Acct-Terminate-Cause`` → ``User-Request``), a
traced packet decoded with its secrets masked (:func:`describe`);
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


# Values never shown (``appliance trace``, codec dumps): hidden or hashed passwords (RFC 2865 §5.2,
# §5.3; RFC 2868 §3.5), MPPE keys and MS-CHAP responses (RFC 2548 §2.3.2, §2.4.2-3), the HMAC
# (RFC 3579 §3.2) and EAP-Message (it may carry authentication vectors, RFC 4187 §10.6).
MASKED = frozenset({(0, 2), (0, 3), (0, 69), (0, 79), (0, 80), (311, 1), (311, 16), (311, 17), (311, 25)})


@cache
def _codes() -> dict[tuple[int, int], tuple[str, str]]:
    """(vendor, type) -> (name, dictionary type) for every attribute of the shipped dictionaries."""
    out: dict[tuple[int, int], tuple[str, str]] = {}
    d = _dictionary()
    for name, attr in d.attributes.items():
        vendor = d.vendors.GetForward(attr.vendor) if attr.vendor else 0
        out[(int(vendor), int(attr.code))] = (str(name), str(attr.type))
    return out


def attribute(vendor: int, code: int) -> tuple[str, str]:
    """(name, dictionary type) of an attribute; unknown ones as ``Attr-<code>`` / ``Vendor-<v>-Attr-<c>``, octets."""
    found = _codes().get((vendor, code))
    if found is not None:
        return found
    return (f"Vendor-{vendor}-Attr-{code}" if vendor else f"Attr-{code}"), "octets"


def show(vendor: int, code: int, value: bytes, masked: bool = True) -> tuple[str, Any]:
    """An attribute as (name, value) by its dictionary type: text, integer (or its value name),
    address, hex octets; secrets as ``***`` unless ``masked`` is False."""
    name, kind = attribute(vendor, code)
    if masked and (vendor, code) in MASKED:
        return name, "***"
    if kind == "string":
        try:
            return name, value.decode("utf-8")
        except UnicodeDecodeError:
            return name, "0x" + value.hex()
    if kind in ("integer", "date") and len(value) == 4:
        number = int.from_bytes(value, "big")
        return name, (_values(name).get(number, number) if kind == "integer" else number)
    if kind == "ipaddr" and len(value) == 4:
        return name, ".".join(str(b) for b in value)
    if kind == "ipv6addr" and len(value) == 16:
        import ipaddress
        return name, str(ipaddress.IPv6Address(value))
    return name, "0x" + value.hex()


def describe(attributes: list[tuple[int, bytes]], masked: bool = True) -> list[list[Any]]:
    """A packet's attributes as ``[name, value]`` pairs, Vendor-Specific split into its
    sub-attributes (RFC 2865 §5.26); secrets masked (:data:`MASKED`)."""
    out: list[list[Any]] = []
    for code, value in attributes:
        if code == 26 and len(value) >= 6:
            vendor = int.from_bytes(value[:4], "big")
            pos = 4
            while pos + 2 <= len(value) and value[pos + 1] >= 2 and pos + value[pos + 1] <= len(value):
                out.append(list(show(vendor, value[pos], value[pos + 2:pos + value[pos + 1]], masked)))
                pos += value[pos + 1]
            if pos != len(value):
                out.append(["Vendor-Specific", "0x" + value.hex()])
            continue
        out.append(list(show(0, code, value, masked)))
    return out


def lookup(name: str) -> tuple[int, int, str]:
    """(vendor, type, dictionary type) of an attribute by name (KeyError when unknown)."""
    d = _dictionary()
    attr = d.attributes[name]
    vendor = int(d.vendors.GetForward(attr.vendor)) if attr.vendor else 0
    return vendor, int(attr.code), str(attr.type)


def value_code(attribute: str, name: str) -> int | None:
    """``value_code("NAS-Port-Type", "Wireless-802.11")`` → 19; None for a name not in the dictionary."""
    for code, text in _values(attribute).items():
        if text == name:
            return code
    return None
