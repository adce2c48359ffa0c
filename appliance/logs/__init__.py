"""Transaction logs: the record API (:mod:`.translog`), FIFO files (:mod:`.fifo`), framing,
the IPDR archive (:mod:`.ipdr`), export and query.  See docs/logs.md."""
