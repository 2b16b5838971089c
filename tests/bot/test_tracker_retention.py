"""python -m bot purge: conversations last active before the cut-off go
whole, the rest stay whole (Rasa's own SQL tracker store writes the rows)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.redacting_tracker_store import RedactingSQLTrackerStore
from bot.tracker_retention import purge
from plumbing.paths import ROOT

OLD, NEW = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc)


def _save(store: RedactingSQLTrackerStore, sender: str, *moments: datetime) -> None:
    tracker = DialogueStateTracker(sender, slots=[])
    for moment in moments:
        tracker.update(UserUttered("my bin was not emptied", timestamp=moment.timestamp()))
    asyncio.run(store.save(tracker))


def _senders(store: RedactingSQLTrackerStore) -> set[str]:
    with store.session_scope() as session:
        return {row.sender_id for row in session.query(store.SQLEvent).all()}


def test_old_conversations_go_whole_and_live_ones_stay_whole(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(dialect="sqlite", db=str(path))
    _save(store, "old", OLD)
    _save(store, "ongoing", OLD, NEW)  # began long ago, still going
    _save(store, "new", NEW)
    assert purge(f"sqlite:///{path}", datetime(2026, 6, 1, tzinfo=timezone.utc)) == 1
    assert _senders(store) == {"ongoing", "new"}
    with store.session_scope() as session:
        assert session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == "ongoing").count() == 2


def test_the_command_on_an_empty_store_and_a_relative_path(tmp_path: Path) -> None:
    assert purge("sqlite:///nothing-here.db", NEW, root=tmp_path) == 0  # no events table yet
    answer = subprocess.run([sys.executable, "-m", "bot", "purge", "--days", "30"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120,
                            env={"TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin",
                                 "PYTHONPATH": str(ROOT)})
    assert answer.returncode == 0, answer.stderr
    assert "purged 0 conversations last active over 30 days ago" in answer.stdout
