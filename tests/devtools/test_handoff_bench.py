"""The handoff bench's pure pieces: percentiles, the plan, the lost and
duplicated check on small crafted results, and the markdown table. The
bench itself is a command (`python -m devtools bench-handoff`), not a test."""

from __future__ import annotations

import random

import pytest

from council.references import is_reference
from devtools.handoff_bench import Answer, DatabaseResult, check_integrity, common, figures, markdown_table
from devtools.latency import summarise


def test_summarise_percentiles() -> None:
    assert summarise([]) == {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    figures = summarise([float(n) for n in range(1, 101)])
    assert figures == {"p50_ms": 50.5, "p95_ms": 95.0, "p99_ms": 99.0, "max_ms": 100.0}
    assert summarise([12.0])["p99_ms"] == 12.0


def test_plan_makes_unique_valid_cases() -> None:
    cases = figures.plan_cases("run1", 200, random.Random(1))
    assert len({c["conversation_id"] for c in cases}) == 200
    assert len({c["reference"] for c in cases}) == 200
    assert all(is_reference(str(c["reference"])) for c in cases)
    assert {c["channel"] for c in cases} == {"voice", "sms", "chat"}
    assert all(("caller_number" in c) == (c["channel"] != "chat") for c in cases)
    assert all(str(c.get("caller_number", "+447700900")).startswith("+447700900") for c in cases)


def test_retry_plan_is_five_percent_split_between_kinds() -> None:
    retries = figures.plan_retries(10_000, 0.05, random.Random(7))
    assert len(retries) == 500
    assert sorted(set(retries.values())) == ["after", "race"]
    assert list(retries.values()).count("race") == 250
    assert figures.plan_retries(3, 0.05, random.Random(7)) != {}  # a small run still retries one
    assert figures.plan_retries(0, 0.05, random.Random(7)) == {}


def _clean() -> tuple[dict[str, list[Answer]], list[tuple[str, str, str]]]:
    answers = {"c1": [Answer(201, "LAN-AAA-A1")], "c2": [Answer(201, "LAN-AAA-A2"), Answer(200, "LAN-AAA-A2")],
               "c3": [Answer(200, "LAN-AAA-A3"), Answer(201, "LAN-AAA-A3")]}
    rows = [("LAN-AAA-A1", "c1", "resolved"), ("LAN-AAA-A2", "c2", "closed_no_contact"),
            ("LAN-AAA-A3", "c3", "resolved")]
    return answers, rows


def test_integrity_of_a_clean_run() -> None:
    check = check_integrity(*_clean(), create_audits=3)
    assert check.ok
    assert (check.sent, check.rows, check.distinct_references, check.distinct_conversations) == (3, 3, 3, 3)
    assert (check.lost, check.duplicated, check.unanswered, check.created_twice, check.retry_mismatch,
            check.unfinished) == (0, 0, 0, 0, 0, 0)


def test_integrity_counts_a_missing_row_as_lost() -> None:
    answers, rows = _clean()
    check = check_integrity(answers, rows[1:])
    assert (check.lost, check.duplicated, check.ok) == (1, 0, False)


def test_integrity_counts_an_answer_with_a_reference_nobody_holds_as_lost() -> None:
    answers, rows = _clean()
    rows[0] = ("LAN-ZZZ-Z9", "c1", "resolved")
    assert check_integrity(answers, rows).lost == 1


def test_integrity_counts_a_second_row_for_a_conversation_as_duplicated() -> None:
    answers, rows = _clean()
    answers["c2"] = [Answer(201, "LAN-AAA-A2"), Answer(201, "LAN-BBB-B2")]
    rows.append(("LAN-BBB-B2", "c2", "open"))
    check = check_integrity(answers, rows)
    assert (check.duplicated, check.created_twice, check.retry_mismatch, check.unfinished) == (1, 1, 1, 1)
    assert check.lost == 0 and not check.ok


def test_integrity_counts_a_create_that_never_succeeded() -> None:
    answers, rows = _clean()
    answers["c4"] = [Answer(None, None), Answer(500, None)]
    check = check_integrity(answers, rows)
    assert (check.unanswered, check.lost) == (1, 1)


def _result(lost: int = 0) -> DatabaseResult:
    result = DatabaseResult("sqlite", "child process", cases=100, clients=20)
    for name in common.OPERATIONS:
        result.operations[name] = {"requests": 100, "errors": 2 if name == "claim" else 0,
                                   "error_kinds": {"http 409": 2} if name == "claim" else {},
                                   "p50_ms": 8.25, "p95_ms": 31.0, "p99_ms": 140.0, "max_ms": 250.5}
    for name in common.PHASES:
        result.phases[name] = {"cases": 100, "wall_s": 1.5, "cases_per_s": 66.7}
    result.integrity = {"sent": 100, "rows": 100 - lost, "distinct_references": 100 - lost,
                        "distinct_conversations": 100 - lost, "lost": lost, "duplicated": 0, "unanswered": 0,
                        "created_twice": 0, "retry_mismatch": 0, "unfinished": 0, "create_audits": 100}
    return result


def test_markdown_table_per_database() -> None:
    text = markdown_table(_result())
    lines = text.splitlines()
    assert lines[0] == "### sqlite"
    assert "| create | 100 | 0 | 8.2 | 31.0 | 140 | 250 | 66.7 | 1.5 |" in lines
    assert "| retry | 100 | 0 | 8.2 | 31.0 | 140 | 250 | - | - |" in lines
    assert "- claim: 2 http 409" in lines
    assert lines[-1] == "Target: zero lost or duplicated cases: **met**"


@pytest.mark.parametrize(("lost", "status"), [(0, "met"), (1, "NOT met")])
def test_target_line(lost: int, status: str) -> None:
    result = _result(lost)
    assert markdown_table(result).endswith(f"**{status}**")
    assert figures.target_status([result]) == status


def test_a_database_not_run_says_why() -> None:
    skipped = DatabaseResult("postgresql", "", 100, 20, skipped="no PostgreSQL server answers at 127.0.0.1:5432")
    assert markdown_table(skipped) == "### postgresql\n\nNot run: no PostgreSQL server answers at 127.0.0.1:5432"
    assert figures.target_status([skipped]) == "not measured"
    assert figures.target_status([skipped, _result()]) == "met"


def test_clash_text_says_when_the_service_swapped_the_reference() -> None:
    swapped = figures.clash_text({"status": 201, "sent_reference": "LAN-AAA-A1", "answered_reference": "LAN-CCC-C3"},
                               10_000)
    assert "HTTP 201, answered with a new reference LAN-CCC-C3 instead of the one sent" in swapped
    assert f"about {figures.expected_clashes(10_000):.1f} clashes in 10,000 cases" in swapped
    assert 1 < figures.expected_clashes(10_000) < 10  # 12 million references: a handful in 10,000
    refused = figures.clash_text({"status": 409, "error": "reference in use", "sent_reference": "LAN-AAA-A1"}, 10)
    assert "HTTP 409 (reference in use)." in refused
    assert figures.expected_clashes(1) == 0.0
