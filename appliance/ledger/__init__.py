"""The ledger: the one door through which balances change (``book``), its client (``api``) and the
credit events it emits (``events``)."""
