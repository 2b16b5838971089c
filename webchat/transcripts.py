"""What a chat page shows after a reload: each session's turns, in memory
only, bounded, and forgotten after an hour of quiet.

The resident's words are kept redacted (council.redaction: card and bank
numbers, National Insurance numbers, e-mail addresses, dates of birth),
read together with their earlier messages as the other stores do, so the
page never shows back a number typed across two messages. A restart of the
service forgets every page; the bot keeps the conversation itself.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

from council.redaction import redact_turns

RESIDENT, BOT = "resident", "bot"
MAX_SESSIONS = 5_000
MAX_TURNS = 80
IDLE_S = 3600.0
# How many of the resident's earlier messages are read with a new one (as the
# tracker store does): a card number comes in two or three pieces at most.
LOOKBACK = 3


@dataclass(frozen=True)
class Turn:
    who: str
    text: str
    buttons: tuple[str, ...] = ()  # titles; what each sends stays on the server
    payloads: tuple[str, ...] = ()
    reference: str | None = None  # a handoff case's reference, shown to copy


@dataclass
class _Conversation:
    turns: list[Turn] = field(default_factory=list)
    last_active: float = 0.0


class Transcripts:
    def __init__(self, max_sessions: int = MAX_SESSIONS, max_turns: int = MAX_TURNS, idle_s: float = IDLE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._max_sessions, self._max_turns, self._idle_s = max_sessions, max_turns, idle_s
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, _Conversation] = OrderedDict()

    def _live(self, session_id: str) -> _Conversation | None:
        conversation = self._sessions.get(session_id)
        if conversation is not None and self._clock() - conversation.last_active > self._idle_s:
            del self._sessions[session_id]
            return None
        return conversation

    def turns(self, session_id: str) -> list[Turn]:
        with self._lock:
            conversation = self._live(session_id)
            return list(conversation.turns) if conversation else []

    def add_resident(self, session_id: str, text: str) -> Turn:
        """Keep the resident's message, redacted together with their last
        few (a number split across messages is removed from each part, the
        earlier ones rewritten); returns the message as kept."""
        with self._lock:
            conversation = self._live(session_id) or _Conversation()
            mine = [index for index, turn in enumerate(conversation.turns) if turn.who == RESIDENT][-LOOKBACK:]
            redacted = redact_turns([*(conversation.turns[index].text for index in mine), text])
            for index, kept in zip(mine, redacted):
                conversation.turns[index] = Turn(RESIDENT, kept)
            turn = Turn(RESIDENT, redacted[-1])
            self._append_locked(session_id, conversation, turn)
        return turn

    def add_bot(self, session_id: str, turn: Turn) -> None:
        self._append(session_id, turn)

    def last_buttons(self, session_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(titles, payloads) of the buttons the bot offered last, if its last turn had any."""
        turns = self.turns(session_id)
        if turns and turns[-1].who == BOT:
            return turns[-1].buttons, turns[-1].payloads
        return (), ()

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def _append(self, session_id: str, turn: Turn) -> None:
        with self._lock:
            self._append_locked(session_id, self._live(session_id) or _Conversation(), turn)

    def _append_locked(self, session_id: str, conversation: _Conversation, turn: Turn) -> None:
        conversation.turns.append(turn)
        del conversation.turns[:-self._max_turns]
        conversation.last_active = self._clock()
        self._sessions[session_id] = conversation
        self._sessions.move_to_end(session_id)
        while len(self._sessions) > self._max_sessions:
            self._sessions.popitem(last=False)

    def __len__(self) -> int:
        return len(self._sessions)
