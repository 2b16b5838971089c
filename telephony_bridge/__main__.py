"""python -m telephony_bridge COMMAND

  serve   run the bridge (Twilio's webhooks) on --host/--port
  report  the service-level measures of the call log over a period
  purge   remove calls older than the retention period (CALLLOG_RETENTION_DAYS)
(the call simulator and the bridge bench: python -m devtools call | bench-bridge)
"""

from __future__ import annotations

import argparse
import logging
import sys

from plumbing.cli import dispatch, whole_days
from telephony_bridge.settings import DEFAULT_HOST, DEFAULT_PORT, Settings, SettingsError


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from council.catalogue import CatalogueError
    from plumbing import logs
    from telephony_bridge.app import init_app

    logs.configure(logging.DEBUG if args.verbose else logging.INFO, component="bridge")
    try:
        settings = Settings.from_env()
        app = init_app(settings)
    except (SettingsError, CatalogueError) as exc:
        print(f"cannot start the bridge: {exc}", file=sys.stderr)
        return 1
    if settings.public_base_url is None:
        logging.getLogger("telephony_bridge").info(
            "PUBLIC_BASE_URL not set: signatures are checked against the address each request came to")
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from council.clock import now
    from council.periods import parse_period
    from telephony_bridge.calllog import CallLog
    from telephony_bridge.report import format_report, service_levels

    try:
        settings = Settings.from_env()
        start, end = parse_period(args.from_, args.to, now())
    except (SettingsError, ValueError) as exc:
        print(f"cannot report: {exc}", file=sys.stderr)
        return 1
    log = CallLog(settings.database_url)
    try:
        print(format_report(service_levels(log, start, end)))
    finally:
        log.close()
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from council.clock import now
    from telephony_bridge.calllog import CallLog

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"cannot purge: {exc}", file=sys.stderr)
        return 1
    days = settings.calllog_retention_days if args.days is None else args.days
    log = CallLog(settings.database_url)
    try:
        purged = log.purge(now() - timedelta(days=days))
    finally:
        log.close()
    print(f"purged {purged} call{'' if purged == 1 else 's'} older than {days} days")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m telephony_bridge", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the bridge")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.set_defaults(func=cmd_serve)
    report = commands.add_parser("report", help="service levels from the call log")
    report.add_argument("--from", dest="from_", help="start date or date-time (default: 7 days ago)")
    report.add_argument("--to", help="end date or date-time (default: now)")
    report.set_defaults(func=cmd_report)
    purge = commands.add_parser("purge", help="remove calls older than the retention period")
    purge.add_argument("--days", type=whole_days, default=None, help="default: CALLLOG_RETENTION_DAYS (365)")
    purge.set_defaults(func=cmd_purge)
    return dispatch(parser, argv, {})


if __name__ == "__main__":
    sys.exit(main())
