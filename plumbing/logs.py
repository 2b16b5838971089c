"""Structured logs for every process of the system (the bridge, the handoff
service, the Rasa server and the action server): one JSON object a line on
stderr, each carrying the request id of the call or text being handled.

The request id lives in a context variable: whatever handles a request binds
it once (`bind_request_id`) and every line logged while that request is
handled carries it, whichever logger wrote the line.

Privacy: our own code logs numbers only masked (plumbing.masking.mask) and never what
a caller said. Other people's code (Rasa, Sanic, aiohttp) is held to the
same rule by the formatter: it keeps only the fields named in `FIELDS`
(structlog's keyword arguments, which in Rasa carry message text, are
dropped), masks anything shaped like a phone or card number, and removes
the parameters SQLAlchemy quotes in its errors.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar, Token
from typing import Any, Mapping

from plumbing.masking import mask

REQUEST_ID_HEADER = "X-Request-Id"
FIELDS = ("request_id", "call", "caller", "service", "reason", "event", "reference", "method", "path", "status",
          "duration_ms")
# Ids from outside (a header, a message's metadata) are kept only when they
# look like an id, so a log line cannot be forged or stuffed through one.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
# A run of 7 or more digits (spaces and dashes allowed inside) that is not
# part of a longer word: a phone or card number, never a hex id's digits.
_NUMBER = re.compile(r"(?<![\w*])\+?\d(?:[ -]?\d){6,18}(?!\w)")
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?(?=\n\(Background|\Z)", re.S)
# Libraries whose own handlers would print plain text past ours.
_OWN_HANDLERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server")
# Levels for other people's loggers: Rasa logs message text at debug level,
# Sanic's and aiohttp's access logs print one plain line a request.
_LIBRARY_LEVELS = {
    "rasa": logging.INFO, "rasa_sdk": logging.INFO, "sanic": logging.WARNING, "sanic.access": logging.WARNING,
    "aiohttp.access": logging.WARNING, "tensorflow": logging.ERROR, "absl": logging.ERROR,
    "matplotlib": logging.WARNING, "urllib3": logging.WARNING, "asyncio": logging.WARNING,
    "py.warnings": logging.ERROR,
}

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def clean_request_id(raw: Any) -> str | None:
    """`raw` when it is a plausible id (letters, digits and ._:- only, at most
    64 characters), else None."""
    return raw if isinstance(raw, str) and _SAFE_ID.fullmatch(raw) else None


def new_request_id() -> str:
    return f"req-{uuid.uuid4().hex[:20]}"


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(value: str | None) -> Token[str | None]:
    """Make `value` the request id of what runs from here in this context;
    `reset_request_id(token)` undoes it."""
    return _request_id.set(value)


def reset_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


def request_id_from_metadata(metadata: Any) -> str | None:
    """The request id a message's metadata carries (set by the bridge, or by
    bot.channels for any other client), if any."""
    return clean_request_id(metadata.get("request_id")) if isinstance(metadata, Mapping) else None


def redact(text: str) -> str:
    """`text` with phone- and card-shaped numbers masked and SQL parameters
    removed."""
    return _NUMBER.sub(lambda m: mask(m.group()), _SQL_PARAMETERS.sub("[parameters hidden]", text))


class RequestIdFilter(logging.Filter):
    """Gives every record the request id bound in its context (unless the
    record names one itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str | None = None) -> None:
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if self.component:
            entry["component"] = self.component
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def _structlog_to_stdlib(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Rasa's structlog events as plain stdlib calls with the event name as
    the message; the keyword arguments (often the user's text) are dropped."""
    return {"msg": str(event_dict.get("event", "")), "exc_info": event_dict.get("exc_info", False)}


def configure(level: int = logging.INFO, component: str | None = None) -> None:
    """JSON lines on stderr for this whole process: the root logger's only
    handler, libraries' own handlers removed, warnings and structlog routed
    through it. Safe to call again (a server framework that set up its own
    logging in between is undone)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(component))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _OWN_HANDLERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name, library_level in _LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(library_level)
    logging.captureWarnings(True)
    import structlog

    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, _structlog_to_stdlib],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def configure_terminal(verbose: bool) -> None:
    """Logging for a command run in a terminal: warnings only (progress with
    --verbose), the frameworks' chatter quietened."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for noisy in ("rasa", "tensorflow", "absl", "matplotlib", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    # Rasa logs through structlog, which by default prints every level to
    # stdout: `route` owns stdout for its JSON lines, so send Rasa's to stderr.
    import structlog

    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO if verbose else logging.WARNING),
    )
