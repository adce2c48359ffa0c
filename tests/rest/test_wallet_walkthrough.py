"""seeds/wallet-rating-walkthrough.txt replayed in order with curl over real HTTP.

Where the walkthrough contradicts itself the test asserts the arithmetic of its own steps
(documented in docs/rest.md "Wallet walkthrough"): the 2018-01-09 wallet snapshot showing
950 microcents after the subscription, and 102809580 bytes available after reserving 1 MB of
100 MB, cannot follow from the requests before them; "/xfe" is answered 404 and the step is
replayed on /debit, which gives the documented 402.
"""
from __future__ import annotations

import pytest

from appliance.rest.lifecycle import ActionError, OpKind, parse_action

W = "6463581140"


def test_walkthrough_replay(api):
    def ok(r, status=(200, 201, 204)):
        assert r.status_code in status, (r.request.method, r.request.url, r.status_code, r.text)
        return r

    ok(api.post("/resource/wallet", json={"id": W}))
    ok(api.post(f"/resource/wallet/{W}/bucket", json={"value": 1000, "unit": "microcents"}))
    ok(api.post(f"/resource/wallet/{W}/bucket", json={"value": 100000000, "unit": "bytes"}))
    ok(api.post("/resource/lifecycle", json={
        "id": "single-use-lifecycle", "name": "SingleUseLifecycle",
        "description": "Single use subscription lifecycle, for use for once-off purchases.", "active": True,
        "lifecycleclass": "subscription"}))
    ok(api.post("/resource/lifecycle/single-use-lifecycle/state", json={
        "id": "initial-state", "name": "INITIAL", "description": "the starting point",
        "action": "engine.debit_wallet(context.getJsonObject('debit')); "
                  "wallet.add_buckets_j(context.getJsonArray('buckets')); 'success'"}))
    ok(api.post("/resource/lifecycle/single-use-lifecycle/state", json={
        "id": "complete-state", "name": "COMPLETE", "description": "cleanup point", "action": "lifecycle.delete()"}))
    ok(api.put("/resource/lifecycle/single-use-lifecycle", json={"initial_state": "INITIAL"}))
    ok(api.post("/resource/lifecycle/single-use-lifecycle/state/initial-state/transition",
                json={"event": "success", "to_state": "COMPLETE"}))
    ok(api.post("/resource/service", json={
        "id": "24-hour-basic-cable", "name": "24 Hour Basic Cable",
        "description": "Access to cable for 24 hours from time of purchase.", "active": True,
        "lifecycle": "single-use-lifecycle", "serviceclass": "value-pack",
        "properties": {"buckets": [{"value": 86400, "unit": "seconds", "expiry": {"days": 1}}],
                       "debit": {"rating_requested": [{"unit": "microcents", "value": 150}]}},
        "cardinality": 1}))

    # Event charging: reserve 50, see the reservation, enquire 950, commit
    ok(api.get(f"/resource/wallet/{W}"))
    ok(api.post(f"/engine/wallet/{W}/session", json={"id": "session-1",
                                                     "rating_requested": [{"unit": "microcents", "value": 50}]}))
    wallet = ok(api.get(f"/resource/wallet/{W}")).json()
    assert isinstance(wallet, list) and wallet[0]["id"] == W
    assert set(wallet[0]["sessions"]) == {"session-1"}
    assert wallet[0]["sessions"]["session-1"]["id"] == "session-1"
    money = [b for b in wallet[0]["buckets"] if b["unit"] == "microcents"][0]
    assert money["value"] == 1000 and money["reservations"] == [{"value": 50, "session": "session-1"}]
    r = ok(api.post(f"/engine/wallet/{W}/enquire", json={"rating_requested": [{"unit": "microcents", "value": 0}]}))
    assert r.json()["funds_available"] == [{"unit": "microcents", "value": 950}]
    ok(api.post(f"/engine/wallet/{W}/session/session-1/commit"))
    wallet = ok(api.get(f"/resource/wallet/{W}")).json()[0]
    assert "sessions" not in wallet and all("reservations" not in b for b in wallet["buckets"])
    # unit conversion: 1024 bytes per microcent
    r = ok(api.post(f"/engine/wallet/{W}/enquire", json={
        "rating_requested": [{"unit": "bytes", "value": 0}],
        "rating_context": {"unit_conversion_ratios": [{"from_unit": "bytes", "to_unit": "microcents",
                                                       "from_unit_count": 1024, "to_unit_count": 1}]}}))
    assert r.json()["funds_available"] == [{"unit": "bytes", "value": 100000000 + 950 * 1024}]

    # Time based usage: subscribe (debit 150, grant 86400 s for a day), enquire, debit 60 s
    r = ok(api.post(f"/engine/wallet/{W}/subscribe", json={"service": "24-hour-basic-cable"}))
    assert r.json()["deleted"] is True and r.json()["history"] == ["INITIAL", "COMPLETE"]
    wallet = ok(api.get(f"/resource/wallet/{W}")).json()[0]
    units = {b["unit"]: b for b in wallet["buckets"]}
    assert units["microcents"]["value"] == 800          # 1000 - 50 (session) - 150 (service)
    assert units["seconds"]["value"] == 86400 and units["seconds"]["expiry"].endswith("Z")
    assert set(wallet["audit"]) >= {"initial_creation_timestamp", "last_change_timestamp"}
    r = ok(api.post(f"//engine/wallet/{W}/enquire", json={"rating_requested": [{"value": 0, "unit": "seconds"}]}))
    assert r.json()["funds_available"] == [{"unit": "seconds", "value": 86400}]
    ok(api.post(f"/engine/wallet/{W}/debit", json={"rating_requested": [{"value": 60, "unit": "seconds"}]}))
    ok(api.delete(f"/resource/wallet/{W}/bucket/{units['seconds']['id']}"))
    r = api.post(f"/engine/wallet/{W}/xfe", json={"rating_requested": [{"value": 60, "unit": "seconds"}]})
    assert r.status_code == 404 and r.json()["reason"]
    r = api.post(f"/engine/wallet/{W}/debit", json={"rating_requested": [{"value": 60, "unit": "seconds"}]})
    assert r.status_code == 402 and r.json()["reason"] == "Insufficient Funds"

    # Data charging: reserve 1 MB ("byte"), see it, enquire, commit 500000 used
    ok(api.post(f"/engine/wallet/{W}/session", json={"id": "session-1",
                                                     "rating_requested": [{"unit": "byte", "value": 1000000}]}))
    wallet = ok(api.get(f"/resource/wallet/{W}")).json()[0]
    data = [b for b in wallet["buckets"] if b["unit"] == "bytes"][0]
    assert data["value"] == 100000000 and data["reservations"] == [{"value": 1000000, "session": "session-1"}]
    r = ok(api.post(f"/engine/wallet/{W}/enquire", json={"rating_requested": [{"unit": "bytes", "value": 0}]}))
    assert r.json()["funds_available"] == [{"unit": "bytes", "value": 99000000}]
    ok(api.post(f"/engine/wallet/{W}/session/session-1/commit", json={
        "id": "session-1", "rating_used": [{"unit": "bytes", "value": 500000}]}))
    wallet = ok(api.get(f"/resource/wallet/{W}")).json()[0]
    assert "sessions" not in wallet
    data = [b for b in wallet["buckets"] if b["unit"] == "bytes"][0]
    assert data["value"] == 99500000 and "reservations" not in data


def test_wallet_refusals(api):
    api.post("/resource/wallet", json={"id": "w2"})
    api.post("/resource/wallet/w2/bucket", json={"value": 10, "unit": "microcents"})
    r = api.post("/engine/wallet/w2/session", json={"id": "s", "rating_requested": [{"unit": "microcents",
                                                                                    "value": 11}]})
    assert r.status_code == 402
    assert "sessions" not in api.get("/resource/wallet/w2").json()[0]  # nothing was reserved
    assert api.post("/engine/wallet/nope/debit", json={"rating_requested": []}).status_code == 404
    r = api.post("/resource/lifecycle", json={"id": "evil", "name": "x"})
    r = api.post("/resource/lifecycle/evil/state", json={"id": "s", "name": "S",
                                                         "action": "__import__('os').system('id')"})
    assert r.status_code == 400 and "unsupported" in r.json()["reason"]
    r = api.post("/resource/wallet/w2/bucket", json={"value": "10", "unit": "microcents"})
    assert r.status_code == 400


@pytest.mark.parametrize("text", [
    "__import__('os')", "engine.debit_wallet(context.getJsonObject('a')) or 1", "'a'; 'b'",
    "engine.debit_wallet(context.getJsonObject(a))", "lifecycle.delete(1)", "x" * 5000])
def test_action_parser_refuses(text):
    with pytest.raises(ActionError):
        parse_action(text)


def test_action_parser_accepts_walkthrough():
    ops = parse_action("engine.debit_wallet(context.getJsonObject('debit')); "
                       "wallet.add_buckets_j(context.getJsonArray('buckets')); 'success'")
    assert [(o.kind, o.arg) for o in ops] == [(OpKind.DEBIT_WALLET, "debit"), (OpKind.ADD_BUCKETS, "buckets"),
                                              (OpKind.EMIT, "success")]
    assert parse_action("lifecycle.delete()")[0].kind is OpKind.DELETE
