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

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import case as sql_case, func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from council import clock
from council.catalogue import Catalogue, Service, default_catalogue
from council.centres import nearest_centre
from handoff import db
from council.redaction import redact
from council.references import new_reference, normalise
from council.phones import to_e164
from plumbing.masking import mask

log = logging.getLogger(__name__)

OUTCOMES: tuple[str, ...] = (
    "resolved_at_desk",
    "appointment_booked",
    "referred_to_service",
    "referred_to_other_council",
    "no_contact",
    "duplicate",
)
REASONS: tuple[str, ...] = ("person_requested", "not_understood", "urgent", "complaint", "cannot_complete")
CHANNELS: tuple[str, ...] = ("voice", "sms", "chat")
PRIORITIES: tuple[str, ...] = ("high", "normal")
STATUSES: tuple[str, ...] = ("open", "claimed", "resolved", "closed_no_contact")
WHO: tuple[str, ...] = ("caller", "bot")
FINISHED: tuple[str, ...] = ("resolved", "closed_no_contact")

MAX_TURNS = 500
MAX_TRANSCRIPT_CHARS = 200_000
MAX_NOTE_CHARS = 4000
MAX_LIST = 1000
_E164_LIKE = 7, 15  # digits in a number worth keeping; "anonymous" and the like are not
_CREATE_ATTEMPTS = 10
_CHUNK = 500  # ids per IN (...) list: far below any database's parameter limit


class CaseError(Exception):
    """Base of the store's errors."""


class CaseNotFound(CaseError):
    """No case has that reference (or it is not a reference at all)."""


class CaseConflict(CaseError):
    """The case is not in a state that allows the change (claimed by someone
    else, already finished); `.case` is the case as it now stands."""

    def __init__(self, message: str, case: "Case | None" = None) -> None:
        super().__init__(message)
        self.case = case


class InvalidCase(CaseError, ValueError):
    """A field is missing or wrong; the message starts with the field's name
    and `.field` holds it."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name


@dataclass(frozen=True)
class Note:
    at: datetime
    staff: str
    text: str


@dataclass(frozen=True)
class Case:
    reference: str
    conversation_id: str
    channel: str
    caller_masked: str | None
    service: str | None
    authority: str | None
    reason: str
    priority: str
    centre: str
    transcript: list[dict] | None
    status: str
    outcome: str | None
    created_at: datetime
    updated_at: datetime
    claimed_at: datetime | None
    claimed_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    notes: tuple[Note, ...]
    version: int
    transcript_purged_at: datetime | None = None

    def as_dict(self) -> dict:
        """JSON-ready: datetimes as ISO 8601 (UTC), notes as a list. Holds the
        masked number only, never the full one."""

        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        return {
            "reference": self.reference,
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "caller_masked": self.caller_masked,
            "service": self.service,
            "authority": self.authority,
            "reason": self.reason,
            "priority": self.priority,
            "centre": self.centre,
            "transcript": [dict(turn) for turn in self.transcript] if self.transcript is not None else None,
            "transcript_purged_at": iso(self.transcript_purged_at),
            "status": self.status,
            "outcome": self.outcome,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "claimed_at": iso(self.claimed_at),
            "claimed_by": self.claimed_by,
            "resolved_at": iso(self.resolved_at),
            "resolved_by": self.resolved_by,
            "notes": [{"at": iso(n.at), "staff": n.staff, "text": n.text} for n in self.notes],
            "version": self.version,
        }


@dataclass(frozen=True)
class NewCase:
    conversation_id: str
    reason: str
    channel: str
    transcript: list[dict]
    reference: str | None = None
    caller_number: str | None = None
    service: str | None = None
    priority: str | None = None
    postcode: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class _Prepared:
    """A NewCase checked and completed: what goes into the row."""

    row: dict[str, Any]
    number: str | None
    reference_given: bool
    turns: int = field(default=0)


# --- checking ----------------------------------------------------------------


def _text(name: str, value: Any, limit: int, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidCase(name, "must be non-empty text")
    if len(value) > limit:
        raise InvalidCase(name, f"must be at most {limit} characters")
    return value


def _choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise InvalidCase(name, f"must be one of {', '.join(allowed)}")
    return value


def _aware(name: str, moment: Any) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidCase(name, "must be a date-time with a time zone")
    return moment.astimezone(timezone.utc)


def _transcript(raw: Any) -> list[dict[str, str]]:
    """The turns, checked and redacted; only `who` and `text` are kept."""
    if not isinstance(raw, list):
        raise InvalidCase("transcript", "must be a list of {who, text} turns")
    if len(raw) > MAX_TURNS:
        raise InvalidCase("transcript", f"must have at most {MAX_TURNS} turns")
    turns, total = [], 0
    for index, turn in enumerate(raw):
        if not isinstance(turn, dict) or turn.get("who") not in WHO or not isinstance(turn.get("text"), str):
            raise InvalidCase("transcript", f"turn {index + 1} must be {{who: caller|bot, text: str}}")
        total += len(turn["text"])
        if total > MAX_TRANSCRIPT_CHARS:
            raise InvalidCase("transcript", f"must hold at most {MAX_TRANSCRIPT_CHARS} characters")
        turns.append({"who": turn["who"], "text": redact(turn["text"])})
    return turns


def _number(raw: Any) -> tuple[str | None, str | None]:
    """(full E.164 number or None, masked form or None). A withheld caller
    ("anonymous", a client name) has a masked form but no number to keep."""
    if raw is None or raw == "":
        return None, None
    if not isinstance(raw, str) or len(raw) > 64:
        raise InvalidCase("caller_number", "must be text")
    e164 = to_e164(raw)
    digits = len(e164) - 1
    if e164.startswith("+") and e164[1:].isdigit() and _E164_LIKE[0] <= digits <= _E164_LIKE[1]:
        return e164, mask(e164)
    return None, mask(raw)


def _staff(staff: Any) -> str:
    return _text("staff", staff, 64)  # type: ignore[return-value]


def _actor(actor: Any) -> str:
    return _text("actor", actor, 64)  # type: ignore[return-value]


# --- rows ----------------------------------------------------------------------


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _write_audit(
    conn: Connection,
    case_id: int,
    at: datetime,
    actor: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """One history row, in the caller's transaction. Callers never pass the
    transcript or the full number."""
    conn.execute(
        db.audit.insert().values(
            case_id=case_id, at=at, actor=actor, action=action, before=_dumps(before), after=_dumps(after)
        )
    )


def _summary(row: Any) -> dict[str, Any]:
    """What the audit keeps of a case's state: no transcript, no number."""
    keys = ("status", "outcome", "claimed_by", "resolved_by", "priority", "centre")
    return {key: row._mapping[key] for key in keys}


def _notes_for(conn: Connection, case_ids: Sequence[int]) -> dict[int, list[Note]]:
    found: dict[int, list[Note]] = {case_id: [] for case_id in case_ids}
    for start in range(0, len(case_ids), _CHUNK):
        chunk = list(case_ids[start:start + _CHUNK])
        rows = conn.execute(
            select(db.notes).where(db.notes.c.case_id.in_(chunk)).order_by(db.notes.c.at, db.notes.c.id)
        )
        for row in rows:
            found[row.case_id].append(Note(row.at, row.staff, row.text))
    return found


def _as_case(row: Any, notes: Iterable[Note]) -> Case:
    values = row._mapping
    return Case(
        reference=values["reference"],
        conversation_id=values["conversation_id"],
        channel=values["channel"],
        caller_masked=values["caller_masked"],
        service=values["service"],
        authority=values["authority"],
        reason=values["reason"],
        priority=values["priority"],
        centre=values["centre"],
        transcript=_loads(values["transcript"]),
        status=values["status"],
        outcome=values["outcome"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        claimed_at=values["claimed_at"],
        claimed_by=values["claimed_by"],
        resolved_at=values["resolved_at"],
        resolved_by=values["resolved_by"],
        notes=tuple(notes),
        version=values["version"],
        transcript_purged_at=values["transcript_purged_at"],
    )


def _cases(conn: Connection, rows: Sequence[Any]) -> list[Case]:
    notes = _notes_for(conn, [row.id for row in rows])
    return [_as_case(row, notes[row.id]) for row in rows]


def _row_by_reference(conn: Connection, reference: Any) -> Any:
    canonical = normalise(reference) if isinstance(reference, str) else None
    row = None
    if canonical is not None:
        row = conn.execute(select(db.cases).where(db.cases.c.reference == canonical)).first()
    if row is None:
        raise CaseNotFound(f"no case with reference {reference!r}")
    return row


def _row_by_id(conn: Connection, case_id: int) -> Any:
    return conn.execute(select(db.cases).where(db.cases.c.id == case_id)).one()


def _change(conn: Connection, case_id: int, at: datetime, *conditions: Any, **values: Any) -> bool:
    """Update one case if `conditions` still hold, bumping its version;
    True when it was updated. The conditions make each change atomic: of two
    racing changes only one finds the case as it expected."""
    statement = (
        update(db.cases)
        .where(db.cases.c.id == case_id, *conditions)
        .values(updated_at=at, version=db.cases.c.version + 1, **values)
    )
    return conn.execute(statement).rowcount == 1


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
            db.upgrade(database_url, engine=self._engine)
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

    def _service(self, service_id: Any) -> Service | None:
        if service_id is None:
            return None
        if not isinstance(service_id, str) or service_id not in self._catalogue.services:
            raise InvalidCase("service", f"{service_id!r} is not a service id of the catalogue")
        return self._catalogue.services[service_id]

    def _centre(self, service: Service | None, postcode: str | None) -> str:
        centre = nearest_centre(service, postcode, self._catalogue)
        if centre is None:
            # A service with no counter of its own (out of scope): the
            # district's general centre still sees the person.
            centre = nearest_centre(None, postcode, self._catalogue)
        if centre is None:
            raise InvalidCase("centre", "the catalogue has no centre to send the case to")
        return centre.id

    def _prepare(self, new: NewCase) -> _Prepared:
        if not isinstance(new, NewCase):
            raise InvalidCase("case", "must be a NewCase")
        conversation_id = _text("conversation_id", new.conversation_id, 128)
        reason = _choice("reason", new.reason, REASONS)
        channel = _choice("channel", new.channel, CHANNELS)
        priority = new.priority
        if priority is None:
            priority = "high" if reason == "urgent" else "normal"
        priority = _choice("priority", priority, PRIORITIES)
        reference = None
        if new.reference is not None:
            reference = normalise(new.reference) if isinstance(new.reference, str) else None
            if reference is None:
                raise InvalidCase("reference", "is not a valid case reference (like LAN-7K3-Q9X)")
        postcode = _text("postcode", new.postcode, 16, optional=True)
        service = self._service(new.service)
        number, masked = _number(new.caller_number)
        created = _aware("created_at", new.created_at) if new.created_at is not None else self.now()
        transcript = _transcript(new.transcript)
        row = {
            "reference": reference,
            "conversation_id": conversation_id,
            "reason": reason,
            "channel": channel,
            "caller_masked": masked,
            "service": service.id if service else None,
            "authority": service.authority if service else None,
            "priority": priority,
            "centre": self._centre(service, postcode),
            "transcript": json.dumps(transcript, ensure_ascii=False),
            "status": "open",
            "created_at": created,
            "updated_at": created,
            "version": 1,
        }
        return _Prepared(row, number, reference is not None, len(transcript))

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
        prepared = self._prepare(new)
        actor = _actor(actor)
        row = dict(prepared.row)
        requested = row["reference"]
        if requested is None:
            row["reference"] = new_reference()
        for _ in range(_CREATE_ATTEMPTS):
            try:
                with self._engine.begin() as conn:
                    existing = self._existing(conn, row["conversation_id"], row["reason"])
                    if existing is not None:
                        return _cases(conn, [existing])[0], False
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
                    _write_audit(conn, case_id, self.now(), actor, "create", None, after)
                    return _cases(conn, [_row_by_id(conn, case_id)])[0], True
            except IntegrityError:
                # Either a racing request made this case (found next time
                # round) or the reference is taken: draw another.
                with self._engine.begin() as conn:
                    existing = self._existing(conn, row["conversation_id"], row["reason"])
                    if existing is not None:
                        return _cases(conn, [existing])[0], False
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
            return _cases(conn, [_row_by_reference(conn, reference)])[0]

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
                _choice("status", status, STATUSES)
            conditions.append(db.cases.c.status.in_(list(statuses)))
        if priority is not None:
            conditions.append(db.cases.c.priority == _choice("priority", priority, PRIORITIES))
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
            return _cases(conn, conn.execute(statement).all())

    def cases_between(self, start: datetime, end: datetime) -> list[Case]:
        """Cases created in [start, end), oldest first (for reports)."""
        start, end = _aware("start", start), _aware("end", end)
        statement = (
            select(db.cases)
            .where(db.cases.c.created_at >= start, db.cases.c.created_at < end)
            .order_by(db.cases.c.created_at, db.cases.c.id)
        )
        with self._engine.begin() as conn:
            return _cases(conn, conn.execute(statement).all())

    def audit(self, reference: str) -> list[dict]:
        """The case's history, oldest first: {at (aware datetime), actor,
        action, before, after} with before/after as dicts or None."""
        with self._engine.begin() as conn:
            case_id = _row_by_reference(conn, reference).id
            rows = conn.execute(
                select(db.audit).where(db.audit.c.case_id == case_id).order_by(db.audit.c.id)
            ).all()
        return [
            {"at": r.at, "actor": r.actor, "action": r.action, "before": _loads(r.before), "after": _loads(r.after)}
            for r in rows
        ]

    def reveal_number(self, reference: str, actor: str) -> str | None:
        """The caller's full number (E.164), or None when there is none. Every
        call leaves an audit row, whether or not there was a number."""
        actor = _actor(actor)
        with self._engine.begin() as conn:
            case_id = _row_by_reference(conn, reference).id
            number = conn.execute(
                select(db.caller_numbers.c.number).where(db.caller_numbers.c.case_id == case_id)
            ).scalar()
            _write_audit(conn, case_id, self.now(), actor, "reveal_number", None, {"revealed": number is not None})
        return number

    # --- changing -----------------------------------------------------------------

    def _claim_in(self, conn: Connection, row: Any, staff: str, at: datetime) -> bool:
        """Claim an open case inside the caller's transaction; False when
        someone else got there first."""
        claimed = _change(
            conn, row.id, at, db.cases.c.status == "open", status="claimed", claimed_by=staff, claimed_at=at
        )
        if claimed:
            _write_audit(conn, row.id, at, f"staff:{staff}", "claim", _summary(row),
                         {"status": "claimed", "claimed_by": staff})
        return claimed

    def claim(self, reference: str, staff: str) -> Case:
        """Open -> claimed by `staff`. Of two simultaneous claims exactly one
        wins; the other gets CaseConflict. Claiming a case you already hold
        changes nothing."""
        staff = _staff(staff)
        with self._engine.begin() as conn:
            row = _row_by_reference(conn, reference)
            if row.status == "claimed" and row.claimed_by == staff:
                return _cases(conn, [row])[0]
            if row.status != "open" or not self._claim_in(conn, row, staff, self.now()):
                current = _cases(conn, [_row_by_id(conn, row.id)])[0]
                raise CaseConflict(_conflict(current, "claim"), current)
            return _cases(conn, [_row_by_id(conn, row.id)])[0]

    def record_outcome(self, reference: str, staff: str, outcome: str, note: str | None = None) -> Case:
        """Finish a case: `no_contact` closes it (closed_no_contact), every
        other outcome resolves it. A claimed case may be finished by anyone
        (a colleague may finish it); an open one is first claimed by `staff`
        in the same transaction. CaseConflict when already finished."""
        staff = _staff(staff)
        outcome = _choice("outcome", outcome, OUTCOMES)
        text = _note_text(note) if note is not None else None
        status = "closed_no_contact" if outcome == "no_contact" else "resolved"
        with self._engine.begin() as conn:
            at = self.now()
            row = _row_by_reference(conn, reference)
            if row.status == "open" and self._claim_in(conn, row, staff, at):
                row = _row_by_id(conn, row.id)
            elif row.status == "open":
                row = _row_by_id(conn, row.id)  # claimed a moment ago by someone else
            if row.status != "claimed" or not _change(
                conn, row.id, at, db.cases.c.status == "claimed",
                status=status, outcome=outcome, resolved_at=at, resolved_by=staff,
            ):
                current = _cases(conn, [_row_by_id(conn, row.id)])[0]
                raise CaseConflict(_conflict(current, "finish"), current)
            _write_audit(conn, row.id, at, f"staff:{staff}", "outcome", _summary(row),
                         {"status": status, "outcome": outcome, "resolved_by": staff})
            if text is not None:
                self._note_in(conn, row.id, staff, text, at)
            return _cases(conn, [_row_by_id(conn, row.id)])[0]

    def _note_in(self, conn: Connection, case_id: int, staff: str, text: str, at: datetime) -> None:
        note_id = conn.execute(
            db.notes.insert().values(case_id=case_id, at=at, staff=staff, text=text)
        ).inserted_primary_key[0]
        _change(conn, case_id, at)
        _write_audit(conn, case_id, at, f"staff:{staff}", "note", None, {"note_id": note_id, "chars": len(text)})

    def add_note(self, reference: str, staff: str, text: str) -> Case:
        """Add a note (1 to 4000 characters, redacted like transcripts) to a
        case in any state."""
        staff = _staff(staff)
        text = _note_text(text)
        with self._engine.begin() as conn:
            row = _row_by_reference(conn, reference)
            self._note_in(conn, row.id, staff, text, self.now())
            return _cases(conn, [_row_by_id(conn, row.id)])[0]

    def purge_transcripts(self, older_than: datetime, actor: str = "system") -> int:
        """Remove the transcripts, and the caller's full number, of cases
        created before `older_than`; each purge leaves an audit row. Cases,
        notes and the audit stay. Returns how many cases were purged."""
        older_than = _aware("older_than", older_than)
        actor = _actor(actor)
        purged = 0
        while True:
            with self._engine.begin() as conn:
                ids = conn.execute(
                    select(db.cases.c.id)
                    .where(db.cases.c.created_at < older_than, db.cases.c.transcript.is_not(None))
                    .order_by(db.cases.c.id)
                    .limit(_CHUNK)
                ).scalars().all()
                if not ids:
                    return purged
                at = self.now()
                for case_id in ids:
                    if not _change(conn, case_id, at, db.cases.c.transcript.is_not(None),
                                   transcript=None, transcript_purged_at=at):
                        continue
                    numbers = conn.execute(
                        db.caller_numbers.delete().where(db.caller_numbers.c.case_id == case_id)
                    ).rowcount
                    _write_audit(conn, case_id, at, actor, "purge_transcript", None,
                                 {"transcript": "removed", "caller_number_removed": numbers > 0})
                    purged += 1

    def count(self) -> int:
        """How many cases the store holds (for health checks and tests)."""
        with self._engine.begin() as conn:
            return conn.execute(select(func.count()).select_from(db.cases)).scalar_one()


def _note_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidCase("text", "a note must be non-empty text")
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidCase("text", f"a note must be at most {MAX_NOTE_CHARS} characters")
    return redact(text)


def _conflict(case: Case, change: str) -> str:
    if case.status in FINISHED:
        return f"case {case.reference} is already {case.status.replace('_', ' ')}"
    if case.status == "claimed":
        return f"case {case.reference} is already claimed by {case.claimed_by}"
    return f"case {case.reference} cannot {change} now (status {case.status})"
