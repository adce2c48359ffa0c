"""The quota API of seeds/openmvcore-ocs-README.md over real HTTP: fields and status codes."""
from __future__ import annotations

from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import Offer
from appliance.ocs.units import Unit
from tests.conftest import seed

IMSI = "001010123456789"


def seed_mb(store, mb: int, imsi: str = IMSI) -> None:
    seed(store, imsi=imsi, money=0, offer=Offer("data-only"),
         buckets=(NewBucket("", Unit.OCTETS, mb * 1_000_000),))


def test_readme_example(api, store):
    seed_mb(store, 100)
    r = api.post("/quota", json={"imsi": IMSI, "mb": 20})
    assert r.status_code == 200
    assert r.json() == {"approved": True, "balance": 80}
    r = api.post("/quota", json={"imsi": IMSI, "mb": 90})
    assert r.status_code == 200
    assert r.json() == {"approved": False, "reason": "Insufficient balance", "balance": 80}
    r = api.get(f"/balance/{IMSI}")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"imsi", "balance", "octets", "money", "updated", "last_used"}
    assert body["imsi"] == IMSI and body["balance"] == 80 and body["octets"] == 80_000_000
    assert body["money"] == {"amount": 0, "currency": "USD", "scale": 1_000_000}
    assert body["last_used"].endswith("Z") and body["updated"].endswith("Z")


def test_unknown_subscriber_and_health(api, server):
    r = api.post("/quota", json={"imsi": "001019999999999", "mb": 1})
    assert r.status_code == 404 and r.json()["approved"] is False
    assert api.get("/balance/001019999999999").status_code == 404
    import requests
    r = requests.get(server.url + "/health", timeout=10)  # no credentials needed
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_bad_quota_input(api, store):
    seed_mb(store, 10)
    cases = [b"{", b"[]", b'{"imsi": 1, "mb": 1}', b'{"imsi": "001010123456789", "mb": "20"}',
             b'{"imsi": "001010123456789", "mb": 1.5}', b'{"imsi": "001010123456789", "mb": -1}',
             b'{"imsi": "001010123456789", "mb": true}', b'{"imsi": "001010123456789"}',
             b'{"imsi": "001010123456789", "mb": 1, "extra": 1}', b'{"imsi": "abc", "mb": 1}', b"",
             b'{"imsi": "001010123456789", "mb": NaN}', b"\xff\xfe"]
    for raw in cases:
        r = api.post("/quota", data=raw, headers={"Content-Type": "application/json"})
        assert 400 <= r.status_code < 500, (raw, r.status_code, r.text)
        assert r.json()["reason"], raw
    r = api.post("/quota", data=b"x" * 70_000, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "reason" in r.json()
    assert api.get(f"/balance/{IMSI}").json()["balance"] == 10  # nothing was charged


def test_balance_shows_money_beside_data(api, store):
    """A money-only top-up: no data buckets (balance 0 MB) but the money is there to see."""
    seed(store, imsi=IMSI, money=5_000_000)
    body = api.get(f"/balance/{IMSI}").json()
    assert body["balance"] == 0 and body["octets"] == 0
    assert body["money"] == {"amount": 5_000_000, "currency": "USD", "scale": 1_000_000}
