"""Money in JSON is a plain ASCII decimal; no REST route takes a balance below zero."""
from __future__ import annotations

import pytest

from tests.conftest import seed

BAL = "/tmf-api/prepayBalanceManagement/v4"
MERGE = {"Content-Type": "application/merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def money(charging, who):
    return charging.balance(who).totals.get("money", 0)


@pytest.mark.parametrize("amount", ["١٢", "۱۲", "１２", " 1 ", "1 ", "1e3", "1E3", "+1", "1,000", "1_000",
                                    "0x10", ".5", "1.", "", "-", "NaN", "Infinity", "1" * 41])
def test_money_text_other_than_a_plain_ascii_decimal_is_refused(api, store, charging, amount):
    imsi = seed(store, money=1_000_000)
    r = api.post(f"{BAL}/balanceTopup", json={"product": {"id": "p1"}, "amount": {"amount": amount, "units": "USD"}})
    assert r.status_code == 400, r.text
    assert "not a plain decimal amount" in r.json()["reason"] and "balanceTopup.amount" in r.json()["reason"]
    assert money(charging, imsi) == 1_000_000


@pytest.mark.parametrize("raw,credited", [('"12"', 12_000_000), ('"0.000001"', 1), ('"12.50"', 12_500_000),
                                          ("12", 12_000_000), ("1.5", 1_500_000), ("1e3", 1_000_000_000),
                                          ("25E-1", 2_500_000)])
def test_plain_decimals_and_exact_json_numbers_are_accepted(api, store, charging, raw, credited):
    imsi = seed(store, money=1_000_000)
    body = '{"product": {"id": "p1"}, "amount": {"amount": ' + raw + ', "units": "USD"}}'
    r = api.post(f"{BAL}/balanceTopup", data=body.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    assert money(charging, imsi) == 1_000_000 + credited


def test_json_number_finer_than_the_money_scale_is_refused(api, store, charging):
    imsi = seed(store, money=1_000_000)
    body = b'{"product": {"id": "p1"}, "amount": {"amount": 1e-7, "units": "USD"}}'
    r = api.post(f"{BAL}/balanceTopup", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "more decimals" in r.json()["reason"]
    assert money(charging, imsi) == 1_000_000


def test_bucket_cannot_be_created_or_patched_below_zero(api, store, charging):
    imsi = seed(store, money=0)
    r = api.post(f"{BAL}/bucket", json={"product": {"id": "p1"}, "remainedAmount": {"amount": "5", "units": "USD"}})
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    for body, headers in (({"remainedAmount": {"amount": "-0.000001", "units": "USD"}}, MERGE),
                          ({"remainedAmount": {"amount": -3, "units": "USD"}}, MERGE),
                          ([{"op": "replace", "path": "/remainedAmount/amount", "value": "-1"}], JSON_PATCH)):
        r = api.patch(f"{BAL}/bucket/{bid}", json=body, headers=headers)
        assert r.status_code == 422, r.text
        assert "must not be negative" in r.json()["reason"]
    assert api.get(f"{BAL}/bucket/{bid}").json()["remainedAmount"] == {"amount": "5.000000", "units": "USD"}
    assert money(charging, imsi) == 5_000_000
    r = api.post(f"{BAL}/bucket", json={"product": {"id": "p1"},
                                        "remainedAmount": {"amount": -1_000, "units": "octets"}})
    assert r.status_code == 422, r.text
    assert [b.unit.value for b in store.transact(lambda l: l.list_buckets("p1"))] == ["money"]
    r = api.patch(f"{BAL}/bucket/{bid}", json={"remainedAmount": {"amount": "0", "units": "USD"}}, headers=MERGE)
    assert r.status_code == 200, r.text                      # down to zero is a balance, not a debt
    assert money(charging, imsi) == 0


def test_adjustment_below_zero_is_refused(api, store, charging):
    imsi = seed(store, money=2_000_000)
    r = api.post(f"{BAL}/balanceAdjustment", json={"product": {"id": "p1"},
                                                   "amount": {"amount": "-2.000001", "units": "USD"}})
    assert r.status_code == 422, r.text
    assert money(charging, imsi) == 2_000_000


def test_wallet_bucket_below_zero_is_refused(api, store):
    r = api.post("/resource/wallet", json={"id": "w1"})
    assert r.status_code == 201, r.text
    r = api.post("/resource/wallet/w1/bucket", json={"value": -5, "unit": "microcents"})
    assert r.status_code == 422 and "must not be negative" in r.json()["reason"]
    wallet = api.get("/resource/wallet/w1").json()[0]
    assert wallet["buckets"] == []


def test_a_credit_adjustment_shrinks_a_debt_bucket_and_a_debit_cannot_deepen_it(api, store):
    from appliance.ocs.balance import NewBucket
    from appliance.ocs.units import Unit
    seed(store, money=0)
    bid = store.transact(lambda l: l.add_bucket(NewBucket("p1", Unit.MONEY, -100_000)))   # a fee owed
    r = api.post(f"{BAL}/balanceAdjustment", json={"bucket": {"id": str(bid)},
                                                   "amount": {"amount": "0.05", "units": "USD"}})
    assert r.status_code == 201, r.text
    assert store.transact(lambda l: l.get_bucket(bid)).remaining == -50_000
    r = api.post(f"{BAL}/balanceAdjustment", json={"bucket": {"id": str(bid)},
                                                   "amount": {"amount": "-0.000001", "units": "USD"}})
    assert r.status_code == 422, r.text
    assert store.transact(lambda l: l.get_bucket(bid)).remaining == -50_000
