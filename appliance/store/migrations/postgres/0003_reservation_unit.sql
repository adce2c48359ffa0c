-- Schema version 3: a session holds one reservation per (rating group, unit), so a rating group
-- charged in two units (octets and seconds) keeps two holds, each at its own price.
ALTER TABLE reservation DROP CONSTRAINT reservation_pkey;
ALTER TABLE reservation ADD CONSTRAINT reservation_pkey PRIMARY KEY (session_id, rating_group, unit);
-- Per-session rounding: what the reservation's session has used and been billed so far at its price.
ALTER TABLE reservation ADD COLUMN used BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reservation ADD COLUMN paid BIGINT NOT NULL DEFAULT 0;
