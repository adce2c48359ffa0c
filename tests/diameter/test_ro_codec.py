"""The Ro codec (appliance/diameter/apps/ro_codec.py): the CCA built on a per-node template is
byte for byte the answer the generic path builds (``Node.answer`` over AVPs encoded one by one,
RFC 4006 §3.2), and the transaction-log record written field by field is byte for byte the JSON of
the record built as a dict (docs/logs.md) -- for the vectors and for randomized grants, MSCCs,
result codes, hooks and identities.  Socket-free; run again interpreted by test_codec_build.py."""
from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from appliance.diameter import codec as c
from appliance.diameter.apps import ro
from appliance.diameter.apps import ro_codec as rc
from appliance.diameter.hook import Override
from appliance.diameter.node import Node
from appliance.logs import framing, translog
from appliance.ocs.rating import Action, ChargeRequest, ChargeResult, ItemResult, Outcome, UsageItem
from appliance.ocs.units import Unit

VECTORS = Path(__file__).parent / "vectors" / "ro.txt"


# ---- the reference: the CCA as the generic path builds it (AVPs one by one, Node.answer) ---------

def reference_cca(node: Node, tpl: rc.CcaTemplate, msg: c.Message, ccr: rc.Ccr, result: ChargeResult,
                  override: Override | None, redirect: str) -> bytes:
    result_code = rc.RESULT_OF[result.outcome]
    avps = [c.encode_avp(c.AUTH_APPLICATION_ID, rc.APP_ID), c.encode_avp(rc.CC_REQUEST_TYPE, ccr.request_type),
            c.encode_avp(rc.CC_REQUEST_NUMBER, ccr.request_number)]
    items: Sequence[ItemResult] = result.items
    if override is not None:
        items = [rc._override(i, override) for i in items]
        if override.result_code is not None:
            result_code = override.result_code
    groups = rc._grouped(ccr.groups, items)
    if ccr.request_type == rc.EVENT:
        avps += _event(tpl, ccr, result, items, groups, override)
        if ccr.action is Action.CHECK and result.outcome is Outcome.CREDIT_LIMIT_REACHED and override is None:
            result_code = c.SUCCESS
    elif ccr.multiple:
        for group in groups:
            body = _service(tpl, ccr, group, redirect) + rc._service_ids(group[0])
            body.append(c.encode_avp(c.RESULT_CODE, rc._group_result(group, override)))
            avps.append(c.encode_avp(rc.MSCC, body))
    elif groups:
        avps += _service(tpl, ccr, groups[0], redirect)
    return node.answer(msg, result_code, avps)


def _service(tpl: rc.CcaTemplate, ccr: rc.Ccr, group: Sequence[ItemResult], redirect: str) -> list[bytes]:
    out: list[bytes] = []
    if ccr.request_type == rc.TERMINATION:
        return out
    granted = [i for i in group if i.granted] if all(i.outcome is Outcome.SUCCESS for i in group) else []
    if granted:
        out.append(c.encode_avp(rc.GSU, [rc._unit_avp(i.unit, i.granted) for i in granted]))
        validity = min((i.validity for i in granted if i.validity), default=0)
        if validity:
            out.append(c.encode_avp(rc.VALIDITY_TIME, validity))
        if tpl.threshold:
            for i in granted:
                if i.unit in (Unit.SECONDS, Unit.OCTETS):
                    code = rc.TIME_QUOTA_THRESHOLD if i.unit is Unit.SECONDS else rc.VOLUME_QUOTA_THRESHOLD
                    out.append(c.encode_avp(code, min(i.granted * tpl.threshold // 100, 0xFFFFFFFF), c.VENDOR_3GPP))
        if any(i.final for i in group):
            out.append(_fui(redirect))
    elif redirect and any(i.outcome is Outcome.CREDIT_LIMIT_REACHED for i in group):
        out.append(c.encode_avp(rc.VALIDITY_TIME, tpl.validity))
        out.append(_fui(redirect))
    return out


def _fui(redirect: str) -> bytes:
    if not redirect:
        return c.encode_avp(rc.FUI, [c.encode_avp(rc.FINAL_UNIT_ACTION, 0)])
    return c.encode_avp(rc.FUI, [c.encode_avp(rc.FINAL_UNIT_ACTION, 1), c.encode_avp(rc.REDIRECT_SERVER, [
        c.encode_avp(rc.REDIRECT_ADDRESS_TYPE, rc.redirect_address_type(redirect)),
        c.encode_avp(rc.REDIRECT_SERVER_ADDRESS, redirect)])])


def _event(tpl: rc.CcaTemplate, ccr: rc.Ccr, result: ChargeResult, items: Sequence[ItemResult],
           groups: list[Sequence[ItemResult]], override: Override | None) -> list[bytes]:
    out: list[bytes] = []
    if ccr.action is Action.CHECK:
        out.append(c.encode_avp(rc.CHECK_BALANCE_RESULT, 0 if result.outcome is Outcome.SUCCESS else 1))
    for group in groups if ccr.multiple else groups[:1]:
        avps: list[bytes] = []
        if ccr.action is Action.DEBIT and all(i.outcome is Outcome.SUCCESS for i in group):
            avps.append(c.encode_avp(rc.GSU, [rc._unit_avp(i.unit, i.debited) for i in group]))
        if not ccr.multiple:
            out += avps
            break
        avps += rc._service_ids(group[0])
        code = rc._group_result(group, override)
        if ccr.action is Action.CHECK and code == 4012 and override is None:
            code = c.SUCCESS
        avps.append(c.encode_avp(c.RESULT_CODE, code))
        out.append(c.encode_avp(rc.MSCC, avps))
    if ccr.action in (Action.PRICE, Action.DEBIT, Action.REFUND) and result.outcome is Outcome.SUCCESS:
        money = sum(i.charged for i in items)
        out.append(c.encode_avp(rc.COST_INFORMATION, [
            c.encode_avp(rc.UNIT_VALUE, [c.encode_avp(rc.VALUE_DIGITS, abs(money)),
                                         c.encode_avp(rc.EXPONENT, tpl.exponent)]),
            c.encode_avp(rc.CURRENCY_CODE, tpl.currency)]))
    return out


# ---- the vectors ------------------------------------------------------------------------------

def _vector(prefix: str, after: str) -> bytes:
    """The hex of the first ``prefix`` line following the comment line containing ``after``."""
    lines = VECTORS.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return bytes.fromhex(next(line for line in lines[start:] if line.startswith(prefix)).split(" ", 1)[1])


def test_the_template_answers_the_python_diameter_ccr_with_the_vector_cca():
    ccr_bytes = _vector("decode-message", "written by another implementation")
    cca_bytes = _vector("decode-message", "Our CCA to that CCR")
    node = Node("ocs.bench", "ocs.bench")
    tpl = rc.CcaTemplate(node._origin_avps, 600, 0, -2, 840)
    msg = c.decode(ccr_bytes)
    ccr = rc.parse_ccr(msg)
    result = ChargeResult(Outcome.SUCCESS, tuple(
        ItemResult(Outcome.SUCCESS, i.unit, i.rating_group, i.service_identifier, granted=1_000_000, validity=600)
        for i in ccr.items))
    assert tpl.build(msg, ccr, result, None, "") == cca_bytes
    assert reference_cca(node, tpl, msg, ccr, result, None, "") == cca_bytes


# ---- randomized answers -----------------------------------------------------------------------

OUTCOMES = list(Outcome)
UNITS = [Unit.OCTETS, Unit.SECONDS, Unit.MESSAGES]
REDIRECTS = ["", "http://top-up.example/", "192.0.2.7", "2001:db8::1", "sip:topup@example.net"]


def _request(rnd: random.Random, rt: int, number: int, session: str) -> c.Message:
    flags = c.FLAG_R | (c.FLAG_P if rnd.random() < 0.7 else 0)
    avps = [c.encode_avp(c.SESSION_ID, session), c.encode_avp(c.ORIGIN_HOST, "gw.test"),
            c.encode_avp(c.ORIGIN_REALM, "gw.realm"), c.encode_avp(c.DESTINATION_REALM, "ocs.test"),
            c.encode_avp(c.AUTH_APPLICATION_ID, rc.APP_ID), c.encode_avp(rc.SERVICE_CONTEXT_ID, "32251@3gpp.org"),
            c.encode_avp(rc.CC_REQUEST_TYPE, rt), c.encode_avp(rc.CC_REQUEST_NUMBER, number)]
    if rnd.random() < 0.1:          # Session-Id not first (RFC 6733 §8.8 says first; the answer finds it)
        avps.insert(2, avps.pop(0))
    return c.decode(c.encode(272, rc.APP_ID, flags, rnd.getrandbits(32), rnd.getrandbits(32), avps))


def _case(rnd: random.Random) -> tuple[c.Message, rc.Ccr, ChargeResult, Override | None, str]:
    rt = rnd.choice([rc.INITIAL, rc.UPDATE, rc.TERMINATION, rc.EVENT])
    number = rnd.choice([0, 1, 7, 0xFFFFFFFF, rnd.getrandbits(32)])
    session = rnd.choice(["gw.test;1;1", "gw.test;1700000000;42;x", "ü-session;2;3" + "x" * rnd.randrange(4)])
    msg = _request(rnd, rt, number, session)
    ccr = rc.Ccr(session, rt, number, "32251@3gpp.org")
    ccr.multiple = rnd.random() < 0.7
    if rt == rc.EVENT:
        ccr.action = rnd.choice([Action.DEBIT, Action.REFUND, Action.CHECK, Action.PRICE])
    else:
        ccr.action = rc.SESSION_ACTIONS[rt]
    items: list[ItemResult] = []
    for _ in range(rnd.randrange(0, 4) if ccr.multiple else 1):
        n = rnd.randrange(0, 3)
        ccr.groups.append(n)
        rg = rnd.choice([None, 1, 32, 0xFFFFFFFF])
        si = rnd.choice([None, None, 7])
        for _ in range(n):
            outcome = rnd.choice(OUTCOMES) if rnd.random() < 0.4 else Outcome.SUCCESS
            unit = rnd.choice(UNITS)
            granted = rnd.choice([0, 1, 1_000_000, 2**32 + 5 if unit is Unit.OCTETS else 3600])
            items.append(ItemResult(outcome, unit, rg, si, granted=granted, final=rnd.random() < 0.2,
                                    validity=rnd.choice([0, 0, 600, 3600]), debited=rnd.choice([0, 10, 2**33]),
                                    charged=rnd.choice([0, 5, -7, 10**12]), unpaid=rnd.choice([0, 3])))
    worst = max((i.outcome for i in items), key=lambda o: rc.RESULT_OF[o], default=Outcome.SUCCESS)
    result = ChargeResult(rnd.choice([worst, Outcome.SUCCESS, Outcome.CREDIT_LIMIT_REACHED]), tuple(items),
                          duplicate=rnd.random() < 0.1)
    override = None
    if rnd.random() < 0.2:
        override = Override(result_code=rnd.choice([None, 2001, 3004, 4010, 4012, 5030, 5031]),
                            granted=rnd.choice([None, 0, 500, -3]), final=rnd.choice([None, True, False]))
    return msg, ccr, result, override, rnd.choice(REDIRECTS)


@pytest.mark.parametrize("seed", range(4))
def test_the_template_cca_is_the_generic_answer_byte_for_byte(seed):
    rnd = random.Random(seed)
    node = Node("ocs.test", "ocs.realm")
    for threshold in (0, 80):
        tpl = rc.CcaTemplate(node._origin_avps, 900, threshold, rnd.choice([0, -2]), rnd.choice([0, 840, 978]))
        for _ in range(300):
            msg, ccr, result, override, redirect = _case(rnd)
            assert tpl.build(msg, ccr, result, override, redirect) == \
                reference_cca(node, tpl, msg, ccr, result, override, redirect), (ccr, result, override, redirect)


def test_a_cached_grant_is_the_grant_of_that_amount():
    """The template remembers a single unit's GSU by (unit, amount): other amounts are not served from it."""
    node = Node("ocs.test", "ocs.realm")
    tpl = rc.CcaTemplate(node._origin_avps, 900, 0, 0, 0)
    rnd = random.Random(9)
    msg = _request(rnd, rc.UPDATE, 1, "gw.test;1;1")
    ccr = rc.Ccr("gw.test;1;1", rc.UPDATE, 1, "32251@3gpp.org", multiple=True, groups=[1])
    for amount in (1_000_000, 2_000_000, 1_000_000, 60):
        for unit in (Unit.OCTETS, Unit.SECONDS):
            result = ChargeResult(Outcome.SUCCESS, (ItemResult(Outcome.SUCCESS, unit, 1, granted=amount),))
            assert tpl.build(msg, ccr, result, None, "") == reference_cca(node, tpl, msg, ccr, result, None, "")


# ---- the log record ---------------------------------------------------------------------------

IDS = ["001010000000001", "+4915112345678", "tel:+15551234", "bob@example.net", "ü\"\\\n\u2028x", "\x01"]


def _log_case(rnd: random.Random) -> tuple[rc.Ccr, ChargeRequest, ChargeResult, Override | None, str | None,
                                            str | None]:
    msg, ccr, result, override, _redirect = _case(rnd)
    ccr.subscribers = [(rnd.randrange(0, 5), rnd.choice(IDS)) for _ in range(rnd.choice([0, 1, 1, 2, 3]))]
    ccr.calling = rnd.choice([None, "tel:+4912345", "sip:ä@x"])
    n = len(result.items) + rnd.choice([-1, 0, 0, 1])          # fewer or more results than items
    items = tuple(UsageItem(rnd.choice(UNITS), rnd.choice([None, 0, 1000]), rnd.choice([0, 5, 2**40]),
                            rnd.choice([None, 1, 2]), rnd.choice([None, 7])) for _ in range(max(n, 0)))
    request = ChargeRequest(rnd.choice(["", "001010000000001", "ü"]), ccr.session_id, ccr.action, items,
                            service=rnd.choice([None, "data", "voice"]), destination=rnd.choice([None, "4912345"]),
                            vplmn=rnd.choice([None, "00101"]))
    return ccr, request, result, override, rnd.choice([None, "gw.test"]), rnd.choice([None, "gw.realm", "ü"])


@pytest.mark.parametrize("seed", range(4))
def test_the_log_record_is_the_json_of_the_dict_record(seed):
    rnd = random.Random(100 + seed)
    for _ in range(400):
        case = _log_case(rnd)
        assert rc.log_record(*case).encode() == framing.encode_payload(ro.record_fields(*case)), case


def test_the_log_file_is_the_same_either_way(tmp_path, cfg, monkeypatch):
    """The acct file written from the encoded record is the file written from the dict (same clock)."""
    import dataclasses
    monkeypatch.setattr(translog.time, "time_ns", lambda: 1_800_000_000_123_456_789)
    rnd = random.Random(7)
    cases = [_log_case(rnd) for _ in range(50)]
    files = []
    for way in ("dict", "encoded"):
        acct = tmp_path / way
        conf = dataclasses.replace(cfg, logs=dataclasses.replace(cfg.logs, acct_log_dir=str(acct),
                                                                  auth_log_dir=str(tmp_path / f"{way}-auth")))
        translog.configure(conf, "diameter", 0)
        try:
            assert translog.takes_encoded()
            for case in cases:
                if way == "dict":
                    translog.acct(ro.record_fields(*case))
                else:
                    translog.acct_encoded(rc.log_record(*case))
        finally:
            translog.close()
        (log,) = acct.glob("*.log")
        files.append(log.read_bytes()[framing.FILE_HEADER.size:])      # the header holds its creation time
    assert files[0] == files[1] and len(files[0]) > 1000
