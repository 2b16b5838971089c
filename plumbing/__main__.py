"""python -m plumbing COMMAND: the shared database

  migrate   bring DATABASE_URL to the newest schema (the call log's and the
            case store's tables; with --tracker, Rasa's tracker table too),
            then grant each service's runtime role its own tables
            (--grant bridge=ROLE, handoff=ROLE, rasa=ROLE; PostgreSQL only)

In production the migration role runs this once per release, before the
services start (docker-compose.yml's `migrate` service); the services' own
roles cannot change the schema. On a developer's SQLite file the services
migrate at start and this is not needed.
"""

from __future__ import annotations

import argparse
import sys

from plumbing.cli import dispatch, run_command
from plumbing.settings import SettingsError, database_url, environment


def _grant(text: str) -> tuple[str, str]:
    from plumbing.db_roles import parse_grant

    try:
        return parse_grant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def create_tracker_table(connection) -> None:  # noqa: ANN001 - a SQLAlchemy Connection
    """Rasa's SQL tracker store table (and its sequence), as Rasa's own
    SQLTrackerStore makes it, so that Rasa's runtime role need not create it."""
    from rasa.core.tracker_store import SQLTrackerStore

    SQLTrackerStore.Base.metadata.create_all(connection, checkfirst=True)


def cmd_migrate(args: argparse.Namespace) -> int:
    from plumbing import migrate
    from plumbing.database import make_engine
    from plumbing.db_roles import grant_runtime_roles

    roles = dict(args.grant)

    def run() -> int:
        url = database_url(environment())
        engine = make_engine(url, "the migration")
        try:
            migrate.upgrade(url, engine=engine, component="the migration")
            with engine.begin() as connection:
                if args.tracker:
                    create_tracker_table(connection)
                granted = grant_runtime_roles(connection, roles) if roles else {}
        finally:
            engine.dispose()
        print(f"database at {migrate.head()}" + ("; Rasa's tracker table present" if args.tracker else ""))
        for service, names in granted.items():
            print(f"{roles[service]} ({service}): {', '.join(names)}")
        return 0

    return run_command(run, {SettingsError: "cannot migrate: {}"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m plumbing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    migrate = commands.add_parser("migrate", help="migrate DATABASE_URL and grant the runtime roles")
    migrate.add_argument("--tracker", action="store_true",
                         help="also create Rasa's tracker table (when TRACKER_STORE_URL is this database)")
    migrate.add_argument("--grant", action="append", type=_grant, default=[], metavar="SERVICE=ROLE",
                         help="give ROLE the tables of SERVICE (bridge, handoff or rasa); repeatable")
    migrate.set_defaults(func=cmd_migrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    return dispatch(build_parser(), argv, {})


if __name__ == "__main__":
    sys.exit(main())
