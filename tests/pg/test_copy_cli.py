"""``appliance db migrate`` and ``appliance db copy-from-sqlite`` through the real command line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import PrefixTable
from appliance.ocs.charging import Charging, balance_in
from appliance.ocs.inventory import Credentials, Service
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, UsageItem
from appliance.ocs.units import Unit
from appliance.store.postgres import PostgresStore
from appliance.store.sqlite import SqliteStore, migrations
from tests.conftest import seed

ROOT = str(Path(__file__).resolve().parents[2])
IMSI = "001010000000001"
MB = 1_000_000
T0 = 1_700_000_000
POLICY = ChargingPolicy({Unit.OCTETS: 0}, validity=600, grace=60)


def appliance(config: Path, *argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "appliance", "--config", str(config), *argv],
                          capture_output=True, text=True, timeout=120, env=env, check=False)


def config_file(tmp_path: Path, dsn: str) -> Path:
    path = tmp_path / "appliance.yaml"
    path.write_text(f"data_dir: {tmp_path}/var\nrun_dir: {tmp_path}/run\nlog_dir: {tmp_path}/logs\n"
                    f"database:\n  backend: postgres\n  dsn: {json.dumps(dsn)}\n  pool_size: 2\n")
    return path


def snapshot(store) -> dict:
    def read(l):
        return {"offers": l.list_offers(), "tables": l.list_tables(), "products": l.list_products(),
                "services": [(s, s.credentials.k, s.credentials.opc, s.credentials.password, s.credentials.sqn)
                             for s in l.list_services()],
                "buckets": l.list_buckets(), "reservations": l.reservations("s1"),
                "answer": l.recall("s1", "s1:0"), "clients": l.list_clients(), "docs": l.list_docs("sess"),
                "one_doc": l.get_doc("sess", "b\u00e9"), "counts": l.counts(),
                "subscriber": l.find_service("15550001")}
    return store.transact(read)


def test_migrate_then_copy_an_sqlite_database_into_postgresql(tmp_path, pg_dsn):
    cfg = config_file(tmp_path, pg_dsn)
    out = appliance(cfg, "db", "migrate")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["version"] == migrations("postgres")[-1][0]

    db = str(tmp_path / "old.db")
    old = SqliteStore(db)
    seed(old, imsi=IMSI, msisdn="15550001", nai="alice@example.net", money=1_000_000)

    def more(l):
        l.put_table(PrefixTable("intl", {"44": 300, "1": 100}))
        l.put_service(Service("svc-aka", "p1", imsi="001010000000002",
                              credentials=Credentials(k=bytes(range(16)), opc=bytes(16), sqn=42)))
        gone = l.add_bucket(NewBucket("p1", Unit.OCTETS, 5 * MB, end=T0 + 10_000, name="gone"))
        l.delete_bucket(gone)             # SQLite's sequence now runs ahead of max(id)
        l.put_client({"address": "10.0.0.0/8", "protocol": "radius", "secret": "s3cret"})
        for key in ("a", "b\u00e9", "b\u00e9z", "c"):
            l.put_doc("sess", key, {"k": key, "n": [1, 2]})
    old.transact(more)
    Charging(old, POLICY).charge(ChargeRequest(IMSI, "s1", Action.START,
                                               (UsageItem(Unit.OCTETS, requested=10 * MB),),
                                               request_key="s1:0", now=T0))
    before = snapshot(old)
    old.close()

    out = appliance(cfg, "db", "copy-from-sqlite", db)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["rows"]
    assert rows["bucket"] == 1 and rows["reservation"] == 1 and rows["doc"] == 4

    new = PostgresStore(pg_dsn, pool_size=2)
    try:
        assert snapshot(new) == before
        # the session started on the SQLite node finishes on the PostgreSQL one
        stop = Charging(new, POLICY).charge(ChargeRequest(IMSI, "s1", Action.STOP, (UsageItem(Unit.OCTETS,
                                                                                              used=3 * MB),),
                                                          request_key="s1:1", now=T0 + 60))
        assert stop.items[0].charged == 60_000
        bal = new.transact(lambda l: balance_in(l, IMSI, T0 + 60))
        assert bal.totals["money"] == 940_000 and bal.reserved == {}
        fresh = new.transact(lambda l: l.add_bucket(NewBucket("p1", Unit.MONEY, 1)))
        assert fresh > max(b.id for b in before["buckets"]) + 1   # never reuses the deleted bucket's id
    finally:
        new.close()

    again = appliance(cfg, "db", "copy-from-sqlite", db)
    assert again.returncode == 1 and "already has rows" in again.stderr
    replaced = appliance(cfg, "db", "copy-from-sqlite", db, "--replace")
    assert replaced.returncode == 0, replaced.stderr
    new = PostgresStore(pg_dsn, pool_size=1)
    try:
        assert snapshot(new) == before
    finally:
        new.close()


def test_copy_refuses_what_it_cannot_do(tmp_path, pg_dsn, capsys):
    """Refusals are one line on stderr and exit status 1 (in-process: the command line itself is tested above)."""
    import sqlite3

    from appliance.cli import main
    cfg = config_file(tmp_path, pg_dsn)
    stale = tmp_path / "v0.db"
    sqlite3.connect(stale).close()
    nodsn = tmp_path / "nodsn.yaml"
    nodsn.write_text(f"data_dir: {tmp_path}/var\n")
    for config, source, message in ((cfg, tmp_path / "nope.db", "cannot read"),
                                    (cfg, stale, "schema version 0"),
                                    (nodsn, stale, "no PostgreSQL DSN")):
        assert main(["--config", str(config), "db", "copy-from-sqlite", str(source)]) == 1
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1
