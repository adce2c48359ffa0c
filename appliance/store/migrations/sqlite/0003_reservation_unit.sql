-- Schema version 3: a session holds one reservation per (rating group, unit), so a rating group
-- charged in two units (octets and seconds) keeps two holds, each at its own price; used/paid carry
-- what the session has used and been billed so far at that price (per-session rounding).
CREATE TABLE reservation_v3 (
    session_id TEXT NOT NULL, rating_group INTEGER NOT NULL, product_id TEXT NOT NULL,
    service_id TEXT NOT NULL, unit TEXT NOT NULL, granted INTEGER NOT NULL, holds TEXT NOT NULL,
    rate INTEGER, size INTEGER NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0, paid INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, rating_group, unit)) WITHOUT ROWID;
INSERT INTO reservation_v3 SELECT session_id, rating_group, product_id, service_id, unit, granted, holds,
    rate, size, created, expires, 0, 0 FROM reservation;
DROP TABLE reservation;
ALTER TABLE reservation_v3 RENAME TO reservation;
CREATE INDEX reservation_expires ON reservation (expires);
CREATE INDEX reservation_product ON reservation (product_id);
