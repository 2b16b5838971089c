"""python -m devtools COMMAND: the developer's tools (not in the images)

  run            start the whole stack and phone the bot from this terminal
  bench          held-out accuracy, out-of-scope figures, training time and
                 route speed, written to reports/ (`bench clinc`: the NLU
                 pipeline on the public CLINC150 benchmark)
  tune           choose the blend and thresholds on the development set
                 (reports/council-tune.md); never on the test set
  replay         record conversations as test files; replay them against the bot
  call           phone a running bridge from this terminal, as Twilio would
  bench-bridge   simulated concurrent calls against the real local stack
  bench-handoff  the case API under load, SQLite and PostgreSQL
  bench-dial     speech dial on the blind misheard requests, against jellyfish
                 and RapidFuzz in place of the project's own pieces
  bench-faults   genuine calls while ten clients flood the bridge and while the
                 call log is locked (reports/fault-bench.md)
  fuzz           generated requests to the case API, staff pages, webhooks and
                 web chat: no 5xx (reports/fuzz.md)
  readability    reading age of every response and topic answer
                 (reports/readability.md; the target is 9 or below)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.training import model_or_exit
from council.catalogue import CatalogueError
from plumbing.cli import dispatch, run_command
from plumbing.logs import configure_terminal

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("LOG_LEVEL", "WARNING")

PASS_THROUGH = {"call": "devtools.simulator", "bench-bridge": "devtools.bridge_bench",
                "bench-handoff": "devtools.handoff_bench", "bench-dial": "devtools.dial_bench",
                "fuzz": "devtools.fuzz", "bench-faults": "devtools.fault_bench", "readability": "devtools.readability"}


def cmd_bench(args: argparse.Namespace) -> int:
    if args.suite == "clinc":
        if args.skip_training:
            print("--skip-training is for the council bench: CLINC150 is always trained from scratch",
                  file=sys.stderr)
            return 2
        from devtools.clinc import run_clinc_bench

        return run_clinc_bench(data=args.data)
    from devtools.bench import run_bench

    return run_bench(skip_training=args.skip_training)


def cmd_tune(args: argparse.Namespace) -> int:
    from devtools.tuning import run_tune

    return run_tune(model_or_exit(args.model))


def cmd_replay(args: argparse.Namespace) -> int:
    from devtools import replay

    if args.replay_command == "run":
        return replay.command_run(args.paths, model=None if args.stack else model_or_exit(args.model),
                                  stack=args.stack, token=args.token, public_url=args.public_url,
                                  clock=args.clock, junit=args.junit)
    return replay.command_record(
        ids=args.id, last=args.last, handoffs=args.handoffs, out=Path(args.out), when=args.when,
        match=args.match, fill_paths=args.fill, model=model_or_exit(args.model) if args.fill else None,
        store=args.store)


def _replay_parser(commands: argparse._SubParsersAction) -> None:
    from devtools.replay import CONVERSATIONS_DIR, MATCHES

    replay = commands.add_parser("replay", help="record conversations as tests; replay them against the bot")
    verbs = replay.add_subparsers(dest="replay_command", required=True)
    run = verbs.add_parser("run", help="replay conversation files; exit 1 on any divergence")
    run.add_argument("paths", nargs="*", help="files or directories (default: tests/conversations/)")
    run.add_argument("--model", help="a trained model (default: the one for the current data)")
    run.add_argument("--stack", metavar="URL", help="replay as phone calls and texts to the bridge at URL")
    run.add_argument("--token", help="the bridge's Twilio auth token (default: TWILIO_AUTH_TOKEN or the "
                                     "development token)", default=os.environ.get("TWILIO_AUTH_TOKEN") or None)
    run.add_argument("--public-url", help="the address the bridge checks signatures against (PUBLIC_BASE_URL)",
                     default=os.environ.get("PUBLIC_BASE_URL") or None)
    run.add_argument("--clock", help="with --stack: the stack's FAKE_NOW; conversations recorded at another "
                                     "time are skipped (default: FAKE_NOW)")
    run.add_argument("--junit", metavar="PATH", help="also write JUnit XML here")
    record = verbs.add_parser("record", help="write stored conversations as test files (numbers, names replaced)")
    record.add_argument("--id", action="append", default=[], help="a conversation (sender) id; repeatable")
    record.add_argument("--last", type=int, help="the last N conversations (default 1)")
    record.add_argument("--handoffs", action="store_true", help="only conversations that made a case for staff")
    record.add_argument("--store", metavar="URL", help="the tracker store's SQLAlchemy URL (default: "
                                                        "TRACKER_STORE_URL, else var/tracker.db)")
    record.add_argument("--out", default=str(CONVERSATIONS_DIR), help="where to write (default tests/conversations/)")
    record.add_argument("--when", help="the clock to replay them at (default: when each began)")
    record.add_argument("--match", choices=MATCHES, default="text",
                        help="compare replies word for word (text) or by response name (name)")
    record.add_argument("--fill", nargs="+", default=[], metavar="FILE",
                        help="instead: write what the current bot does into these files' expectations")
    record.add_argument("--model", help="with --fill: a trained model (default: the current one)")
    replay.set_defaults(func=cmd_replay)


def cmd_run(args: argparse.Namespace) -> int:
    from devtools.stack import run_stack

    return run_stack()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="talk to the bot in this terminal").set_defaults(func=cmd_run)
    bench = commands.add_parser("bench", help="measure routing quality and speed into reports/")
    bench.add_argument("suite", nargs="?", choices=("council", "clinc"), default="council",
                       help="council: the bot's held-out set (default); clinc: the pipeline on CLINC150")
    bench.add_argument("--skip-training", action="store_true",
                       help="reuse the current model instead of timing a training from scratch")
    bench.add_argument("--data", help="CLINC150 data_full.json (default: $CLINC150_DATA, else "
                                      "../shared/benchmarks/clinc150/ beside the repository)")
    bench.set_defaults(func=cmd_bench)
    tune = commands.add_parser("tune", help="choose the blend and thresholds on the development set")
    tune.add_argument("--model", help="a trained model (default: the one for the current data)")
    tune.set_defaults(func=cmd_tune)
    _replay_parser(commands)
    commands.add_parser("call", help="phone a running bridge (`call --help` for its options)")
    commands.add_parser("bench-bridge", help="latency under concurrent calls, into reports/ (`bench-bridge --help`)")
    commands.add_parser("bench-handoff", help="the case API under load (`bench-handoff --help`)")
    commands.add_parser("bench-dial", help="speech dial on the blind misheard requests, into reports/")
    commands.add_parser("bench-faults", help="calls under a flood and a stalled call log (`bench-faults --help`)")
    commands.add_parser("fuzz", help="generated requests to every web entry point: no 5xx (`fuzz --help`)")
    commands.add_parser("readability", help="reading age of every response and topic answer, into reports/")
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in PASS_THROUGH:
        return dispatch(parser, argv, PASS_THROUGH)
    args = parser.parse_args(argv)
    configure_terminal(args.verbose)
    return run_command(lambda: args.func(args), {CatalogueError: "data/ is not valid: {}"})


if __name__ == "__main__":
    sys.exit(main())
