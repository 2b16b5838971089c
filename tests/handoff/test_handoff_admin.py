"""The staff administration commands (`python -m handoff add-staff |
set-password | disable-staff | enable-staff | purge | report`), as an
administrator runs them in production: they need the database and nothing
secret, a reset or a disabled account signs its holder out at once, and
every change leaves an audit row naming the account, never the password."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

import handoff.__main__ as handoff_cli
from handoff import accounts
from handoff.store import CaseStore
from tests import databases

T0 = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)
OLD, NEW = "correct horse battery", "staple paperclip lamp"


@pytest.fixture
def production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """COUNCIL_ENV=production with a database and no token of any kind."""
    url = databases.sqlite_url(tmp_path)
    for name in ("HANDOFF_API_TOKEN", "HANDOFF_INTEGRATION_TOKEN", "TWILIO_AUTH_TOKEN", "METRICS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COUNCIL_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", url)
    yield url


def run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return handoff_cli.main(list(argv))


def test_the_admin_commands_run_in_production_without_any_secret(production: str, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert run(monkeypatch, "add-staff", "--username", "jsmith", "--name", "Jo Smith",
               "--centre", "lancaster_town_hall", "--password-stdin", stdin=OLD + "\n") == 0
    assert run(monkeypatch, "purge") == 0
    assert run(monkeypatch, "report", "--from", "2026-11-01", "--to", "2026-11-30") == 0
    out = capsys.readouterr()
    assert "added staff 'jsmith'" in out.out and "purged 0 transcripts" in out.out, out
    # serve is the one that needs the bot's token
    assert run(monkeypatch, "serve") == 1
    assert "HANDOFF_API_TOKEN" in capsys.readouterr().err


def test_a_reset_or_disabled_account_is_signed_out_at_once_and_audited(
        production: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    store = CaseStore(production)
    try:
        member = accounts.add_staff(store.engine, "jsmith", "Jo Smith", "lancaster_town_hall", OLD)
        cookie, _ = accounts.start_session(store.engine, member.id, T0)

        assert run(monkeypatch, "set-password", "--username", "JSmith", "--password-stdin", stdin=NEW + "\n") == 0
        assert accounts.session_for(store.engine, cookie, T0) is None
        with pytest.raises(accounts.SignInFailed):
            accounts.authenticate(store.engine, "jsmith", OLD)
        assert accounts.authenticate(store.engine, "jsmith", NEW).username == "jsmith"

        cookie, _ = accounts.start_session(store.engine, member.id, T0)
        assert run(monkeypatch, "disable-staff", "--username", "jsmith") == 0
        assert accounts.session_for(store.engine, cookie, T0) is None
        with pytest.raises(accounts.SignInFailed):
            accounts.authenticate(store.engine, "jsmith", NEW)
        assert run(monkeypatch, "enable-staff", "--username", "jsmith") == 0
        assert accounts.authenticate(store.engine, "jsmith", NEW).username == "jsmith"

        rows = store.accesses(T0.replace(year=2000), actions=accounts.ACCOUNT_ACTIONS)
        assert [(row["actor"], row["action"]) for row in rows] == [
            ("admin", "password_reset"), ("admin", "staff_disabled"), ("admin", "staff_enabled")]
        assert all(OLD not in str(row) and NEW not in str(row) for row in rows)
    finally:
        store.close()


def test_unknown_accounts_and_short_passwords_are_refused(production: str, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run(monkeypatch, "disable-staff", "--username", "nobody") == 1
    assert "no member of staff is called 'nobody'" in capsys.readouterr().err
    assert run(monkeypatch, "set-password", "--username", "nobody", "--password-stdin", stdin="short\n") == 1
    assert "at least 8 characters" in capsys.readouterr().err
    assert run(monkeypatch, "set-password", "--username", "nobody", "--password-stdin", stdin="\n") == 2
