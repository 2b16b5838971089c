"""The case report over a crafted set of cases with known times, on a SQLite
file and, when a PostgreSQL server answers on 127.0.0.1:5432, on PostgreSQL
too: counts, medians, 90th percentiles, first-contact share, the CSV (with
no transcript or number in it), the charts and the command line."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import update

from handoff import db, reports
from handoff.cases import NewCase
from handoff.report_charts import charts
from handoff.reports import CHARTS, CSV_COLUMNS, CaseReport, case_report, format_text, to_csv
from handoff.store import CaseStore

T0 = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)  # a Tuesday; London is on GMT
PERIOD = (T0, T0 + timedelta(hours=2))
PNG = b"\x89PNG\r\n\x1a\n"
CALLER = "+447700900123"
SECRET_WORDS = "my neighbour's dog barks all night at number forty two"

# service, postcode, reason, channel, created (min after T0), claimed / resolved (min after created), outcome
CRAFTED = [
    ("council_tax", "LA1 1PJ", "person_requested", "voice", 0, 5, 20, "resolved_at_desk"),
    ("council_tax", "LA4 5AF", "person_requested", "sms", 10, 10, 30, "resolved_at_desk"),
    ("council_housing", "LA1 1PJ", "urgent", "chat", 20, 15, 40, "appointment_booked"),
    ("council_housing", None, "complaint", "voice", 30, 20, 50, "referred_to_service"),
    ("roads_highways", "LA3 1AA", "not_understood", "chat", 40, 25, 60, "referred_to_other_council"),
    (None, None, "not_understood", "chat", 50, 30, 70, "no_contact"),
    (None, "LA1 1PJ", "cannot_complete", "voice", 60, 35, None, None),
    ("roads_highways", "LA4 5AF", "complaint", "sms", 70, 40, None, None),
    ("council_tax", None, "person_requested", "chat", 80, 45, None, None),
    ("council_tax", None, "person_requested", "chat", 90, 50, None, None),
    ("council_tax", None, "urgent", "voice", 100, None, None, None),
]
# Just outside [start, end): a second before it starts, and at its end.
OUTSIDE = [T0 - timedelta(seconds=1), PERIOD[1]]


# --- databases -------------------------------------------------------------


def _set_times(store: CaseStore, reference: str, **times: datetime) -> None:
    """The claim and resolve times the crafted set needs; the store stamps
    its own clock, so the test writes them afterwards."""
    with store.engine.begin() as conn:
        conn.execute(update(db.cases).where(db.cases.c.reference == reference).values(**times))


@pytest.fixture
def crafted(store: CaseStore) -> CaseStore:
    """CRAFTED in the period and OUTSIDE it, each with a transcript and
    (voice and SMS) the caller's number."""
    for index, (service, postcode, reason, channel, created, claim, resolve, outcome) in enumerate(CRAFTED):
        created_at = T0 + timedelta(minutes=created)
        case, made = store.create_case(NewCase(
            conversation_id=f"conv-{index}", reason=reason, channel=channel, service=service, postcode=postcode,
            caller_number=CALLER if channel != "chat" else None, created_at=created_at,
            transcript=[{"who": "caller", "text": SECRET_WORDS}, {"who": "bot", "text": "I'll pass this on."}]))
        assert made
        if claim is not None:
            store.claim(case.reference, "alice")
        if outcome is not None:
            store.record_outcome(case.reference, "alice", outcome)
        times = {}
        if claim is not None:
            times["claimed_at"] = created_at + timedelta(minutes=claim)
        if resolve is not None:
            times["resolved_at"] = created_at + timedelta(minutes=resolve)
        if times:
            _set_times(store, case.reference, **times)
    for index, created_at in enumerate(OUTSIDE):
        case, _ = store.create_case(NewCase(conversation_id=f"outside-{index}", reason="complaint", channel="chat",
                                            service="licensing", created_at=created_at,
                                            transcript=[{"who": "caller", "text": "hello"}]))
        store.record_outcome(case.reference, "bob", "duplicate")
    return store


@pytest.fixture
def report(crafted: CaseStore) -> CaseReport:
    return case_report(crafted, *PERIOD)


# --- figures -----------------------------------------------------------------


def test_counts_by_each_dimension(report: CaseReport) -> None:
    assert report.cases == len(CRAFTED)
    assert report.counts("service") == {"council_tax": 5, "council_housing": 2, "roads_highways": 2, "none": 2}
    assert report.counts("authority") == {"city": 7, "county": 2, "none": 2}
    assert report.counts("centre") == {"lancaster_town_hall": 6, "morecambe_town_hall": 3, "cable_street": 2}
    assert report.counts("reason") == {"person_requested": 4, "not_understood": 2, "urgent": 2, "complaint": 2,
                                       "cannot_complete": 1}
    assert report.counts("outcome") == {"resolved_at_desk": 2, "appointment_booked": 1, "referred_to_service": 1,
                                        "referred_to_other_council": 1, "no_contact": 1, "duplicate": 0, "none": 5}
    assert report.counts("status") == {"open": 1, "claimed": 4, "resolved": 5, "closed_no_contact": 1}
    for dimension in ("service", "authority", "centre", "reason", "outcome", "status"):
        assert sum(report.counts(dimension).values()) == report.cases, dimension


def test_breakdowns_carry_the_catalogues_names(report: CaseReport) -> None:
    services = {c.id: c.name for c in report.by_service}
    assert services == {"council_tax": "Council Tax", "council_housing": "Council Housing",
                        "roads_highways": "Roads and Pavements", "none": "No service identified"}
    assert [c.id for c in report.by_service] == ["council_tax", "council_housing", "roads_highways", "none"]
    assert {c.id: c.name for c in report.by_authority}["county"] == "Lancashire County Council"
    assert {c.id: c.name for c in report.by_centre}["cable_street"] == "The Cable Street housing office"
    assert {c.id: c.name for c in report.by_outcome}["none"] == "No outcome yet"


def test_times_to_claim_and_resolve(report: CaseReport) -> None:
    # Claimed after 5, 10, ... 50 minutes; resolved after 20, 30, ... 70.
    assert report.claimed == 10
    assert report.median_minutes_to_claim == pytest.approx(27.5)
    assert report.p90_minutes_to_claim == pytest.approx(45.0)  # nearest rank: the 9th of 10
    assert report.with_outcome == 6
    assert report.median_minutes_to_resolve == pytest.approx(45.0)
    assert report.p90_minutes_to_resolve == pytest.approx(70.0)  # the 6th of 6


def test_share_resolved_at_first_contact(report: CaseReport) -> None:
    assert report.resolved_at_desk == 2
    assert report.resolved_at_first_contact_pct == pytest.approx(100 * 2 / 6)


def test_an_empty_period_has_no_times_and_no_share(crafted: CaseStore) -> None:
    empty = case_report(crafted, T0 + timedelta(days=3), T0 + timedelta(days=4))
    assert empty.cases == 0 and empty.claimed == 0 and empty.with_outcome == 0
    assert empty.median_minutes_to_claim is None and empty.p90_minutes_to_claim is None
    assert empty.median_minutes_to_resolve is None and empty.p90_minutes_to_resolve is None
    assert empty.resolved_at_first_contact_pct is None
    assert empty.counts("reason") == {reason: 0 for reason in reports.REASONS}
    assert empty.counts("service") == {}
    assert "No cases in this period." in format_text(empty)


def test_as_dict_is_json_ready(report: CaseReport) -> None:
    values = json.loads(json.dumps(report.as_dict()))
    assert values["cases"] == 11
    assert values["start"] == "2026-11-10T09:00:00+00:00"
    assert values["by_centre"][0] == {"id": "lancaster_town_hall", "name": "Lancaster Town Hall", "cases": 6}
    assert values["p90_minutes_to_claim"] == pytest.approx(45.0)


def test_percentile_is_nearest_rank() -> None:
    assert reports.percentile([], 90) is None
    assert reports.percentile([7.0], 90) == 7.0
    assert reports.percentile([float(n) for n in range(10, 0, -1)], 90) == 9.0
    assert reports.percentile([1.0, 2.0], 50) == 1.0
    assert reports.median([1.0, 2.0]) == 1.5 and reports.median([]) is None


# --- CSV ------------------------------------------------------------------------


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_one_row_per_case_and_no_transcript_or_number(crafted: CaseStore) -> None:
    cases = crafted.cases_between(*PERIOD)
    text = to_csv(cases)
    assert next(csv.reader(io.StringIO(text))) == list(CSV_COLUMNS)
    rows = _rows(text)
    assert len(rows) == len(CRAFTED)
    first = next(row for row in rows if row["reference"] == cases[0].reference)
    assert first == {
        "reference": cases[0].reference, "created_at": "2026-11-10T09:00:00+00:00", "channel": "voice",
        "service": "council_tax", "authority": "city", "centre": "lancaster_town_hall",
        "reason": "person_requested", "priority": "normal", "status": "resolved", "outcome": "resolved_at_desk",
        "minutes_to_claim": "5.0", "minutes_to_resolve": "20.0",
    }
    unclaimed = next(row for row in rows if row["status"] == "open")
    assert (unclaimed["outcome"], unclaimed["minutes_to_claim"], unclaimed["minutes_to_resolve"]) == ("", "", "")
    assert "neighbour" not in text and "pass this on" not in text
    assert "7700" not in text and "900123" not in text  # neither the number nor its masked form


def test_csv_guards_cells_a_spreadsheet_would_run(crafted: CaseStore) -> None:
    case = crafted.cases_between(*PERIOD)[0]
    hostile = dataclasses.replace(case, service='=HYPERLINK("http://x","y")', centre="@SUM(A1)", channel="+1",
                                  outcome="-2+3", authority="\t=1")
    (row,) = _rows(to_csv([hostile]))
    assert row["service"] == "'=HYPERLINK(\"http://x\",\"y\")"
    assert (row["centre"], row["channel"], row["outcome"], row["authority"]) == ("'@SUM(A1)", "'+1", "'-2+3", "'\t=1")
    assert row["reason"] == "person_requested"  # ordinary cells untouched
    assert reports.safe_cell(None) == "" and reports.safe_cell("a=b") == "a=b"


# --- charts and text ---------------------------------------------------------------


def test_charts_are_pngs(report: CaseReport) -> None:
    images = charts(report)
    assert tuple(images) == CHARTS
    for name, png in images.items():
        assert png.startswith(PNG), name
        assert len(png) > 2000, name


def test_charts_of_an_empty_period_are_pngs(crafted: CaseStore) -> None:
    empty = case_report(crafted, T0 + timedelta(days=3), T0 + timedelta(days=4))
    assert all(png.startswith(PNG) for png in charts(empty).values())


def test_format_text(report: CaseReport) -> None:
    text = format_text(report)
    assert text.startswith("Handed-off cases, 10 Nov 2026 09:00 to 10 Nov 2026 11:00 (London time)")
    assert "Cases: 11" in text
    assert "Time to claim (10 claimed): median 27.5 min, 90th percentile 45.0 min" in text
    assert "Time to resolve (6 with an outcome): median 45.0 min, 90th percentile 70.0 min" in text
    assert "Resolved at first contact: 33.3% (2 of 6)" in text
    for line in ("Council Tax", "Lancaster Town Hall", "No outcome yet", "Caller asked for a person"):
        assert line in text
    assert any(line.split() == ["Morecambe", "Town", "Hall", "3", "27.3%"] for line in text.splitlines())


# --- command line -------------------------------------------------------------------------


def test_main_prints_and_writes_csv_and_charts(crafted: CaseStore, database_url: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    out = tmp_path / "out"
    code = reports.main(["--from", "2026-11-10T09:00", "--to", "2026-11-10T11:00",
                         "--csv", str(out / "cases.csv"), "--charts", str(out / "charts")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Cases: 11" in printed and "Written:" in printed
    assert len(_rows((out / "cases.csv").read_text(encoding="utf-8"))) == 11
    for name in CHARTS:
        assert (out / "charts" / f"{name}.png").read_bytes().startswith(PNG)


def test_main_takes_whole_days_in_london_time(crafted: CaseStore, database_url: str,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert reports.main(["--from", "2026-11-10", "--to", "2026-11-10"]) == 0
    # The whole day: the crafted set and both cases just outside its two hours.
    assert "Cases: 13" in capsys.readouterr().out


def test_main_refuses_an_empty_or_malformed_period(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'council.db'}")
    assert reports.main(["--from", "2026-11-10", "--to", "2026-11-09"]) == 1
    assert reports.main(["--from", "next tuesday"]) == 1
    assert capsys.readouterr().err.count("cannot report") == 2
