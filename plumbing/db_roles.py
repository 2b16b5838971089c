"""Least privilege on PostgreSQL: which tables each service's runtime role
may read and change, granted by the migration role after it migrates.

In production every service connects as a role of its own
(docker/postgres/roles.sh makes them): the migration role owns the schema
and is used only by `python -m plumbing migrate`; the bridge's role reaches
the call log, the handoff service's the case store, Rasa's the tracker
store, each with SELECT, INSERT, UPDATE and DELETE and nothing else (no
DDL, no TRUNCATE, no other service's tables). A leaked bridge password
then reads no transcript, and a leaked Rasa password no case.
"""

from __future__ import annotations

import re
from typing import Mapping

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from plumbing.settings import SettingsError

# The tables and sequences each service uses, by name.
TABLES = {
    "bridge": re.compile(r"^calllog_"),
    "handoff": re.compile(r"^handoff_"),
    "rasa": re.compile(r"^events$"),  # Rasa's SQLTrackerStore
}
SEQUENCES = {
    "bridge": re.compile(r"^calllog_"),
    "handoff": re.compile(r"^handoff_"),
    "rasa": re.compile(r"^events_(id_)?seq$"),  # SERIAL's on PostgreSQL; events_seq where declared
}
# The services that check the schema version at start (plumbing.migrate).
READS_VERSION = frozenset({"bridge", "handoff"})
VERSION_TABLE = "alembic_version"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def parse_grant(text: str) -> tuple[str, str]:
    """'bridge=council_bridge' -> ('bridge', 'council_bridge'); ValueError
    naming what is wrong."""
    service, _, role = text.partition("=")
    if service not in TABLES:
        raise ValueError(f"{service!r} is not one of {', '.join(sorted(TABLES))}")
    if not ROLE_NAME.match(role):
        raise ValueError(f"{role!r} is not a plain PostgreSQL role name (lower case, digits, _)")
    return service, role


def grant_runtime_roles(connection: Connection, roles: Mapping[str, str]) -> dict[str, list[str]]:
    """Grant each service's role (service -> role name) its tables and
    sequences in the connection's current schema, and return what each got.
    SettingsError when the database is not PostgreSQL or a service has no
    tables yet (migrate first)."""
    if connection.dialect.name != "postgresql":
        raise SettingsError("database roles are PostgreSQL's; a SQLite file has one user")
    seen = inspect(connection)
    tables = seen.get_table_names()
    sequences = seen.get_sequence_names()
    quote = connection.dialect.identifier_preparer.quote
    granted: dict[str, list[str]] = {}
    for service, role in roles.items():
        own = [name for name in tables if TABLES[service].match(name)]
        if not own:
            raise SettingsError(f"no tables of the {service} yet: run the migration first")
        for name in own:
            connection.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {quote(name)} TO {quote(role)}")
        for name in (name for name in sequences if SEQUENCES[service].match(name)):
            connection.exec_driver_sql(f"GRANT USAGE, SELECT ON SEQUENCE {quote(name)} TO {quote(role)}")
            own.append(name)
        if service in READS_VERSION and VERSION_TABLE in tables:
            connection.exec_driver_sql(f"GRANT SELECT ON TABLE {VERSION_TABLE} TO {quote(role)}")
            own.append(VERSION_TABLE)
        granted[service] = own
    return granted
