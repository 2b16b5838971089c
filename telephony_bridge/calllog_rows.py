"""The call log's records as the reports read them, and the row-level steps
its writes share: labels checked before they are written (no caller's
words, no digit runs), rows inserted once, a call row made when its start
was lost."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Table,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from plumbing.database import as_utc
from plumbing.masking import mask
from telephony_bridge.calllog_tables import DIGIT_RUN, IN_PROGRESS, LABEL, REFERENCE, calls, events

log = logging.getLogger("telephony_bridge.calllog")


@dataclass(frozen=True)
class CallRecord:
    call_sid: str
    caller_masked: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    status: str | None
    duration_s: int | None
    turns: int
    first_service: str | None
    reached_at: datetime | None
    transferred: bool
    handed_off: bool
    emergency: bool
    handoff_reference: str | None
    start_inferred: bool


@dataclass(frozen=True)
class TransferRecord:
    id: int
    call_sid: str
    service: str | None
    target_masked: str
    reason: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    dial_status: str | None
    leg_status: str | None


@dataclass(frozen=True)
class EventRecord:
    id: int
    call_sid: str
    at: datetime
    kind: str
    outcome: str | None
    service: str | None
    latency_ms: float | None
    keys_pressed: str | None = None
    heard: str | None = None


def utc(moment: datetime) -> datetime:
    # A naive time is ambiguous across the clock change; the bridge always
    # has an aware one (council.clock.now), so a naive one is a bug to surface.
    return as_utc(moment, "call log times")


def checked_label(name: str, value: str | None, optional: bool = False) -> str | None:
    """A short identifier (service id, status, outcome): no spaces, so no
    speech; no run of four digits, so no keyed card number or phone number."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not LABEL.fullmatch(value) or DIGIT_RUN.search(value):
        raise ValueError(f"call log {name} must be a short identifier without keyed digits")
    return value


def checked_sid(call_sid: str) -> str:
    if not isinstance(call_sid, str) or not 0 < len(call_sid) <= 64:
        raise ValueError("call_sid must be a non-empty string of at most 64 characters")
    return call_sid


def checked_reference(reference: str | None) -> str | None:
    """The case reference, or None when it is not a plain identifier: losing
    an odd reference is better than losing the fact of the handoff."""
    if reference is not None and not REFERENCE.fullmatch(str(reference)):
        log.warning("call log: handoff reference is not a plain identifier; not stored")
        return None
    return reference


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless its key exists; True when inserted. Safe when two
    transactions race to insert the same call."""
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        statement = module.insert(table).values(**values).on_conflict_do_nothing()
        return conn.execute(statement).rowcount == 1
    savepoint = conn.begin_nested()
    try:
        conn.execute(table.insert().values(**values))
    except IntegrityError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def record_event(
    conn: Connection,
    call_sid: str,
    kind: str,
    at: datetime,
    outcome: str | None = None,
    service: str | None = None,
    latency_ms: float | None = None,
    keys_pressed: str | None = None,
    heard: str | None = None,
) -> None:
    conn.execute(
        events.insert().values(
            call_sid=call_sid, at=at, kind=kind, outcome=outcome, service=service, latency_ms=latency_ms,
            keys_pressed=keys_pressed, heard=heard,
        )
    )


def call_row(call_sid: str, caller_masked: str, started_at: datetime, inferred: bool) -> dict[str, Any]:
    return {
        "call_sid": call_sid,
        "caller_masked": caller_masked,
        "started_at": started_at,
        "answered_at": started_at,  # the IVR answers at once
        "status": IN_PROGRESS,
        "turns": 0,
        "transferred": False,
        "handed_off": False,
        "emergency": False,
        "start_inferred": inferred,
    }


def ensure_call(conn: Connection, call_sid: str, started_at: datetime) -> None:
    """Make the call's row when call_started was lost, so no later webhook is
    dropped; call_started corrects the estimated start when it comes."""
    insert_if_absent(conn, calls, call_row(call_sid, mask(None), started_at, inferred=True))


def set_reached(conn: Connection, call_sid: str, at: datetime, service: str | None) -> None:
    """The first service or person reached wins; later ones change nothing."""
    conn.execute(
        update(calls).where(calls.c.call_sid == call_sid, calls.c.reached_at.is_(None)).values(reached_at=at)
    )
    if service is not None:
        conn.execute(
            update(calls)
            .where(calls.c.call_sid == call_sid, calls.c.first_service.is_(None))
            .values(first_service=service)
        )


def as_call(row: Any) -> CallRecord:
    return CallRecord(**{name: row._mapping[name] for name in CallRecord.__dataclass_fields__})


def as_transfer(row: Any) -> TransferRecord:
    return TransferRecord(**{name: row._mapping[name] for name in TransferRecord.__dataclass_fields__})


def as_event(row: Any) -> EventRecord:
    return EventRecord(**{name: row._mapping[name] for name in EventRecord.__dataclass_fields__})


