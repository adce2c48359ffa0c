"""The OpenAPI document matches the routes; authentication, roles, tokens and JSON errors."""
from __future__ import annotations

import re

import requests

from tests.rest.conftest import ADMIN, READER, basic


def test_openapi_matches_routes(api, server):
    doc = api.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = set()
    for resource in server.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        for route in resource:
            if route.method != "HEAD":
                served.add((route.method, path))
    assert documented == served
    for path, ops in doc["paths"].items():
        for name in re.findall(r"{(\w+)}", path):
            for op in ops.values():
                assert any(p["name"] == name and p["in"] == "path" for p in op["parameters"])


def test_authentication(server):
    url = server.url + "/openapi.json"
    r = requests.get(url, timeout=10)
    assert r.status_code == 401 and r.json()["reason"] and "Basic" in r.headers["WWW-Authenticate"]
    for header in ("Basic !!!", basic("admin", "wrong"), basic("nobody", "x"), "Digest abc", "Bearer nope",
                   "Basic " + "A" * 5000):
        r = requests.get(url, headers={"Authorization": header}, timeout=30)
        assert r.status_code in (400, 401), header
        assert r.json()["reason"]
    assert requests.get(url, auth=READER, timeout=30).status_code == 200
    # the readonly role may not write or charge
    r = requests.post(server.url + "/quota", json={"imsi": "001010000000001", "mb": 1}, auth=READER, timeout=30)
    assert r.status_code == 403 and "charge" in r.json()["reason"]
    # a bearer token issued against Basic credentials
    tok = requests.post(server.url + "/auth/token", auth=ADMIN, timeout=30).json()
    assert tok["token_type"] == "Bearer" and tok["expires_in"] > 0
    r = requests.get(url, headers={"Authorization": f"Bearer {tok['access_token']}"}, timeout=30)
    assert r.status_code == 200
    r = requests.get(url, headers={"Authorization": f"Bearer {tok['access_token']}x"}, timeout=30)
    assert r.status_code == 401


def test_unknown_route_and_method_are_json(api):
    r = api.get("/no/such/thing")
    assert r.status_code == 404 and r.json()["reason"]
    r = api.delete("/quota")
    assert r.status_code == 405 and r.json()["reason"]
