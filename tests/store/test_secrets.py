"""Secrets at rest: passwords, K/OPc and client secrets sealed in the database with the key file,
read back in clear by every reader, rotated with `appliance db rekey`."""
from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys

import pytest

from appliance.config import Config
from appliance.ocs.inventory import Credentials, Product, Service
from appliance.store import open_store, secret_key_path
from appliance.store.secrets import SecretKeyError

K = bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc")
OPC = bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf")


@pytest.fixture
def conf(tmp_path) -> Config:
    return Config(data_dir=str(tmp_path / "data"), run_dir=str(tmp_path / "run"), log_dir=str(tmp_path / "logs"),
                  base_dir=str(tmp_path))


def put_subscriber(store) -> None:
    def put(l):
        l.put_product(Product("p1", "o"))
        l.put_service(Service("s1", "p1", imsi="001010000000001",
                              credentials=Credentials(password="s3cret", k=K, opc=OPC)))
        l.put_client({"address": "10.0.0.0/8", "protocol": "radius", "secret": "radius-secret", "name": "nas"})
    store.transact(put)


def raw(conf: Config) -> tuple[tuple, str]:
    with sqlite3.connect(conf.database_path) as db:
        service = db.execute("SELECT password, k, opc FROM service WHERE id = 's1'").fetchone()
        client = db.execute("SELECT doc FROM client").fetchone()[0]
    return service, client


def test_secrets_are_sealed_in_the_database_and_read_in_clear(conf):
    store = open_store(conf)
    try:
        put_subscriber(store)
        svc = store.transact(lambda l: l.find_service("001010000000001"))
        assert (svc.credentials.password, svc.credentials.k, svc.credentials.opc) == ("s3cret", K, OPC)
        assert store.transact(lambda l: l.list_clients("radius"))[0]["secret"] == "radius-secret"
    finally:
        store.close()
    (password, k, opc), client = raw(conf)
    assert password.startswith("enc1:") and "s3cret" not in password
    assert bytes(k).startswith(b"\x00enc1") and K not in bytes(k) and OPC not in bytes(opc)
    assert "radius-secret" not in client and json.loads(client)["secret"].startswith("enc1:")
    key = secret_key_path(conf)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_a_row_written_in_clear_is_still_read(conf):
    plain = Config(**{**conf.__dict__, "database": conf.database.__class__(secret_key_file="")})
    store = open_store(plain)
    put_subscriber(store)
    store.close()
    assert raw(conf)[0][0] == "s3cret"
    store = open_store(conf)                          # now with a key file: clear rows still read
    try:
        assert store.transact(lambda l: l.get_service("s1")).credentials.k == K
    finally:
        store.close()


def test_a_sealed_secret_without_its_key_is_an_error_not_garbage(conf):
    store = open_store(conf)
    put_subscriber(store)
    store.close()
    secret_key_path(conf).unlink()
    secret_key_path(conf).write_text("")              # an empty key file: refused at open
    with pytest.raises(ValueError):
        open_store(conf)
    plain = Config(**{**conf.__dict__, "database": conf.database.__class__(secret_key_file="")})
    store = open_store(plain)
    try:
        with pytest.raises(SecretKeyError):
            store.transact(lambda l: l.get_service("s1"))
    finally:
        store.close()


def test_a_sealed_k_cannot_be_moved_into_the_opc_column(conf):
    store = open_store(conf)
    put_subscriber(store)
    store.close()
    with sqlite3.connect(conf.database_path) as db:
        db.execute("UPDATE service SET opc = k WHERE id = 's1'")
    store = open_store(conf)
    try:
        from cryptography.exceptions import InvalidTag
        with pytest.raises(InvalidTag):
            store.transact(lambda l: l.get_service("s1"))
    finally:
        store.close()


def test_rekey_rotates_the_key_and_reseals_every_secret(conf, tmp_path):
    conf_file = tmp_path / "appliance.yaml"
    conf_file.write_text(json.dumps({"data_dir": conf.data_dir, "run_dir": conf.run_dir, "log_dir": conf.log_dir}))
    store = open_store(conf)
    put_subscriber(store)
    store.close()
    old_kid = secret_key_path(conf).read_text().split(":", 1)[0]
    env = dict(os.environ, APPLIANCE_CONFIG=str(conf_file))
    out = subprocess.run([sys.executable, "-m", "appliance", "db", "rekey", "--drop-old"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["resealed"] == {"services": 1, "clients": 1} and report["key_id"] != old_kid
    assert secret_key_path(conf).read_text().count("\n") == 1 and old_kid not in secret_key_path(conf).read_text()
    assert f"enc1:{report['key_id']}:" in raw(conf)[0][0]
    store = open_store(conf)
    try:
        svc = store.transact(lambda l: l.get_service("s1"))
        assert (svc.credentials.password, svc.credentials.k, svc.credentials.opc) == ("s3cret", K, OPC)
    finally:
        store.close()
    assert "s3cret" not in out.stdout + out.stderr
