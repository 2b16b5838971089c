"""python -m bot COMMAND

  train     train the model if its inputs changed (cached by fingerprint)
  route     read utterances on stdin, one a line; write one JSON object a line
  validate  check the catalogue and the Rasa training data
  bench     held-out accuracy, out-of-scope figures, training time and route
            speed, written to reports/ (`bench clinc`: the NLU pipeline on
            the public CLINC150 benchmark)
  tune      choose the blend and thresholds on the development set
            (reports/council-tune.md); never on the test set
  run       start the whole stack and phone the bot from this terminal
  serve     run the Rasa server (REST channel; stores from ACTION_SERVER_URL,
            TRACKER_STORE_URL, LOCK_STORE_URL; JSON logs)
  actions   run the action server (JSON logs carrying the request id)
  replay    record conversations as test files; replay them against the bot
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

# TensorFlow and Rasa are chatty on stderr; keep the terminal for people.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("LOG_LEVEL", "WARNING")

EXIT_NO_MODEL = 2


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for noisy in ("rasa", "tensorflow", "absl", "matplotlib", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    # Rasa logs through structlog, which by default prints every level to
    # stdout: `route` owns stdout for its JSON lines, so send Rasa's to stderr.
    import structlog

    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO if verbose else logging.WARNING),
    )


def cmd_train(args: argparse.Namespace) -> int:
    from bot.catalogue import load_catalogue
    from bot.training import ensure_model

    load_catalogue()  # fail fast, naming the entry, before minutes of training
    path = ensure_model()
    print(path)
    return 0


def _model_or_exit(given: str | None) -> Path:
    from bot.training import current_model

    path = Path(given) if given else current_model()
    if path is None or not path.is_file():
        where = given or "models/ for the current training data"
        print(
            f"No trained model found ({where}). Train one first with `python -m bot train` (or `make train`).",
            file=sys.stderr,
        )
        sys.exit(EXIT_NO_MODEL)
    return path


async def _route_stream(model: Path) -> None:
    from bot.routing import Router

    router = Router(model)
    loop = asyncio.get_running_loop()
    while True:
        raw = await loop.run_in_executor(None, sys.stdin.buffer.readline)
        if not raw:
            break
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        route = await router.route(text)
        sys.stdout.write(json.dumps(route.as_dict(), ensure_ascii=False) + "\n")
        sys.stdout.flush()


def cmd_route(args: argparse.Namespace) -> int:
    from bot.catalogue import load_catalogue

    load_catalogue()
    asyncio.run(_route_stream(_model_or_exit(args.model)))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from bot.validation import validate_all

    problems = validate_all()
    for problem in problems:
        print(problem, file=sys.stderr)
    print("data is valid" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.suite == "clinc":
        if args.skip_training:
            print("--skip-training is for the council bench: CLINC150 is always trained from scratch",
                  file=sys.stderr)
            return 2
        from bot.clinc import run_clinc_bench

        return run_clinc_bench(data=args.data)
    from bot.bench import run_bench

    return run_bench(skip_training=args.skip_training)


def cmd_tune(args: argparse.Namespace) -> int:
    from bot.tuning import run_tune

    return run_tune(_model_or_exit(args.model))


def cmd_replay(args: argparse.Namespace) -> int:
    from bot import replay

    if args.replay_command == "run":
        return replay.command_run(args.paths, model=None if args.stack else _model_or_exit(args.model),
                                  stack=args.stack, token=args.token, public_url=args.public_url,
                                  clock=args.clock, junit=args.junit)
    return replay.command_record(
        ids=args.id, last=args.last, handoffs=args.handoffs, out=Path(args.out), when=args.when,
        match=args.match, fill_paths=args.fill, model=_model_or_exit(args.model) if args.fill else None,
        store=args.store)


def _replay_parser(commands: argparse._SubParsersAction) -> None:
    from bot.replay import CONVERSATIONS_DIR, MATCHES

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
    from bot.stack import run_stack

    return run_stack()


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.serve import serve_rasa

    return serve_rasa(args.host, args.port, _model_or_exit(args.model))


def cmd_actions(args: argparse.Namespace) -> int:
    from bot.serve import serve_actions

    return serve_actions(args.host, args.port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("train", help="train the model if its inputs changed").set_defaults(func=cmd_train)
    route = commands.add_parser("route", help="route utterances from stdin to JSON lines")
    route.add_argument("--model", help="a trained model (default: the one for the current data)")
    route.set_defaults(func=cmd_route)
    commands.add_parser("validate", help="check catalogue and training data").set_defaults(func=cmd_validate)
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
    commands.add_parser("run", help="talk to the bot in this terminal").set_defaults(func=cmd_run)
    serve = commands.add_parser("serve", help="run the Rasa server (REST channel, stores from settings)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5005)
    serve.add_argument("--model", help="a trained model (default: the one for the current data)")
    serve.set_defaults(func=cmd_serve)
    actions = commands.add_parser("actions", help="run the action server")
    actions.add_argument("--host", default="127.0.0.1")
    actions.add_argument("--port", type=int, default=5055)
    actions.set_defaults(func=cmd_actions)
    _replay_parser(commands)
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    from bot.catalogue import CatalogueError

    try:
        return args.func(args)
    except CatalogueError as exc:
        print(f"data/ is not valid: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
