-- Schema version 2: a generation counter bumped by every inventory write (service, product, SQN),
-- so each process may cache subscriber look-ups and drop the cache when another process provisions.
INSERT INTO meta (key, value) VALUES ('inventory_gen', 0);
