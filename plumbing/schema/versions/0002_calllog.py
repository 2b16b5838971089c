"""The call log's tables (calllog_calls, calllog_transfers, calllog_events),
which the bridge used to create itself with create_all and ALTER TABLE.

A database made that way upgrades in place: a table that exists is kept and
given the columns added since the first release (events.keys_pressed and
events.heard); one that does not is created. Written out in full, like 0001.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _calls() -> None:
    op.create_table(
        "calllog_calls",
        sa.Column("call_sid", sa.String(64), primary_key=True),
        sa.Column("caller_masked", sa.String(32), nullable=False),
        _when("started_at", nullable=False),
        _when("answered_at"),
        _when("ended_at"),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("first_service", sa.String(64), nullable=True),
        _when("reached_at"),
        sa.Column("transferred", sa.Boolean(), nullable=False),
        sa.Column("handed_off", sa.Boolean(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("handoff_reference", sa.String(64), nullable=True),
        sa.Column("start_inferred", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_calllog_calls_started_at", "calllog_calls", ["started_at"])


def _transfers() -> None:
    op.create_table(
        "calllog_transfers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("call_sid", sa.String(64), sa.ForeignKey("calllog_calls.call_sid"), nullable=False),
        sa.Column("service", sa.String(64), nullable=True),
        sa.Column("target_masked", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        _when("started_at", nullable=False),
        _when("answered_at"),
        _when("ended_at"),
        sa.Column("dial_status", sa.String(20), nullable=True),
        sa.Column("leg_status", sa.String(20), nullable=True),
    )
    op.create_index("ix_calllog_transfers_call_sid", "calllog_transfers", ["call_sid"])


def _events() -> None:
    op.create_table(
        "calllog_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("call_sid", sa.String(64), sa.ForeignKey("calllog_calls.call_sid"), nullable=False),
        _when("at", nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.Column("service", sa.String(64), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("keys_pressed", sa.String(8), nullable=True),
        sa.Column("heard", sa.Text(), nullable=True),
    )
    op.create_index("ix_calllog_events_call_sid", "calllog_events", ["call_sid"])


# Columns the first release's call log did not have.
ADDED_SINCE = {"calllog_events": (("keys_pressed", sa.String(8)), ("heard", sa.Text()))}


def upgrade() -> None:
    existing = sa.inspect(op.get_bind())
    for table, create in (("calllog_calls", _calls), ("calllog_transfers", _transfers), ("calllog_events", _events)):
        if not existing.has_table(table):
            create()
            continue
        have = {column["name"] for column in existing.get_columns(table)}
        for name, kind in ADDED_SINCE.get(table, ()):
            if name not in have:
                op.add_column(table, sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    for table in ("calllog_events", "calllog_transfers", "calllog_calls"):
        op.drop_table(table)
