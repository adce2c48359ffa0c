-- Schema version 7: the change signal of authorization inputs (as migrations/sqlite/0007).  Every
-- write to a product row, a service row, a bucket or a product's credit document (doc kind
-- 'ledger_credit') records the product or service id with the writing transaction's id, in that
-- transaction (triggers; a service's identities are written only with its service row).  Transactions commit in any order here, so a
-- reader keeps the oldest transaction id still running at its read (pg_snapshot_xmin) and next
-- asks for every id recorded at or after it: a transaction not yet committed then has an id at
-- least that high (PostgresStore.changes).  Ids seen twice are harmless.
CREATE TABLE product_change (key TEXT COLLATE "C" PRIMARY KEY, seq BIGINT NOT NULL);
CREATE INDEX product_change_seq ON product_change (seq);

CREATE FUNCTION product_change_note(changed TEXT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO product_change (key, seq) VALUES (changed, pg_current_xact_id()::text::bigint)
        ON CONFLICT (key) DO UPDATE SET seq = excluded.seq
$$;

CREATE FUNCTION product_change_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'bucket' THEN
        IF TG_OP <> 'INSERT' THEN PERFORM product_change_note(OLD.product_id); END IF;
        IF TG_OP <> 'DELETE' THEN PERFORM product_change_note(NEW.product_id); END IF;
    ELSIF TG_TABLE_NAME = 'doc' THEN
        IF TG_OP <> 'INSERT' AND OLD.kind = 'ledger_credit' THEN PERFORM product_change_note(OLD.key); END IF;
        IF TG_OP <> 'DELETE' AND NEW.kind = 'ledger_credit' THEN PERFORM product_change_note(NEW.key); END IF;
    ELSE                                        -- product, service: their id
        IF TG_OP <> 'INSERT' THEN PERFORM product_change_note(OLD.id); END IF;
        IF TG_OP <> 'DELETE' THEN PERFORM product_change_note(NEW.id); END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER product_change AFTER INSERT OR UPDATE OR DELETE ON bucket
    FOR EACH ROW EXECUTE FUNCTION product_change_row();
CREATE TRIGGER product_change AFTER INSERT OR UPDATE OR DELETE ON product
    FOR EACH ROW EXECUTE FUNCTION product_change_row();
CREATE TRIGGER product_change AFTER INSERT OR UPDATE OR DELETE ON service
    FOR EACH ROW EXECUTE FUNCTION product_change_row();
-- documents: only the credit state's (the session documents written by accounting call nothing)
CREATE TRIGGER product_change_i AFTER INSERT ON doc
    FOR EACH ROW WHEN (NEW.kind = 'ledger_credit') EXECUTE FUNCTION product_change_row();
CREATE TRIGGER product_change_u AFTER UPDATE ON doc
    FOR EACH ROW WHEN (NEW.kind = 'ledger_credit' OR OLD.kind = 'ledger_credit') EXECUTE FUNCTION product_change_row();
CREATE TRIGGER product_change_d AFTER DELETE ON doc
    FOR EACH ROW WHEN (OLD.kind = 'ledger_credit') EXECUTE FUNCTION product_change_row();
-- TRUNCATE (store copy --replace) fires no row trigger: every reader starts afresh
CREATE FUNCTION product_change_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'catalog_gen';
    RETURN NULL;
END
$$;
CREATE TRIGGER product_change_truncate AFTER TRUNCATE ON bucket
    FOR EACH STATEMENT EXECUTE FUNCTION product_change_truncate();
