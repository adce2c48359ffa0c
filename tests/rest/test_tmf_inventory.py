"""TMF620/637/638 over real HTTP: create, read, PATCH (both kinds), DELETE, pagination, filters."""
from __future__ import annotations

CAT = "/tmf-api/productCatalogManagement/v4"
INV = "/tmf-api/productInventory/v4"
SVC = "/tmf-api/serviceInventory/v4"


def make_offer(api, name="gold"):
    r = api.post(f"{CAT}/productOfferingPrice", json={
        "id": f"{name}-data", "name": "data", "priceType": "usage",
        "price": {"taxIncludedAmount": {"unit": "USD", "value": "0.02"}},
        "unitOfMeasure": {"amount": 1000000, "units": "octets"}})
    assert r.status_code == 201, r.text
    r = api.post(f"{CAT}/productOffering", json={"name": name, "description": "data plan",
                                                 "productOfferingPrice": [{"id": f"{name}-data"}]})
    assert r.status_code == 201, r.text
    return r.json()


def test_offer_product_service_roundtrip(api):
    offer = make_offer(api)
    assert offer["href"].endswith("/productOffering/gold") and offer["productOfferingPrice"][0]["id"] == "gold-data"
    pop = api.get(f"{CAT}/productOfferingPrice/gold-data").json()
    assert pop["price"]["taxIncludedAmount"]["value"] == "0.020000"
    r = api.post(f"{INV}/product", json={"id": "p1", "productOffering": {"id": "gold"}})
    assert r.status_code == 201 and r.headers["Location"] == f"{INV}/product/p1"
    assert r.json()["status"] == "active"
    r = api.post(f"{SVC}/service", json={"id": "001010000000001", "serviceCharacteristic": [
        {"name": "product", "value": "p1"}, {"name": "imsi", "value": "001010000000001"},
        {"name": "password", "value": "s3cret"}]})
    assert r.status_code == 201, r.text
    assert "s3cret" not in r.text and r.json()["credentialsSet"] == ["password"]
    # merge patch keeps the secret, changes the state
    r = api.patch(f"{SVC}/service/001010000000001", json={"state": "inactive"},
                  headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["state"] == "inactive" and r.json()["credentialsSet"] == ["password"]
    # JSON patch on the product
    r = api.patch(f"{INV}/product/p1", data='[{"op": "replace", "path": "/status", "value": "suspended"},'
                                            '{"op": "test", "path": "/id", "value": "p1"}]',
                  headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    r = api.patch(f"{INV}/product/p1", data='[{"op": "test", "path": "/status", "value": "active"}]',
                  headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 409
    r = api.patch(f"{INV}/product/p1", json={"id": "other"},
                  headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 422
    assert api.post(f"{INV}/product", json={"id": "p1", "productOffering": {"id": "gold"}}).status_code == 409
    assert api.delete(f"{CAT}/productOffering/gold").status_code == 409  # in use
    assert api.delete(f"{INV}/product/p1").status_code == 204
    assert api.get(f"{INV}/product/p1").status_code == 404


def test_pagination_2500_and_filters(api, store):
    from appliance.ocs.inventory import Product
    make_offer(api, "bronze")

    def put(l):
        for i in range(2500):
            l.put_product(Product(f"p{i:05d}", "bronze", status="active" if i % 2 else "suspended"))
    store.transact(put)
    r = api.get(f"{INV}/product", headers={"Range": "items=1-100"})
    assert r.status_code == 206 and r.headers["Content-Range"] == "items 1-100/2500"
    assert len(r.json()) == 100 and r.json()[0]["id"] == "p00000"
    etag = r.headers["Etag"]
    seen = []
    first = 1
    while first <= 2500:
        r = api.get(f"{INV}/product", headers={"Range": f"items={first}-{first + 999}", "If-Match": etag})
        assert r.status_code in (200, 206)
        seen += [p["id"] for p in r.json()]
        first += 1000
    assert len(seen) == 2500 and len(set(seen)) == 2500
    assert r.headers["Content-Range"] == "items 2001-2500/2500"
    # the result changed: the old Etag no longer continues
    store.transact(lambda l: l.put_product(Product("p99999", "bronze")))
    assert api.get(f"{INV}/product", headers={"Range": "items=101-200", "If-Match": etag}).status_code == 412
    # field filter, filter query, attribute selection
    r = api.get(f"{INV}/product", params={"status": "suspended", "fields": "status"})
    assert r.headers["X-Total-Count"] == "1250" and set(r.json()[0]) == {"id", "href", "@type", "status"}
    r = api.get(f"{INV}/product", params={"filter": "[?(@.status=='active' && @.id>='p02490')]"})
    assert [p["id"] for p in r.json()] == [f"p{i:05d}" for i in range(2491, 2500, 2)] + ["p99999"]
    r = api.get(f"{INV}/product", params={"id": "p00001,p00002"})
    assert [p["id"] for p in r.json()] == ["p00001", "p00002"]
    for bad in ("items=0-5", "items=5-1", "pages=1-2", "items=9999-10000", "items=a-b"):
        r = api.get(f"{INV}/product", headers={"Range": bad})
        assert r.status_code == 416 and r.json()["reason"], bad
    for bad in ("[?(@.status=='a' &&)]", "[?(status=='a')]", "@.a==", "[?(@.a=='x' @.b=='y')]"):
        r = api.get(f"{INV}/product", params={"filter": bad})
        assert r.status_code == 400 and r.json()["reason"], bad
