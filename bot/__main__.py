"""python -m bot COMMAND: the Rasa project (developer tools: python -m devtools)

  train     train the model if its inputs changed (cached by fingerprint)
  route     read utterances on stdin, one a line; write one JSON object a line
  validate  check the catalogue and the Rasa training data
  serve     run the Rasa server (REST channel; stores from ACTION_SERVER_URL,
            TRACKER_STORE_URL, LOCK_STORE_URL; JSON logs)
  actions   run the action server (JSON logs carrying the request id)
  purge     remove conversations last active over TRACKER_RETENTION_DAYS ago
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from plumbing.cli import whole_days

# TensorFlow and Rasa are chatty on stderr; keep the terminal for people.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("LOG_LEVEL", "WARNING")

def cmd_train(args: argparse.Namespace) -> int:
    from bot.training import ensure_model
    from council.catalogue import load_catalogue

    load_catalogue()  # fail fast, naming the entry, before minutes of training
    path = ensure_model()
    print(path)
    return 0


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
    from bot.training import model_or_exit
    from council.catalogue import load_catalogue

    load_catalogue()
    asyncio.run(_route_stream(model_or_exit(args.model)))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from bot.validation import validate_all

    problems = validate_all()
    for problem in problems:
        print(problem, file=sys.stderr)
    print("data is valid" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.serve import serve_rasa
    from bot.training import model_or_exit

    return serve_rasa(args.host, args.port, model_or_exit(args.model))


def cmd_actions(args: argparse.Namespace) -> int:
    from bot.serve import serve_actions

    return serve_actions(args.host, args.port)


def cmd_purge(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot.serve import DEFAULT_TRACKER_STORE_URL, MEMORY
    from bot.tracker_retention import purge
    from council.clock import now
    from plumbing.settings import SettingsError, whole

    env = os.environ
    try:
        days = whole(env, "TRACKER_RETENTION_DAYS", 90, 1, 3650) if args.days is None else args.days
    except SettingsError as exc:
        print(f"cannot purge: {exc}", file=sys.stderr)
        return 1
    url = os.environ.get("TRACKER_STORE_URL", "").strip() or DEFAULT_TRACKER_STORE_URL
    purged = 0 if url == MEMORY else purge(url, now() - timedelta(days=days))
    print(f"purged {purged} conversation{'' if purged == 1 else 's'} last active over {days} days ago")
    return 0


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
    serve = commands.add_parser("serve", help="run the Rasa server (REST channel, stores from settings)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5005)
    serve.add_argument("--model", help="a trained model (default: the one for the current data)")
    serve.set_defaults(func=cmd_serve)
    actions = commands.add_parser("actions", help="run the action server")
    actions.add_argument("--host", default="127.0.0.1")
    actions.add_argument("--port", type=int, default=5055)
    actions.set_defaults(func=cmd_actions)
    purge = commands.add_parser("purge", help="remove conversations older than TRACKER_RETENTION_DAYS")
    purge.add_argument("--days", type=whole_days, default=None, help="default: TRACKER_RETENTION_DAYS (90)")
    purge.set_defaults(func=cmd_purge)
    args = parser.parse_args(argv)
    from plumbing.logs import configure_terminal

    configure_terminal(args.verbose)
    from council.catalogue import CatalogueError
    from plumbing.cli import run_command

    return run_command(lambda: args.func(args), {CatalogueError: "data/ is not valid: {}"})


if __name__ == "__main__":
    sys.exit(main())
