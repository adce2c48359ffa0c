-- Schema version 5: product and service are keyed by their text id only (WITHOUT ROWID): one
-- B-tree each instead of a rowid table plus its primary-key index, so provisioning a subscriber
-- writes two B-trees fewer.  Columns, defaults and indexes are unchanged.
CREATE TABLE product_v5 (
    id TEXT NOT NULL PRIMARY KEY, offer TEXT NOT NULL, start INTEGER, "end" INTEGER,
    policy_table TEXT, status TEXT NOT NULL DEFAULT 'active', doc TEXT NOT NULL DEFAULT '{}') WITHOUT ROWID;
INSERT INTO product_v5 (id, offer, start, "end", policy_table, status, doc)
    SELECT id, offer, start, "end", policy_table, status, doc FROM product;
DROP TABLE product;
ALTER TABLE product_v5 RENAME TO product;
CREATE TABLE service_v5 (
    id TEXT NOT NULL PRIMARY KEY, product_id TEXT, imsi TEXT, msisdn TEXT, nai TEXT,
    enabled INTEGER NOT NULL DEFAULT 1, password TEXT, k BLOB, opc BLOB, amf BLOB,
    sqn INTEGER NOT NULL DEFAULT 0, doc TEXT NOT NULL DEFAULT '{}') WITHOUT ROWID;
INSERT INTO service_v5 (id, product_id, imsi, msisdn, nai, enabled, password, k, opc, amf, sqn, doc)
    SELECT id, product_id, imsi, msisdn, nai, enabled, password, k, opc, amf, sqn, doc FROM service;
DROP TABLE service;
ALTER TABLE service_v5 RENAME TO service;
CREATE INDEX service_product ON service (product_id);
