"""The centre's queue, one case with its transcript and its forms (claim, note,
outcome, showing the number), and search by reference."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Mapping

from aiohttp import web

from council import clock, references
from handoff import accounts
from handoff.cases import OUTCOMES, Case, CaseConflict, CaseNotFound, InvalidCase
from handoff.keys import METRICS
from handoff.staff.common import (
    ACTION_LABELS,
    CHANNEL_LABELS,
    DONE_MESSAGES,
    FORM_KEY,
    NOTE_LIMIT,
    OUTCOME_LABELS,
    PRIORITY_LABELS,
    QUEUE_LIMIT,
    QUEUE_STATUSES,
    REASON_LABELS,
    STAFF_KEY,
    STATUS_LABELS,
    audit_access,
    case_store,
    catalogue_of,
    centre_name,
    error_page,
    in_thread,
    log,
    login_required,
    london,
    may_see,
    redirect,
    render,
    service_name,
    staff_name,
    waited,
)


async def to_queue(request: web.Request) -> web.StreamResponse:
    return redirect("/staff/")


@login_required
async def queue(request: web.Request) -> web.StreamResponse:
    staff: accounts.Staff = request[STAFF_KEY]
    catalogue = catalogue_of(request)
    chosen = request.query.get("centre", "") if staff.is_manager else staff.centre
    if chosen and chosen not in catalogue.centres:
        chosen = ""
    cases = await in_thread(case_store(request).list_cases, centre=chosen or None, statuses=QUEUE_STATUSES,
                       limit=QUEUE_LIMIT)
    names = await in_thread(accounts.display_names, case_store(request).engine, [c.claimed_by for c in cases])
    now = clock.now()
    rows = [{
        "reference": case.reference,
        "waiting": waited(case.created_at, now),
        "created": london(case.created_at),
        "high": case.priority == "high",
        "priority": PRIORITY_LABELS.get(case.priority, case.priority),
        "service": service_name(request, case.service),
        "reason": REASON_LABELS.get(case.reason, case.reason),
        "channel": CHANNEL_LABELS.get(case.channel, case.channel),
        "status": STATUS_LABELS.get(case.status, case.status),
        "claimed_by": staff_name(names, case.claimed_by),
        "centre": centre_name(request, case.centre),
    } for case in cases]
    return render(request, "queue.html", {
        "rows": rows, "full": len(cases) >= QUEUE_LIMIT, "chosen": chosen,
        "centres": [(cid, c.name) for cid, c in catalogue.centres.items()],
        "centre_name": centre_name(request, chosen) if chosen else "all centres",
    })


# ---------------------------------------------------------------- one case

async def _load(request: web.Request) -> Case | web.Response:
    """The case named in the path, or the error page to answer with."""
    raw = request.match_info["reference"]
    reference = references.normalise(raw)
    if reference is None:
        return error_page(request, 404, "Case not found", "That is not a valid case reference.")
    try:
        case = await in_thread(case_store(request).get, reference)
    except CaseNotFound:
        return error_page(request, 404, "Case not found", f"No case has the reference {reference}.")
    if not may_see(request[STAFF_KEY], case):
        log.warning("case of another centre refused", extra={"staff": request[STAFF_KEY].username, "status": 403})
        return error_page(request, 403, "Not your centre",
                      f"Case {case.reference} belongs to {centre_name(request, case.centre)}. "
                      "Only staff of that centre, or a manager, can open it.")
    return case


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _audit_rows(request: web.Request, entries: list[dict], names: Mapping[str, str]) -> list[dict]:
    rows = []
    for entry in entries:
        actor = str(entry.get("actor") or "")
        who = staff_name(names, actor[len("staff:"):]) if actor.startswith("staff:") else {
            "api": "The bot", "system": "The system"}.get(actor, actor)
        action = str(entry.get("action") or "")
        detail = ""
        after = _json(entry.get("after"))
        # Only the outcome says more than the action's own name.
        if isinstance(after, Mapping) and action == "outcome" and after.get("outcome"):
            detail = OUTCOME_LABELS.get(after["outcome"], str(after["outcome"]))
        at = entry.get("at")
        if isinstance(at, str):
            try:
                at = datetime.fromisoformat(at)
            except ValueError:
                at = None
        rows.append({"at": london(at), "who": who, "action": ACTION_LABELS.get(action, action.replace("_", " ")),
                     "detail": detail})
    return rows


async def _case_page(request: web.Request, case: Case, status: int = 200, error: str | None = None,
                     revealed: str | None = None) -> web.Response:
    store = case_store(request)
    entries = await in_thread(store.audit, case.reference)
    usernames = [case.claimed_by, case.resolved_by, *(note.staff for note in case.notes),
                 *(str(e.get("actor", ""))[len("staff:"):] for e in entries)]
    names = await in_thread(accounts.display_names, store.engine, usernames)
    staff: accounts.Staff = request[STAFF_KEY]
    closed = case.status not in QUEUE_STATUSES
    context = {
        "case": case,
        "title": f"Case {case.reference}",
        "error": error,
        "done": DONE_MESSAGES.get(request.query.get("done", "")) if status == 200 and not error else None,
        "revealed": revealed,
        "revealed_at": london(clock.now(), "time"),
        "high": case.priority == "high",
        "priority": PRIORITY_LABELS.get(case.priority, case.priority),
        "status": STATUS_LABELS.get(case.status, case.status),
        "service": service_name(request, case.service),
        "authority": catalogue_of(request).authorities.get(case.authority or "", case.authority or ""),
        "reason": REASON_LABELS.get(case.reason, case.reason),
        "channel": CHANNEL_LABELS.get(case.channel, case.channel),
        "centre": centre_name(request, case.centre),
        "created": london(case.created_at),
        "waiting": waited(case.created_at, case.resolved_at or clock.now()),
        "claimed_by": staff_name(names, case.claimed_by),
        "claimed_at": london(case.claimed_at),
        "resolved_by": staff_name(names, case.resolved_by),
        "resolved_at": london(case.resolved_at),
        "outcome": OUTCOME_LABELS.get(case.outcome or "", case.outcome),
        "mine": case.claimed_by == staff.username,
        "can_claim": case.status == "open",
        "can_close": not closed,
        "outcomes": [(value, OUTCOME_LABELS.get(value, value)) for value in OUTCOMES],
        "turns": [{"caller": turn.get("who") == "caller", "text": str(turn.get("text", ""))}
                  for turn in case.transcript or []],
        "purged": case.transcript is None,
        "notes": [{"at": london(note.at), "who": staff_name(names, note.staff), "text": note.text}
                  for note in case.notes],
        "audit": _audit_rows(request, entries, names),
        "note_limit": NOTE_LIMIT,
    }
    return render(request, "case.html", context, status=status)


@login_required
async def case_view(request: web.Request) -> web.StreamResponse:
    found = await _load(request)
    if isinstance(found, web.Response):
        return found
    await audit_access(request, "view_case", found.reference)
    return await _case_page(request, found)


def _after(case: Case, done: str) -> web.Response:
    return redirect(f"/staff/cases/{case.reference}?done={done}")


@login_required
async def claim(request: web.Request) -> web.StreamResponse:
    found = await _load(request)
    if isinstance(found, web.Response):
        return found
    staff: accounts.Staff = request[STAFF_KEY]
    try:
        case = await in_thread(case_store(request).claim, found.reference, staff.username)
    except CaseConflict as conflict:
        current = conflict.case if isinstance(conflict.case, Case) \
            else await in_thread(case_store(request).get, found.reference)
        return await _case_page(request, current, 409, error=await _conflict_message(request, current))
    request.app[METRICS].claims.labels("staff").inc()
    return _after(case, "claimed")


async def _conflict_message(request: web.Request, case: Case) -> str:
    names = await in_thread(accounts.display_names, case_store(request).engine, [case.claimed_by, case.resolved_by])
    if case.status == "claimed":
        return f"Already claimed by {staff_name(names, case.claimed_by)}."
    closed_by = staff_name(names, case.resolved_by) or "a colleague"
    return f"This case is already closed ({STATUS_LABELS.get(case.status, case.status)}) by {closed_by}."


@login_required
async def outcome(request: web.Request) -> web.StreamResponse:
    found = await _load(request)
    if isinstance(found, web.Response):
        return found
    form = request[FORM_KEY]
    chosen = str(form.get("outcome", ""))
    note = str(form.get("note", "")).strip()
    if chosen not in OUTCOMES:
        return await _case_page(request, found, 400, error="Choose an outcome before saving.")
    if len(note) > NOTE_LIMIT:
        return await _case_page(request, found, 422, error=f"The note is too long (at most {NOTE_LIMIT} characters).")
    staff: accounts.Staff = request[STAFF_KEY]
    try:
        case = await in_thread(case_store(request).record_outcome, found.reference, staff.username, chosen,
                               note or None)
    except CaseConflict as conflict:
        current = conflict.case if isinstance(conflict.case, Case) \
            else await in_thread(case_store(request).get, found.reference)
        return await _case_page(request, current, 409, error=await _conflict_message(request, current))
    except InvalidCase as invalid:
        return await _case_page(request, found, 422, error=f"Not saved: {invalid}")
    request.app[METRICS].outcomes.labels(chosen, "staff").inc()
    return _after(case, "outcome")


@login_required
async def add_note(request: web.Request) -> web.StreamResponse:
    found = await _load(request)
    if isinstance(found, web.Response):
        return found
    text = str(request[FORM_KEY].get("text", "")).strip()
    if not text:
        return await _case_page(request, found, 400, error="Write the note before saving it.")
    if len(text) > NOTE_LIMIT:
        return await _case_page(request, found, 422, error=f"The note is too long (at most {NOTE_LIMIT} characters).")
    staff: accounts.Staff = request[STAFF_KEY]
    try:
        case = await in_thread(case_store(request).add_note, found.reference, staff.username, text)
    except InvalidCase as invalid:
        return await _case_page(request, found, 422, error=f"Not saved: {invalid}")
    return _after(case, "note")


@login_required
async def reveal(request: web.Request) -> web.StreamResponse:
    """Show the caller's full number once, to call them back; the store
    writes who asked into the audit trail."""
    found = await _load(request)
    if isinstance(found, web.Response):
        return found
    staff: accounts.Staff = request[STAFF_KEY]
    number = await in_thread(case_store(request).reveal_number, found.reference, f"staff:{staff.username}")
    case = await in_thread(case_store(request).get, found.reference)
    return await _case_page(request, case, revealed=number or "No number was kept for this case.")


# ---------------------------------------------------------------- search

@login_required
async def search(request: web.Request) -> web.StreamResponse:
    typed = request.query.get("reference", "").strip()
    if not typed:
        return render(request, "search.html", {"typed": "", "error": None})
    reference = references.normalise(typed)
    await audit_access(request, "search", reference, {"valid": reference is not None})
    if reference is None:
        return render(request, "search.html", {"typed": typed, "error": (
            f"“{typed}” is not a valid reference. References look like LAN-7K3-Q9X; check each character.")},
            status=404)
    try:
        case = await in_thread(case_store(request).get, reference)
    except CaseNotFound:
        error = f"No case found with the reference {reference}."
        return render(request, "search.html", {"typed": typed, "error": error},
                     status=404)
    return redirect(f"/staff/cases/{case.reference}")
