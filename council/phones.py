"""Telephone numbers: how the bridge dials them and whether they can take a
text, read with Google's libphonenumber (the `phonenumbers` port).

Twilio gives and takes numbers in E.164 (+441632960101); the catalogue keeps
them as a caller would read them (01632 960101). Logs, the call log and
anything a person reads show only a masked form (plumbing.masking).
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

_DIGITS = re.compile(r"\D")
REGION = "GB"  # a number without a country code is read as a UK one
# Ofcom's range of fictional mobiles for drama (07700 900000 to 900999):
# libphonenumber rightly calls them invalid, but the simulator, the tests and
# any demonstration use them as callers who can take a text.
_DRAMA_MOBILE = re.compile(r"\+447700900\d{3}")
_TEXTABLE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _parsed(text: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text.strip(), REGION)
    except NumberParseException:
        return None


def to_e164(national: str) -> str:
    """'01632 960101' -> '+441632960101'; '+44 (0)1524 582000' and
    '0044 1524 582000' too. A number already in E.164 is kept; what is not a
    number at all keeps only its digits after a '+'."""
    parsed = _parsed(national)
    if parsed is None:
        return "+" + _DIGITS.sub("", national.strip())
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def is_uk_mobile(number: str | None) -> bool:
    """True for a UK mobile (07xxx; not a pager or a personal number): one
    that can take a text."""
    if not number:
        return False
    parsed = _parsed(number)
    if parsed is None:
        return False
    if _DRAMA_MOBILE.fullmatch(phonenumbers.format_number(parsed, PhoneNumberFormat.E164)):
        return True
    return parsed.country_code == 44 and phonenumbers.number_type(parsed) in _TEXTABLE


def region_of(number: str | None) -> str | None:
    """The ISO region of a valid number given in E.164 ('GB' for +44...), or
    None for anything else (withheld, short codes, junk). Ofcom's drama
    mobiles count as GB."""
    if not number or not number.strip().startswith("+"):
        return None
    parsed = _parsed(number)
    if parsed is None:
        return None
    if _DRAMA_MOBILE.fullmatch(phonenumbers.format_number(parsed, PhoneNumberFormat.E164)):
        return REGION
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.region_code_for_number(parsed)
