"""The case store: every case the bot hands to a person, its notes, its
history, and the caller's number kept apart.

The API is synchronous and thread-safe (the aiohttp apps call it from a
thread executor); each method is one short transaction, and every change
writes its audit row in that same transaction, so the history can never
miss a change nor record one that did not happen.

What is stored, and what is not: transcripts are redacted (see
council.redaction) before they reach the database; the caller's full number
lives only in handoff_caller_numbers and is read only by `reveal_number`,
which is audited; cases and the audit carry the masked number.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from council import clock
from council.catalogue import Catalogue, default_catalogue
from council.references import new_reference
from handoff import db
from handoff.case_intake import conflict, note_text, prepare
from handoff.case_rows import CHUNK, cases_of, change, loads, row_by_id, row_by_reference, summary, write_audit
from handoff.cases import (
    ACCESS_ACTIONS,
    MAX_LIST,
    OUTCOMES,
    PRIORITIES,
    STATUSES,
    Case,
    CaseConflict,
    CaseError,
    InvalidCase,
    NewCase,
    checked_actor,
    checked_choice,
    checked_moment,
    checked_staff,
)
from plumbing import migrate

log = logging.getLogger(__name__)

_CREATE_ATTEMPTS = 10


class CaseStore:
    """Creates, finds and changes cases. One instance per process is enough;
    it is safe to share between threads."""

    def __init__(
        self,
        database_url: str,
        catalogue: Catalogue | None = None,
        *,
        clock_now: Callable[[], datetime] | None = None,
    ) -> None:
        self._engine = db.make_engine(database_url)
        try:
            migrate.upgrade(database_url, engine=self._engine, component="the case store")
        except Exception:
            self._engine.dispose()
            raise
        self._catalogue = catalogue if catalogue is not None else default_catalogue()
        self._now = clock_now or clock.now

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue

    def close(self) -> None:
        self._engine.dispose()

    def now(self) -> datetime:
        """The store's clock in UTC (council.clock.now: honours FAKE_NOW)."""
        return self._now().astimezone(timezone.utc)

    # --- creating ----------------------------------------------------------------

    def _existing(self, conn: Connection, conversation_id: str, reason: str) -> Any:
        return conn.execute(
            select(db.cases).where(db.cases.c.conversation_id == conversation_id, db.cases.c.reason == reason)
        ).first()

    def create_case(self, new: NewCase, actor: str = "api") -> tuple[Case, bool]:
        """Store a new case; (case, True). Idempotent on (conversation_id,
        reason): when that case exists, even made a moment ago by a racing
        request, returns (existing, False) and changes nothing.

        A client's reference is kept; in the rare event that another case
        already has it, the new case gets a fresh one (logged and audited)
        rather than being lost."""
        prepared = prepare(new, self._catalogue, self.now())
        actor = checked_actor(actor)
        row = dict(prepared.row)
        requested = row["reference"]
        if requested is None:
            row["reference"] = new_reference()
        for _ in range(_CREATE_ATTEMPTS):
            try:
                with self._engine.begin() as conn:
                    existing = self._existing(conn, row["conversation_id"], row["reason"])
                    if existing is not None:
                        return cases_of(conn, [existing])[0], False
                    case_id = conn.execute(db.cases.insert().values(**row)).inserted_primary_key[0]
                    if prepared.number is not None:
                        conn.execute(db.caller_numbers.insert().values(case_id=case_id, number=prepared.number))
                    after = {
                        "reference": row["reference"],
                        "channel": row["channel"],
                        "reason": row["reason"],
                        "priority": row["priority"],
                        "service": row["service"],
                        "authority": row["authority"],
                        "centre": row["centre"],
                        "status": "open",
                        "caller_masked": row["caller_masked"],
                        "turns": prepared.turns,
                    }
                    if requested is not None and requested != row["reference"]:
                        after["requested_reference"] = requested
                    write_audit(conn, case_id, self.now(), actor, "create", None, after)
                    return cases_of(conn, [row_by_id(conn, case_id)])[0], True
            except IntegrityError:
                # Either a racing request made this case (found next time
                # round) or the reference is taken: draw another.
                with self._engine.begin() as conn:
                    existing = self._existing(conn, row["conversation_id"], row["reason"])
                    if existing is not None:
                        return cases_of(conn, [existing])[0], False
                    taken = conn.execute(
                        select(db.cases.c.id).where(db.cases.c.reference == row["reference"])
                    ).first()
                if taken is None:
                    raise
                if prepared.reference_given:
                    log.warning("handoff: a client's case reference was already in use; a new one was given",
                                extra={"conversation_id": row["conversation_id"]})
                row["reference"] = new_reference()
        raise CaseError("could not find a free case reference")

    # --- reading ------------------------------------------------------------------

    def get(self, reference: str) -> Case:
        """The case with this reference, in any form references.normalise
        accepts ('lan 7k3 q9'); CaseNotFound otherwise."""
        with self._engine.begin() as conn:
            return cases_of(conn, [row_by_reference(conn, reference)])[0]

    def list_cases(
        self,
        *,
        centre: str | None = None,
        statuses: Sequence[str] | None = None,
        priority: str | None = None,
        service: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Case]:
        """Cases matching every filter given: high priority first, then the
        longest waiting first."""
        conditions = []
        if centre is not None:
            conditions.append(db.cases.c.centre == centre)
        if statuses is not None:
            if isinstance(statuses, str):
                statuses = [statuses]
            for status in statuses:
                checked_choice("status", status, STATUSES)
            conditions.append(db.cases.c.status.in_(list(statuses)))
        if priority is not None:
            conditions.append(db.cases.c.priority == checked_choice("priority", priority, PRIORITIES))
        if service is not None:
            conditions.append(db.cases.c.service == service)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIST:
            raise InvalidCase("limit", f"must be a whole number from 1 to {MAX_LIST}")
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise InvalidCase("offset", "must be a whole number, 0 or more")
        urgency = sql_case((db.cases.c.priority == "high", 0), else_=1)
        statement = (
            select(db.cases)
            .where(*conditions)
            .order_by(urgency, db.cases.c.created_at, db.cases.c.id)
            .limit(limit)
            .offset(offset)
        )
        with self._engine.begin() as conn:
            return cases_of(conn, conn.execute(statement).all())

    def cases_between(self, start: datetime, end: datetime, centre: str | None = None) -> list[Case]:
        """Cases created in [start, end), oldest first (for reports); only
        one centre's when `centre` is given."""
        start, end = checked_moment("start", start), checked_moment("end", end)
        statement = (
            select(db.cases)
            .where(db.cases.c.created_at >= start, db.cases.c.created_at < end)
            .order_by(db.cases.c.created_at, db.cases.c.id)
        )
        if centre is not None:
            statement = statement.where(db.cases.c.centre == centre)
        with self._engine.begin() as conn:
            return cases_of(conn, conn.execute(statement).all())

    def audit(self, reference: str) -> list[dict]:
        """The case's history, oldest first: {at (aware datetime), actor,
        action, before, after} with before/after as dicts or None."""
        with self._engine.begin() as conn:
            case_id = row_by_reference(conn, reference).id
            rows = conn.execute(
                select(db.audit).where(db.audit.c.case_id == case_id).order_by(db.audit.c.id)
            ).all()
        return [
            {"at": r.at, "actor": r.actor, "action": r.action, "before": loads(r.before), "after": loads(r.after)}
            for r in rows
        ]

    def record_access(self, actor: str, action: str, reference: str | None = None,
                      detail: dict[str, Any] | None = None) -> None:
        """An audit row for a read: a case's transcript shown or sent, a
        search, an export. `reference` ties it to a case when there is one
        (an unknown reference is recorded without). `detail` must hold no
        personal data (a period, a count, whether a search found a case)."""
        actor = checked_actor(actor)
        if action not in ACCESS_ACTIONS:
            raise InvalidCase("action", f"must be one of {', '.join(ACCESS_ACTIONS)}")
        with self._engine.begin() as conn:
            case_id = None
            if reference is not None:
                case_id = conn.execute(select(db.cases.c.id).where(db.cases.c.reference == reference)).scalar()
            write_audit(conn, case_id, self.now(), actor, action, None, detail)

    def accesses(self, since: datetime, actions: Sequence[str] = ACCESS_ACTIONS) -> list[dict]:
        """Read rows from `since`, oldest first: {at, actor, action, reference, detail}."""
        since = checked_moment("since", since)
        statement = (
            select(db.audit, db.cases.c.reference)
            .select_from(db.audit.outerjoin(db.cases, db.audit.c.case_id == db.cases.c.id))
            .where(db.audit.c.at >= since, db.audit.c.action.in_(list(actions)))
            .order_by(db.audit.c.id)
        )
        with self._engine.begin() as conn:
            rows = conn.execute(statement).all()
        return [{"at": r.at, "actor": r.actor, "action": r.action, "reference": r.reference,
                 "detail": loads(r.after)} for r in rows]

    def reveal_number(self, reference: str, actor: str) -> str | None:
        """The caller's full number (E.164), or None when there is none. Every
        call leaves an audit row, whether or not there was a number."""
        actor = checked_actor(actor)
        with self._engine.begin() as conn:
            case_id = row_by_reference(conn, reference).id
            number = conn.execute(
                select(db.caller_numbers.c.number).where(db.caller_numbers.c.case_id == case_id)
            ).scalar()
            write_audit(conn, case_id, self.now(), actor, "reveal_number", None, {"revealed": number is not None})
        return number

    # --- changing -----------------------------------------------------------------

    def _claim_in(self, conn: Connection, row: Any, staff: str, at: datetime) -> bool:
        """Claim an open case inside the caller's transaction; False when
        someone else got there first."""
        claimed = change(
            conn, row.id, at, db.cases.c.status == "open", status="claimed", claimed_by=staff, claimed_at=at
        )
        if claimed:
            write_audit(conn, row.id, at, f"staff:{staff}", "claim", summary(row),
                         {"status": "claimed", "claimed_by": staff})
        return claimed

    def claim(self, reference: str, staff: str) -> Case:
        """Open -> claimed by `staff`. Of two simultaneous claims exactly one
        wins; the other gets CaseConflict. Claiming a case you already hold
        changes nothing."""
        staff = checked_staff(staff)
        with self._engine.begin() as conn:
            row = row_by_reference(conn, reference)
            if row.status == "claimed" and row.claimed_by == staff:
                return cases_of(conn, [row])[0]
            if row.status != "open" or not self._claim_in(conn, row, staff, self.now()):
                current = cases_of(conn, [row_by_id(conn, row.id)])[0]
                raise CaseConflict(conflict(current, "claim"), current)
            return cases_of(conn, [row_by_id(conn, row.id)])[0]

    def record_outcome(self, reference: str, staff: str, outcome: str, note: str | None = None) -> Case:
        """Finish a case: `no_contact` closes it (closed_no_contact), every
        other outcome resolves it. A claimed case may be finished by anyone
        (a colleague may finish it); an open one is first claimed by `staff`
        in the same transaction. CaseConflict when already finished."""
        staff = checked_staff(staff)
        outcome = checked_choice("outcome", outcome, OUTCOMES)
        text = note_text(note) if note is not None else None
        status = "closed_no_contact" if outcome == "no_contact" else "resolved"
        with self._engine.begin() as conn:
            at = self.now()
            row = row_by_reference(conn, reference)
            if row.status == "open" and self._claim_in(conn, row, staff, at):
                row = row_by_id(conn, row.id)
            elif row.status == "open":
                row = row_by_id(conn, row.id)  # claimed a moment ago by someone else
            if row.status != "claimed" or not change(
                conn, row.id, at, db.cases.c.status == "claimed",
                status=status, outcome=outcome, resolved_at=at, resolved_by=staff,
            ):
                current = cases_of(conn, [row_by_id(conn, row.id)])[0]
                raise CaseConflict(conflict(current, "finish"), current)
            write_audit(conn, row.id, at, f"staff:{staff}", "outcome", summary(row),
                         {"status": status, "outcome": outcome, "resolved_by": staff})
            if text is not None:
                self._note_in(conn, row.id, staff, text, at)
            return cases_of(conn, [row_by_id(conn, row.id)])[0]

    def _note_in(self, conn: Connection, case_id: int, staff: str, text: str, at: datetime) -> None:
        note_id = conn.execute(
            db.notes.insert().values(case_id=case_id, at=at, staff=staff, text=text)
        ).inserted_primary_key[0]
        change(conn, case_id, at)
        write_audit(conn, case_id, at, f"staff:{staff}", "note", None, {"note_id": note_id, "chars": len(text)})

    def add_note(self, reference: str, staff: str, text: str) -> Case:
        """Add a note (1 to 4000 characters, redacted like transcripts) to a
        case in any state."""
        staff = checked_staff(staff)
        text = note_text(text)
        with self._engine.begin() as conn:
            row = row_by_reference(conn, reference)
            self._note_in(conn, row.id, staff, text, self.now())
            return cases_of(conn, [row_by_id(conn, row.id)])[0]

    def purge_transcripts(self, older_than: datetime, actor: str = "system") -> int:
        """Remove the transcripts, and the caller's full number, of cases
        created before `older_than`; each purge leaves an audit row. Cases,
        notes and the audit stay. Returns how many cases were purged."""
        older_than = checked_moment("older_than", older_than)
        actor = checked_actor(actor)
        purged = 0
        while True:
            with self._engine.begin() as conn:
                ids = conn.execute(
                    select(db.cases.c.id)
                    .where(db.cases.c.created_at < older_than, db.cases.c.transcript.is_not(None))
                    .order_by(db.cases.c.id)
                    .limit(CHUNK)
                ).scalars().all()
                if not ids:
                    return purged
                at = self.now()
                for case_id in ids:
                    if not change(conn, case_id, at, db.cases.c.transcript.is_not(None),
                                   transcript=None, transcript_purged_at=at):
                        continue
                    numbers = conn.execute(
                        db.caller_numbers.delete().where(db.caller_numbers.c.case_id == case_id)
                    ).rowcount
                    write_audit(conn, case_id, at, actor, "purge_transcript", None,
                                 {"transcript": "removed", "caller_number_removed": numbers > 0})
                    purged += 1

    def count(self) -> int:
        """How many cases the store holds (for health checks and tests)."""
        with self._engine.begin() as conn:
            return conn.execute(select(func.count()).select_from(db.cases)).scalar_one()
