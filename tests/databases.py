"""The databases tests run against: a SQLite file always and, when a
PostgreSQL server answers on 127.0.0.1:5432 and lets a known user in,
PostgreSQL too, in a schema of its own per test that is dropped after it.

The fixtures built on these (`postgres_user`, `database_url`) are in
tests/conftest.py."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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
def postgres_schema(user: str, prefix: str = "test") -> Iterator[str]:
    """A URL for a fresh schema, named `prefix` and a random suffix, dropped
    (with everything in it) on leaving. The URL puts the schema first on the
    search path, so tables (and alembic_version) land there."""
    import psycopg2

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=user, dbname=PG_DATABASE)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{schema}"')
        yield f"postgresql+psycopg2://{user}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}?options=-csearch_path%3D{schema}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


@contextmanager
def postgres_database(user: str, prefix: str = "test") -> Iterator[str]:
    """The name of a fresh database, made by `user` and dropped (its
    connections ended) on leaving: for tests of what a whole database's
    grants and roles allow, which a schema of a shared one cannot show."""
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=user, dbname=PG_DATABASE)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
