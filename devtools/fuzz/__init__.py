"""Generated requests against the case API, the staff pages, the Twilio
webhooks and the web chat, served for real on local ports: no answer may be
a 5xx.

`python -m devtools fuzz` sends thousands (reports/fuzz.md); the tests send
a few hundred with the same strategies (tests/devtools/test_fuzz.py).

`python -m devtools fuzz [--examples N]`: N generated requests (default
3,400) to each target; writes reports/fuzz.md and exits 1 on any 5xx.
"""


from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from devtools.fuzz.run import ServerError, Tally, fuzz
from devtools.fuzz.strategies import TARGETS
from devtools.fuzz.targets import running
from plumbing.paths import ROOT


def _report(tallies: list[Tally], examples: int, seconds: float) -> str:
    lines = ["# Generated requests: no 5xx", "",
             f"`python -m devtools fuzz --examples {examples}`: Hypothesis strategies in `devtools/fuzz/`, "
             "each target served for real on a local port (the bridge with Rasa unreachable, "
             "the web chat with a stand-in bot).", "",
             "| target | requests | 5xx | statuses |", "|---|---|---|---|"]
    for tally in tallies:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(tally.statuses.items()))
        lines.append(f"| {tally.target} | {tally.sent} | {tally.server_errors} | {statuses} |")
    total = sum(t.sent for t in tallies)
    lines += ["", f"{total} requests in {seconds:.0f} s; 5xx: {sum(t.server_errors for t in tallies)}."]
    lines += [f"\nFirst 5xx ({t.target}): {t.failure}" for t in tallies if t.failure]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=3400, help="requests per target (default 3400)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "fuzz.md"))
    args = parser.parse_args(argv)
    tallies: list[Tally] = []
    started = time.perf_counter()
    code = 0
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp, running(Path(tmp)) as targets:
        for target in TARGETS:
            try:
                tallies.append(fuzz(targets, target, args.examples))
            except ServerError as error:
                print(error, file=sys.stderr)
                code = 1
            print(f"{target}: done", file=sys.stderr)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_report(tallies, args.examples, time.perf_counter() - started), encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(
        {t.target: {"sent": t.sent, "server_errors": t.server_errors, "statuses": dict(t.statuses)}
         for t in tallies}, indent=2), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))
    return code


if __name__ == "__main__":
    sys.exit(main())
