"""python -m handoff COMMAND

  serve          run the handoff service (case API and staff pages) on --host/--port
  add-staff      add a member of staff who can sign in to the staff pages
  set-password   a new password for a member of staff (signs them out everywhere)
  disable-staff  stop an account signing in, at once (a leaver); enable-staff undoes it
  report         case figures over a period (`report --help` for its options)
  purge          remove transcripts (and callers' numbers) older than the retention period
(the case API under load: python -m devtools bench-handoff)
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from datetime import timedelta

from handoff.settings import DEFAULT_HOST, DEFAULT_PORT, AdminSettings, HandoffSettings, SettingsError
from plumbing.cli import dispatch, whole_days

PASS_THROUGH = {"report": "handoff.reports"}
ROLES = ("staff", "manager")


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from council.catalogue import CatalogueError
    from handoff.app import init_app
    from plumbing import logs

    logs.configure(logging.DEBUG if args.verbose else logging.INFO, component="handoff")
    try:
        settings = HandoffSettings.from_env()
        app = init_app(settings)
    except (SettingsError, CatalogueError) as exc:
        print(f"cannot start the handoff service: {exc}", file=sys.stderr)
        return 1
    if not settings.can_text:
        logging.getLogger("handoff").info("Twilio settings incomplete: case references are logged, not texted")
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


def _password(args: argparse.Namespace) -> str | None:
    """From stdin (first line) with --password-stdin, else typed twice."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        print("the two passwords differ", file=sys.stderr)
        return None
    return first


def cmd_add_staff(args: argparse.Namespace) -> int:
    from council.catalogue import CatalogueError, default_catalogue
    from handoff.accounts import add_staff
    from handoff.store import CaseStore

    try:
        settings = AdminSettings.from_env()
        catalogue = default_catalogue()
    except (SettingsError, CatalogueError) as exc:
        print(f"cannot add staff: {exc}", file=sys.stderr)
        return 1
    if args.centre not in catalogue.centres:
        print(f"cannot add staff: unknown centre {args.centre!r} (one of {', '.join(catalogue.centres)})",
              file=sys.stderr)
        return 2
    password = _password(args)
    if not password:
        print("cannot add staff: no password given", file=sys.stderr)
        return 2
    store = CaseStore(settings.database_url, catalogue)
    try:
        add_staff(store.engine, args.username, args.name, args.centre, password, role=args.role)
    except ValueError as exc:  # a taken username or a weak password, as accounts.py explains
        print(f"cannot add staff: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"added {args.role} {args.username!r} at {args.centre}")
    return 0


def _account_change(args: argparse.Namespace, change, done: str) -> int:  # noqa: ANN001 - an accounts function
    from handoff.accounts import AccountError
    from handoff.store import CaseStore

    try:
        settings = AdminSettings.from_env()
    except SettingsError as exc:
        print(f"cannot {args.command}: {exc}", file=sys.stderr)
        return 1
    store = CaseStore(settings.database_url)
    try:
        staff = change(store.engine)
    except AccountError as exc:
        print(f"cannot {args.command}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"{staff.username!r}: {done}; signed out everywhere")
    return 0


def cmd_set_password(args: argparse.Namespace) -> int:
    from handoff.accounts import set_password

    password = _password(args)
    if not password:
        print("cannot set-password: no password given", file=sys.stderr)
        return 2
    return _account_change(args, lambda engine: set_password(engine, args.username, password), "new password set")


def cmd_set_active(args: argparse.Namespace) -> int:
    from handoff.accounts import set_active

    return _account_change(args, lambda engine: set_active(engine, args.username, args.active),
                           "enabled" if args.active else "disabled")


def cmd_purge(args: argparse.Namespace) -> int:
    from council.clock import now
    from handoff.store import CaseStore

    try:
        settings = AdminSettings.from_env()
    except SettingsError as exc:
        print(f"cannot purge: {exc}", file=sys.stderr)
        return 1
    days = settings.retention_days if args.days is None else args.days
    store = CaseStore(settings.database_url)
    try:
        purged = store.purge_transcripts(now() - timedelta(days=days), actor="system")
    finally:
        store.close()
    print(f"purged {purged} transcript{'' if purged == 1 else 's'} of cases older than {days} days")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the handoff service")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.set_defaults(func=cmd_serve)
    staff = commands.add_parser("add-staff", help="add a member of staff")
    staff.add_argument("--username", required=True)
    staff.add_argument("--name", required=True, help="the name shown on the staff pages")
    staff.add_argument("--centre", required=True, help="a centre id of data/centres.yml")
    staff.add_argument("--role", choices=ROLES, default="staff")
    staff.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    staff.set_defaults(func=cmd_add_staff)
    password = commands.add_parser("set-password", help="give a member of staff a new password")
    password.add_argument("--username", required=True)
    password.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    password.set_defaults(func=cmd_set_password)
    for word, active, what in (("disable-staff", False, "stop an account signing in (a leaver)"),
                               ("enable-staff", True, "let a disabled account sign in again")):
        account = commands.add_parser(word, help=what)
        account.add_argument("--username", required=True)
        account.set_defaults(func=cmd_set_active, active=active)
    commands.add_parser("report", help="case figures over a period (`report --help`)")
    purge = commands.add_parser("purge", help="remove transcripts older than the retention period")
    purge.add_argument("--days", type=whole_days, default=None, help="default: HANDOFF_RETENTION_DAYS")
    purge.set_defaults(func=cmd_purge)
    return dispatch(parser, argv, PASS_THROUGH)


if __name__ == "__main__":
    sys.exit(main())
