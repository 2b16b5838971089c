"""How a telephone number may be shown: in logs, the call log, the case
store and on any page a person reads, only its last three digits."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\D")


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
    # At most twelve stars (E.164 numbers have at most 15 digits), so that a
    # crafted 40-digit "number" masks to no more than the column holds.
    return f"{keep_prefix}{'*' * min(max(hidden, 0), 12)}{digits[-3:]}"
