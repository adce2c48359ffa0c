-- Schema version 2 (as sqlite/0002): the inventory generation counter.  The PostgreSQL store does not
-- cache subscribers (find_subscriber locks the service and product rows, so the look-up is the lock) and
-- does not bump it: a cluster-wide hot row on every SQN update would serialize all nodes.
INSERT INTO meta (key, value) VALUES ('inventory_gen', 0);
