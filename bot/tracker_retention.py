"""Retention for the tracker store: `python -m bot purge` removes every
conversation whose last event is older than TRACKER_RETENTION_DAYS (90 by
default), all its events together, so no conversation is left half there.
A conversation that goes on is kept whole. What the council keeps for
longer is in the case store (cases, under their own retention rule)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from plumbing.paths import ROOT

EVENTS = "events"  # the table Rasa's SQLTrackerStore writes


def engine_for(url: str, root: Path = ROOT) -> sa.engine.Engine:
    """An engine on TRACKER_STORE_URL, a relative SQLite path taken from
    `root` as the Rasa server takes it (bot/serve.py)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_absolute():
        parsed = parsed.set(database=str(root / parsed.database))
    return sa.create_engine(parsed)


def purge(url: str, older_than: datetime, root: Path = ROOT) -> int:
    """Remove conversations last active before `older_than`; returns how
    many conversations went (0 when nothing was ever stored)."""
    engine = engine_for(url, root)
    try:
        if not sa.inspect(engine).has_table(EVENTS):
            return 0
        events = sa.Table(EVENTS, sa.MetaData(), autoload_with=engine)
        stale = (sa.select(events.c.sender_id).group_by(events.c.sender_id)
                 .having(sa.func.max(events.c.timestamp) < older_than.timestamp()))
        with engine.begin() as conn:
            senders = conn.execute(stale).scalars().all()
            for start in range(0, len(senders), 500):
                conn.execute(sa.delete(events).where(events.c.sender_id.in_(senders[start:start + 500])))
        return len(senders)
    finally:
        engine.dispose()
