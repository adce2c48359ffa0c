-- Schema version 7: the change signal of authorization inputs.  Every write to a product row, a
-- service row, a bucket or a product's credit document (doc kind 'ledger_credit') records the
-- product or service id with a sequence number higher than any before it, in the same transaction
-- (triggers: no writer can forget it).  A service's identities are written only with its service
-- row (put_service, put_subscribers, delete_service), whose trigger names the service.  A reader
-- holding decisions asks for the keys whose number passed the one it last saw (SqliteStore.changes).  SQLite has one writer at a time, so numbers
-- are given in commit order.  One row per key: the table is as large as the inventory.
CREATE TABLE product_change (key TEXT NOT NULL PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX product_change_seq ON product_change (seq);
CREATE TRIGGER product_change_bucket_i AFTER INSERT ON bucket BEGIN
    INSERT INTO product_change (key, seq) VALUES (NEW.product_id, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER product_change_bucket_u AFTER UPDATE ON bucket BEGIN
    INSERT INTO product_change (key, seq) VALUES (NEW.product_id, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER product_change_bucket_d AFTER DELETE ON bucket BEGIN
    INSERT INTO product_change (key, seq) VALUES (OLD.product_id, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER product_change_product_i AFTER INSERT ON product BEGIN
    INSERT INTO product_change (key, seq) VALUES (NEW.id, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER product_change_product_u AFTER UPDATE ON product BEGIN
    INSERT INTO product_change (key, seq) VALUES (OLD.id, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
    INSERT INTO product_change (key, seq) VALUES (NEW.id, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER product_change_product_d AFTER DELETE ON product BEGIN
    INSERT INTO product_change (key, seq) VALUES (OLD.id, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER product_change_service_i AFTER INSERT ON service BEGIN
    INSERT INTO product_change (key, seq) VALUES (NEW.id, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER product_change_service_u AFTER UPDATE ON service BEGIN
    INSERT INTO product_change (key, seq) VALUES (OLD.id, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
    INSERT INTO product_change (key, seq) VALUES (NEW.id, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER product_change_service_d AFTER DELETE ON service BEGIN
    INSERT INTO product_change (key, seq) VALUES (OLD.id, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER product_change_credit_i AFTER INSERT ON doc WHEN NEW.kind = 'ledger_credit' BEGIN
    INSERT INTO product_change (key, seq) VALUES (NEW.key, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER product_change_credit_u AFTER UPDATE ON doc WHEN NEW.kind = 'ledger_credit' BEGIN
    INSERT INTO product_change (key, seq) VALUES (NEW.key, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER product_change_credit_d AFTER DELETE ON doc WHEN OLD.kind = 'ledger_credit' BEGIN
    INSERT INTO product_change (key, seq) VALUES (OLD.key, (SELECT coalesce(max(seq), 0) + 1 FROM product_change))
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq;
END;
