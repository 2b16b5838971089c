"""The case tables' rows: reading cases and their notes, writing the audit in
the caller's transaction, and the conditional update every change is made by."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from council.references import normalise
from handoff import db
from handoff.cases import Case, CaseNotFound, Note

CHUNK = 500  # ids per IN (...) list: far below any database's parameter limit


def dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def write_audit(
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
            case_id=case_id, at=at, actor=actor, action=action, before=dumps(before), after=dumps(after)
        )
    )


def summary(row: Any) -> dict[str, Any]:
    """What the audit keeps of a case's state: no transcript, no number."""
    keys = ("status", "outcome", "claimed_by", "resolved_by", "priority", "centre")
    return {key: row._mapping[key] for key in keys}


def notes_for(conn: Connection, case_ids: Sequence[int]) -> dict[int, list[Note]]:
    found: dict[int, list[Note]] = {case_id: [] for case_id in case_ids}
    for start in range(0, len(case_ids), CHUNK):
        chunk = list(case_ids[start:start + CHUNK])
        rows = conn.execute(
            select(db.notes).where(db.notes.c.case_id.in_(chunk)).order_by(db.notes.c.at, db.notes.c.id)
        )
        for row in rows:
            found[row.case_id].append(Note(row.at, row.staff, row.text))
    return found


def as_case(row: Any, notes: Iterable[Note]) -> Case:
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
        transcript=loads(values["transcript"]),
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


def cases_of(conn: Connection, rows: Sequence[Any]) -> list[Case]:
    notes = notes_for(conn, [row.id for row in rows])
    return [as_case(row, notes[row.id]) for row in rows]


def row_by_reference(conn: Connection, reference: Any) -> Any:
    canonical = normalise(reference) if isinstance(reference, str) else None
    row = None
    if canonical is not None:
        row = conn.execute(select(db.cases).where(db.cases.c.reference == canonical)).first()
    if row is None:
        raise CaseNotFound(f"no case with reference {reference!r}")
    return row


def row_by_id(conn: Connection, case_id: int) -> Any:
    return conn.execute(select(db.cases).where(db.cases.c.id == case_id)).one()


def change(conn: Connection, case_id: int, at: datetime, *conditions: Any, **values: Any) -> bool:
    """Update one case if `conditions` still hold, bumping its version;
    True when it was updated. The conditions make each change atomic: of two
    racing changes only one finds the case as it expected."""
    statement = (
        update(db.cases)
        .where(db.cases.c.id == case_id, *conditions)
        .values(updated_at=at, version=db.cases.c.version + 1, **values)
    )
    return conn.execute(statement).rowcount == 1


