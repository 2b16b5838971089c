"""The call log: one row for every phone call the bridge handles, its
transfers to people, and a timeline of turns and milestones.

It lives in the same database as the handoff service (`DATABASE_URL`; a
SQLite file under var/ by default, PostgreSQL in production) in tables of its
own, all named `calllog_*`, so the two never collide.

What is never stored, because a call log is read by many people and kept for
a long time: a full telephone number (only `masking.mask()` output), anything
a caller said, and digits a caller keyed that were not a menu choice (a
caller may key a card number). Each turn keeps what the caller heard (the
bridge's own words), the keys when they chose something in the menu, what
the bridge did and the service reached; every label is checked before it is
written (see `_label`).

The API is synchronous and thread-safe: the aiohttp bridge calls it from a
thread executor, and every method is one short transaction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from plumbing.database import UTCDateTime, as_utc, make_engine
from plumbing.masking import mask
from plumbing.observability import ping

log = logging.getLogger(__name__)

TURN_KINDS = frozenset({"speech", "dtmf", "no_input", "confirm"})
# Twilio's CallStatus values after which nothing more happens on the call.
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# DialCallStatus values that mean a person picked up.
PERSON_ANSWERED = frozenset({"completed", "answered"})
# Statuses of the dialled leg that mean a person picked up.
LEG_ANSWERED = frozenset({"answered", "in-progress"})
IN_PROGRESS = "in-progress"

_LABEL = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
_REFERENCE = re.compile(r"[A-Za-z0-9_.:/\-]{1,64}")
# Four digits in a row is already more than any menu choice needs and is how a
# card number, PIN or phone number would slip into a label.
_DIGIT_RUN = re.compile(r"\d{4}")


metadata = MetaData()

calls = Table(
    "calllog_calls",
    metadata,
    Column("call_sid", String(64), primary_key=True),
    Column("caller_masked", String(32), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False, index=True),
    # The IVR answers at once, so this equals started_at; kept apart so a
    # queue before the IVR could be measured without changing reports.
    Column("answered_at", UTCDateTime(), nullable=True),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("status", String(20), nullable=True),
    Column("duration_s", Integer, nullable=True),
    Column("turns", Integer, nullable=False, default=0),
    Column("first_service", String(64), nullable=True),
    Column("reached_at", UTCDateTime(), nullable=True),
    Column("transferred", Boolean, nullable=False, default=False),
    Column("handed_off", Boolean, nullable=False, default=False),
    Column("emergency", Boolean, nullable=False, default=False),
    Column("handoff_reference", String(64), nullable=True),
    # True while the row was made by a later webhook because call_started was
    # lost: started_at is then an estimate that call_started may correct.
    Column("start_inferred", Boolean, nullable=False, default=False),
)

transfers = Table(
    "calllog_transfers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), ForeignKey("calllog_calls.call_sid"), nullable=False, index=True),
    Column("service", String(64), nullable=True),
    Column("target_masked", String(32), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("answered_at", UTCDateTime(), nullable=True),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("dial_status", String(20), nullable=True),
    Column("leg_status", String(20), nullable=True),
)

events = Table(
    "calllog_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), ForeignKey("calllog_calls.call_sid"), nullable=False, index=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("outcome", String(64), nullable=True),
    Column("service", String(64), nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("keys_pressed", String(8), nullable=True),  # a menu choice only
    Column("heard", Text, nullable=True),  # what the bridge said back, never the caller's words
)
# Columns added since the first release, for a database made before them
# (create_all makes missing tables, not missing columns).
_ADDED_COLUMNS = {"calllog_events": ("keys_pressed", "heard")}
MAX_HEARD_CHARS = 4000
_KEYS = re.compile(r"[0-9*#]{1,8}")


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


def _utc(moment: datetime) -> datetime:
    # A naive time is ambiguous across the clock change; the bridge always
    # has an aware one (council.clock.now), so a naive one is a bug to surface.
    return as_utc(moment, "call log times")


def _label(name: str, value: str | None, optional: bool = False) -> str | None:
    """A short identifier (service id, status, outcome): no spaces, so no
    speech; no run of four digits, so no keyed card number or phone number."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not _LABEL.fullmatch(value) or _DIGIT_RUN.search(value):
        raise ValueError(f"call log {name} must be a short identifier without keyed digits")
    return value


def _sid(call_sid: str) -> str:
    if not isinstance(call_sid, str) or not 0 < len(call_sid) <= 64:
        raise ValueError("call_sid must be a non-empty string of at most 64 characters")
    return call_sid


def _reference(reference: str | None) -> str | None:
    """The case reference, or None when it is not a plain identifier: losing
    an odd reference is better than losing the fact of the handoff."""
    if reference is not None and not _REFERENCE.fullmatch(str(reference)):
        log.warning("call log: handoff reference is not a plain identifier; not stored")
        return None
    return reference


def _insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
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


def _record(
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


def _call_row(call_sid: str, caller_masked: str, started_at: datetime, inferred: bool) -> dict[str, Any]:
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


def _ensure_call(conn: Connection, call_sid: str, started_at: datetime) -> None:
    """Make the call's row when call_started was lost, so no later webhook is
    dropped; call_started corrects the estimated start when it comes."""
    _insert_if_absent(conn, calls, _call_row(call_sid, mask(None), started_at, inferred=True))


def _set_reached(conn: Connection, call_sid: str, at: datetime, service: str | None) -> None:
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


def _as_call(row: Any) -> CallRecord:
    return CallRecord(**{name: row._mapping[name] for name in CallRecord.__dataclass_fields__})


def _as_transfer(row: Any) -> TransferRecord:
    return TransferRecord(**{name: row._mapping[name] for name in TransferRecord.__dataclass_fields__})


def _as_event(row: Any) -> EventRecord:
    return EventRecord(**{name: row._mapping[name] for name in EventRecord.__dataclass_fields__})


def _add_missing_columns(engine: Any) -> None:
    """Bring a call log made by an earlier release up to date."""
    existing = inspect(engine)
    for table_name, names in _ADDED_COLUMNS.items():
        have = {column["name"] for column in existing.get_columns(table_name)}
        table = metadata.tables[table_name]
        for name in names:
            if name not in have:
                kind = table.c[name].type.compile(dialect=engine.dialect)
                with engine.begin() as conn:
                    conn.exec_driver_sql(f"ALTER TABLE {table_name} ADD COLUMN {name} {kind}")


class CallLog:
    """Writes and reads the call log. One instance per process is enough;
    it is safe to share between threads."""

    def __init__(self, database_url: str) -> None:
        self._engine = make_engine(database_url, component="the call log")
        # Tables are created here until the handoff service brings Alembic
        # migrations for the whole database; then this becomes a migration.
        metadata.create_all(self._engine)
        _add_missing_columns(self._engine)

    def close(self) -> None:
        self._engine.dispose()

    def ping(self) -> None:
        """Raises when the call log's database cannot be read (health check)."""
        ping(self._engine, calls)

    # --- writing -----------------------------------------------------------

    def call_started(self, call_sid: str, caller: str | None, at: datetime) -> None:
        """Twilio's incoming-call webhook. A retry changes nothing; a row
        made earlier by a later webhook gets the true start and caller."""
        sid, at, masked = _sid(call_sid), _utc(at), mask(caller)
        with self._engine.begin() as conn:
            changed = _insert_if_absent(conn, calls, _call_row(sid, masked, at, inferred=False))
            if not changed:
                changed = (
                    conn.execute(
                        update(calls)
                        .where(calls.c.call_sid == sid, calls.c.start_inferred.is_(True))
                        .values(caller_masked=masked, started_at=at, answered_at=at, start_inferred=False)
                    ).rowcount
                    == 1
                )
            if changed:
                _record(conn, sid, "started", at)

    def turn(
        self,
        call_sid: str,
        kind: str,
        at: datetime,
        latency_ms: float,
        outcome: str,
        service: str | None = None,
        keys: str | None = None,
        heard: str | None = None,
    ) -> None:
        """One exchange with the caller: the kind of input, what the bridge
        did, the service, the keys if they were a menu choice (the caller
        does not pass keys that were not) and what the caller heard. Never
        the caller's words."""
        sid, at = _sid(call_sid), _utc(at)
        if kind not in TURN_KINDS:
            raise ValueError(f"turn kind must be one of {sorted(TURN_KINDS)}")
        outcome = _label("outcome", outcome)
        service = _label("service", service, optional=True)
        if keys is not None and not _KEYS.fullmatch(keys):
            raise ValueError("keys must be 1-8 of 0-9, * and #")
        heard = " ".join((heard or "").split())[:MAX_HEARD_CHARS] or None
        with self._engine.begin() as conn:
            _ensure_call(conn, sid, at)
            # Incremented in SQL so concurrent turns cannot overwrite each other.
            conn.execute(update(calls).where(calls.c.call_sid == sid).values(turns=calls.c.turns + 1))
            _record(conn, sid, kind, at, outcome, service, float(latency_ms), keys, heard)

    def routed(self, call_sid: str, service: str | None, at: datetime) -> None:
        """The caller reached a service: the bot explained it, a menu leaf or
        a directory match."""
        sid, at = _sid(call_sid), _utc(at)
        service = _label("service", service, optional=True)
        with self._engine.begin() as conn:
            _ensure_call(conn, sid, at)
            _set_reached(conn, sid, at, service)
            _record(conn, sid, "routed", at, service=service)

    def transfer_started(self, call_sid: str, target: str, service: str | None, reason: str, at: datetime) -> int:
        """The bridge is dialling a person; returns the transfer's id for the
        Dial action and status callback URLs."""
        sid, at = _sid(call_sid), _utc(at)
        service = _label("service", service, optional=True)
        reason = _label("reason", reason)
        with self._engine.begin() as conn:
            _ensure_call(conn, sid, at)
            result = conn.execute(
                transfers.insert().values(
                    call_sid=sid, service=service, target_masked=mask(target), reason=reason, started_at=at
                )
            )
            conn.execute(update(calls).where(calls.c.call_sid == sid).values(transferred=True))
            _record(conn, sid, "transfer", at, outcome=reason, service=service)
            return int(result.inserted_primary_key[0])

    def transfer_result(
        self,
        call_sid: str,
        transfer_id: int,
        dial_status: str,
        at: datetime,
        answered_after_s: float | None = None,
    ) -> None:
        """Twilio's Dial action: how the transfer ended. A retry changes nothing."""
        sid, at = _sid(call_sid), _utc(at)
        dial_status = _label("dial_status", dial_status)
        with self._engine.begin() as conn:
            transfer = self._transfer(conn, sid, transfer_id)
            if transfer is None:
                return
            ended = conn.execute(
                update(transfers)
                .where(transfers.c.id == transfer.id, transfers.c.dial_status.is_(None))
                .values(dial_status=dial_status, ended_at=at)
            ).rowcount
            if not ended:
                return
            answered_at = transfer.answered_at
            if answered_at is None and answered_after_s is not None:
                answered_at = transfer.started_at + timedelta(seconds=answered_after_s)
                self._set_transfer_answered(conn, transfer.id, answered_at)
            if dial_status in PERSON_ANSWERED:
                # Without a known answer time, the end of the transfer is the
                # only time known: later than the truth, never flattering.
                _set_reached(conn, sid, answered_at or at, transfer.service)
            _record(conn, sid, "transfer_result", at, outcome=dial_status, service=transfer.service)

    def transfer_leg_status(self, call_sid: str, transfer_id: int, status: str, at: datetime) -> None:
        """Status callback of the dialled number; its answer is when the
        caller reached a person."""
        sid, at = _sid(call_sid), _utc(at)
        status = _label("status", status)
        with self._engine.begin() as conn:
            transfer = self._transfer(conn, sid, transfer_id)
            if transfer is None:
                return
            changed = conn.execute(
                update(transfers)
                .where(transfers.c.id == transfer.id, transfers.c.leg_status.is_distinct_from(status))
                .values(leg_status=status)
            ).rowcount
            if status in LEG_ANSWERED:
                self._set_transfer_answered(conn, transfer.id, at)
                _set_reached(conn, sid, at, transfer.service)
            if changed:
                _record(conn, sid, "transfer_leg", at, outcome=status, service=transfer.service)

    def handed_off(self, call_sid: str, reference: str | None, at: datetime) -> None:
        """A case was stored for staff to call back."""
        sid, at = _sid(call_sid), _utc(at)
        reference = _reference(reference)
        with self._engine.begin() as conn:
            _ensure_call(conn, sid, at)
            first = conn.execute(
                update(calls)
                .where(calls.c.call_sid == sid, calls.c.handed_off.is_(False))
                .values(handed_off=True, handoff_reference=reference)
            ).rowcount
            if first:
                _record(conn, sid, "handoff", at)
            elif reference is not None:
                conn.execute(
                    update(calls)
                    .where(calls.c.call_sid == sid, calls.c.handoff_reference.is_(None))
                    .values(handoff_reference=reference)
                )

    def emergency(self, call_sid: str, at: datetime) -> None:
        """The caller was told to hang up and dial 999."""
        sid, at = _sid(call_sid), _utc(at)
        with self._engine.begin() as conn:
            _ensure_call(conn, sid, at)
            first = conn.execute(
                update(calls).where(calls.c.call_sid == sid, calls.c.emergency.is_(False)).values(emergency=True)
            ).rowcount
            if first:
                _record(conn, sid, "emergency", at)

    def call_status(self, call_sid: str, status: str, at: datetime, duration_s: int | None = None) -> None:
        """Twilio's call status callback. The first final status ends the
        call; repeats and late non-final statuses change nothing."""
        sid, at = _sid(call_sid), _utc(at)
        status = _label("status", status)
        duration_s = None if duration_s is None else int(duration_s)
        final = status in FINAL_STATUSES
        # A call first heard of at its end started duration_s earlier.
        estimated_start = at - timedelta(seconds=duration_s or 0) if final else at
        with self._engine.begin() as conn:
            _ensure_call(conn, sid, estimated_start)
            open_call = (calls.c.call_sid == sid, calls.c.ended_at.is_(None))
            if final:
                changed = conn.execute(
                    update(calls).where(*open_call).values(status=status, ended_at=at, duration_s=duration_s)
                ).rowcount
            else:
                changed = conn.execute(
                    update(calls).where(*open_call, calls.c.status.is_distinct_from(status)).values(status=status)
                ).rowcount
            if changed:
                _record(conn, sid, "status", at, outcome=status)

    # --- reading -----------------------------------------------------------

    def calls_between(self, start: datetime, end: datetime) -> list[CallRecord]:
        """Calls that started in [start, end), oldest first."""
        query = (
            select(calls)
            .where(calls.c.started_at >= _utc(start), calls.c.started_at < _utc(end))
            .order_by(calls.c.started_at, calls.c.call_sid)
        )
        return [_as_call(row) for row in self._read(query)]

    def transfers_between(self, start: datetime, end: datetime) -> list[TransferRecord]:
        """Transfers on calls that started in [start, end), in order."""
        query = (
            select(transfers)
            .join(calls, calls.c.call_sid == transfers.c.call_sid)
            .where(calls.c.started_at >= _utc(start), calls.c.started_at < _utc(end))
            .order_by(transfers.c.started_at, transfers.c.id)
        )
        return [_as_transfer(row) for row in self._read(query)]

    def events(self, call_sid: str) -> list[EventRecord]:
        """The call's timeline: turns and milestones, in order."""
        query = select(events).where(events.c.call_sid == call_sid).order_by(events.c.at, events.c.id)
        return [_as_event(row) for row in self._read(query)]

    # --- helpers -----------------------------------------------------------

    def _read(self, query: Any) -> Iterable[Any]:
        with self._engine.connect() as conn:
            return conn.execute(query).all()

    @staticmethod
    def _transfer(conn: Connection, call_sid: str, transfer_id: int) -> TransferRecord | None:
        row = conn.execute(
            select(transfers).where(transfers.c.id == int(transfer_id), transfers.c.call_sid == call_sid)
        ).first()
        if row is None:
            # An id not made by transfer_started for this call (a forged or
            # stale URL): nothing sound to record.
            log.warning("call log: no transfer %s on call %s", transfer_id, call_sid)
            return None
        return _as_transfer(row)

    @staticmethod
    def _set_transfer_answered(conn: Connection, transfer_id: int, at: datetime) -> None:
        conn.execute(
            update(transfers)
            .where(transfers.c.id == transfer_id, transfers.c.answered_at.is_(None))
            .values(answered_at=at)
        )
