"""Helper process for the crash and concurrency tests (not a test module).

usage: translog_writer.py DIR PROC COUNT PAYLOAD FILES SIZE [buffered_ms]
Writes COUNT records {"proc", "n", "pad"} through translog (COUNT 0: forever), printing
"ready" after the first record so the parent knows writing has started.  With TEAR_AT=N in the
environment, files cannot grow past N bytes (RLIMIT_FSIZE): the write crossing N is cut short by
the kernel, leaving a torn record, as a crash inside write() would.
"""
import os
import resource
import sys
import time

from appliance.config import Config, LogsConfig
from appliance.logs import translog


def main() -> None:
    d, proc, count, payload, files, size = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
    flush_ms = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    cfg = Config(base_dir=d, logs=LogsConfig(acct_log_dir="acct", auth_log_dir="auth", acct_log_files=files,
                                             acct_log_size=size, flush_interval_ms=flush_ms))
    translog.configure(cfg, proc, 0)
    if os.environ.get("TEAR_AT"):       # files stop growing here: the kernel writes part of a record
        limit = int(os.environ["TEAR_AT"])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    go = os.environ.get("GO")
    if go:                              # start together with the other writers
        print("waiting", flush=True)
        for _ in range(3000):
            if os.path.exists(go):
                break
            time.sleep(0.01)
    n = 0
    while count == 0 or n < count:
        translog.acct({"n": n, "writer": proc, "pad": "x" * (payload + n % 97)})
        if n == 0:
            print("ready", flush=True)
        n += 1
    translog.close()


if __name__ == "__main__":
    main()
