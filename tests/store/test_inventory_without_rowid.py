"""Schema 5: product and service become WITHOUT ROWID tables; an upgraded database keeps its rows."""
from __future__ import annotations

import sqlite3

from appliance.ocs.inventory import Credentials, Product, Service
from appliance.store.sqlite import SqliteStore, migrations, split_sql


def _at_version(path: str, version: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for number, sql in migrations("sqlite"):
        if number <= version:
            for statement in split_sql(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
    conn.close()


def test_an_upgraded_database_keeps_products_services_and_identities(tmp_path):
    path = str(tmp_path / "db")
    _at_version(path, 4)                      # rowid tables, as a version-4 release left them
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("INSERT INTO product (id, offer, start, policy_table, doc) "
                 "VALUES ('p1', 'data', 10, 't', '{\"x\": 1}')")
    conn.execute("INSERT INTO service (id, product_id, imsi, msisdn, enabled, sqn) "
                 "VALUES ('alice', 'p1', '001010000000001', '3361000001', 0, 42)")
    conn.execute("INSERT INTO service_identity VALUES ('alice', 'alice'), ('001010000000001', 'alice'), "
                 "('3361000001', 'alice')")
    conn.close()

    store = SqliteStore(path)
    try:
        product = store.transact(lambda l: l.get_product("p1"))
        service, found = store.transact(lambda l: l.find_subscriber("3361000001"))
        assert (product.offer, product.start, product.policy_table) == ("data", 10, "t")
        assert (service.id, service.product_id, service.enabled, service.credentials.sqn) == \
            ("alice", "p1", False, 42)
        assert found is not None and found.id == "p1"
        store.transact(lambda l: l.put_service(Service("bob", "p1", imsi="001010000000002",
                                                       credentials=Credentials(password="x"))))
        store.transact(lambda l: l.put_product(Product("p2", "data")))
        assert [s.id for s in store.transact(lambda l: l.list_services())] == ["alice", "bob"]
    finally:
        store.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations("sqlite")[-1][0] >= 5
        for table in ("product", "service"):
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
            assert sql.rstrip().endswith("WITHOUT ROWID"), table
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'service_product'").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM product").fetchone()[0] == 2
    finally:
        conn.close()
