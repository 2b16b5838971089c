"""Generated requests (Hypothesis, devtools/fuzz) against the case API, the
staff pages and the Twilio webhooks, each served for real: no 5xx. The
benchmark command sends more than 10,000 (`python -m devtools fuzz`); here a
few hundred per target, derandomised so CI sees the same ones each run."""

from __future__ import annotations

from typing import Iterator

import pytest

from devtools.fuzz.run import ServerError, fuzz
from devtools.fuzz.strategies import TARGETS
from devtools.fuzz.targets import Targets, running
from handoff.store import CaseStore

EXAMPLES = 150


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Targets]:
    with running(tmp_path_factory.mktemp("fuzz")) as served:
        yield served


@pytest.mark.parametrize("target", TARGETS)
def test_no_generated_request_gets_a_5xx(targets: Targets, target: str) -> None:
    tally = fuzz(targets, target, EXAMPLES, derandomize=True)
    assert tally.sent >= EXAMPLES and tally.server_errors == 0
    # The requests reach the handlers, not only the front door's refusals
    # (a staff form that worked answers 303, back to its page).
    assert sum(count for status, count in tally.statuses.items() if status < 400) >= EXAMPLES // 10


def test_a_5xx_is_caught_and_named(targets: Targets, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: a store that breaks makes the case API answer 500."""
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the disk has gone")

    monkeypatch.setattr(CaseStore, "create_case", broken)
    with pytest.raises(ServerError, match="500 for POST /api/cases"):
        fuzz(targets, "case_api", EXAMPLES, derandomize=True)
