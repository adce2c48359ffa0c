-- Schema version 5: on SQLite, product and service become WITHOUT ROWID tables (one B-tree each,
-- keyed by the text id).  A PostgreSQL table is a heap with its primary-key index whatever is
-- declared, so nothing changes here; the version keeps both backends numbered alike.
SELECT 1;
