"""python -m webchat COMMAND

  serve   run the residents' web chat (page, embed and its endpoint) on --host/--port
"""

from __future__ import annotations

import argparse
import logging
import sys

from plumbing.cli import dispatch
from webchat.settings import DEFAULT_HOST, DEFAULT_PORT, SettingsError, WebchatSettings


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from council.catalogue import CatalogueError
    from plumbing import logs
    from webchat.app import init_app

    logs.configure(logging.DEBUG if args.verbose else logging.INFO, component="webchat")
    try:
        app = init_app(WebchatSettings.from_env())
    except (SettingsError, CatalogueError) as exc:
        print(f"cannot start the web chat: {exc}", file=sys.stderr)
        return 1
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webchat", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web chat")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.set_defaults(func=cmd_serve)
    return dispatch(parser, argv, {})


if __name__ == "__main__":
    sys.exit(main())
