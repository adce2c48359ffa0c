"""The REST charging flow end to end: TMF catalog/inventory/buckets, then Nrf charging, then TMF654 balance and
TMF635 usage from the transaction log; a TMF630 hub listener receives the events."""
from __future__ import annotations

import http.server
import json
import threading

import pytest

from appliance.logs import translog

CAT = "/tmf-api/productCatalogManagement/v4"
INV = "/tmf-api/productInventory/v4"
SVC = "/tmf-api/serviceInventory/v4"
BAL = "/tmf-api/prepayBalanceManagement/v4"
USE = "/tmf-api/usageManagement/v4"
RES = "/tmf-api/resourceInventoryManagement/v4"
NRF = "/nrf-rating/v1/ratingdata"
IMSI = "001010000000042"


@pytest.fixture
def logs(rest_cfg):
    translog.configure(rest_cfg, "rest", 0)
    yield
    translog.close()


class Listener:
    def __init__(self) -> None:
        self.events: list[dict] = []
        self.got = threading.Condition()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.got:
                    outer.events.append(json.loads(body))
                    outer.got.notify_all()
                self.send_response(201)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/listener"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, n: int) -> list[dict]:
        with self.got:
            self.got.wait_for(lambda: len(self.events) >= n, timeout=20)
            return list(self.events)


def test_tmf_then_nrf_then_balance_and_usage(api, logs):
    listener = Listener()
    r = api.post(f"{INV}/hub", json={"callback": listener.url})
    assert r.status_code == 201, r.text
    hub_id = r.json()["id"]
    # tariff table and prices: voice by destination prefix, data per MB
    r = api.post(f"{RES}/resource", json={"name": "voice-tariff", "resourceSpecification": {"id": "TariffTable"},
                                          "resourceCharacteristic": [{"name": "rates",
                                                                      "value": {"1": "0.10", "44": "0.25"}}]})
    assert r.status_code == 201, r.text
    r = api.post(f"{CAT}/productOffering", json={"name": "flex", "productOfferingPrice": [
        {"id": "flex-data", "priceType": "usage", "price": {"taxIncludedAmount": {"unit": "USD", "value": "0.02"}},
         "unitOfMeasure": {"amount": 1000000, "units": "octets"}},
        {"id": "flex-voice", "priceType": "usage", "unitOfMeasure": {"amount": 60, "units": "seconds"},
         "tariffTable": "voice-tariff"}]})
    assert r.status_code == 201, r.text
    r = api.post(f"{INV}/product", json={"id": "prod-42", "productOffering": {"id": "flex"}})
    assert r.status_code == 201
    r = api.post(f"{SVC}/service", json={"id": IMSI, "serviceCharacteristic": [
        {"name": "product", "value": "prod-42"}, {"name": "imsi", "value": IMSI},
        {"name": "msisdn", "value": "14165550042"}]})
    assert r.status_code == 201
    r = api.post(f"{BAL}/bucket", json={"product": {"id": "prod-42"},
                                        "remainedAmount": {"amount": "1.00", "units": "USD"}})
    assert r.status_code == 201, r.text
    money_bucket = r.json()["id"]
    assert r.json()["remainedAmount"] == {"amount": "1.000000", "units": "USD"}
    r = api.post(f"{BAL}/balanceTopup", json={"product": {"id": "prod-42"},
                                              "amount": {"amount": 5_000_000, "units": "octets"}})
    assert r.status_code == 201, r.text

    # Nrf session: reserve data, use 6 MB (5 MB from the octet bucket, 1 MB paid 0.02), release
    r = api.post(NRF, json={"subscriptionId": [f"imsi-{IMSI}"], "invocationSequenceNumber": 1, "serviceRating": [
        {"serviceContextId": "32251@3gpp.org", "ratingGroup": 32, "requestSubType": "RESERVE",
         "requestedUnit": {"totalVolume": 4_000_000}}]})
    assert r.status_code == 201, r.text
    ref = r.headers["Location"].rsplit("/", 1)[1]
    assert r.json()["serviceRating"][0]["grantedUnit"] == {"totalVolume": 4_000_000}
    assert r.json()["serviceRating"][0]["resultCode"] == "SUCCESS"
    # update as SigScale sends it: one DEBIT (4 MB used) and one RESERVE (2 MB more) for the rating group;
    # the 2 MB come as 1 MB left in the octet bucket and 1 MB bought with money (0.02)
    upd = {"invocationSequenceNumber": 2, "serviceRating": [
        {"serviceContextId": "32251@3gpp.org", "ratingGroup": 32, "requestSubType": "DEBIT",
         "consumedUnit": {"totalVolume": 4_000_000}},
        {"serviceContextId": "32251@3gpp.org", "ratingGroup": 32, "requestSubType": "RESERVE",
         "requestedUnit": {"totalVolume": 2_000_000}}]}
    r = api.post(f"{NRF}/{ref}/update", json=upd)
    assert r.status_code == 200, r.text
    debit, reserve = r.json()["serviceRating"]
    assert debit["consumedUnit"] == {"totalVolume": 4_000_000} and "grantedUnit" not in debit
    assert reserve["grantedUnit"] == {"totalVolume": 2_000_000} and reserve["resultCode"] == "SUCCESS"
    again = api.post(f"{NRF}/{ref}/update", json=upd)  # a retransmission is not charged twice
    assert again.json()["serviceRating"] == r.json()["serviceRating"]
    r = api.post(f"{NRF}/{ref}/release", json={"invocationSequenceNumber": 3, "serviceRating": [
        {"serviceContextId": "32251@3gpp.org", "ratingGroup": 32, "consumedUnit": {"totalVolume": 2_000_000}}]})
    assert r.status_code == 200, r.text
    assert r.json()["serviceRating"][0]["price"] == "0.020000"
    assert api.post(f"{NRF}/{ref}/update", json=upd).status_code == 404  # released
    # an SMS reservation: the offer has no SMS price and there is no message bucket
    r = api.post(NRF, json={"subscriptionId": [f"imsi-{IMSI}"], "serviceRating": [
        {"serviceContextId": "32274@3gpp.org", "requestSubType": "RESERVE",
         "requestedUnit": {"serviceSpecificUnit": 0}}]})
    assert r.status_code == 403 and r.json()["cause"] == "RATING_FAILED"
    # an event: a voice call to +44 for 61 seconds = 2 started minutes at 0.25
    r = api.post(NRF, json={"subscriptionId": ["msisdn-14165550042"], "oneTimeEvent": True,
                            "oneTimeEventType": "IEC", "serviceRating": [
                                {"serviceContextId": "32260@3gpp.org", "consumedUnit": {"time": 61},
                                 "destinationId": [{"destinationIdType": "DN", "destinationIdData": "+4420"}]}]})
    assert r.status_code == 200, r.text
    assert r.json()["serviceRating"][0]["price"] == "0.500000"
    # unknown subscriber, over-quota event
    r = api.post(NRF, json={"subscriptionId": ["imsi-999"], "serviceRating": [{"requestSubType": "RESERVE"}]})
    assert r.status_code == 404 and r.json()["cause"] == "USER_UNKNOWN"
    r = api.post(NRF, json={"subscriptionId": [f"imsi-{IMSI}"], "oneTimeEvent": True, "serviceRating": [
        {"serviceContextId": "32251@3gpp.org", "consumedUnit": {"totalVolume": 10**12}}]})
    assert r.status_code == 403 and r.json()["cause"] == "QUOTA_LIMIT_REACHED"

    # balance: 1.00 - 0.02 - 0.50 = 0.48 USD, no octets left
    acc = api.get(f"{BAL}/accumulatedBalance/prod-42").json()
    assert {"amount": "0.480000", "units": "USD"} in acc["totalBalance"]
    assert {"amount": 0, "units": "octets"} in acc["totalBalance"]
    assert api.get(f"{BAL}/bucket/{money_bucket}").json()["remainedAmount"]["amount"] == "0.480000"
    # adjustments
    r = api.post(f"{BAL}/balanceAdjustment", json={"product": {"id": "prod-42"},
                                                   "amount": {"amount": "-0.08", "units": "USD"}})
    assert r.status_code == 201, r.text
    r = api.post(f"{BAL}/balanceAdjustment", json={"product": {"id": "prod-42"},
                                                   "amount": {"amount": "-5", "units": "USD"}})
    assert r.status_code == 422
    assert api.get(f"{BAL}/bucket/{money_bucket}").json()["remainedAmount"]["amount"] == "0.400000"

    # usage from the transaction log
    r = api.get(f"{USE}/usage", params={"relatedParty.id": f"{IMSI},14165550042"})
    assert r.status_code == 200, r.text
    usages = r.json()
    kinds = [next(c["value"] for c in u["usageCharacteristic"] if c["name"] == "request_type") for u in usages]
    assert kinds[:4] == ["initial", "update", "update", "termination"] and "event" in kinds
    charged = sorted(u["ratedProductUsage"][0]["taxIncludedRatingAmount"]["value"] for u in usages)
    assert "0.020000" in charged and "0.500000" in charged
    one = api.get(f"{USE}/usage/{usages[0]['id']}")
    assert one.status_code == 200 and one.json()["id"] == usages[0]["id"]

    # the hub listener saw the product and service creation
    events = listener.wait_for(1)
    assert events[0]["eventType"] == "ProductCreateEvent" and events[0]["event"]["product"]["id"] == "prod-42"
    assert api.delete(f"{INV}/hub/{hub_id}").status_code == 204
    listener.httpd.shutdown()


def test_nrf_updates_without_sequence_numbers_are_each_charged(api, store):
    from tests.conftest import seed
    seed(store, imsi="001010000000077", product="p77")  # 10.000000 USD, data at 0.02 per MB
    r = api.post(NRF, json={"subscriptionId": ["imsi-001010000000077"], "serviceRating": [
        {"serviceContextId": "32251@3gpp.org", "ratingGroup": 1, "requestSubType": "RESERVE"}]})
    assert r.status_code == 201, r.text
    ref = r.headers["Location"].rsplit("/", 1)[1]
    upd = {"serviceRating": [{"serviceContextId": "32251@3gpp.org", "ratingGroup": 1, "requestSubType": "RESERVE",
                              "consumedUnit": {"totalVolume": 1_000_000}}]}
    for _ in range(2):
        r = api.post(f"{NRF}/{ref}/update", json=upd)
        assert r.status_code == 200 and r.json()["serviceRating"][0]["price"] == "0.020000", r.text
    assert api.post(f"{NRF}/{ref}/release").status_code == 200  # no body at all
    acc = api.get(f"{BAL}/accumulatedBalance/p77").json()
    assert acc["totalBalance"] == [{"amount": "9.960000", "units": "USD"}]
