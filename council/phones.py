"""Telephone numbers: how the bridge dials them and how it may show them.

Twilio gives and takes numbers in E.164 (+441632960101); the catalogue keeps
them as a caller would read them (01632 960101). Logs, the call log and
anything a person reads show only a masked form (plumbing.masking).
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\D")


def to_e164(national: str) -> str:
    """'01632 960101' -> '+441632960101'. A number already in E.164 is kept."""
    text = national.strip()
    if text.startswith("+"):
        return "+" + _DIGITS.sub("", text)
    digits = _DIGITS.sub("", text)
    if digits.startswith("0"):
        return "+44" + digits[1:]
    return "+" + digits


def is_uk_mobile(number: str | None) -> bool:
    """True for a UK mobile (07xxx or +447xxx): one that can take a text."""
    if not number:
        return False
    e164 = to_e164(number)
    return bool(re.fullmatch(r"\+447\d{9}", e164))
