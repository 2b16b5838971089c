"""The handoff service's tables and its engine.

The tables live in the same database as the bridge's call log
(`DATABASE_URL`), all named `handoff_*`. They are declared here once, for
queries; they are CREATED only by the shared Alembic migrations in
plumbing/schema (plumbing.migrate.upgrade, run at start), so a production
database changes only by a reviewed migration.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.engine import Engine

from plumbing import database
from plumbing.database import UTCDateTime

metadata = MetaData()

cases = Table(
    "handoff_cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(16), nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("caller_masked", String(32), nullable=True),
    Column("service", String(64), nullable=True),
    Column("authority", String(16), nullable=True),
    Column("priority", String(8), nullable=False),
    Column("centre", String(64), nullable=False),
    Column("transcript", Text, nullable=True),  # JSON list of turns; NULL after purge
    Column("transcript_purged_at", UTCDateTime(), nullable=True),
    Column("status", String(24), nullable=False),
    Column("outcome", String(40), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("resolved_at", UTCDateTime(), nullable=True),
    Column("resolved_by", String(64), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    UniqueConstraint("reference", name="uq_handoff_cases_reference"),
    # The idempotency key: a retried create finds the first case instead.
    UniqueConstraint("conversation_id", "reason", name="uq_handoff_cases_conversation_reason"),
    Index("ix_handoff_cases_queue", "centre", "status"),
    Index("ix_handoff_cases_created_at", "created_at"),
)

notes = Table(
    "handoff_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("handoff_cases.id"), nullable=False, index=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("staff", String(64), nullable=False),
    Column("text", Text, nullable=False),
)

# Kept apart from the case so that only CaseStore.reveal_number reads it,
# and every read leaves an audit row.
caller_numbers = Table(
    "handoff_caller_numbers",
    metadata,
    Column("case_id", Integer, ForeignKey("handoff_cases.id"), primary_key=True, autoincrement=False),
    Column("number", String(32), nullable=False),
)

# No foreign key on purpose: the audit outlives purges and must never be
# deleted by a cascade.
audit = Table(
    "handoff_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=True, index=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
)

staff = Table(
    "handoff_staff",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("display_name", String(128), nullable=False),
    Column("centre", String(64), nullable=False),
    Column("role", String(16), nullable=False, default="staff", server_default="staff"),
    Column("password_hash", String(255), nullable=False),
    Column("failed_attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("locked_until", UTCDateTime(), nullable=True),
    Column("active", Boolean, nullable=False, default=True, server_default=true()),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("username", name="uq_handoff_staff_username"),
)

sessions = Table(
    "handoff_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False),  # sha256 hex of the cookie value
    Column("staff_id", Integer, ForeignKey("handoff_staff.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False, index=True),
    UniqueConstraint("token_hash", name="uq_handoff_sessions_token_hash"),
)

# The same tables under their database names, for callers who think in those.
handoff_cases, handoff_notes, handoff_caller_numbers = cases, notes, caller_numbers
handoff_audit, handoff_staff, handoff_sessions = audit, staff, sessions


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(database_url: str) -> Engine:
    """An engine safe to share between threads, on SQLite or PostgreSQL
    (plumbing.database's, as the call log uses)."""
    return database.make_engine(database_url, component="the handoff service")
