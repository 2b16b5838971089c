"""The bridge benchmark's pure pieces; no stack is started and nothing is timed."""

from __future__ import annotations

import pytest

from devtools.bridge_bench import main
from devtools.bridge_bench.common import UTTERANCES
from devtools.bridge_bench.figures import LevelResult, Step, classify, markdown_table, next_step, target_check
from devtools.latency import summarise
from telephony_bridge import twiml
from telephony_bridge.voice import BOT_DOWN, DANGER

VOICE = twiml.Voice()
PAGE = "http://127.0.0.1:8123/voice/incoming"


def test_summary_gives_numpy_percentiles_and_max() -> None:
    figures = summarise([float(ms) for ms in range(1, 101)])
    assert figures == {"p50_ms": 50.5, "p95_ms": 95.0, "p99_ms": 99.0, "max_ms": 100.0}


def test_summary_of_nothing_is_empty_not_an_error() -> None:
    assert summarise([]) == {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}


def test_a_normal_answer_is_not_an_error() -> None:
    body = twiml.gather(["You can pay your council tax online."], "/voice/turn", "/voice/no-input", VOICE)
    assert classify(200, "application/xml", body) is None


def test_the_bot_down_apology_counts_as_degraded() -> None:
    body = twiml.gather([BOT_DOWN, DANGER, "Press 1 for council tax."], "/voice/turn?menu=", "/voice/no-input",
                        VOICE)
    assert classify(200, "application/xml", body) == "degraded"


@pytest.mark.parametrize("status, content_type, body, kind", [
    (500, "text/plain", "boom", "http 500"),
    (403, "text/plain", "Forbidden", "http 403"),
    (200, "application/json", "{}", "not TwiML"),
    (200, "application/xml", "<Response><Say>cut off", "not TwiML"),
    (200, "application/xml", "<html></html>", "not TwiML"),
    (200, "application/xml", "<Response><Say>Sorry, something went wrong on our side.</Say></Response>",
     "degraded"),
])
def test_errors_are_classified(status: int, content_type: str, body: str, kind: str) -> None:
    assert classify(status, content_type, body) == kind


def test_the_next_turn_goes_to_the_gather_action_resolved_against_the_bridge() -> None:
    body = twiml.gather(["Anything else?"], "/voice/turn?offer=council_tax", "/voice/no-input", VOICE)
    assert next_step(body, PAGE) == Step("gather", "http://127.0.0.1:8123/voice/turn?offer=council_tax")


def test_a_dial_ends_the_call_at_its_action_and_a_hangup_ends_it_there() -> None:
    dial = twiml.dial(["Putting you through."], "+441632960101", "/voice/dial-result?transfer=3",
                      "/voice/dial-status?transfer=3", VOICE)
    assert next_step(dial, PAGE) == Step("dial", "http://127.0.0.1:8123/voice/dial-result?transfer=3")
    assert next_step(twiml.hang_up(["Goodbye."], VOICE), PAGE) == Step("end")
    assert next_step("not xml", PAGE) == Step("end")


def _result(mode: str, level: int, p95: float, errors: int = 0) -> LevelResult:
    return LevelResult(mode, level, calls=level, turns=7 * level, errors=errors,
                       error_kinds={"degraded": errors} if errors else {}, p50_ms=p95 / 2, p95_ms=p95,
                       p99_ms=p95 * 1.2, max_ms=p95 * 1.5, turns_per_s=3.5, wall_s=40.0)


def test_the_table_has_a_row_per_mode_and_level_and_the_target_line() -> None:
    results = [_result("paced", 1, 120.0), _result("paced", 20, 380.0),
               _result("back-to-back", 20, 2600.0, errors=4)]
    table = markdown_table(results)
    lines = table.splitlines()
    assert lines[0].startswith("| mode | callers |")
    assert "| paced | 20 | 20 | 140 | 0 | 190 | 380 | 456 | 570 | 3.5 | 40.0 |" in lines
    assert "| back-to-back | 20 | 20 | 140 | 4 | 1300 | 2600 |" in table
    assert "zero errors: **met**" in table
    assert "- back-to-back x20: 4 degraded" in table


def test_the_target_is_missed_by_errors_as_well_as_by_latency() -> None:
    assert target_check([_result("paced", 20, 380.0, errors=1)])["met"] is False
    assert target_check([_result("paced", 20, 401.0)])["met"] is False
    assert target_check([_result("back-to-back", 20, 100.0)])["status"] == "not measured"


def test_utterances_avoid_words_that_end_a_call_early() -> None:
    assert len(UTTERANCES) >= 25
    for text in UTTERANCES:
        assert not any(word in text.split() for word in ("yes", "yeah", "bye", "999", "human", "emergency"))
        assert "a person" not in text and "speak to" not in text
        assert not text.endswith(("please", "thanks")) or text == "no thanks"


def test_traffic_only_goes_to_loopback() -> None:
    with pytest.raises(SystemExit):
        main(["--url", "http://example.org:8080"])
