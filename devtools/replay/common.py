"""What the replay modules share: where conversations live, the channels and
match modes, the fictional numbers and names records use."""

from __future__ import annotations

import re

from plumbing.paths import ROOT

CONVERSATIONS_DIR = ROOT / "tests" / "conversations"
CHANNELS = ("chat", "sms", "voice")
MATCHES = ("text", "name")
OUTCOMES = ("transfer", "handoff", "hangup")
# Ofcom's drama ranges: numbers that can never reach a real person.
FICTIONAL_MOBILE = "07700 900123"
FICTIONAL_CALLER = "+447700900123"
FICTIONAL_NAME = "Sam Taylor"
FICTIONAL_EMAIL = "resident@example.com"
HEADER = ("# A recorded conversation, replayed by `python -m devtools replay run`. Callers' numbers\n"
          "# and names were replaced before it was written. Review it before committing.\n")

_REFERENCE = re.compile(r"\bLAN-[0-9A-Z]{3}-[0-9A-Z]{3}\b")
# council.references.spoken: "L A N, seven, K for Kilo, ..." (six characters).
_SPOKEN_REFERENCE = re.compile(r"\bL A N(?:, (?:[A-Z] for [A-Za-z-]+|[a-z]+)){6}")


class ConversationFileError(ValueError):
    """A conversation file that cannot be replayed; the message says where."""
