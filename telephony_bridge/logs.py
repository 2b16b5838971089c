"""Structured logs: one JSON object a line, carrying the call id. Callers'
numbers reach a log only masked (phones.mask) and nothing they said does."""

from __future__ import annotations

import json
import logging
import sys

_FIELDS = ("call", "caller", "service", "reason", "event", "path", "status")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log prints whole URLs; ours carry no caller data, but
    # one line a turn is noise next to our own.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
