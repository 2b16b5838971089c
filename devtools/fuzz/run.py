"""Drive one target with Hypothesis: every generated request is sent, every
status counted, and a 5xx fails (shrunk to the smallest request that gives
one)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings

from devtools.fuzz.sending import send
from devtools.fuzz.strategies import Req, requests_for
from devtools.fuzz.targets import Targets


@dataclass
class Tally:
    target: str
    statuses: Counter = field(default_factory=Counter)
    failure: str | None = None

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


class ServerError(AssertionError):
    pass


def fuzz(targets: Targets, target: str, examples: int, *, derandomize: bool = False) -> Tally:
    """Send `examples` generated requests to `target`; raises ServerError
    (naming the shrunk request) on a 5xx, after counting every status."""
    tally = Tally(target)

    @settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
              suppress_health_check=list(HealthCheck))
    @given(requests_for(target, targets.reference))
    def one(req: Req) -> None:
        status = send(targets, req)
        tally.statuses[status] += 1
        if status >= 500:
            raise ServerError(f"{status} for {req.describe()}")

    try:
        one()
    except ServerError as error:
        tally.failure = str(error)
        raise
    return tally
