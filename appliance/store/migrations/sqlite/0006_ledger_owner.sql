-- Schema version 6: shards of the ledger and who owns each.  The shard count is recorded by the
-- first ledger that starts (one row); a ledger configured with another count refuses to start.
-- ledger_owner is written by the holder of a shard's lease (a PostgreSQL advisory lock, or a lock
-- file on a single SQLite node): its node, its local socket, its TCP address for other nodes'
-- front ends ("" when it has none) and an epoch raised at every change of owner.
CREATE TABLE ledger_shards (id INTEGER PRIMARY KEY CHECK (id = 1), shards INTEGER NOT NULL);
CREATE TABLE ledger_owner (
    shard INTEGER PRIMARY KEY, node TEXT NOT NULL, socket TEXT NOT NULL, address TEXT NOT NULL,
    epoch INTEGER NOT NULL, since INTEGER NOT NULL);
