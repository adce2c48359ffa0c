"""HTTPS with the appliance certificate; `appliance user add/list/remove` against a live server."""
from __future__ import annotations

import base64
import dataclasses
import http.client
import io
import json
import ssl
import sys

import yaml

from appliance.config import RestConfig
from appliance.tls import certificate_paths
from tests.rest.conftest import ADMIN, Server, add_user


def _get(server, path, user, password, context=None):
    conn = (http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=30) if context
            else http.client.HTTPConnection("127.0.0.1", server.port, timeout=30))
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    conn.request("GET", path, headers={"Authorization": f"Basic {token}"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, json.loads(body)


def test_https_with_appliance_certificate(cfg, store):
    tls_cfg = dataclasses.replace(cfg, rest=RestConfig(port=0, tls=True, access_log=False))
    add_user(store, *ADMIN, ["admin"])
    srv = Server(tls_cfg, store)
    try:
        cert, _key = certificate_paths(tls_cfg)
        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.check_hostname = False  # the self-signed certificate names the node, not 127.0.0.1
        status, body = _get(srv, "/tmf-api/productInventory/v4/product", *ADMIN, context=ctx)
        assert status == 200 and body == []
        plain = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)  # plain HTTP is refused
        try:
            plain.request("GET", "/health")
            failed = plain.getresponse().status >= 400
        except (ConnectionError, http.client.HTTPException):
            failed = True
        assert failed
    finally:
        srv.stop()


def test_user_cli(cfg, store, tmp_path, monkeypatch, capsys):
    from appliance.cli import main
    conf = tmp_path / "appliance.yaml"
    conf.write_text(yaml.safe_dump({"data_dir": cfg.data_dir, "run_dir": cfg.run_dir, "log_dir": cfg.log_dir,
                                    "database": {"path": "appliance.db"}}))
    monkeypatch.setenv("APPLIANCE_USER_PASSWORD", "bob-password-1")

    def cli(*args, stdin=""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            rc = main(["-c", str(conf), "user", *args])
        except SystemExit as exc:  # argparse refusals
            rc = exc.code
        out = capsys.readouterr()
        return rc, out.out, out.err

    rc, out, err = cli("add", "bob", "--role", "operator", "--password-env")
    assert rc == 0, err
    assert json.loads(out) == {"user": "bob", "roles": ["operator"]}
    assert cli("add", "eve", "--role", "operator", stdin="short\n")[0] == 1
    assert cli("add", "eve", "--role", "wizard", stdin="long-enough-pw\n")[0] != 0
    listed = [json.loads(line) for line in cli("list")[1].splitlines()]
    assert [u["user"] for u in listed] == ["bob"]
    assert "bob-password-1" not in out + err
    srv = Server(dataclasses.replace(cfg, rest=RestConfig(port=0, access_log=False, auth_cache_ttl=0)), store)
    try:
        status, _ = _get(srv, "/openapi.json", "bob", "bob-password-1")
        assert status == 200
        assert cli("remove", "bob")[0] == 0
        status, body = _get(srv, "/openapi.json", "bob", "bob-password-1")
        assert status == 401 and body["reason"]
        assert cli("remove", "bob")[0] == 1
    finally:
        srv.stop()
