"""The handoff service's first tables: cases, notes, caller numbers, audit,
staff and their sessions.

Written out in full rather than built from handoff.db.metadata, so that a
later change to the models cannot change what this migration did.

Revision ID: 0001
Revises:
Create Date: 2026-11-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "handoff_cases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("caller_masked", sa.String(32), nullable=True),
        sa.Column("service", sa.String(64), nullable=True),
        sa.Column("authority", sa.String(16), nullable=True),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("centre", sa.String(64), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=True),
        _when("transcript_purged_at", nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=True),
        _when("created_at"),
        _when("updated_at"),
        _when("claimed_at", nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        _when("resolved_at", nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("reference", name="uq_handoff_cases_reference"),
        sa.UniqueConstraint("conversation_id", "reason", name="uq_handoff_cases_conversation_reason"),
    )
    op.create_index("ix_handoff_cases_queue", "handoff_cases", ["centre", "status"])
    op.create_index("ix_handoff_cases_created_at", "handoff_cases", ["created_at"])

    op.create_table(
        "handoff_notes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("handoff_cases.id", name="fk_handoff_notes_case"),
                  nullable=False),
        _when("at"),
        sa.Column("staff", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_handoff_notes_case_id", "handoff_notes", ["case_id"])

    op.create_table(
        "handoff_caller_numbers",
        sa.Column("case_id", sa.Integer(),
                  sa.ForeignKey("handoff_cases.id", name="fk_handoff_caller_numbers_case"),
                  primary_key=True, autoincrement=False),
        sa.Column("number", sa.String(32), nullable=False),
    )

    op.create_table(
        "handoff_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), nullable=True),  # no foreign key: outlives purges
        _when("at"),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
    )
    op.create_index("ix_handoff_audit_case_id", "handoff_audit", ["case_id"])

    op.create_table(
        "handoff_staff",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("centre", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False, server_default="staff"),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"),
        _when("locked_until", nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        _when("created_at"),
        sa.UniqueConstraint("username", name="uq_handoff_staff_username"),
    )

    op.create_table(
        "handoff_sessions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.Integer(),
                  sa.ForeignKey("handoff_staff.id", name="fk_handoff_sessions_staff", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        sa.UniqueConstraint("token_hash", name="uq_handoff_sessions_token_hash"),
    )
    op.create_index("ix_handoff_sessions_staff_id", "handoff_sessions", ["staff_id"])
    op.create_index("ix_handoff_sessions_expires_at", "handoff_sessions", ["expires_at"])


def downgrade() -> None:
    for table in ("handoff_sessions", "handoff_staff", "handoff_audit", "handoff_caller_numbers",
                  "handoff_notes", "handoff_cases"):
        op.drop_table(table)
