"""Nrf rating: the entries of one rating group are settled before the next grant, whatever their order."""
from __future__ import annotations

import pytest

from tests.conftest import seed

NRF = "/nrf-rating/v1/ratingdata"
CONTEXT = "32251@3gpp.org"
MB = 1_000_000      # DATA_OFFER: 20,000 per started 1,000,000 octets


def _rating(sub_type: str, **units) -> dict:
    doc = {"serviceContextId": CONTEXT, "ratingGroup": 32, "requestSubType": sub_type}
    doc.update(units)
    return doc


DEBIT = _rating("DEBIT", consumedUnit={"totalVolume": 2 * MB})
RESERVE = _rating("RESERVE", requestedUnit={"totalVolume": 4 * MB})


@pytest.mark.parametrize("order", [("RESERVE", "DEBIT"), ("DEBIT", "RESERVE")])
def test_debit_is_settled_before_the_reserve_in_either_order(api, store, charging, order):
    imsi = seed(store, "001010000000077", money=100_000)

    def balance():
        b = charging.balance(imsi)
        return b.totals.get("money", 0), b.reserved.get("money", 0)

    r = api.post(NRF, json={"subscriptionId": [f"imsi-{imsi}"], "invocationSequenceNumber": 1,
                            "serviceRating": [_rating("RESERVE", requestedUnit={"totalVolume": 2 * MB})]})
    assert r.status_code == 201, r.text
    ref = r.headers["Location"].rsplit("/", 1)[1]
    assert balance() == (60_000, 40_000)
    entries = {"DEBIT": DEBIT, "RESERVE": RESERVE}
    r = api.post(f"{NRF}/{ref}/update", json={"invocationSequenceNumber": 2,
                                              "serviceRating": [entries[k] for k in order]})
    assert r.status_code == 200, r.text
    got = dict(zip(order, r.json()["serviceRating"]))
    # 2 MB used = 40,000 taken from the hold; then 60,000 free buys 3 of the 4 MB asked (final units)
    assert got["DEBIT"]["consumedUnit"] == {"totalVolume": 2 * MB} and got["DEBIT"]["price"] == "0.040000"
    assert got["DEBIT"]["resultCode"] == "SUCCESS" and "grantedUnit" not in got["DEBIT"]
    assert got["RESERVE"]["grantedUnit"] == {"totalVolume": 3 * MB}
    assert got["RESERVE"]["finalUnitIndication"] == {"finalUnitAction": "TERMINATE"}
    assert got["RESERVE"]["price"] == "0.000000" and "consumedUnit" not in got["RESERVE"]
    assert balance() == (0, 60_000)
    r = api.post(f"{NRF}/{ref}/release", json={"invocationSequenceNumber": 3, "serviceRating": [
        _rating("DEBIT", consumedUnit={"totalVolume": MB})]})
    assert r.status_code == 200, r.text
    assert r.json()["serviceRating"][0]["price"] == "0.020000"
    assert balance() == (40_000, 0)             # 100,000 - 3 MB at 20,000
