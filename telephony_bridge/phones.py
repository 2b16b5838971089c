"""Telephone numbers: how the bridge dials them and how it may show them.

Twilio gives and takes numbers in E.164 (+441632960101); the catalogue keeps
them as a caller would read them (01632 960101). Logs, the call log and
anything a person reads show only a masked form.
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


def mask(number: str | None) -> str:
    """Everything but the last three digits hidden: '+447700900123' ->
    '+44*******123'. Short or odd strings ('anonymous', '') lose all digits
    but the last three too, so nothing identifying leaks."""
    if not number:
        return "unknown"
    text = str(number).strip()
    digits = _DIGITS.sub("", text)
    if len(digits) <= 3:
        return "*" * len(digits) if digits else "withheld"
    keep_prefix = "+44" if text.startswith("+44") else ("+" if text.startswith("+") else "")
    hidden = len(digits) - 3 - len(_DIGITS.sub("", keep_prefix))
    return f"{keep_prefix}{'*' * max(hidden, 0)}{digits[-3:]}"


def is_uk_mobile(number: str | None) -> bool:
    """True for a UK mobile (07xxx or +447xxx): one that can take a text."""
    if not number:
        return False
    e164 = to_e164(number)
    return bool(re.fullmatch(r"\+447\d{9}", e164))
