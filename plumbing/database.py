"""The one database the components share: engines and UTC datetimes.

The bridge's call log (`calllog_*` tables) and the handoff service
(`handoff_*` tables) live in the same database (`DATABASE_URL`: a SQLite file
under var/ by default, PostgreSQL in production). Both open it through
`make_engine` and store times through `UTCDateTime`, so the two behave alike
on either backend.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.future import create_engine
from sqlalchemy.types import TypeDecorator


def as_utc(moment: datetime, what: str = "database times") -> datetime:
    """The same moment in UTC. A naive time is ambiguous across the clock
    change; every component has an aware one (council.clock.now), so a naive one
    is a bug to surface: ValueError naming `what`."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must carry a time zone, got {moment!r}")
    return moment.astimezone(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in and out. SQLite keeps no offset, so values are
    written as naive UTC there and given their UTC zone back on reading."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def sqlite_connect_args(database_url: str, component: str) -> dict[str, Any]:
    """Create the SQLite database file's directory and return the connection
    arguments a multi-threaded SQLite needs. In-memory SQLite is refused with
    a ValueError naming `component` ("the call log", ...): every pooled
    connection would get its own empty in-memory database."""
    database = make_url(database_url).database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise ValueError(f"{component} needs a SQLite file or a database server, not in-memory SQLite")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    # Threads share pooled connections; writers wait for each other instead
    # of failing at once.
    return {"check_same_thread": False, "timeout": 30}


def serialise_sqlite_writes(engine: Engine) -> None:
    """pysqlite's own transaction handling starts transactions late and
    lets two writers deadlock; take the write lock at BEGIN instead, so
    concurrent transactions queue on the busy timeout (SQLAlchemy's recipe).
    Foreign keys are switched on, as PostgreSQL enforces them."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")  # as PostgreSQL enforces them
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(database_url: str, component: str = "this component") -> Engine:
    """An engine safe to share between threads, on SQLite (a file, whose
    directory is made; writes serialised) or a server such as PostgreSQL
    (connections checked before use). `component` names the caller in the
    error that refuses in-memory SQLite."""
    if make_url(database_url).get_backend_name() == "sqlite":
        engine = create_engine(database_url, connect_args=sqlite_connect_args(database_url, component))
        serialise_sqlite_writes(engine)
        return engine
    return create_engine(database_url, pool_pre_ping=True)


LOCAL_POSTGRES = ("127.0.0.1", 5432)
LOCAL_POSTGRES_USERS = ("postgres", "root")


def local_postgres_user(database: str = "test") -> tuple[str | None, str]:
    """A user the PostgreSQL server on 127.0.0.1:5432 lets into `database`,
    or None and why none: the integration tests and the benchmark use that
    server when a machine has one, and skip it otherwise."""
    import socket

    host, port = LOCAL_POSTGRES
    try:
        with socket.create_connection((host, port), timeout=1):
            pass
    except OSError:
        return None, f"no PostgreSQL server answers at {host}:{port}"
    import psycopg2

    for user in LOCAL_POSTGRES_USERS:
        try:
            psycopg2.connect(host=host, port=port, user=user, dbname=database, connect_timeout=2).close()
        except psycopg2.Error:
            continue
        return user, ""
    return None, (f"PostgreSQL at {host}:{port} lets none of {', '.join(LOCAL_POSTGRES_USERS)} "
                  f"into database {database!r}")
