"""The databases tests run against: a SQLite file always and, when a
PostgreSQL server answers on 127.0.0.1:5432 and lets a known user in,
PostgreSQL too, in a schema of its own per test that is dropped after it.

The fixtures built on these (`postgres_user`, `database_url`) are in
tests/conftest.py."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from plumbing.database import LOCAL_POSTGRES, local_postgres_user

PG_HOST, PG_PORT = LOCAL_POSTGRES
PG_DATABASE = "test"


def sqlite_url(directory: Path) -> str:
    """A SQLite file in a directory under `directory` that does not exist
    yet: the component under test must make it."""
    return f"sqlite:///{directory / 'var' / 'council.db'}"


def postgres_user() -> tuple[str | None, str]:
    """The user a PostgreSQL server on 127.0.0.1:5432 lets in, or None and
    why none (to skip with)."""
    return local_postgres_user(PG_DATABASE)


@contextmanager
def admin_cursor(user: str) -> Iterator[Any]:
    """A cursor on the test database as `user`, each statement its own
    transaction (CREATE DATABASE and the like need that)."""
    import psycopg2

    admin = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=user, dbname=PG_DATABASE)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            yield cursor
    finally:
        admin.close()


@contextmanager
def _made(user: str, make: str, drop: str) -> Iterator[None]:
    """`make` on entry, `drop` on leaving, whatever happened between."""
    with admin_cursor(user) as cursor:
        cursor.execute(make)
        try:
            yield
        finally:
            cursor.execute(drop)


@contextmanager
def postgres_schema(user: str, prefix: str = "test") -> Iterator[str]:
    """A URL for a fresh schema, named `prefix` and a random suffix, dropped
    (with everything in it) on leaving. The URL puts the schema first on the
    search path, so tables (and alembic_version) land there."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _made(user, f'CREATE SCHEMA "{schema}"', f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'):
        yield f"postgresql+psycopg2://{user}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}?options=-csearch_path%3D{schema}"


@contextmanager
def postgres_database(user: str, prefix: str = "test") -> Iterator[str]:
    """The name of a fresh database, made by `user` and dropped (its
    connections ended) on leaving: for tests of what a whole database's
    grants and roles allow, which a schema of a shared one cannot show."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _made(user, f'CREATE DATABASE "{name}"', f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'):
        yield name
