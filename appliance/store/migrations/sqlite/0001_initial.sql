-- Schema version 1: catalog, inventory, balance, reservations, idempotency, clients, documents.
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta (key, value) VALUES ('catalog_gen', 0);

CREATE TABLE offer (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE prefix_table (name TEXT PRIMARY KEY, rates TEXT NOT NULL);

CREATE TABLE product (
    id TEXT PRIMARY KEY, offer TEXT NOT NULL, start INTEGER, "end" INTEGER,
    policy_table TEXT, status TEXT NOT NULL DEFAULT 'active', doc TEXT NOT NULL DEFAULT '{}');

CREATE TABLE service (
    id TEXT PRIMARY KEY, product_id TEXT, imsi TEXT, msisdn TEXT, nai TEXT,
    enabled INTEGER NOT NULL DEFAULT 1, password TEXT, k BLOB, opc BLOB, amf BLOB,
    sqn INTEGER NOT NULL DEFAULT 0, doc TEXT NOT NULL DEFAULT '{}');
CREATE INDEX service_product ON service (product_id);

-- Every identity (id, IMSI, MSISDN, NAI) of a service, for one indexed look-up.
CREATE TABLE service_identity (identity TEXT PRIMARY KEY, service_id TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX service_identity_service ON service_identity (service_id);

CREATE TABLE bucket (
    id INTEGER PRIMARY KEY AUTOINCREMENT, product_id TEXT NOT NULL, unit TEXT NOT NULL,
    remaining INTEGER NOT NULL, start INTEGER, "end" INTEGER, name TEXT NOT NULL DEFAULT '');
CREATE INDEX bucket_product ON bucket (product_id);

CREATE TABLE reservation (
    session_id TEXT NOT NULL, rating_group INTEGER NOT NULL, product_id TEXT NOT NULL,
    service_id TEXT NOT NULL, unit TEXT NOT NULL, granted INTEGER NOT NULL, holds TEXT NOT NULL,
    rate INTEGER, size INTEGER NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL,
    PRIMARY KEY (session_id, rating_group)) WITHOUT ROWID;
CREATE INDEX reservation_expires ON reservation (expires);
CREATE INDEX reservation_product ON reservation (product_id);

-- Answers to mutating requests, by idempotency key (session id + request number).
CREATE TABLE request_log (key TEXT PRIMARY KEY, created INTEGER NOT NULL, result TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX request_log_created ON request_log (created);

-- RADIUS clients and Diameter peers added at run time (the config file holds the static ones).
CREATE TABLE client (address TEXT PRIMARY KEY, protocol TEXT NOT NULL, doc TEXT NOT NULL);

-- Typed JSON documents for front ends: sessions, policy tables, users, ... (kind, key) -> doc.
CREATE TABLE doc (kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;
