"""One Alembic environment for the shared database: the handoff service's
tables (handoff_*) and the call log's (calllog_*), migrated by whichever
service starts first (scripts in plumbing/schema/versions).

Each migration is written out in full rather than built from a package's
models, so that a later change to the models cannot change what an old
migration did; tests/plumbing/test_migrations.py holds the newest migration to the
models of both packages.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ProgrammingError

from plumbing.database import make_engine
from plumbing.settings import SettingsError

SCRIPTS = Path(__file__).resolve().parent / "schema"
# Any fixed number will do: it names the lock two starting services take on
# PostgreSQL so that only one of them migrates and the other then sees head.
_MIGRATION_LOCK = 7_316_042_001
# Alembic keeps its running context in a module-level proxy, so two threads of
# one process must never run a migration command at the same time.
_ALEMBIC_IN_PROCESS = threading.Lock()


# PostgreSQL's SQLSTATE for "permission denied".
_INSUFFICIENT_PRIVILEGE = "42501"
HOW_TO_MIGRATE = "python -m plumbing migrate"


class MigrationNeeded(SettingsError):
    """The database is behind the code and this connection's role may not
    change the schema (a runtime role in production): the migration role
    must run the migration first."""


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration without an alembic.ini: the scripts in
    plumbing/schema and this database."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    # ConfigParser reads '%' as interpolation; URLs carry '%3D' and the like.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head() -> str:
    """The newest migration's revision."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def upgrade(database_url: str, engine: Engine | None = None, component: str = "the database") -> None:
    """Bring the database to the newest migration; a no-op when it is there.

    Runs in one transaction that first takes a lock (SQLite's write lock,
    PostgreSQL's advisory lock), so two services starting on a new database
    migrate once: the second waits, then finds head.

    A role without the right to change the schema (production's runtime
    roles, plumbing/db_roles.py) passes when the database is at head and
    raises MigrationNeeded, naming the command, when it is not."""
    own = engine is None
    engine = make_engine(database_url, component) if engine is None else engine
    try:
        with _ALEMBIC_IN_PROCESS, engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            config = alembic_config(database_url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except ProgrammingError as exc:
        if getattr(exc.orig, "pgcode", None) != _INSUFFICIENT_PRIVILEGE:
            raise
        raise MigrationNeeded(
            f"{component}: the database is not at the code's schema version ({head()}) and this database "
            f"user may not change the schema; run `{HOW_TO_MIGRATE}` as the migration role first") from None
    finally:
        if own:
            engine.dispose()
