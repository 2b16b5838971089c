"""The one Alembic environment for the shared database (plumbing/schema): a
call log made by an earlier release, with create_all and without Alembic,
upgrades in place (its rows kept, its missing columns added), on SQLite and
PostgreSQL; either service starting first migrates both packages' tables."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import MetaData, inspect, text

from handoff.store import CaseStore
from plumbing import migrate
from plumbing.database import make_engine
from telephony_bridge.calllog import CallLog

T0 = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)
SID = "CA" + "1" * 32

ADDED_SINCE_THE_FIRST_RELEASE = {"keys_pressed", "heard"}


def _old_calllog(database_url: str) -> None:
    """The call log as the first release made it: create_all of its tables
    without the columns added since, no alembic_version, and one call."""
    from telephony_bridge.calllog_tables import metadata

    old = MetaData()
    for table in metadata.sorted_tables:
        copy = table.to_metadata(old)
        for name in ADDED_SINCE_THE_FIRST_RELEASE & set(copy.c.keys()):
            copy._columns.remove(copy.c[name])
    engine = make_engine(database_url, "the test")
    try:
        old.create_all(engine)
        with engine.begin() as conn:
            conn.execute(old.tables["calllog_calls"].insert().values(
                call_sid=SID, caller_masked="+44*******123", started_at=T0, turns=1, transferred=False,
                handed_off=False, emergency=False, start_inferred=False))
            conn.execute(old.tables["calllog_events"].insert().values(call_sid=SID, at=T0, kind="speech"))
        assert not ADDED_SINCE_THE_FIRST_RELEASE & {c["name"] for c in inspect(engine).get_columns("calllog_events")}
    finally:
        engine.dispose()


def _state(database_url: str) -> tuple[set[str], set[str], list[str]]:
    engine = make_engine(database_url, "the test")
    try:
        seen = inspect(engine)
        with engine.connect() as conn:
            versions = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
        return set(seen.get_table_names()), {c["name"] for c in seen.get_columns("calllog_events")}, versions
    finally:
        engine.dispose()


def test_an_earlier_release_call_log_upgrades_in_place(database_url: str) -> None:
    _old_calllog(database_url)
    log = CallLog(database_url)
    try:
        tables, columns, versions = _state(database_url)
        assert {"keys_pressed", "heard"} <= columns and versions == [migrate.head()]
        assert {"handoff_cases", "calllog_calls"} <= tables  # one environment: both packages' tables
        # The old rows are kept, and the new columns take writes.
        [call] = log.calls_between(T0, T0.replace(hour=10))
        assert call.caller_masked == "+44*******123"
        log.turn(SID, "dtmf", T0, latency_ms=5.0, outcome="menu", keys="2", heard="Council tax")
        assert [e.keys_pressed for e in log.events(SID)] == [None, "2"]
    finally:
        log.close()


def test_either_service_first_migrates_everything_once(database_url: str) -> None:
    CaseStore(database_url).close()  # the handoff service starts first
    tables, columns, versions = _state(database_url)
    assert {"calllog_calls", "calllog_transfers", "calllog_events", "handoff_cases"} <= tables
    assert versions == [migrate.head()]
    CallLog(database_url).close()  # then the bridge: nothing left to do
    assert _state(database_url) == (tables, columns, versions)
