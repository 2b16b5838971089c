"""The call log's tables (all `calllog_*`, beside the handoff service's in
one database) and what their columns may hold."""

from __future__ import annotations

import re

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from plumbing.database import UTCDateTime

TURN_KINDS = frozenset({"speech", "dtmf", "no_input", "confirm"})
# Twilio's CallStatus values after which nothing more happens on the call.
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# DialCallStatus values that mean a person picked up.
PERSON_ANSWERED = frozenset({"completed", "answered"})
# Statuses of the dialled leg that mean a person picked up.
LEG_ANSWERED = frozenset({"answered", "in-progress"})
IN_PROGRESS = "in-progress"

LABEL = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
REFERENCE = re.compile(r"[A-Za-z0-9_.:/\-]{1,64}")
# Four digits in a row is already more than any menu choice needs and is how a
# card number, PIN or phone number would slip into a label.
DIGIT_RUN = re.compile(r"\d{4}")


metadata = MetaData()

calls = Table(
    "calllog_calls",
    metadata,
    Column("call_sid", String(64), primary_key=True),
    Column("caller_masked", String(32), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False, index=True),
    # The IVR answers at once, so this equals started_at; kept apart so a
    # queue before the IVR could be measured without changing reports.
    Column("answered_at", UTCDateTime(), nullable=True),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("status", String(20), nullable=True),
    Column("duration_s", Integer, nullable=True),
    Column("turns", Integer, nullable=False, default=0),
    Column("first_service", String(64), nullable=True),
    Column("reached_at", UTCDateTime(), nullable=True),
    Column("transferred", Boolean, nullable=False, default=False),
    Column("handed_off", Boolean, nullable=False, default=False),
    Column("emergency", Boolean, nullable=False, default=False),
    Column("handoff_reference", String(64), nullable=True),
    # True while the row was made by a later webhook because call_started was
    # lost: started_at is then an estimate that call_started may correct.
    Column("start_inferred", Boolean, nullable=False, default=False),
)

transfers = Table(
    "calllog_transfers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), ForeignKey("calllog_calls.call_sid"), nullable=False, index=True),
    Column("service", String(64), nullable=True),
    Column("target_masked", String(32), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("answered_at", UTCDateTime(), nullable=True),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("dial_status", String(20), nullable=True),
    Column("leg_status", String(20), nullable=True),
)

events = Table(
    "calllog_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_sid", String(64), ForeignKey("calllog_calls.call_sid"), nullable=False, index=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("outcome", String(64), nullable=True),
    Column("service", String(64), nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("keys_pressed", String(8), nullable=True),  # a menu choice only
    Column("heard", Text, nullable=True),  # what the bridge said back, never the caller's words
)
MAX_HEARD_CHARS = 4000
KEYS = re.compile(r"[0-9*#]{1,8}")


