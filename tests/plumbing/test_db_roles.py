"""Least-privilege database roles, on a real PostgreSQL server: the script
the database container runs (docker/postgres/roles.sh) makes one role per
service, `python -m plumbing migrate` as the migration role makes the schema
and grants each runtime role its own tables, and then each service works
with its own tables and is refused everything else: another service's
tables, DDL, dropping. Roles are the server's, not a database's, so each
test makes its own with random names and drops them after."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

import plumbing.__main__ as plumbing_cli
from bot.redacting_tracker_store import RedactingSQLTrackerStore
from bot.tracker_retention import purge
from handoff.cases import NewCase
from handoff.store import CaseStore
from plumbing import migrate
from plumbing.database import make_engine
from plumbing.db_roles import parse_grant
from plumbing.paths import ROOT
from telephony_bridge.calllog import CallLog
from tests import databases

ROLES_SCRIPT = ROOT / "docker" / "postgres" / "roles.sh"
SERVICES = ("migrate", "bridge", "handoff", "rasa")
T0 = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)
SID = "CA" + "2" * 32


class Cluster:
    """A database of its own and four roles named for this test."""

    def __init__(self, superuser: str, database: str) -> None:
        self.superuser = superuser
        self.database = database
        tag = uuid.uuid4().hex[:8]
        self.roles = {service: f"t{tag}_{service}" for service in SERVICES}

    def url(self, service: str | None) -> str:
        user = self.superuser if service is None else self.roles[service]
        return f"postgresql+psycopg2://{user}@{databases.PG_HOST}:{databases.PG_PORT}/{self.database}"

    def run_script(self) -> subprocess.CompletedProcess:
        env = {**os.environ, "PGHOST": databases.PG_HOST, "PGPORT": str(databases.PG_PORT),
               "POSTGRES_USER": self.superuser, "POSTGRES_DB": self.database}
        for service, role in self.roles.items():
            env[f"{service.upper()}_DB_USER"] = role
            env[f"{service.upper()}_DB_PASSWORD"] = f"not-a-secret-{service}"
        return subprocess.run(["sh", str(ROLES_SCRIPT)], env=env, capture_output=True, text=True, timeout=60)

    def migrate(self, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
        monkeypatch.setenv("DATABASE_URL", self.url("migrate"))
        grants = [f"--grant={service}={self.roles[service]}" for service in ("bridge", "handoff", "rasa")]
        return plumbing_cli.main(["migrate", "--tracker", *grants, *extra])

    def drop_roles(self) -> None:
        with databases.admin_cursor(self.superuser) as cursor:
            for role in self.roles.values():
                cursor.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def cluster(postgres_user: str) -> Iterator[Cluster]:
    made = None
    try:
        with databases.postgres_database(postgres_user, "roles") as database:
            made = Cluster(postgres_user, database)
            done = made.run_script()
            assert done.returncode == 0, done.stderr
            yield made
    finally:  # after the database has gone: its grants hold the roles
        if made is not None:
            made.drop_roles()


def denied(url: str, statement: str) -> bool:
    """Whether PostgreSQL refuses `statement` to this URL's role for want of
    a privilege (any other failure is the test's own bug and raises)."""
    engine = make_engine(url, "the test")
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except ProgrammingError as exc:
        if getattr(exc.orig, "pgcode", None) == "42501":
            return True
        raise
    finally:
        engine.dispose()
    return False


def one_case() -> NewCase:
    return NewCase(conversation_id="conv-roles", reason="person_requested", channel="chat",
                   transcript=[{"who": "caller", "text": "my bin was not collected"}], service="bins_recycling")


def test_each_service_reaches_its_own_tables_and_nothing_else(cluster: Cluster,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert cluster.migrate(monkeypatch) == 0

    log = CallLog(cluster.url("bridge"))  # starts: the schema is at head, nothing to change
    try:
        log.call_started(SID, "+447700900123", T0)
        assert [call.call_sid for call in log.calls_between(T0, T0.replace(hour=10))] == [SID]
    finally:
        log.close()
    store = CaseStore(cluster.url("handoff"), clock_now=lambda: T0)
    try:
        case, _ = store.create_case(one_case())
        assert store.get(case.reference).reference == case.reference
    finally:
        store.close()
    tracker_store = RedactingSQLTrackerStore(dialect="postgresql", host=databases.PG_HOST, port=databases.PG_PORT,
                                             db=cluster.database, username=cluster.roles["rasa"])
    tracker = DialogueStateTracker("hash-of-a-number", slots=[])
    tracker.update(UserUttered("my bin was not emptied", timestamp=T0.timestamp()))
    asyncio.run(tracker_store.save(tracker))  # Rasa's own store, as the rasa role: its table was made for it
    assert purge(cluster.url("rasa"), T0.replace(year=2027)) == 1  # and `bot purge` deletes

    others = {"bridge": ("handoff_cases", "handoff_caller_numbers", "events"),
              "handoff": ("calllog_calls", "events"),
              "rasa": ("handoff_cases", "handoff_caller_numbers", "calllog_calls", "alembic_version")}
    for service, tables in others.items():
        url = cluster.url(service)
        for table in tables:
            assert denied(url, f"SELECT * FROM {table}"), f"{service} reads {table}"
        assert denied(url, "CREATE TABLE sneaky (id int)"), f"{service} creates tables"
        assert denied(url, "TRUNCATE calllog_calls, handoff_cases, events"), f"{service} truncates"
        assert denied(url, "ALTER TABLE handoff_cases ADD COLUMN sneaky int"), f"{service} alters tables"
    assert denied(cluster.url("bridge"), "UPDATE alembic_version SET version_num = 'x'")


def test_no_role_is_a_superuser_and_the_public_may_not_connect(cluster: Cluster, postgres_user: str) -> None:
    engine = make_engine(cluster.url(None), "the test")
    try:
        with engine.connect() as connection:
            powers = connection.execute(text(
                "SELECT rolname, rolsuper OR rolcreatedb OR rolcreaterole OR rolbypassrls FROM pg_roles "
                "WHERE rolname = ANY(:names)"), {"names": list(cluster.roles.values())}).all()
            public_connect = connection.execute(text(
                "SELECT has_database_privilege('public', current_database(), 'CONNECT')")).scalar()
    finally:
        engine.dispose()
    assert sorted(powers) == sorted((role, False) for role in cluster.roles.values())
    assert public_connect is False


def test_a_runtime_role_on_a_database_behind_the_code_is_told_to_migrate(cluster: Cluster) -> None:
    with pytest.raises(migrate.MigrationNeeded, match="python -m plumbing migrate"):
        CallLog(cluster.url("bridge"))
    with pytest.raises(migrate.MigrationNeeded, match="the case store"):
        CaseStore(cluster.url("handoff"))


def test_the_script_runs_again_and_adopts_tables_an_earlier_release_made(
        postgres_user: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An existing install: the tables were made by the superuser, as every
    service once connected as it. Running the script (twice: it is safe to
    repeat) hands them to the migration role, which can then migrate and
    grant them."""
    cluster = None
    try:
        with databases.postgres_database(postgres_user, "roles") as database:
            cluster = Cluster(postgres_user, database)
            migrate.upgrade(cluster.url(None))
            for _ in range(2):
                done = cluster.run_script()
                assert done.returncode == 0, done.stderr
            assert cluster.migrate(monkeypatch) == 0
            CallLog(cluster.url("bridge")).close()
            assert denied(cluster.url("bridge"), "SELECT * FROM handoff_cases")
    finally:
        if cluster is not None:
            cluster.drop_roles()


def test_migrate_refuses_bad_grants_and_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_grant("bridge=council_bridge") == ("bridge", "council_bridge")
    for bad in ("web=council_web", "bridge=Robert'); DROP TABLE x; --", "bridge="):
        with pytest.raises(ValueError):
            parse_grant(bad)
    with pytest.raises(SystemExit):
        plumbing_cli.main(["migrate", "--grant", "bridge=x y"])
    monkeypatch.setenv("DATABASE_URL", databases.sqlite_url(tmp_path))
    assert plumbing_cli.main(["migrate", "--grant", "bridge=council_bridge"]) == 1
    assert "cannot migrate: database roles are PostgreSQL's" in capsys.readouterr().err
    assert plumbing_cli.main(["migrate"]) == 0  # SQLite without grants: migrated
    assert "database at" in capsys.readouterr().out
