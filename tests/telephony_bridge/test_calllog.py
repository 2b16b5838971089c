"""The call log and its service-level report, against a SQLite file and, when
a PostgreSQL server answers on 127.0.0.1:5432, against PostgreSQL too."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import create_engine, select

from council.clock import LONDON
from council.periods import parse_period
from telephony_bridge import calllog, calllog_tables, report
from telephony_bridge.calllog import CallLog, CallRecord
from telephony_bridge.report import ServiceLevels, format_report, service_levels

CALLER = "+447700900123"
TARGET = "+441632960101"
T0 = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)  # a Tuesday; London is on GMT


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- databases -------------------------------------------------------------


@pytest.fixture
def log(database_url: str) -> Iterator[CallLog]:
    call_log = CallLog(database_url)
    yield call_log
    call_log.close()


def dump(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every call-log table, as stored."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return {
                table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))]
                for table in calllog_tables.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def only(log: CallLog, call_sid: str) -> CallRecord:
    day = timedelta(days=1)
    (call,) = [call for call in log.calls_between(T0 - day, T0 + day) if call.call_sid == call_sid]
    return call


def kinds(log: CallLog, call_sid: str) -> list[str]:
    return [event.kind for event in log.events(call_sid)]


# --- one call at a time ----------------------------------------------------


def test_contained_call(log: CallLog) -> None:
    log.call_started("CA1", CALLER, s(0))
    log.turn("CA1", "speech", s(4), 180.0, "bot", "bins_recycling")
    log.routed("CA1", "bins_recycling", s(5))
    log.turn("CA1", "confirm", s(12), 90.0, "bot")
    log.call_status("CA1", "completed", s(40), 40)

    call = only(log, "CA1")
    assert call.caller_masked == "+44*******123"
    assert (call.started_at, call.answered_at, call.ended_at) == (s(0), s(0), s(40))
    assert call.started_at.tzinfo is not None and call.started_at.utcoffset() == timedelta(0)
    assert (call.status, call.duration_s, call.turns) == ("completed", 40, 2)
    assert (call.first_service, call.reached_at) == ("bins_recycling", s(5))
    assert not (call.transferred or call.handed_off or call.emergency or call.start_inferred)
    assert kinds(log, "CA1") == ["started", "speech", "routed", "confirm", "status"]
    speech = log.events("CA1")[1]
    assert (speech.outcome, speech.service, speech.latency_ms) == ("bot", "bins_recycling", 180.0)
    assert report.is_contained(call) and not report.is_abandoned(call)


def test_transfer_answered_within_20_seconds(log: CallLog) -> None:
    log.call_started("CA2", CALLER, s(0))
    log.turn("CA2", "speech", s(3), 150.0, "bot", "council_tax")
    log.routed("CA2", "council_tax", s(4))
    transfer_id = log.transfer_started("CA2", TARGET, "council_tax", "person_requested", s(10))
    log.transfer_leg_status("CA2", transfer_id, "initiated", s(10))
    log.transfer_leg_status("CA2", transfer_id, "ringing", s(11))
    log.transfer_leg_status("CA2", transfer_id, "answered", s(18))
    log.transfer_result("CA2", transfer_id, "completed", s(300))
    log.call_status("CA2", "completed", s(301), 301)

    (transfer,) = log.transfers_between(T0, s(3600))
    assert transfer.id == transfer_id and transfer.call_sid == "CA2"
    assert (transfer.target_masked, transfer.service) == ("+44*******101", "council_tax")
    assert transfer.reason == "person_requested"
    assert (transfer.started_at, transfer.answered_at, transfer.ended_at) == (s(10), s(18), s(300))
    assert (transfer.dial_status, transfer.leg_status) == ("completed", "answered")
    call = only(log, "CA2")
    assert call.transferred and call.reached_at == s(4)  # the service was reached before the person
    levels = service_levels(log, T0, s(3600))
    assert levels.transfers_answered_within_20s_pct == 100.0
    assert (levels.transferred, levels.contained, levels.abandoned) == (1, 0, 0)


def test_person_at_once_reached_when_the_person_answers(log: CallLog) -> None:
    log.call_started("CA3", CALLER, s(0))
    transfer_id = log.transfer_started("CA3", TARGET, None, "person_requested", s(5))
    log.transfer_result("CA3", transfer_id, "completed", s(200), answered_after_s=12)
    call = only(log, "CA3")
    assert call.reached_at == s(17) and call.first_service is None
    assert log.transfers_between(T0, s(3600))[0].answered_at == s(17)


def test_transfer_rang_out_then_caller_hung_up_is_abandoned(log: CallLog) -> None:
    log.call_started("CA4", CALLER, s(0))
    log.turn("CA4", "speech", s(4), 200.0, "bot")
    transfer_id = log.transfer_started("CA4", TARGET, "housing_options", "not_understood", s(8))
    log.transfer_leg_status("CA4", transfer_id, "ringing", s(9))
    log.transfer_result("CA4", transfer_id, "no-answer", s(28))
    log.call_status("CA4", "completed", s(35), 35)

    (transfer,) = log.transfers_between(T0, s(3600))
    assert (transfer.dial_status, transfer.answered_at, transfer.ended_at) == ("no-answer", None, s(28))
    call = only(log, "CA4")
    assert call.transferred and call.reached_at is None
    assert report.is_abandoned(call) and not report.is_contained(call)
    levels = service_levels(log, T0, s(3600))
    assert levels.transfers_answered_within_20s_pct == 0.0 and levels.abandoned == 1


def test_handoff(log: CallLog) -> None:
    log.call_started("CA5", CALLER, s(0))
    log.routed("CA5", "planning_building", s(10))
    log.handed_off("CA5", "LAN-2026-0042", s(60))
    log.call_status("CA5", "completed", s(70), 70)
    call = only(log, "CA5")
    assert call.handed_off and call.handoff_reference == "LAN-2026-0042"
    assert not report.is_contained(call) and not report.is_abandoned(call)
    assert "handoff" in kinds(log, "CA5")


def test_handoff_with_an_odd_reference_is_still_a_handoff(log: CallLog) -> None:
    log.call_started("CA15", CALLER, s(0))
    log.handed_off("CA15", "call me on 07700900123", s(30))
    call = only(log, "CA15")
    assert call.handed_off and call.handoff_reference is None


def test_emergency(log: CallLog) -> None:
    log.call_started("CA6", CALLER, s(0))
    log.turn("CA6", "speech", s(3), 120.0, "emergency")
    log.emergency("CA6", s(3))
    log.call_status("CA6", "completed", s(15), 15)
    call = only(log, "CA6")
    assert call.emergency and call.reached_at is None
    assert report.is_contained(call) and not report.is_abandoned(call)


def test_status_callback_before_call_started(log: CallLog) -> None:
    log.call_status("CA7", "completed", s(60), 58)
    early = only(log, "CA7")
    assert early.start_inferred and early.caller_masked == "unknown"
    assert (early.started_at, early.ended_at, early.status) == (s(2), s(60), "completed")

    log.call_started("CA7", CALLER, s(1))
    call = only(log, "CA7")
    assert not call.start_inferred
    assert (call.caller_masked, call.started_at, call.answered_at) == ("+44*******123", s(1), s(1))
    assert (call.ended_at, call.status, call.duration_s) == (s(60), "completed", 58)


def test_turn_before_call_started_is_kept(log: CallLog) -> None:
    log.turn("CA8", "dtmf", s(5), 30.0, "menu")
    log.call_started("CA8", CALLER, s(0))
    call = only(log, "CA8")
    assert call.turns == 1 and call.started_at == s(0) and not call.start_inferred


def test_duplicate_webhooks_change_nothing(log: CallLog, database_url: str) -> None:
    log.call_started("CA9", CALLER, s(0))
    log.routed("CA9", "licensing", s(6))
    transfer_id = log.transfer_started("CA9", TARGET, "licensing", "person_requested", s(10))
    log.transfer_leg_status("CA9", transfer_id, "answered", s(14))
    log.transfer_result("CA9", transfer_id, "completed", s(100))
    log.handed_off("CA9", "LAN-7", s(101))
    log.emergency("CA9", s(102))
    log.call_status("CA9", "completed", s(110), 110)
    before = dump(database_url)

    # Twilio retries, and stragglers arriving after the end.
    log.call_started("CA9", "+447700900999", s(50))
    log.transfer_leg_status("CA9", transfer_id, "answered", s(60))
    log.transfer_result("CA9", transfer_id, "no-answer", s(120), answered_after_s=1)
    log.handed_off("CA9", "LAN-8", s(121))
    log.emergency("CA9", s(122))
    log.call_status("CA9", "completed", s(130), 130)
    log.call_status("CA9", "in-progress", s(131))
    assert dump(database_url) == before


def test_unknown_transfer_is_ignored(log: CallLog, database_url: str) -> None:
    log.call_started("CA10", CALLER, s(0))
    transfer_id = log.transfer_started("CA10", TARGET, None, "person_requested", s(1))
    before = dump(database_url)
    log.transfer_result("CA10", transfer_id + 100, "completed", s(20))
    log.transfer_result("CA-other", transfer_id, "completed", s(20))  # not this call's transfer
    log.transfer_leg_status("CA10", transfer_id + 100, "answered", s(20))
    assert dump(database_url) == before


# --- what is never stored ---------------------------------------------------


def test_full_numbers_never_stored(log: CallLog, database_url: str) -> None:
    log.call_started("CA11", CALLER, s(0))
    log.turn("CA11", "speech", s(2), 100.0, "bot")
    transfer_id = log.transfer_started("CA11", TARGET, "benefits", "person_requested", s(5))
    log.transfer_leg_status("CA11", transfer_id, "answered", s(9))
    log.transfer_result("CA11", transfer_id, "completed", s(90))
    log.call_status("CA11", "completed", s(95), 95)

    stored = repr(dump(database_url))
    assert "+44*******123" in stored and "+44*******101" in stored  # the test looks in the right place
    for number in (CALLER, TARGET, "07700900123", "7700900123", "01632960101", "1632960101", "900123", "960101"):
        assert number not in stored


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("outcome", "4111111111111111"),  # a card number keyed on the phone
        ("outcome", "menu-4111"),
        ("outcome", "my bin was not collected"),  # speech
        ("service", "07700900123"),
    ],
)
def test_keyed_digits_and_speech_are_refused(log: CallLog, database_url: str, field: str, value: str) -> None:
    log.call_started("CA12", CALLER, s(0))
    before = dump(database_url)
    arguments: dict[str, Any] = {"outcome": "menu", "service": None, field: value}
    with pytest.raises(ValueError):
        log.turn("CA12", "dtmf", s(3), 20.0, **arguments)
    with pytest.raises(ValueError):
        log.turn("CA12", "typed", s(3), 20.0, "menu")  # not a kind of turn
    assert dump(database_url) == before


def test_menu_keys_and_what_was_heard_are_kept(log: CallLog) -> None:
    log.call_started("CA14", CALLER, s(0))
    log.turn("CA14", "dtmf", s(3), 20.0, "menu", None, "4", "For  street lighting,\n press 2.")
    log.turn("CA14", "speech", s(9), 80.0, "bot", "council_tax", None, "x" * 5000)
    with pytest.raises(ValueError):
        log.turn("CA14", "dtmf", s(12), 20.0, "menu", None, "4111 1111")  # never free text as keys
    first, second = [event for event in log.events("CA14") if event.kind in ("dtmf", "speech")]
    assert (first.keys_pressed, first.heard) == ("4", "For street lighting, press 2.")
    assert second.keys_pressed is None and len(second.heard) == calllog.MAX_HEARD_CHARS


def test_a_call_log_from_before_keys_and_heard_gains_them(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:  # the events table as the first release made it
        conn.exec_driver_sql("CREATE TABLE calllog_events (id INTEGER PRIMARY KEY, call_sid VARCHAR(64) NOT NULL, "
                             "at DATETIME NOT NULL, kind VARCHAR(20) NOT NULL, outcome VARCHAR(64), "
                             "service VARCHAR(64), latency_ms FLOAT)")
    engine.dispose()
    upgraded = CallLog(url)
    try:
        upgraded.call_started("CA15", CALLER, s(0))
        upgraded.turn("CA15", "dtmf", s(2), 10.0, "menu", None, "1", "For council tax, press 1.")
        assert [e.keys_pressed for e in upgraded.events("CA15") if e.kind == "dtmf"] == ["1"]
    finally:
        upgraded.close()


def test_naive_times_are_refused(log: CallLog) -> None:
    with pytest.raises(ValueError):
        log.call_started("CA13", CALLER, datetime(2026, 11, 10, 9, 0))


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError):
        CallLog("sqlite://")


# --- many threads -----------------------------------------------------------


def test_concurrent_turns_on_one_call(log: CallLog) -> None:
    threads, turns_each = 20, 5
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def caller(index: int) -> None:
        try:
            barrier.wait()
            for turn in range(turns_each):
                log.turn("CA14", "speech", s(index + turn / 10), 50.0, "bot")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    # No call_started: the threads also race to create the call's row.
    workers = [threading.Thread(target=caller, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    assert only(log, "CA14").turns == threads * turns_each
    assert kinds(log, "CA14").count("speech") == threads * turns_each


# --- the report ---------------------------------------------------------------


def _crafted_calls(log: CallLog) -> None:
    """Ten calls in the period and two just outside it."""

    def started(sid: str, at: float = 0) -> Callable[[float], datetime]:
        base = s(at)
        log.call_started(sid, CALLER, base)
        return lambda seconds: base + timedelta(seconds=seconds)

    def served(sid: str, reach_s: float, start: float = 0) -> None:
        t = started(sid, start)
        log.turn(sid, "speech", t(reach_s - 1), 100.0, "bot", "council_tax")
        log.routed(sid, "council_tax", t(reach_s))
        log.call_status(sid, "completed", t(60), 60)

    served("R1", 5, 0)  # reached in 5 s
    served("R2", 15, 100)
    served("R3", 30, 200)  # answered, but slow to reach the service
    t = started("R4", 300)  # served, then put through to a person in 10 s
    log.routed("R4", "council_tax", t(6))
    transfer = log.transfer_started("R4", TARGET, "council_tax", "person_requested", t(10))
    log.transfer_leg_status("R4", transfer, "answered", t(20))
    log.transfer_result("R4", transfer, "completed", t(200))
    log.call_status("R4", "completed", t(201), 201)
    t = started("R5", 400)  # a person at once, who took 26 s to answer
    transfer = log.transfer_started("R5", TARGET, None, "person_requested", t(4))
    log.transfer_leg_status("R5", transfer, "in-progress", t(30))
    log.transfer_result("R5", transfer, "completed", t(100))
    log.call_status("R5", "completed", t(100), 100)
    t = started("R6", 500)  # the transfer rang out; the caller hung up
    transfer = log.transfer_started("R6", TARGET, "benefits", "not_understood", t(8))
    log.transfer_result("R6", transfer, "no-answer", t(28))
    log.call_status("R6", "completed", t(35), 35)
    t = started("R7", 600)  # handed off
    log.routed("R7", "planning_building", t(12))
    log.handed_off("R7", "LAN-1", t(90))
    log.call_status("R7", "completed", t(95), 95)
    t = started("R8", 700)  # told to ring 999
    log.emergency("R8", t(3))
    log.call_status("R8", "completed", t(10), 10)
    t = started("R9", 800)  # said nothing and hung up
    log.turn("R9", "no_input", t(6), 5.0, "reprompt")
    log.call_status("R9", "completed", t(9), 9)
    started("R10", 900)  # hung up before anything happened
    log.call_status("R10", "canceled", s(901), 0)
    served("BEFORE", 5, -1)  # one second before the period
    served("AFTER", 5, 3600)  # at its end, which is not in it


PERIOD = (T0, s(3600))


def test_service_levels_on_crafted_calls(log: CallLog) -> None:
    _crafted_calls(log)
    levels = service_levels(log, *PERIOD)
    assert levels.calls == 10
    assert (levels.answered, levels.answered_pct) == (9, pytest.approx(90.0))  # all but R10
    assert (levels.answered_within_20s, levels.answered_within_20s_pct) == (4, pytest.approx(40.0))  # R1 R2 R4 R7
    assert (levels.contained, levels.contained_pct) == (4, pytest.approx(40.0))  # R1 R2 R3 R8
    assert (levels.transferred, levels.transferred_pct) == (3, pytest.approx(30.0))  # R4 R5 R6
    assert levels.transfers_answered_within_20s_pct == pytest.approx(100.0 / 3)  # only R4's
    assert (levels.handed_off, levels.handed_off_pct) == (1, pytest.approx(10.0))
    assert (levels.abandoned, levels.abandoned_pct) == (3, pytest.approx(30.0))  # R6 R9 R10
    assert levels.median_time_to_service_s == pytest.approx(13.5)  # of 5 6 12 15 30 30
    assert levels.as_dict()["start"] == T0.isoformat() and levels.as_dict()["calls"] == 10


def test_format_report(log: CallLog) -> None:
    _crafted_calls(log)
    text = format_report(service_levels(log, *PERIOD))
    lines = text.splitlines()
    assert lines[0] == "Telephone service levels, Tue 10 Nov 2026 09:00 to Tue 10 Nov 2026 10:00 (London time)"
    answered = next(line for line in lines if line.startswith("answered "))
    assert answered.split() == ["answered", "9", "90.0%", ">=", "95%", "NO"]
    within = next(line for line in lines if line.startswith("reached a service or person within 20 s"))
    assert within.split()[-5:] == ["4", "40.0%", ">=", "80%", "NO"]
    assert "Of transfers, a person answered within 20 s: 33.3%" in lines
    assert "Median time to reach a service or person: 13.5 s" in lines


def test_format_report_targets_met_and_no_calls() -> None:
    base = dict(
        start=T0, end=s(3600), calls=10, answered=10, answered_pct=100.0, answered_within_20s=8,
        answered_within_20s_pct=80.0, contained=10, contained_pct=100.0, transferred=0, transferred_pct=0.0,
        transfers_answered_within_20s_pct=None, handed_off=0, handed_off_pct=0.0, abandoned=0,
        abandoned_pct=0.0, median_time_to_service_s=None,
    )
    text = format_report(ServiceLevels(**base))
    assert [line.split()[-1] for line in text.splitlines() if ">=" in line] == ["yes", "yes"]
    assert "Of transfers, a person answered within 20 s: no transfers" in text
    empty = format_report(ServiceLevels(**{**base, "calls": 0, "answered": 0, "answered_pct": 0.0}))
    assert "No calls in this period." in empty and ">=" not in empty


def test_no_calls(log: CallLog) -> None:
    levels = service_levels(log, *PERIOD)
    assert levels.calls == 0 and levels.answered_pct == 0.0 and levels.abandoned_pct == 0.0
    assert levels.median_time_to_service_s is None and levels.transfers_answered_within_20s_pct is None
    assert "No calls in this period." in format_report(levels)


# --- periods ------------------------------------------------------------------

NOW = datetime(2026, 7, 15, 12, 30, tzinfo=LONDON)  # British Summer Time


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_period_default_is_the_last_seven_days() -> None:
    start, end = parse_period(None, None, NOW)
    assert end == NOW and start == datetime(2026, 7, 8, 12, 30, tzinfo=LONDON)


def test_period_dates_are_whole_london_days() -> None:
    start, end = parse_period("2026-07-01", "2026-07-07", NOW)
    assert (start, end) == (utc("2026-06-30T23:00"), utc("2026-07-07T23:00"))
    start, end = parse_period("2026-11-02", "2026-11-02", NOW)  # GMT: London is UTC
    assert (start, end) == (utc("2026-11-02T00:00"), utc("2026-11-03T00:00"))


def test_period_date_times() -> None:
    start, end = parse_period("2026-07-14T08:00", None, NOW)
    assert (start, end) == (utc("2026-07-14T07:00"), NOW)
    start, end = parse_period("2026-07-14T08:00Z", "2026-07-14T18:00+01:00", NOW)
    assert (start, end) == (utc("2026-07-14T08:00"), utc("2026-07-14T17:00"))
    start, end = parse_period(None, "2026-07-10", NOW)
    assert (start, end) == (utc("2026-07-03T23:00"), utc("2026-07-10T23:00"))


@pytest.mark.parametrize(("from_", "to"), [("2026-07-10", "2026-07-09"), ("last week", None), (None, "2026-13-01")])
def test_bad_periods_are_refused(from_: str | None, to: str | None) -> None:
    with pytest.raises(ValueError):
        parse_period(from_, to, NOW)


# --- retention -----------------------------------------------------------------


def test_purge_removes_old_calls_with_their_turns_and_transfers(log: CallLog) -> None:
    old, recent = T0 - timedelta(days=400), T0 - timedelta(days=10)
    for sid, start in (("CAold", old), ("CAnew", recent)):
        log.call_started(sid, CALLER, start)
        log.turn(sid, "speech", start + timedelta(seconds=3), 150.0, "bot", "council_tax")
        transfer_id = log.transfer_started(sid, TARGET, "council_tax", "person_requested", start + timedelta(seconds=9))
        log.transfer_result(sid, transfer_id, "completed", start + timedelta(seconds=60))
        log.call_status(sid, "completed", start + timedelta(seconds=61), 61)
    assert log.purge(T0 - timedelta(days=365)) == 1
    year = timedelta(days=500)
    assert [call.call_sid for call in log.calls_between(T0 - year, T0 + year)] == ["CAnew"]
    assert [t.call_sid for t in log.transfers_between(T0 - year, T0 + year)] == ["CAnew"]
    assert log.events("CAold") == [] and log.events("CAnew") != []
    assert log.purge(T0 - timedelta(days=365)) == 0
