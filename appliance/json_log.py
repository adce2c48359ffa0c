"""``log_format: json``: one JSON object per daemon log line, the same schema for every role.

``{"time", "level", "role", "worker", "pid", "logger", "event"}`` always; ``"subscriber"`` and
``"session"`` when the call passes them (``log.info("...", extra={"subscriber": s, "session": sid})``);
``"exception"`` with the traceback text when one is logged.  ``event`` is the rendered message.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any

OPTIONAL = ("subscriber", "session")


class JsonFormatter(logging.Formatter):
    def __init__(self, role: str, worker: int) -> None:
        super().__init__()
        self.role = role
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        secs = int(record.created)
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname, "role": self.role, "worker": self.worker, "pid": record.process,
            "logger": record.name, "event": record.getMessage()}
        for key in OPTIONAL:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))
