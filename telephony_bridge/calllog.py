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
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import (
    delete,
    select,
    update,
)
from sqlalchemy.engine import Connection

from plumbing import migrate
from plumbing.database import make_engine
from plumbing.masking import mask
from plumbing.observability import ping
from telephony_bridge.calllog_rows import (
    CallRecord,
    EventRecord,
    TransferRecord,
    as_call,
    as_event,
    as_transfer,
    call_row,
    checked_label,
    checked_reference,
    checked_sid,
    ensure_call,
    insert_if_absent,
    record_event,
    set_reached,
    utc,
)
from telephony_bridge.calllog_tables import (
    FINAL_STATUSES,
    KEYS,
    LEG_ANSWERED,
    MAX_HEARD_CHARS,
    PERSON_ANSWERED,
    TURN_KINDS,
    calls,
    events,
    transfers,
)

log = logging.getLogger(__name__)


class CallLog:
    """Writes and reads the call log. One instance per process is enough;
    it is safe to share between threads."""

    def __init__(self, database_url: str) -> None:
        self._engine = make_engine(database_url, component="the call log")
        # The shared migrations (plumbing/schema) make or bring up to date the
        # call log's tables, and the handoff service's beside them.
        try:
            migrate.upgrade(database_url, engine=self._engine, component="the call log")
        except Exception:
            self._engine.dispose()
            raise

    def close(self) -> None:
        self._engine.dispose()

    def ping(self) -> None:
        """Raises when the call log's database cannot be read (health check)."""
        ping(self._engine, calls)

    def purge(self, older_than: datetime) -> int:
        """Remove calls that started before `older_than`, with their
        transfers and turns (the retention rule, CALLLOG_RETENTION_DAYS).
        Returns how many calls went."""
        cutoff = utc(older_than)
        old = select(calls.c.call_sid).where(calls.c.started_at < cutoff)
        with self._engine.begin() as conn:
            conn.execute(delete(events).where(events.c.call_sid.in_(old)))
            conn.execute(delete(transfers).where(transfers.c.call_sid.in_(old)))
            return conn.execute(delete(calls).where(calls.c.started_at < cutoff)).rowcount or 0

    # --- writing -----------------------------------------------------------

    def call_started(self, call_sid: str, caller: str | None, at: datetime) -> None:
        """Twilio's incoming-call webhook. A retry changes nothing; a row
        made earlier by a later webhook gets the true start and caller."""
        sid, at, masked = checked_sid(call_sid), utc(at), mask(caller)
        with self._engine.begin() as conn:
            changed = insert_if_absent(conn, calls, call_row(sid, masked, at, inferred=False))
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
                record_event(conn, sid, "started", at)

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
        sid, at = checked_sid(call_sid), utc(at)
        if kind not in TURN_KINDS:
            raise ValueError(f"turn kind must be one of {sorted(TURN_KINDS)}")
        outcome = checked_label("outcome", outcome)
        service = checked_label("service", service, optional=True)
        if keys is not None and not KEYS.fullmatch(keys):
            raise ValueError("keys must be 1-8 of 0-9, * and #")
        heard = " ".join((heard or "").split())[:MAX_HEARD_CHARS] or None
        with self._engine.begin() as conn:
            ensure_call(conn, sid, at)
            # Incremented in SQL so concurrent turns cannot overwrite each other.
            conn.execute(update(calls).where(calls.c.call_sid == sid).values(turns=calls.c.turns + 1))
            record_event(conn, sid, kind, at, outcome, service, float(latency_ms), keys, heard)

    def routed(self, call_sid: str, service: str | None, at: datetime) -> None:
        """The caller reached a service: the bot explained it, a menu leaf or
        a directory match."""
        sid, at = checked_sid(call_sid), utc(at)
        service = checked_label("service", service, optional=True)
        with self._engine.begin() as conn:
            ensure_call(conn, sid, at)
            set_reached(conn, sid, at, service)
            record_event(conn, sid, "routed", at, service=service)

    def transfer_started(self, call_sid: str, target: str, service: str | None, reason: str, at: datetime) -> int:
        """The bridge is dialling a person; returns the transfer's id for the
        Dial action and status callback URLs."""
        sid, at = checked_sid(call_sid), utc(at)
        service = checked_label("service", service, optional=True)
        reason = checked_label("reason", reason)
        with self._engine.begin() as conn:
            ensure_call(conn, sid, at)
            result = conn.execute(
                transfers.insert().values(
                    call_sid=sid, service=service, target_masked=mask(target), reason=reason, started_at=at
                )
            )
            conn.execute(update(calls).where(calls.c.call_sid == sid).values(transferred=True))
            record_event(conn, sid, "transfer", at, outcome=reason, service=service)
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
        sid, at = checked_sid(call_sid), utc(at)
        dial_status = checked_label("dial_status", dial_status)
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
                set_reached(conn, sid, answered_at or at, transfer.service)
            record_event(conn, sid, "transfer_result", at, outcome=dial_status, service=transfer.service)

    def transfer_leg_status(self, call_sid: str, transfer_id: int, status: str, at: datetime) -> None:
        """Status callback of the dialled number; its answer is when the
        caller reached a person."""
        sid, at = checked_sid(call_sid), utc(at)
        status = checked_label("status", status)
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
                set_reached(conn, sid, at, transfer.service)
            if changed:
                record_event(conn, sid, "transfer_leg", at, outcome=status, service=transfer.service)

    def handed_off(self, call_sid: str, reference: str | None, at: datetime) -> None:
        """A case was stored for staff to call back."""
        sid, at = checked_sid(call_sid), utc(at)
        reference = checked_reference(reference)
        with self._engine.begin() as conn:
            ensure_call(conn, sid, at)
            first = conn.execute(
                update(calls)
                .where(calls.c.call_sid == sid, calls.c.handed_off.is_(False))
                .values(handed_off=True, handoff_reference=reference)
            ).rowcount
            if first:
                record_event(conn, sid, "handoff", at)
            elif reference is not None:
                conn.execute(
                    update(calls)
                    .where(calls.c.call_sid == sid, calls.c.handoff_reference.is_(None))
                    .values(handoff_reference=reference)
                )

    def emergency(self, call_sid: str, at: datetime) -> None:
        """The caller was told to hang up and dial 999."""
        sid, at = checked_sid(call_sid), utc(at)
        with self._engine.begin() as conn:
            ensure_call(conn, sid, at)
            first = conn.execute(
                update(calls).where(calls.c.call_sid == sid, calls.c.emergency.is_(False)).values(emergency=True)
            ).rowcount
            if first:
                record_event(conn, sid, "emergency", at)

    def call_status(self, call_sid: str, status: str, at: datetime, duration_s: int | None = None) -> None:
        """Twilio's call status callback. The first final status ends the
        call; repeats and late non-final statuses change nothing."""
        sid, at = checked_sid(call_sid), utc(at)
        status = checked_label("status", status)
        duration_s = None if duration_s is None else int(duration_s)
        final = status in FINAL_STATUSES
        # A call first heard of at its end started duration_s earlier.
        estimated_start = at - timedelta(seconds=duration_s or 0) if final else at
        with self._engine.begin() as conn:
            ensure_call(conn, sid, estimated_start)
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
                record_event(conn, sid, "status", at, outcome=status)

    # --- reading -----------------------------------------------------------

    def calls_between(self, start: datetime, end: datetime) -> list[CallRecord]:
        """Calls that started in [start, end), oldest first."""
        query = (
            select(calls)
            .where(calls.c.started_at >= utc(start), calls.c.started_at < utc(end))
            .order_by(calls.c.started_at, calls.c.call_sid)
        )
        return [as_call(row) for row in self._read(query)]

    def transfers_between(self, start: datetime, end: datetime) -> list[TransferRecord]:
        """Transfers on calls that started in [start, end), in order."""
        query = (
            select(transfers)
            .join(calls, calls.c.call_sid == transfers.c.call_sid)
            .where(calls.c.started_at >= utc(start), calls.c.started_at < utc(end))
            .order_by(transfers.c.started_at, transfers.c.id)
        )
        return [as_transfer(row) for row in self._read(query)]

    def events(self, call_sid: str) -> list[EventRecord]:
        """The call's timeline: turns and milestones, in order."""
        query = select(events).where(events.c.call_sid == call_sid).order_by(events.c.at, events.c.id)
        return [as_event(row) for row in self._read(query)]

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
        return as_transfer(row)

    @staticmethod
    def _set_transfer_answered(conn: Connection, transfer_id: int, at: datetime) -> None:
        conn.execute(
            update(transfers)
            .where(transfers.c.id == transfer_id, transfers.c.answered_at.is_(None))
            .values(answered_at=at)
        )
