"""Codec tests as data (FreeRADIUS ``src/tests/unit/protocols/*.txt`` style): every file in
``tests/diameter/vectors/`` is a list of commands, each followed by a ``match`` line.

    encode-avp <avps>          match <hex>       the AVPs on the wire (RFC 6733 §4.1, padded)
    decode-avp <hex> | -       match <avps>      ``-``: the output of the previous command
    encode-message <head> | <avps>    match <hex>
    decode-message <hex> | -   match <head> | <avps>   or   match error <Result-Code>

``<avps>``: ``Name = value, ...``; a value is an integer, a "string", 0x-hex octets or ``{ <avps> }``
for a Grouped AVP; an AVP the dictionary does not know is written ``code/vendor``.  ``<head>``:
``<command code> app=<id> flags=<R P E T letters, or -> hbh=0x.. e2e=0x..``.  Lines starting with ``#``
are comments.  One test per file; a failure names the line.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from appliance.diameter import codec as c

VECTORS = Path(__file__).with_name("vectors")
_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<hex>0x[0-9a-fA-F]*)|(?P<int>-?\d+(?![\w/-]))'
                    r'|(?P<name>[A-Za-z0-9][\w/-]*)|(?P<punct>[={},]))')
_FLAGS = {"R": c.FLAG_R, "P": c.FLAG_P, "E": c.FLAG_E, "T": c.FLAG_T}


# ---- the <avps> grammar ---------------------------------------------------------------------------

def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"cannot read {text[pos:]!r}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _key(name: str) -> tuple[int, int]:
    if name in c.BY_NAME:
        return c.BY_NAME[name]
    code, _, vendor = name.partition("/")
    return int(code), int(vendor or 0)


def _parse(tokens: list[tuple[str, str]], i: int = 0, closing: str | None = None) -> tuple[list, int]:
    """[(key, value)] where value is int, str, bytes or a nested list (Grouped)."""
    out: list = []
    while i < len(tokens):
        kind, text = tokens[i]
        if closing and text == closing:
            return out, i + 1
        if kind not in ("name", "int"):
            raise ValueError(f"AVP name expected, got {text!r}")
        if tokens[i + 1][1] != "=":
            raise ValueError(f"'=' expected after {text}")
        vkind, vtext = tokens[i + 2]
        if vtext == "{":
            value, i = _parse(tokens, i + 3, "}")
        else:
            value = {"int": int, "hex": lambda t: bytes.fromhex(t[2:]),
                     "str": lambda t: t[1:-1].replace('\\"', '"').replace("\\\\", "\\")}[vkind](vtext)
            i += 3
        out.append((_key(text), value))
        if i < len(tokens) and tokens[i][1] == ",":
            i += 1
    if closing:
        raise ValueError(f"missing {closing!r}")
    return out, i


def _encode(avps: list) -> bytes:
    out = []
    for (code, vendor), value in avps:
        kind = c.TYPES.get((code, vendor), c.OCTETS)
        if isinstance(value, list):
            value = [_encode([item]) for item in value]
        elif isinstance(value, str) and kind == c.OCTETS:
            value = value.encode()
        out.append(c.encode_avp(code, value, vendor, type_=kind if (code, vendor) in c.TYPES else c.OCTETS))
    return b"".join(out)


def _render(avps: list[c.Avp]) -> str:
    parts = []
    for a in avps:
        key = (a.code, a.vendor)
        name = c.NAMES.get(key, f"{a.code}/{a.vendor}")
        kind = c.TYPES.get(key, c.OCTETS)
        if kind == c.GROUPED and key != (c.FAILED_AVP, 0):
            inner = _render(a.group())
            parts.append(f"{name} = {{ {inner} }}" if inner else f"{name} = {{ }}")
        elif kind in (c.UTF8, c.ADDRESS) or kind == c.OCTETS and _printable(a.data):
            text = a.text if kind != c.ADDRESS else a.address
            parts.append(f'{name} = "{text}"')
        elif kind in c.FIXED_SIZE:
            parts.append(f"{name} = {a.value}")
        else:
            parts.append(f"{name} = 0x{a.data.hex()}")
    return ", ".join(parts)


def _printable(data: bytes) -> bool:
    return bool(data) and all(0x20 <= b < 0x7F and b not in b'"\\' for b in data)


# ---- messages -------------------------------------------------------------------------------------

def _head(text: str) -> tuple[int, int, int, int, int]:
    code, *fields = text.split()
    f = dict(x.split("=", 1) for x in fields)
    flags = 0 if f["flags"] == "-" else sum(_FLAGS[ch] for ch in f["flags"])
    return int(code), int(f["app"], 0), flags, int(f["hbh"], 0), int(f["e2e"], 0)


def _render_head(msg: c.Message) -> str:
    flags = "".join(ch for ch, bit in _FLAGS.items() if msg.flags & bit) or "-"
    return f"{msg.code} app={msg.app_id} flags={flags} hbh={msg.hbh:#x} e2e={msg.e2e:#x}"


def _hex(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


def run(command: str, argument: str, last: bytes) -> tuple[str, bytes]:
    """(what to compare with the match line, bytes for a following ``-``)."""
    if command == "encode-avp":
        wire = _encode(_parse(_tokens(argument))[0])
        return wire.hex(), wire
    if command == "decode-avp":
        wire = last if argument.strip() == "-" else _hex(argument)
        return _render(c.split_avps(wire, 0, len(wire))), wire
    if command == "encode-message":
        head, _, body = argument.partition("|")
        code, app, flags, hbh, e2e = _head(head)
        wire = c.encode(code, app, flags, hbh, e2e, [_encode(_parse(_tokens(body))[0])])
        return wire.hex(), wire
    if command == "decode-message":
        wire = last if argument.strip() == "-" else _hex(argument)
        try:
            msg = c.decode(wire)
        except c.DiameterError as exc:
            return f"error {exc.result_code}", wire
        return f"{_render_head(msg)} | {_render(msg.avps)}", wire
    raise ValueError(f"unknown command {command}")


def _normal(command: str, text: str) -> str:
    if command.startswith("encode"):
        return "".join(text.split()).lower()
    if command == "decode-message" and "|" in text and not text.startswith("error"):
        head, _, body = text.partition("|")
        return f"{_render_head(c.Message(*_head(head)))} | {_render_canonical(body)}"
    if command == "decode-avp":
        return _render_canonical(text)
    return " ".join(text.split())


def _render_canonical(text: str) -> str:
    """A match line through the grammar and back, so spacing does not matter."""
    wire = _encode(_parse(_tokens(text))[0])
    return _render(c.split_avps(wire, 0, len(wire)))


def _cases() -> list:
    cases = []
    for path in sorted(VECTORS.glob("*.txt")):
        lines = path.read_text().splitlines()
        steps: list[tuple[int, str, str, str]] = []
        pending: tuple[int, str, str] | None = None
        for n, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            command, _, argument = line.partition(" ")
            if command == "match":
                assert pending is not None, f"{path.name}:{n}: match without a command"
                steps.append((*pending, argument))
                pending = None
            else:
                assert pending is None, f"{path.name}:{pending[0]}: command without a match"
                pending = (n, command, argument)
        assert pending is None, f"{path.name}: the last command has no match"
        cases.append(pytest.param(steps, id=path.stem))
    return cases


@pytest.mark.parametrize("steps", _cases())
def test_vectors(steps):
    last = b""
    for line, command, argument, expected in steps:
        got, last = run(command, argument, last)
        assert got == _normal(command, expected), f"line {line}: {command} {argument[:60]}"


def test_the_vector_files_are_there():
    assert {"base.txt", "errors.txt", "ro.txt", "peers.txt"} <= {p.name for p in VECTORS.glob("*.txt")}
