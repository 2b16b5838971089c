"""`python -m devtools bench-handoff`: the case API under concurrent clients, on
SQLite and PostgreSQL, with a check that no case is lost or duplicated.

For each database the bench starts the handoff service as a child process
(`python -m handoff serve` on a free loopback port) over a database made for
the run: a temporary SQLite file, or a fresh PostgreSQL database when a
server answers at 127.0.0.1:5432, dropped afterwards. Then `--clients`
concurrent clients:

  create   POST /api/cases for every case (unique conversation ids, references
           made by the client as the bot's actions make them). 5% of cases are
           sent twice: half re-sent after the first answer (a retry after an
           ambiguous failure), half sent twice at once (two deliveries racing).
  claim    POST /api/cases/{reference}/claim for every case
  outcome  POST /api/cases/{reference}/outcome for every case

and it times every request (sent to JSON answer read, client side). Then it
counts rows, distinct references and distinct conversation ids directly in
the database: every case must be there exactly once, under the reference
its create was answered with, and finished. Finally one probe: a new
conversation sent with a reference another case already holds, to record
how the service answers a reference clash.

Writes reports/handoff_bench.json and reports/handoff_bench.md and prints the
tables. Nothing asserts timings: the machine is shared and noisy.

  python -m devtools bench-handoff [--cases 10000] [--clients 20]
      [--databases sqlite,postgresql] [--seed 7] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Mapping, Sequence

from devtools.handoff_bench.common import (
    BENCH_TOKEN,
    DATABASES,
    DEFAULT_CASES,
    DEFAULT_CLIENTS,
    QUICK_CASES,
    REQUEST_TIMEOUT_S,
    RETRY_SHARE,
    TARGET,
)
from devtools.handoff_bench.figures import (
    Answer,
    DatabaseResult,
    check_integrity,
    markdown_table,
    plan_cases,
    plan_retries,
    target_status,
)
from devtools.handoff_bench.service import (
    Service,
    create_audits,
    postgres_user,
    probe_clash,
    scratch_database,
    stored_rows,
)
from devtools.handoff_bench.traffic import drive
from devtools.latency import machine_info, summarise
from plumbing.cli import own_arguments
from plumbing.paths import REPORTS_DIR, VAR_DIR


def bench_database(kind: str, count: int, clients: int, seed: int) -> DatabaseResult:
    run_id = uuid.uuid4().hex[:10]
    result = DatabaseResult(database=kind, server="", cases=count, clients=clients)
    rng = random.Random(f"{seed}:{kind}")
    cases = plan_cases(run_id, count, rng)
    retries = plan_retries(count, RETRY_SHARE, rng)
    print(f"{kind}: {count} cases, {clients} clients, {len(retries)} re-sent...", flush=True)
    try:
        with scratch_database(kind, run_id) as database_url:
            service = Service(database_url, VAR_DIR / "logs" / f"bench-handoff-{kind}.log")
            try:
                service.start()
                result.server = service.mode
                run, stored = asyncio.run(drive(service.url, BENCH_TOKEN, cases, retries, clients))
                integrity = check_integrity(run.answers, stored_rows(database_url, f"bench-{run_id}-"),
                                            create_audits=create_audits(database_url))
                if stored:
                    result.reference_clash = asyncio.run(
                        probe_clash(service.url, BENCH_TOKEN, run_id, next(iter(stored.values())), database_url))
            finally:
                service.close()
    except (RuntimeError, OSError) as exc:
        result.skipped = str(exc)
        print(f"  not run: {exc}", flush=True)
        return result
    for name, stats in run.operations.items():
        result.operations[name] = {"requests": stats.requests, "errors": stats.errors,
                                   "error_kinds": dict(stats.error_kinds), **summarise(stats.latencies_ms)}
    result.phases = run.phases
    result.integrity = {**asdict(integrity), "ok": integrity.ok}
    return result




def report_text(results: Sequence[DatabaseResult], machine: Mapping[str, object]) -> str:
    intro = (f"Latency = POST sent to JSON answer read, client side over loopback, bench and service on the same "
             f"machine ({machine['cpu_count']} CPUs, Python {machine['python']}, {machine['date']}). cases/s = "
             f"cases done in the phase / its wall time. Retries are {RETRY_SHARE:.0%} of cases sent twice "
             f"(half after the first answer, half at the same time).")
    tables = "\n\n".join(markdown_table(r) for r in results)
    return (f"# Handoff service benchmark\n\n{intro}\n\n{tables}\n\n"
            f"Overall target: {TARGET}: **{target_status(results)}**\n")


def write_reports(results: Sequence[DatabaseResult], options: Mapping[str, object], directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    figures = {"machine": machine, "options": dict(options),
               "target": {"target": TARGET, "status": target_status(results)},
               "results": {r.database: {**asdict(r), "target_met": r.target_met} for r in results}}
    (directory / "handoff_bench.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    text = report_text(results, machine)
    (directory / "handoff_bench.md").write_text(text, encoding="utf-8")
    return text




def _databases(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    if not names or any(name not in DATABASES for name in names):
        raise argparse.ArgumentTypeError(f"databases are {', '.join(DATABASES)}")
    return names


def _bounded(low: int, high: int):  # type: ignore[no-untyped-def]
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m devtools bench-handoff", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=_bounded(1, 1_000_000), help=f"cases per database (default {DEFAULT_CASES})")
    p.add_argument("--clients", type=_bounded(1, 500), default=DEFAULT_CLIENTS,
                   help=f"concurrent clients (default {DEFAULT_CLIENTS})")
    p.add_argument("--databases", type=_databases, default=DATABASES, help="sqlite,postgresql (default both)")
    p.add_argument("--seed", type=int, default=7, help="seeds the retried cases and the callers' numbers")
    p.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_CASES} cases")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(own_arguments(argv))
    count = args.cases or (QUICK_CASES if args.quick else DEFAULT_CASES)
    results = []
    for kind in args.databases:
        if kind == "postgresql" and postgres_user()[0] is None:
            results.append(DatabaseResult(kind, "", count, args.clients, skipped=postgres_user()[1]))
            print(f"postgresql: not run: {results[-1].skipped}", flush=True)
            continue
        results.append(bench_database(kind, count, args.clients, args.seed))
    options = {"cases": count, "clients": args.clients, "databases": list(args.databases), "seed": args.seed,
               "retry_share": RETRY_SHARE, "request_timeout_s": REQUEST_TIMEOUT_S}
    text = write_reports(results, options, REPORTS_DIR)
    print()
    print(text)
    print("Written to reports/handoff_bench.json and handoff_bench.md")
    return 0 if target_status(results) != "NOT met" else 1


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Answer", "DatabaseResult", "check_integrity", "main", "markdown_table", "parser"]
