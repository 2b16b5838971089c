"""What a case is: the fields a case carries, the values its status, outcome,
reason, channel and priority may take, the limits on what it holds, the
errors the store raises, and the checks every new case and change passes
(transcripts redacted, numbers kept apart from their masked form)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from council.phones import to_e164
from council.redaction import redact, redact_turns
from plumbing.masking import mask

OUTCOMES: tuple[str, ...] = (
    "resolved_at_desk",
    "appointment_booked",
    "referred_to_service",
    "referred_to_other_council",
    "no_contact",
    "duplicate",
)
REASONS: tuple[str, ...] = ("person_requested", "not_understood", "urgent", "complaint", "cannot_complete")
CHANNELS: tuple[str, ...] = ("voice", "sms", "chat")
PRIORITIES: tuple[str, ...] = ("high", "normal")
STATUSES: tuple[str, ...] = ("open", "claimed", "resolved", "closed_no_contact")
WHO: tuple[str, ...] = ("caller", "bot")
FINISHED: tuple[str, ...] = ("resolved", "closed_no_contact")
# Reads that leave an audit row (CaseStore.record_access): a case shown on
# the staff pages, a search, a CSV export, and the API's reads.
ACCESS_ACTIONS: tuple[str, ...] = ("view_case", "search", "export", "api_read", "api_list")

MAX_TURNS = 500
MAX_TRANSCRIPT_CHARS = 200_000
MAX_NOTE_CHARS = 4000
MAX_LIST = 1000


class CaseError(Exception):
    """Base of the store's errors."""


class CaseNotFound(CaseError):
    """No case has that reference (or it is not a reference at all)."""


class CaseConflict(CaseError):
    """The case is not in a state that allows the change (claimed by someone
    else, already finished); `.case` is the case as it now stands."""

    def __init__(self, message: str, case: "Case | None" = None) -> None:
        super().__init__(message)
        self.case = case


class InvalidCase(CaseError, ValueError):
    """A field is missing or wrong; the message starts with the field's name
    and `.field` holds it."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name


@dataclass(frozen=True)
class Note:
    at: datetime
    staff: str
    text: str


@dataclass(frozen=True)
class Case:
    reference: str
    conversation_id: str
    channel: str
    caller_masked: str | None
    service: str | None
    authority: str | None
    reason: str
    priority: str
    centre: str
    transcript: list[dict] | None
    status: str
    outcome: str | None
    created_at: datetime
    updated_at: datetime
    claimed_at: datetime | None
    claimed_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    notes: tuple[Note, ...]
    version: int
    transcript_purged_at: datetime | None = None

    def as_dict(self) -> dict:
        """JSON-ready: datetimes as ISO 8601 (UTC), notes as a list. Holds the
        masked number only, never the full one."""

        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        return {
            "reference": self.reference,
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "caller_masked": self.caller_masked,
            "service": self.service,
            "authority": self.authority,
            "reason": self.reason,
            "priority": self.priority,
            "centre": self.centre,
            "transcript": [dict(turn) for turn in self.transcript] if self.transcript is not None else None,
            "transcript_purged_at": iso(self.transcript_purged_at),
            "status": self.status,
            "outcome": self.outcome,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "claimed_at": iso(self.claimed_at),
            "claimed_by": self.claimed_by,
            "resolved_at": iso(self.resolved_at),
            "resolved_by": self.resolved_by,
            "notes": [{"at": iso(n.at), "staff": n.staff, "text": n.text} for n in self.notes],
            "version": self.version,
        }


@dataclass(frozen=True)
class NewCase:
    conversation_id: str
    reason: str
    channel: str
    transcript: list[dict]
    reference: str | None = None
    caller_number: str | None = None
    service: str | None = None
    priority: str | None = None
    postcode: str | None = None
    created_at: datetime | None = None

_E164_LIKE = 7, 15  # digits in a number worth keeping; "anonymous" and the like are not


def checked_text(name: str, value: Any, limit: int, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidCase(name, "must be non-empty text")
    if len(value) > limit:
        raise InvalidCase(name, f"must be at most {limit} characters")
    return value


def checked_choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise InvalidCase(name, f"must be one of {', '.join(allowed)}")
    return value


# Moments the store takes: nothing of this service happened before 2000, and
# a date far in the future is a typing slip or an attack (and, at the edge
# of the calendar, one a database cannot store or compute with).
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)


def checked_moment(name: str, moment: Any) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidCase(name, "must be a date-time with a time zone")
    try:
        moment = moment.astimezone(timezone.utc)
    except OverflowError:
        raise InvalidCase(name, "is outside the years 2000 to 2099") from None
    if not EARLIEST <= moment < LATEST:
        raise InvalidCase(name, "is outside the years 2000 to 2099")
    return moment


def checked_transcript(raw: Any) -> list[dict[str, str]]:
    """The turns, checked and redacted; only `who` and `text` are kept."""
    if not isinstance(raw, list):
        raise InvalidCase("transcript", "must be a list of {who, text} turns")
    if len(raw) > MAX_TURNS:
        raise InvalidCase("transcript", f"must have at most {MAX_TURNS} turns")
    turns, total = [], 0
    for index, turn in enumerate(raw):
        if not isinstance(turn, dict) or turn.get("who") not in WHO or not isinstance(turn.get("text"), str):
            raise InvalidCase("transcript", f"turn {index + 1} must be {{who: caller|bot, text: str}}")
        total += len(turn["text"])
        if total > MAX_TRANSCRIPT_CHARS:
            raise InvalidCase("transcript", f"must hold at most {MAX_TRANSCRIPT_CHARS} characters")
        turns.append({"who": turn["who"], "text": turn["text"]})
    # The caller's turns redacted as one run of speech, so a card number read
    # out over two turns (with the bot's "sorry?" between) is found too.
    said = [index for index, turn in enumerate(turns) if turn["who"] == "caller"]
    for index, text in zip(said, redact_turns([turns[i]["text"] for i in said])):
        turns[index]["text"] = text
    for turn in turns:
        if turn["who"] != "caller":
            turn["text"] = redact(turn["text"])
    return turns


def checked_number(raw: Any) -> tuple[str | None, str | None]:
    """(full E.164 number or None, masked form or None). A withheld caller
    ("anonymous", a client name) has a masked form but no number to keep."""
    if raw is None or raw == "":
        return None, None
    if not isinstance(raw, str) or len(raw) > 64:
        raise InvalidCase("caller_number", "must be text")
    e164 = to_e164(raw)
    digits = len(e164) - 1
    if e164.startswith("+") and e164[1:].isdigit() and _E164_LIKE[0] <= digits <= _E164_LIKE[1]:
        return e164, mask(e164)
    return None, mask(raw)


def checked_staff(staff: Any) -> str:
    return checked_text("staff", staff, 64)  # type: ignore[return-value]


def checked_actor(actor: Any) -> str:
    return checked_text("actor", actor, 64)  # type: ignore[return-value]


