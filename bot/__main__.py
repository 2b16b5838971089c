"""python -m bot COMMAND

  train     train the model if its inputs changed (cached by fingerprint)
  route     read utterances on stdin, one a line; write one JSON object a line
  validate  check the catalogue and the Rasa training data
  bench     held-out accuracy, out-of-scope figures, training time and route
            speed, written to reports/
  run       start the whole stack and phone the bot from this terminal
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
    from bot.bench import run_bench

    return run_bench(skip_training=args.skip_training)


def cmd_run(args: argparse.Namespace) -> int:
    from bot.stack import run_stack

    return run_stack()


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
    bench.add_argument("--skip-training", action="store_true",
                       help="reuse the current model instead of timing a training from scratch")
    bench.set_defaults(func=cmd_bench)
    commands.add_parser("run", help="talk to the bot in this terminal").set_defaults(func=cmd_run)
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
