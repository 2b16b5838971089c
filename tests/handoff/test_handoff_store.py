"""The case store, its tables and migrations: against a SQLite file always
and, when a PostgreSQL server answers on 127.0.0.1:5432, against PostgreSQL
too (a schema of its own per test, dropped after)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, func, inspect, select, text

from council.catalogue import default_catalogue
from council.references import new_reference, normalise
from handoff import db
from handoff import store as store_module
from handoff.cases import OUTCOMES, Case, CaseConflict, CaseNotFound, InvalidCase, NewCase, Note
from handoff.settings import DEVELOPMENT_TOKEN, HandoffSettings, SettingsError
from handoff.store import CaseStore
from plumbing import migrate

T0 = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)  # a Tuesday morning
CALLER = "+447700900123"
HANDOFF_TABLES = {
    "handoff_cases", "handoff_notes", "handoff_caller_numbers", "handoff_audit", "handoff_staff", "handoff_sessions",
}
TRANSCRIPT = [
    {"who": "caller", "text": "my bin was not collected"},
    {"who": "bot", "text": "Sorry about that. Which street?"},
    {"who": "caller", "text": "I want to speak to a person"},
]


# --- databases -------------------------------------------------------------


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url: str, clock: Clock) -> Iterator[CaseStore]:
    case_store = CaseStore(database_url, clock_now=clock)
    yield case_store
    case_store.close()


def new_case(conversation_id: str = "conv-1", reason: str = "person_requested", **fields: Any) -> NewCase:
    values: dict[str, Any] = {"channel": "chat", "transcript": TRANSCRIPT, "service": "bins_recycling"}
    values.update(fields)
    return NewCase(conversation_id=conversation_id, reason=reason, **values)


def dump(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in the database, as stored."""
    reflected = MetaData()
    reflected.reflect(bind=engine)
    with engine.connect() as conn:
        return {name: [tuple(row) for row in conn.execute(select(table))] for name, table in reflected.tables.items()}


def actions(case_store: CaseStore, reference: str) -> list[str]:
    return [entry["action"] for entry in case_store.audit(reference)]


def run_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads released together; each result or
    the exception it raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


# --- migrations ---------------------------------------------------------------


def both_models() -> Any:
    """The handoff service's and the call log's tables in one MetaData."""
    from sqlalchemy import MetaData

    from telephony_bridge.calllog_tables import metadata as calllog

    combined = MetaData()
    for table in (*db.metadata.tables.values(), *calllog.tables.values()):
        table.to_metadata(combined)
    return combined


def _head() -> str:
    return migrate.head()


def _versions(engine: Any) -> list[str]:
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]


def test_migration_creates_every_table_and_matches_the_models(database_url: str) -> None:
    migrate.upgrade(database_url)
    engine = db.make_engine(database_url)
    try:
        assert HANDOFF_TABLES <= set(inspect(engine).get_table_names())
        assert _versions(engine) == [_head()]
        with engine.connect() as conn:
            # The models used by queries and the tables the migrations made
            # agree, for the handoff service and the call log alike.
            assert compare_metadata(MigrationContext.configure(conn), both_models()) == []
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    migrate.upgrade(database_url)
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(db.staff.insert().values(username="amy", display_name="Amy", centre="cable_street",
                                                  password_hash="x", created_at=T0))
        before = dump(engine)
        migrate.upgrade(database_url)
        CaseStore(database_url).close()
        assert dump(engine) == before
        assert _versions(engine) == [_head()]
    finally:
        engine.dispose()


def test_two_stores_opening_a_new_database_together(database_url: str) -> None:
    results = run_threads(2, lambda _: CaseStore(database_url))
    assert all(isinstance(result, CaseStore) for result in results), results
    try:
        case, created = results[0].create_case(new_case())
        assert created and results[1].get(case.reference) == case
        assert _versions(results[1].engine) == [_head()]
    finally:
        for result in results:
            result.close()


def test_staff_and_session_tables_take_rows_with_defaults(store: CaseStore) -> None:
    with store.engine.begin() as conn:
        staff_id = conn.execute(db.staff.insert().values(
            username="amy", display_name="Amy", centre="cable_street", password_hash="scrypt$...",
            created_at=T0)).inserted_primary_key[0]
        conn.execute(db.sessions.insert().values(token_hash="a" * 64, staff_id=staff_id, csrf_token="c" * 43,
                                                 created_at=T0, expires_at=T0 + timedelta(hours=8)))
        row = conn.execute(select(db.staff)).one()
        session = conn.execute(select(db.sessions)).one()
    assert (row.role, row.failed_attempts, row.active, row.locked_until) == ("staff", 0, True, None)
    assert row.created_at == T0 and session.expires_at.tzinfo is not None


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="in-memory"):
        CaseStore("sqlite://")


# --- creating -------------------------------------------------------------------


def test_create_stores_a_complete_open_case(store: CaseStore, clock: Clock) -> None:
    case, created = store.create_case(new_case(channel="voice", caller_number=CALLER, postcode="LA4 5AF"))
    assert created
    assert normalise(case.reference) == case.reference
    assert (case.conversation_id, case.reason, case.channel) == ("conv-1", "person_requested", "voice")
    assert (case.service, case.authority, case.centre) == ("bins_recycling", "city", "morecambe_town_hall")
    assert (case.status, case.priority, case.outcome, case.version) == ("open", "normal", None, 1)
    assert case.caller_masked == "+44*******123"
    assert case.transcript == TRANSCRIPT
    assert case.created_at == case.updated_at == T0 and case.created_at.tzinfo is not None
    assert (case.claimed_at, case.claimed_by, case.resolved_at, case.resolved_by, case.notes) == (
        None, None, None, None, ())
    assert store.get(case.reference) == case
    (entry,) = store.audit(case.reference)
    assert (entry["action"], entry["actor"], entry["before"], entry["at"]) == ("create", "api", None, T0)
    assert entry["after"]["reference"] == case.reference and entry["after"]["turns"] == 3


@pytest.mark.parametrize(
    "fields, centre, authority",
    [
        ({"service": "council_housing", "postcode": "LA4 5AF"}, "cable_street", "city"),
        ({"service": "bins_recycling", "postcode": "LA3 1AA"}, "morecambe_town_hall", "city"),
        ({"service": "bins_recycling", "postcode": "LA1 1PJ"}, "lancaster_town_hall", "city"),
        ({"service": "bins_recycling"}, "lancaster_town_hall", "city"),
        ({"service": None, "postcode": "LA4 5AF"}, "morecambe_town_hall", None),
        ({"service": "out_of_scope", "postcode": "LA3 1AA"}, "morecambe_town_hall", "external"),
    ],
)
def test_centre_and_authority_come_from_the_catalogue(
    store: CaseStore, fields: dict[str, Any], centre: str, authority: str | None
) -> None:
    case, _ = store.create_case(new_case(**fields))
    assert (case.centre, case.authority) == (centre, authority)
    if case.service:
        assert case.authority == default_catalogue().services[case.service].authority


def test_priority_defaults_by_reason_and_a_client_may_set_it(store: CaseStore) -> None:
    assert store.create_case(new_case("a", "urgent"))[0].priority == "high"
    assert store.create_case(new_case("b", "complaint"))[0].priority == "normal"
    assert store.create_case(new_case("c", "complaint", priority="high"))[0].priority == "high"
    assert store.create_case(new_case("d", "urgent", priority="normal"))[0].priority == "normal"


def test_client_reference_is_kept_and_found_in_any_form(store: CaseStore) -> None:
    reference = new_reference()
    spoken_form = reference.lower().replace("-", " ")
    case, _ = store.create_case(new_case(reference=spoken_form))
    assert case.reference == reference
    for form in (reference, spoken_form, reference.replace("-", ""), f"  {reference.lower()}  "):
        assert store.get(form).reference == reference


def _wrong_check(reference: str) -> str:
    """The reference with its check character changed: mis-heard in one place."""
    from council.references import ALPHABET

    return reference[:-1] + next(char for char in ALPHABET if char != reference[-1])


# A fixed valid reference (not a new random one: parallel workers must collect the same tests).
VALID = "LAN-344-Q9L"


@pytest.mark.parametrize("reference", ["nonsense", "", "LAN-AAA-AA", _wrong_check(VALID)])
def test_get_unknown_or_malformed_reference(store: CaseStore, reference: str) -> None:
    store.create_case(new_case())
    with pytest.raises(CaseNotFound):
        store.get(reference)
    with pytest.raises(CaseNotFound):
        store.get(new_reference())


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"service": "no_such_service"}, "service"),
        ({"reason": "bored"}, "reason"),
        ({"channel": "fax"}, "channel"),
        ({"priority": "urgent"}, "priority"),
        ({"reference": "LAN-7K3-Q9"}, "reference"),  # too short
        ({"reference": new_reference()[:-1] + "!"}, "reference"),
        ({"reference": "hello"}, "reference"),
        ({"conversation_id": ""}, "conversation_id"),
        ({"conversation_id": "   "}, "conversation_id"),
        ({"conversation_id": "x" * 129}, "conversation_id"),
        ({"transcript": "hello"}, "transcript"),
        ({"transcript": [{"who": "caller"}]}, "transcript"),
        ({"transcript": [{"who": "agent", "text": "hi"}]}, "transcript"),
        ({"transcript": ["hi"]}, "transcript"),
        ({"transcript": [{"who": "caller", "text": "x"}] * 501}, "transcript"),
        ({"transcript": [{"who": "caller", "text": "x" * 100_000}] * 2 + [{"who": "bot", "text": "y"}]},
         "transcript"),
        ({"created_at": datetime(2026, 11, 10, 9, 0)}, "created_at"),
        ({"caller_number": 447700900123}, "caller_number"),
    ],
)
def test_invalid_cases_are_refused_naming_the_field(store: CaseStore, fields: dict[str, Any], field: str) -> None:
    values = {"conversation_id": "conv-1", "reason": "person_requested", **fields}
    with pytest.raises(InvalidCase) as raised:
        store.create_case(new_case(**values))
    assert str(raised.value).startswith(f"{field}:") and raised.value.field == field
    assert isinstance(raised.value, ValueError)
    assert store.count() == 0


def test_limits_are_inclusive(store: CaseStore) -> None:
    turns = [{"who": "caller", "text": "x"}] * 500
    assert len(store.create_case(new_case("a", transcript=turns))[0].transcript) == 500
    big = [{"who": "caller", "text": "y" * 100_000}] * 2
    assert store.create_case(new_case("b", transcript=big))[0].transcript == big
    assert store.create_case(new_case("c", transcript=[]))[0].transcript == []


def test_transcript_is_redacted_and_markup_stored_as_it_came(store: CaseStore) -> None:
    turns = [
        {"who": "caller", "text": "my card is 4111 1111 1111 1111 and sort code 12-34-56"},
        {"who": "bot", "text": "<script>alert(1)</script>", "extra": "dropped"},
        {"who": "caller", "text": "call me on 01632 960101 about LAN-7K3-Q9"},
    ]
    case, _ = store.create_case(new_case(transcript=turns))
    assert case.transcript == [
        {"who": "caller", "text": "my card is [card number removed] and sort code [sort code removed]"},
        {"who": "bot", "text": "<script>alert(1)</script>"},
        {"who": "caller", "text": "call me on 01632 960101 about LAN-7K3-Q9"},
    ]
    stored = "".join(str(value) for rows in dump(store.engine).values() for row in rows for value in row)
    assert "4111" not in stored and "12-34-56" not in stored
    assert "<script>alert(1)</script>" in stored  # escaping is the pages' job


def test_client_created_at_is_kept_in_utc(store: CaseStore) -> None:
    from council.clock import LONDON

    summer = datetime(2026, 7, 1, 10, 0, tzinfo=LONDON)
    case, _ = store.create_case(new_case(created_at=summer))
    assert case.created_at == summer and case.created_at.utcoffset() == timedelta(0)
    assert store.get(case.reference).created_at.hour == 9


# --- idempotency -------------------------------------------------------------------


def test_second_create_returns_the_first_and_changes_nothing(store: CaseStore, clock: Clock) -> None:
    first, created = store.create_case(new_case(caller_number=CALLER))
    clock.advance(minutes=5)
    again, created_again = store.create_case(
        new_case(transcript=[{"who": "caller", "text": "different"}], reference=new_reference(), channel="sms"))
    assert created and not created_again
    assert again == first
    assert store.count() == 1 and actions(store, first.reference) == ["create"]
    # The same conversation may hand off again for another reason.
    other, created_other = store.create_case(new_case(reason="complaint"))
    assert created_other and other.reference != first.reference


def test_racing_creates_make_one_case(database_url: str) -> None:
    stores = [CaseStore(database_url) for _ in range(2)]
    try:
        results = run_threads(10, lambda i: stores[i % 2].create_case(new_case("race", "urgent")))
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sum(created for _, created in results) == 1
        assert len({case.reference for case, _ in results}) == 1
        assert stores[0].count() == 1
        assert actions(stores[0], results[0][0].reference) == ["create"]
    finally:
        for case_store in stores:
            case_store.close()


def test_racing_creates_with_client_references_keep_the_winner(store: CaseStore) -> None:
    references = [new_reference() for _ in range(10)]
    results = run_threads(10, lambda i: store.create_case(new_case("race", reference=references[i])))
    assert not [r for r in results if isinstance(r, Exception)], results
    winners = [case for case, created in results if created]
    assert len(winners) == 1 and winners[0].reference in references
    assert {case.reference for case, _ in results} == {winners[0].reference}


def test_generated_reference_clash_draws_again(store: CaseStore, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = store.create_case(new_case("first"))[0].reference
    fresh = new_reference()
    draws = iter([taken, taken, fresh])
    monkeypatch.setattr(store_module, "new_reference", lambda: next(draws))
    case, created = store.create_case(new_case("second"))
    assert created and case.reference == fresh and store.count() == 2


def test_client_reference_clash_still_stores_the_case(store: CaseStore) -> None:
    taken = store.create_case(new_case("first"))[0].reference
    case, created = store.create_case(new_case("second", reference=taken))
    assert created and case.reference != taken and case.conversation_id == "second"
    assert store.get(taken).conversation_id == "first"
    assert store.audit(case.reference)[0]["after"]["requested_reference"] == taken


# --- claiming and finishing ----------------------------------------------------------


def test_claim(store: CaseStore, clock: Clock) -> None:
    case, _ = store.create_case(new_case())
    claimed_at = clock.advance(minutes=3)
    claimed = store.claim(case.reference.lower(), "amy")
    assert (claimed.status, claimed.claimed_by, claimed.claimed_at, claimed.updated_at) == (
        "claimed", "amy", claimed_at, claimed_at)
    assert claimed.version == 2
    clock.advance(minutes=1)
    assert store.claim(case.reference, "amy") == claimed  # holding it already: nothing changes
    with pytest.raises(CaseConflict) as raised:
        store.claim(case.reference, "bob")
    assert raised.value.case == claimed and "amy" in str(raised.value)
    entries = store.audit(case.reference)
    assert [e["action"] for e in entries] == ["create", "claim"]
    assert entries[1]["actor"] == "staff:amy" and entries[1]["before"]["status"] == "open"
    assert entries[1]["after"] == {"status": "claimed", "claimed_by": "amy"}
    with pytest.raises(CaseNotFound):
        store.claim(new_reference(), "amy")
    with pytest.raises(InvalidCase, match="^staff"):
        store.claim(case.reference, "")


def test_twenty_simultaneous_claims_one_wins(database_url: str) -> None:
    stores = [CaseStore(database_url) for _ in range(2)]
    try:
        reference = stores[0].create_case(new_case())[0].reference
        results = run_threads(20, lambda i: stores[i % 2].claim(reference, f"staff{i}"))
        wins = [r for r in results if isinstance(r, Case)]
        conflicts = [r for r in results if isinstance(r, CaseConflict)]
        assert len(wins) == 1 and len(conflicts) == 19, results
        winner = wins[0].claimed_by
        assert all(conflict.case.claimed_by == winner for conflict in conflicts)
        assert actions(stores[0], reference).count("claim") == 1
        assert stores[1].get(reference).version == 2
    finally:
        for case_store in stores:
            case_store.close()


def test_outcome_by_a_colleague(store: CaseStore, clock: Clock) -> None:
    case, _ = store.create_case(new_case())
    store.claim(case.reference, "amy")
    done_at = clock.advance(minutes=10)
    done = store.record_outcome(case.reference, "bob", "appointment_booked", "Booked Thursday 10am")
    assert (done.status, done.outcome, done.resolved_by, done.resolved_at) == (
        "resolved", "appointment_booked", "bob", done_at)
    assert done.claimed_by == "amy"
    assert done.notes == (Note(done_at, "bob", "Booked Thursday 10am"),)
    assert actions(store, case.reference) == ["create", "claim", "outcome", "note"]
    with pytest.raises(CaseConflict, match="already resolved") as raised:
        store.record_outcome(case.reference, "amy", "duplicate")
    assert raised.value.case == done
    with pytest.raises(CaseConflict):
        store.claim(case.reference, "carl")


def test_outcome_on_an_open_case_claims_it_first(store: CaseStore) -> None:
    case, _ = store.create_case(new_case())
    done = store.record_outcome(case.reference, "amy", "no_contact")
    assert (done.status, done.outcome, done.claimed_by, done.resolved_by) == (
        "closed_no_contact", "no_contact", "amy", "amy")
    assert done.claimed_at == done.resolved_at
    assert actions(store, case.reference) == ["create", "claim", "outcome"]
    assert done.version == 3


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_outcome_sets_its_status(store: CaseStore, outcome: str) -> None:
    case, _ = store.create_case(new_case())
    done = store.record_outcome(case.reference, "amy", outcome)
    assert done.status == ("closed_no_contact" if outcome == "no_contact" else "resolved")


def test_unknown_outcome_changes_nothing(store: CaseStore) -> None:
    case, _ = store.create_case(new_case())
    with pytest.raises(InvalidCase, match="^outcome"):
        store.record_outcome(case.reference, "amy", "sorted")
    with pytest.raises(InvalidCase, match="^text"):
        store.record_outcome(case.reference, "amy", "duplicate", note="")
    assert store.get(case.reference) == case


def test_simultaneous_outcomes_one_wins(database_url: str) -> None:
    stores = [CaseStore(database_url) for _ in range(2)]
    try:
        reference = stores[0].create_case(new_case())[0].reference
        results = run_threads(8, lambda i: stores[i % 2].record_outcome(reference, f"s{i}", "resolved_at_desk"))
        assert len([r for r in results if isinstance(r, Case)]) == 1, results
        assert len([r for r in results if isinstance(r, CaseConflict)]) == 7
        assert actions(stores[0], reference).count("outcome") == 1
    finally:
        for case_store in stores:
            case_store.close()


# --- notes --------------------------------------------------------------------------


def test_notes_are_redacted_ordered_and_counted(store: CaseStore, clock: Clock) -> None:
    case, _ = store.create_case(new_case())
    first_at = clock.advance(minutes=1)
    store.add_note(case.reference, "amy", "Rang back, no answer")
    second_at = clock.advance(minutes=1)
    noted = store.add_note(case.reference, "bob", "Paid by card 4111-1111-1111-1111, security code 123")
    assert noted.notes == (
        Note(first_at, "amy", "Rang back, no answer"),
        Note(
            second_at, "bob", "Paid by card [card number removed], security code [security code removed]"),
    )
    assert noted.version == 3 and noted.status == "open" and noted.updated_at == second_at
    assert actions(store, case.reference) == ["create", "note", "note"]
    assert store.add_note(case.reference, "amy", "x" * 4000).notes[-1].text == "x" * 4000
    for bad in ("", "   ", "x" * 4001, None):
        with pytest.raises(InvalidCase, match="^text"):
            store.add_note(case.reference, "amy", bad)  # type: ignore[arg-type]


# --- atomic history -------------------------------------------------------------------


@pytest.fixture
def broken_audit(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Make the audit insert fail for one action, after the change itself
    has been written in the same transaction."""

    def break_for(action: str) -> None:
        real = store_module.write_audit

        def failing(conn: Any, case_id: int, at: datetime, actor: str, act: str, *rest: Any) -> None:
            real(conn, case_id, at, actor, act, *rest)
            if act == action:
                raise RuntimeError("audit write failed")

        monkeypatch.setattr(store_module, "write_audit", failing)

    return break_for


def test_failed_audit_undoes_a_create(store: CaseStore, broken_audit: Callable[[str], None]) -> None:
    broken_audit("create")
    with pytest.raises(RuntimeError):
        store.create_case(new_case(caller_number=CALLER))
    assert {name: rows for name, rows in dump(store.engine).items() if name.startswith("handoff_")} == {
        name: [] for name in HANDOFF_TABLES}


@pytest.mark.parametrize(
    "action, change",
    [
        ("claim", lambda s, ref: s.claim(ref, "amy")),
        ("outcome", lambda s, ref: s.record_outcome(ref, "amy", "resolved_at_desk")),
        ("claim", lambda s, ref: s.record_outcome(ref, "amy", "resolved_at_desk")),
        ("note", lambda s, ref: s.record_outcome(ref, "amy", "resolved_at_desk", "done")),
        ("note", lambda s, ref: s.add_note(ref, "amy", "hello")),
        ("purge_transcript", lambda s, ref: s.purge_transcripts(T0 + timedelta(days=1))),
        ("reveal_number", lambda s, ref: s.reveal_number(ref, "staff:amy")),
    ],
)
def test_failed_audit_undoes_the_change(
    store: CaseStore, broken_audit: Callable[[str], None], action: str, change: Callable[[CaseStore, str], Any]
) -> None:
    case, _ = store.create_case(new_case(caller_number=CALLER))
    before = dump(store.engine)
    broken_audit(action)
    with pytest.raises(RuntimeError):
        change(store, case.reference)
    assert dump(store.engine) == before
    assert store.get(case.reference) == case


# --- the caller's number ------------------------------------------------------------------


def test_full_number_is_kept_in_one_place_and_revealed_with_an_audit(store: CaseStore) -> None:
    case, _ = store.create_case(new_case(channel="voice", caller_number="07700 900123"))
    store.claim(case.reference, "amy")
    store.add_note(case.reference, "amy", "called back")
    assert store.reveal_number(case.reference, "staff:amy") == CALLER
    forms = (CALLER, CALLER[1:], "07700900123", "7700900123", "07700 900123", "7700 900123")
    for table, rows in dump(store.engine).items():
        text_of_table = " ".join(str(value) for row in rows for value in row)
        found = [form for form in forms if form in text_of_table]
        if table == "handoff_caller_numbers":
            assert found == [CALLER, CALLER[1:], "7700900123"]
        else:
            assert found == [], table
    assert CALLER[1:] not in str(case.as_dict()) and case.as_dict()["caller_masked"] == "+44*******123"
    entry = store.audit(case.reference)[-1]
    assert (entry["action"], entry["actor"], entry["after"]) == ("reveal_number", "staff:amy", {"revealed": True})


def test_no_number_to_reveal_is_audited_too(store: CaseStore) -> None:
    chat, _ = store.create_case(new_case("chat"))
    withheld, _ = store.create_case(new_case("voice", channel="voice", caller_number="anonymous"))
    assert chat.caller_masked is None and withheld.caller_masked == "withheld"
    assert store.reveal_number(chat.reference, "staff:amy") is None
    assert store.reveal_number(withheld.reference, "staff:amy") is None
    assert actions(store, withheld.reference) == ["create", "reveal_number"]
    with pytest.raises(CaseNotFound):
        store.reveal_number(new_reference(), "staff:amy")


# --- listing and reports ------------------------------------------------------------------


def test_list_cases_orders_high_first_then_oldest(store: CaseStore, clock: Clock) -> None:
    made = {}
    for name, reason, service, postcode in [
        ("old_normal", "complaint", "bins_recycling", None),
        ("urgent_new", "urgent", "bins_recycling", None),
        ("housing", "person_requested", "council_housing", None),
        ("new_normal", "not_understood", "bins_recycling", None),
        ("morecambe", "urgent", "bins_recycling", "LA4 5AF"),
    ]:
        clock.advance(minutes=1)
        made[name] = store.create_case(new_case(name, reason, service=service, postcode=postcode))[0]
    clock.advance(minutes=1)
    made["urgent_new"] = store.claim(made["urgent_new"].reference, "amy")
    store.record_outcome(made["new_normal"].reference, "amy", "duplicate")

    def names(cases: list[Case]) -> list[str]:
        return [case.conversation_id for case in cases]

    assert names(store.list_cases()) == ["urgent_new", "morecambe", "old_normal", "housing", "new_normal"]
    assert names(store.list_cases(centre="lancaster_town_hall", statuses=["open", "claimed"])) == [
        "urgent_new", "old_normal"]
    assert names(store.list_cases(statuses=["resolved"])) == ["new_normal"]
    assert names(store.list_cases(priority="high", centre="morecambe_town_hall")) == ["morecambe"]
    assert names(store.list_cases(service="council_housing")) == ["housing"]
    assert names(store.list_cases(limit=2, offset=1)) == ["morecambe", "old_normal"]
    assert store.list_cases(statuses=[]) == []
    for bad in ({"statuses": ["done"]}, {"priority": "low"}, {"limit": 0}, {"limit": 1001}, {"offset": -1}):
        with pytest.raises(InvalidCase):
            store.list_cases(**bad)


def test_cases_between_is_half_open(store: CaseStore) -> None:
    start = T0 - timedelta(days=2)  # cases are not made in the future
    for index, hours in enumerate((-1, 0, 5, 24)):
        store.create_case(new_case(f"c{index}", created_at=start + timedelta(hours=hours)))
    cases = store.cases_between(start, start + timedelta(days=1))
    assert [case.conversation_id for case in cases] == ["c1", "c2"]
    with pytest.raises(InvalidCase):
        store.cases_between(datetime(2026, 11, 10), T0)


# --- retention ---------------------------------------------------------------------------


def test_purge_removes_old_transcripts_only(store: CaseStore, clock: Clock) -> None:
    old, _ = store.create_case(new_case("old", caller_number=CALLER, created_at=T0 - timedelta(days=400)))
    store.add_note(old.reference, "amy", "Sorted at the desk")
    recent, _ = store.create_case(new_case("recent", caller_number=CALLER, created_at=T0 - timedelta(days=10)))
    purge_at = clock.advance(minutes=1)
    assert store.purge_transcripts(T0 - timedelta(days=365)) == 1
    purged = store.get(old.reference)
    assert purged.transcript is None and purged.transcript_purged_at == purge_at
    assert purged.as_dict()["transcript"] is None
    assert [note.text for note in purged.notes] == ["Sorted at the desk"]
    assert actions(store, old.reference) == ["create", "note", "purge_transcript"]
    assert store.audit(old.reference)[-1]["actor"] == "system"
    assert store.reveal_number(old.reference, "staff:amy") is None
    assert store.get(recent.reference).transcript == TRANSCRIPT
    assert store.reveal_number(recent.reference, "staff:amy") == CALLER
    assert store.purge_transcripts(T0 - timedelta(days=365)) == 0  # nothing left to purge


def test_purge_handles_more_than_one_batch(store: CaseStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "CHUNK", 3)
    for index in range(7):
        store.create_case(new_case(f"c{index}", created_at=T0 - timedelta(days=1)))
    assert store.purge_transcripts(T0, actor="staff:manager") == 7
    assert all(case.transcript is None for case in store.list_cases())


# --- settings ----------------------------------------------------------------------------


def test_settings_defaults_for_development() -> None:
    settings = HandoffSettings.from_env({})
    assert settings.api_token == DEVELOPMENT_TOKEN and not settings.production
    assert (settings.retention_days, settings.signin_free_attempts, settings.signin_client_wait_minutes,
            settings.signin_account_wait_seconds) == (365, 5, 15, 60)
    assert not settings.secure_cookies and not settings.can_text
    assert settings.handoff_url == "http://127.0.0.1:8090" and settings.port == 8090
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("council.db")


@pytest.mark.parametrize(
    "env, name",
    [
        ({"COUNCIL_ENV": "production"}, "HANDOFF_API_TOKEN"),
        ({"COUNCIL_ENV": "production", "HANDOFF_API_TOKEN": DEVELOPMENT_TOKEN}, "HANDOFF_API_TOKEN"),
        ({"HANDOFF_RETENTION_DAYS": "a year"}, "HANDOFF_RETENTION_DAYS"),
        ({"HANDOFF_SIGNIN_FREE_ATTEMPTS": "0"}, "HANDOFF_SIGNIN_FREE_ATTEMPTS"),
        ({"HANDOFF_SECURE_COOKIES": "maybe"}, "HANDOFF_SECURE_COOKIES"),
        ({"HANDOFF_URL": "localhost:8090"}, "HANDOFF_URL"),
    ],
)
def test_settings_errors_name_the_setting(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        HandoffSettings.from_env(env)


def test_settings_for_production() -> None:
    settings = HandoffSettings.from_env({
        "COUNCIL_ENV": "production", "HANDOFF_API_TOKEN": "t0k3n",
        "DATABASE_URL": "postgresql://db/council", "HANDOFF_RETENTION_DAYS": "90", "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "x", "TWILIO_FROM_NUMBER": "+441632960101", "HANDOFF_URL": "https://handoff.example/",
    })
    assert settings.production and settings.secure_cookies and settings.can_text
    assert (settings.api_token, settings.retention_days) == ("t0k3n", 90)
    assert settings.handoff_url == "https://handoff.example" and "t0k3n" not in repr(settings)
    assert HandoffSettings.from_env({"COUNCIL_ENV": "production", "HANDOFF_API_TOKEN": "t",
                                     "HANDOFF_SECURE_COOKIES": "off"}
                                    ).secure_cookies is False


def test_count_helper(store: CaseStore) -> None:
    assert store.count() == 0
    store.create_case(new_case())
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.audit)).scalar_one() == 1
    assert store.count() == 1


def test_two_processes_migrating_a_new_database_together(database_url: str) -> None:
    """Two services starting at once on an empty database: the database's
    own lock (not a lock in one process) makes the second wait, then find head."""
    import os
    import subprocess
    import sys
    import time

    start = time.time() + 3  # both are imported and waiting by then
    script = (
        "import sys, time\n"
        "from handoff.store import CaseStore\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "CaseStore(sys.argv[1]).close()\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    processes = [
        subprocess.Popen([sys.executable, "-c", script, database_url, str(start)], env=env, cwd=root,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    engine = db.make_engine(database_url)
    try:
        assert _versions(engine) == [_head()]
    finally:
        engine.dispose()
