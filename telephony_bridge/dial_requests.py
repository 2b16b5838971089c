"""Whether a caller's words ask to be put through to a line ("put me through
to planning", "licensing please"), and which line they name."""

from __future__ import annotations

import re

_CUE = re.compile(
    r"""\b(?:
        (?:put|get|send|transfer|pass)\s+(?:me|us|my\s+call)\s+(?:through|thru|over|across)\s+(?:to|with)
      | (?:connect|transfer|forward|pass|put)\s+(?:me|us|my\s+call)\s+(?:to|with|onto)
      | (?:speak|talk|chat)\s+(?:to|with)
      | extension\s+(?:number\s+)?(?:for|of)
      | (?:get|go)\s+(?:me\s+)?through\s+to
    )\b""",
    re.X,
)
# The start of a request with no line named yet ("put me through please").
_BARE_CUE = re.compile(r"\b(?:put|get|send|connect|transfer|pass|forward)\s+(?:me|us|my\s+call)\b")
# Lead-ins that, with a closing "please", ask for a line ("can I have planning please").
_ASKING = re.compile(r"^(?:(?:can|could|may)\s+i\s+(?:have|get)|i'?d\s+like|i\s+would\s+like)\s+")
_POLITE = re.compile(r"\b(?:please|thanks|thank\s+you|cheers|the|department|dept|team|if\s+possible)\b")
_LEADING = re.compile(r"^(?:(?:hi|hello|hiya|yes|yeah|oh|um+|er+m?|uh|ok|okay|right|so)\s+)+")
_SOMEONE = r"(?:someone|somebody|anyone|anybody|a\s+person|a\s+member\s+of\s+staff)"
_SOMEONE_IN = re.compile(rf"^{_SOMEONE}\s+(?:in|from|at|on|who\s+deals\s+with)\s+")
# A request for any person, not a particular line: the bot handles it.
_PERSON = re.compile(
    rf"^(?:{_SOMEONE}|(?:a|an)\s+(?:real\s+)?(?:human|person|advisor|adviser|agent|operator)"
    r"|(?:a\s+)?(?:real\s+)?(?:human|person|operator)(?:\s+being)?)\b"
)
_NOT_A_NAME = re.compile(r"^(?:yes|no|ok|okay|yeah|nope|help|hello|hi|you|yourself|u)\b")
SHORT = 5  # "X please" is a request for a line only when X is this many words or fewer


# What the call is about follows the name; it is for the person, not for dialling.
_ABOUT = re.compile(r"\s+(?:about|regarding|concerning|because|to\s+(?:ask|discuss|talk|report|complain))\b.*$")


def _clean(text: str) -> str:
    text = text.lower().replace("&", " and ").replace("’", "'")
    text = re.sub(r"[^\w\s']|(?<!\w)'|'(?!\w)", " ", text)
    return " ".join(text.split())


def _target(rest: str) -> str | None:
    """What is left of a request once politeness is gone; None when it is
    empty or asks for a person in general."""
    rest = " ".join(_POLITE.sub(" ", _ABOUT.sub("", rest)).split())
    rest = _SOMEONE_IN.sub("", rest)
    if not rest or _PERSON.match(rest) or _NOT_A_NAME.match(rest):
        return None
    return rest


def dial_request(text: str) -> str | None:
    """If the words ask to be put through to a line ("put me through to
    planning", "can I speak to Sarah Jones", "licensing please", "extension
    for council tax"), the line's name in lower case with the cue words and
    politeness ("please", "thanks", "the", "department", "team", "someone
    in") gone; else None. A request for any person ("can I speak to
    someone", "a human") is None: the bot handles that."""
    cleaned = _LEADING.sub("", _clean(text))
    cue = _CUE.search(cleaned)
    if cue:
        return _target(cleaned[cue.end() :])
    if not re.search(r"\b(?:please|thanks|thank\s+you|cheers)$", cleaned) or _BARE_CUE.search(cleaned):
        return None
    rest = _ASKING.sub("", cleaned)
    target = _target(rest)
    if target is None or len(target.split()) > SHORT:
        return None
    return target


