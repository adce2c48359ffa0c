"""RADIUS codec tests as data (FreeRADIUS ``src/tests/unit/protocols/radius/*.txt`` style).

Each file in ``tests/radius/codec/`` is a list of commands, one a line; ``#`` starts a comment:

- ``secret <text>``: the shared secret of what follows;
- ``encode-pair <Name> = <value>[, ...]``: the attributes' wire octets (hex);
- ``decode-pair <hex>`` or ``-`` (the octets last encoded): the attributes as ``Name = value, ...``;
- ``decode-packet <hex>`` or ``-``: ``<Code> id=<n> <check> <pairs>``, the check being the
  Message-Authenticator (``ma=ok|bad|none``, RFC 3579 §3.2) of an Access-Request / Status-Server, the
  Request Authenticator (``auth=ok|bad``, RFC 2866 §3) of an Accounting-Request; User-Password shown
  decrypted (RFC 2865 §5.2);
- ``encode-request <Code> id=<n> <pairs>``: an Accounting-Request (its authenticator is a function of it);
- ``encode-reply <Code> <pairs>``: the answer to the last decoded request (Message-Authenticator first,
  Response Authenticator, RFC 2865 §3);
- ``match <expected>``: the last output, exactly.

Values: ``"text"``, integers (or their dictionary value name), dotted IPv4 addresses, ``0x`` octets.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from appliance.radius import names
from appliance.radius import packet as rp

FILES = sorted((Path(__file__).parent / "codec").glob("*.txt"))
CODES = {"Access-Request": rp.ACCESS_REQUEST, "Access-Accept": rp.ACCESS_ACCEPT, "Access-Reject": rp.ACCESS_REJECT,
         "Accounting-Request": rp.ACCOUNTING_REQUEST, "Accounting-Response": rp.ACCOUNTING_RESPONSE,
         "Access-Challenge": rp.ACCESS_CHALLENGE, "Status-Server": rp.STATUS_SERVER}
CODE_NAMES = {v: k for k, v in CODES.items()}
_PAIR = re.compile(r'\s*([\w.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,]+)\s*(?:,|$)')


def encode_value(name: str, text: str) -> tuple[int, int, bytes]:
    vendor, code, kind = names.lookup(name)
    text = text.strip()
    if text.startswith('"'):
        value = text[1:-1].encode()
    elif text.startswith("0x"):
        value = bytes.fromhex(text[2:])
    elif kind in ("integer", "date"):
        number = int(text) if text.isdigit() else names.value_code(name, text)
        assert number is not None, f"{name}: no value {text}"
        value = number.to_bytes(4, "big")
    elif kind == "ipaddr":
        value = bytes(int(x) for x in text.split("."))
    else:
        raise AssertionError(f"{name}: cannot encode {text!r} as {kind}")
    return vendor, code, value


def encode_pairs(text: str) -> rp.Attributes:
    attrs: rp.Attributes = []
    for name, value in _PAIR.findall(text):
        vendor, code, raw = encode_value(name, value)
        attrs.append(rp.vsa(vendor, code, raw) if vendor else (code, raw))
    return attrs


def show_pairs(attrs: rp.Attributes) -> str:
    out = []
    for name, value in names.describe(attrs, masked=False):
        kind = names.lookup(name)[2] if not name.startswith(("Attr-", "Vendor-")) else "octets"
        out.append(f'{name} = "{value}"' if kind == "string" and not str(value).startswith("0x") else
                   f"{name} = {value}")
    return ", ".join(out)


def hexes(data: bytes) -> str:
    return " ".join(f"{b:02x}" for b in data)


def run_file(path: Path) -> int:
    secret = b""
    last = octets = ""                    # the last output, the last encoded octets
    request: rp.Packet | None = None
    checked = 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("match") else line.strip()
        if not line:
            continue
        command, _, arg = line.partition(" ")
        where = f"{path.name}:{number}"
        if command == "secret":
            secret = arg.encode()
        elif command == "encode-pair":
            last = octets = hexes(rp.encode_attributes(encode_pairs(arg)))
        elif command == "decode-pair":
            data = bytes.fromhex(octets if arg == "-" else arg)
            attrs = rp.decode(b"\x01\x00" + (20 + len(data)).to_bytes(2, "big") + bytes(16) + data).attributes
            last = show_pairs(attrs)
        elif command == "decode-packet":
            raw = bytes.fromhex(octets if arg == "-" else arg)
            request = rp.decode(raw)
            if request.code == rp.ACCOUNTING_REQUEST:
                check = "auth=" + ("ok" if rp.request_authenticator_ok(request.raw, secret) else "bad")
            else:
                ma = rp.verify_message_authenticator(request, secret)
                check = "ma=" + {True: "ok", False: "bad", None: "none"}[ma]
            attrs = [(t, rp.decrypt_password(v, secret, request.authenticator) if t == rp.USER_PASSWORD else v)
                     for t, v in request.attributes]
            last = f"{CODE_NAMES.get(request.code, request.code)} id={request.identifier} {check} {show_pairs(attrs)}"
        elif command == "encode-request":
            code, ident, pairs = re.match(r"([\w-]+) id=(\d+)\s*(.*)", arg).groups()  # type: ignore[union-attr]
            last = octets = hexes(rp.encode_request(CODES[code], int(ident), encode_pairs(pairs), secret,
                                           with_message_authenticator=False))
        elif command == "encode-reply":
            assert request is not None, f"{where}: encode-reply needs a decoded request"
            code, _, pairs = arg.partition(" ")
            body = rp.encode_attributes(encode_pairs(pairs))
            answer = rp.encode_answer(CODES[code], request.identifier, request.authenticator, body, secret)
            last = octets = hexes(answer)
        elif command == "match":
            assert last == arg, f"{where}:\n  got      {last}\n  expected {arg}"
            checked += 1
        else:
            raise AssertionError(f"{where}: unknown command {command}")
    return checked


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_codec_file(path):
    assert run_file(path) > 0


def test_a_wrong_expectation_fails(tmp_path):
    wrong = tmp_path / "wrong.txt"
    wrong.write_text('encode-pair User-Name = "bob"\nmatch 01 05 62 6f 63\n')
    with pytest.raises(AssertionError, match="expected 01 05 62 6f 63"):
        run_file(wrong)
