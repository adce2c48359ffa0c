"""TMF620 fee prices over real HTTP: periods and allowances validated, bundles checked; the
allowance buckets housekeeping grants are TMF654 buckets."""
from __future__ import annotations

import time

import pytest

from appliance.housekeeping import sweep
from appliance.ocs.inventory import Product
from appliance.ocs.units import Unit

CAT = "/tmf-api/productCatalogManagement/v4"
BAL = "/tmf-api/prepayBalanceManagement/v4"


def pop(ident, price_type="recurring", value="30", **kw):
    return {"id": ident, "name": ident, "priceType": price_type,
            "price": {"taxIncludedAmount": {"unit": "USD", "value": value}}, **kw}


@pytest.mark.parametrize("body,fragment", [
    (pop("p", recurringChargePeriodType="fortnightly"), "recurringChargePeriodType must be one of"),
    (pop("p", recurringChargePeriodType="month", recurringChargePeriodLength=3), "only 1 is supported"),
    (pop("p"), "a recurring price needs period"),
    (pop("p", "oneTime", recurringChargePeriodType="month"), "period is for recurring prices only"),
    (pop("p", recurringChargePeriodType="month", allowance=[{"amount": 5, "units": "bits"}]), "units must be"),
    (pop("p", recurringChargePeriodType="month", allowance=[{"amount": 0, "units": "octets"}]), "at least 1"),
    (pop("p", recurringChargePeriodType="month", allowance=[{"amount": 5, "units": "octets"}], rollover=13),
     "rollover must be an integer 0..12"),
    (pop("p", recurringChargePeriodType="month", allowance=[{"amount": 5, "units": "octets"}],
         validity={"amount": 30, "units": "days"}), "validity is for a one-time price"),
    (pop("p", "oneTime", allowance=[{"amount": 5, "units": "octets"}], validity={"amount": 30, "units": "moons"}),
     "validity.units must be one of"),
    (pop("p", "oneTime", colour="red"), "unknown field 'colour'"),
])
def test_bad_fee_prices_are_refused_and_not_stored(api, body, fragment):
    r = api.post(f"{CAT}/productOfferingPrice", json=body)
    assert r.status_code == 400 and fragment in r.json()["reason"], r.text
    assert api.get(f"{CAT}/productOfferingPrice/p").status_code == 404


def test_allowance_prices_and_their_buckets(api, store, rest_cfg):
    r = api.post(f"{CAT}/productOfferingPrice", json=pop(
        "fee", recurringChargePeriodType="month", allowance=[{"amount": 1_000_000_000, "units": "octets"}],
        rollover=1))
    assert r.status_code == 201, r.text
    r = api.post(f"{CAT}/productOfferingPrice", json=pop(
        "pack", "oneTime", "5", allowance=[{"amount": 500_000_000, "units": "octets"}],
        validity={"amount": 30, "units": "days"}))
    assert r.status_code == 201, r.text
    r = api.post(f"{CAT}/productOffering", json={"name": "plan", "productOfferingPrice": [{"id": "fee"},
                                                                                          {"id": "pack"}]})
    assert r.status_code == 201, r.text
    offer = store.transact(lambda l: l.get_offer("plan"))
    fee, pack = offer.prices
    assert (fee.period, fee.amount, fee.allowance, fee.rollover) == \
        ("monthly", 30_000_000, ((Unit.OCTETS, 1_000_000_000),), 1)
    assert (pack.amount, pack.allowance, pack.validity) == (5_000_000, ((Unit.OCTETS, 500_000_000),), 2_592_000)
    now = int(time.time())
    store.transact(lambda l: l.put_product(Product("p1", "plan", start=now - 60)))
    assert sweep(rest_cfg, store, now)["fees"] == 2
    buckets = [b for b in api.get(f"{BAL}/bucket").json() if b["name"].startswith("allowance:")]
    assert sorted((b["name"].split(":")[1], b["remainedAmount"]["amount"], b["status"]) for b in buckets) == \
        [("fee", 1_000_000_000, "active"), ("pack", 500_000_000, "active")]
    assert all(b["validFor"]["endDateTime"] for b in buckets)


def test_bundles_are_checked(api):
    assert api.post(f"{CAT}/productOfferingPrice", json=pop("once", "oneTime", "1")).status_code == 201
    assert api.post(f"{CAT}/productOffering", json={"name": "member", "productOfferingPrice": [
        {"id": "once"}]}).status_code == 201
    r = api.post(f"{CAT}/productOffering", json={"name": "bundle", "bundledProductOffering": [{"id": "ghost"}]})
    assert r.status_code == 422 and "'ghost' does not exist" in r.json()["reason"]
    r = api.post(f"{CAT}/productOffering", json={"name": "bundle", "bundledProductOffering": [{"id": "member"}]})
    assert r.status_code == 201 and r.json()["isBundle"] is True
    r = api.patch(f"{CAT}/productOffering/member", json={"bundledProductOffering": [{"id": "bundle"}]},
                  headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 422 and "bundles itself: member -> bundle -> member" in r.json()["reason"]
    r = api.delete(f"{CAT}/productOffering/member")
    assert r.status_code == 409 and "bundled by productOffering 'bundle'" in r.json()["reason"]
