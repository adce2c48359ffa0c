"""Bad input on every API family is a 4xx with a JSON reason, never a 500, and changes nothing."""
from __future__ import annotations

import logging

from appliance.logs import translog
from tests.rest.conftest import ADMIN

CAT = "/tmf-api/productCatalogManagement/v4"
INV = "/tmf-api/productInventory/v4"
SVC = "/tmf-api/serviceInventory/v4"
BAL = "/tmf-api/prepayBalanceManagement/v4"
RES = "/tmf-api/resourceInventoryManagement/v4"
NRF = "/nrf-rating/v1/ratingdata"

DEEP: list = []
for _ in range(80):
    DEEP = [DEEP]

CASES = [
    (f"{CAT}/productOfferingPrice", {"id": "x", "priceType": "usage"}),                       # no unit
    (f"{CAT}/productOfferingPrice", {"id": "x", "priceType": "weekly"}),
    (f"{CAT}/productOfferingPrice", {"id": "x", "priceType": "oneTime", "price": {
        "taxIncludedAmount": {"unit": "USD", "value": "0.0000001"}}}),                       # finer than scale
    (f"{CAT}/productOfferingPrice", {"id": "x", "priceType": "oneTime", "price": {
        "taxIncludedAmount": {"unit": "EUR", "value": "1"}}}),                               # other currency
    (f"{CAT}/productOfferingPrice", {"id": "x", "priceType": "usage", "unitOfMeasure": {"amount": 0,
                                                                                       "units": "octets"}}),
    (f"{CAT}/productOffering", {"name": "o", "productOfferingPrice": [{"id": "missing"}]}),
    (f"{CAT}/productOffering", {"name": "o", "colour": "red"}),
    (f"{CAT}/productOffering", {"name": 5}),
    (f"{CAT}/productOffering", {"name": "o", "id": "p"}),
    (f"{CAT}/catalog", {"name": "c", "lifecycleStatus": "Sold out"}),
    (f"{CAT}/catalog", {"name": "c", "validFor": {"startDateTime": "yesterday"}}),
    (f"{INV}/product", {"id": "p", "productOffering": {"id": "nope"}}),
    (f"{INV}/product", {"id": "p"}),
    (f"{INV}/product", {"id": "p", "productOffering": "gold"}),
    (f"{INV}/product", {"id": "a/b", "productOffering": {"id": "gold"}}),
    (f"{SVC}/service", {"id": "s", "serviceCharacteristic": [{"name": "k", "value": "zz"}]}),
    (f"{SVC}/service", {"id": "s", "serviceCharacteristic": [{"name": "product", "value": "nope"}]}),
    (f"{SVC}/service", {"id": "s", "serviceCharacteristic": {"name": "imsi"}}),
    (f"{SVC}/service", {"id": "s", "state": "sleeping"}),
    (f"{BAL}/bucket", {"product": {"id": "nope"}, "remainedAmount": {"amount": 1, "units": "octets"}}),
    (f"{BAL}/bucket", {"product": {"id": "p1"}, "remainedAmount": {"amount": 1.5, "units": "octets"}}),
    (f"{BAL}/bucket", {"product": {"id": "p1"}, "remainedAmount": {"amount": 1, "units": "litres"}}),
    (f"{BAL}/balanceTopup", {"product": {"id": "p1"}, "amount": {"amount": -1, "units": "octets"}}),
    (f"{BAL}/balanceAdjustment", {"product": {"id": "p1"}, "amount": {"amount": 0, "units": "octets"}}),
    (f"{RES}/resource", {"name": "t", "resourceSpecification": {"id": "Other"}, "resourceCharacteristic": []}),
    (f"{RES}/resource", {"name": "t", "resourceSpecification": {"id": "TariffTable"},
                         "resourceCharacteristic": [{"name": "rates", "value": {"1x": "1"}}]}),
    (f"{INV}/hub", {"callback": "file:///etc/passwd"}),
    (NRF, {"serviceRating": [{"requestSubType": "RESERVE"}]}),                               # no subscriber
    (NRF, {"subscriptionId": ["imsi-1"], "serviceRating": [{"requestedUnit": {"totalVolume": -1}}]}),
    (NRF, {"subscriptionId": ["imsi-1"], "serviceRating": [{"requestedUnit": {"time": 1, "totalVolume": 1}}]}),
    (NRF, {"subscriptionId": [1], "serviceRating": []}),
    (NRF, {"subscriptionId": ["imsi-1"], "oneTimeEventType": "XYZ", "serviceRating": [{}]}),
    (f"{NRF}/nope/update", {"serviceRating": []}),
    (f"{BAL}/bucket", {"product": {"id": "p1"}, "remainedAmount": {"amount": "1e999999", "units": "USD"}}),
    (f"{BAL}/bucket", {"product": {"id": "p1"}, "remainedAmount": {"amount": 10**18, "units": "octets"}}),
    (f"{CAT}/catalog", {"name": "deep", "category": [DEEP]}),
    ("/quota", {"imsi": "\u0661\u0662\u0663\u0664\u0665", "mb": 1}),                  # Arabic-Indic digits
    ("/resource/wallet", {"id": ""}),
    ("/engine/wallet/none/enquire", {"rating_requested": [{"unit": "litres", "value": 1}]}),
]


def test_bad_bodies(api, store):
    from tests.conftest import seed
    seed(store, imsi="001010000000001", product="p1")
    before = store.transact(lambda l: l.counts())
    wrong = []
    for path, body in CASES:
        r = api.post(path, json=body)
        if not 400 <= r.status_code < 500 or not r.json().get("reason"):
            wrong.append((path, body, r.status_code, r.text))
    assert not wrong
    assert store.transact(lambda l: l.counts()) == before


PATHS = [f"{CAT}/productOffering", f"{INV}/product", f"{BAL}/bucket", NRF, "/quota", "/resource/wallet",
         f"{INV}/hub"]


def test_broken_json_wrong_media_oversize(api):
    for path in PATHS:
        _broken(api, path)


def _broken(api, path):
    for data, ctype, status in ((b"{", "application/json", 400), (b"[1,2]", "application/json", 400),
                                (b'{"a": 1}', "text/plain", 415), (b'{"a":' * 10000 + b"1", "application/json", 400),
                                (b" " * 70_000, "application/json", 413)):
        r = api.post(path, data=data, headers={"Content-Type": ctype})
        assert r.status_code == status, (path, data[:20], r.status_code, r.text)
        assert r.json()["reason"]


def test_far_expiry_and_deep_patch(api):
    api.post("/resource/wallet", json={"id": "w5"})
    r = api.post("/resource/wallet/w5/bucket", json={"value": 1, "unit": "seconds", "expiry": {"days": 99_999_999}})
    assert r.status_code == 400 and r.json()["reason"]
    api.post(f"{CAT}/catalog", json={"id": "c9", "name": "c9"})
    deep = "[" * 900 + "]" * 900
    r = api.patch(f"{CAT}/catalog/c9", data=('{"category": ' + deep + "}").encode(),
                  headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 400 and "nested" in r.json()["reason"]


def test_patch_errors(api):
    api.post(f"{CAT}/catalog", json={"id": "c1", "name": "c1"})
    for body, ctype, status in (
            (b'[{"op": "jump", "path": "/name"}]', "application/json-patch+json", 400),
            (b'[{"op": "remove", "path": "/nothing"}]', "application/json-patch+json", 422),
            (b'{"op": "add"}', "application/json-patch+json", 400),
            (b'[{"op": "add", "path": "name", "value": 1}]', "application/json-patch+json", 400),
            (b'[1]', "application/merge-patch+json", 400),
            (b'{"name": 5}', "application/merge-patch+json", 400),
            (b'{"name": "x"}', "text/csv", 415)):
        r = api.patch(f"{CAT}/catalog/c1", data=body, headers={"Content-Type": ctype})
        assert r.status_code == status, (body, r.status_code, r.text)
    r = api.patch(f"{CAT}/catalog/c1", data=b'[{"op": "copy", "from": "/name", "path": "/description"}]',
                  headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 200 and r.json()["description"] == "c1"
    assert api.patch(f"{CAT}/catalog/none", json={"name": "x"}).status_code == 404


def test_access_log_never_shows_credentials(server, api, caplog):
    server.app  # noqa: B018 - the server fixture is running
    from appliance.rest import server as srv_mod
    cfg = server.app[srv_mod.CFG]
    object.__setattr__(cfg.rest, "access_log", True)
    try:
        with caplog.at_level(logging.INFO, logger="appliance.rest.access"):
            api.get("/openapi.json")
            api.post("/quota", json={"imsi": "001010000000001", "mb": 1})
    finally:
        object.__setattr__(cfg.rest, "access_log", False)
    lines = [r.getMessage() for r in caplog.records if r.name == "appliance.rest.access"]
    assert any("GET /openapi.json 200" in line and line.endswith(ADMIN[0]) for line in lines), lines
    assert not any(ADMIN[1] in line or "Basic" in line for line in caplog.text.splitlines())


def test_wallet_refusal_is_logged_as_not_charged(api):
    api.post("/resource/wallet", json={"id": "w9"})
    api.post("/resource/wallet/w9/bucket", json={"value": 10, "unit": "microcents"})
    with translog.capture() as got:
        r = api.post("/engine/wallet/w9/debit", json={"rating_requested": [{"unit": "microcents", "value": 11}]})
        assert r.status_code == 402
        r = api.post("/engine/wallet/w9/debit", json={"rating_requested": [{"unit": "microcents", "value": 4}]})
        assert r.status_code == 200
    outcomes = [(rec["app"], rec["outcome"], rec["charged"]) for rec in got.acct]
    assert outcomes == [("wallet", "credit_limit_reached", 0), ("wallet", "success", 0)]
    assert got.acct[1]["units"][0]["debited"] == 4
