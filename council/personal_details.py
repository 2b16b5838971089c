"""Personal details other than payment ones, found in what citizens said:
National Insurance numbers, e-mail addresses and dates of birth, as typed
and as a speech recogniser writes them. `spans(text)` gives where each is
(council.redaction replaces them along with card numbers and the rest).

- National Insurance numbers: two letters, six digits and an optional final
  letter A-D ("QQ 12 34 56 C", "q q 123456 c"); six digits (spoken or typed)
  just after "national insurance" or "NI number" are found by the payment
  rules' context machinery in council.redaction.
- E-mail addresses: "jo.smith@example.com", and spoken: "jo dot smith at
  gmail dot com", "jo smith at hotmail.co.uk".
- Dates of birth: any full date (12/03/1956, 12-3-56, 12th March 1956,
  the twelfth of march nineteen fifty six, March 12 1956) a few words after
  "born", "birth", "DOB" or "birthday"; and without such a word, a full date
  in the 1900s, which in a call to a council is almost always someone's
  birthday. A date of this century without those words (a bill's, an
  appointment's) is kept.
"""

from __future__ import annotations

import re

NI_NUMBER = "[National Insurance number removed]"
EMAIL = "[email address removed]"
DATE_OF_BIRTH = "[date of birth removed]"
MARKERS = (NI_NUMBER, EMAIL, DATE_OF_BIRTH)

# Any two letters: HMRC never issues some prefixes, but its own example
# (QQ 12 34 56 C) is what a tester reads out, and nothing else a caller says
# looks like two letters and six digits.
_NI = re.compile(
    r"(?<![\w@])[A-Z][ .]?[A-Z][ .]?\d{2}[ -]?\d{2}[ -]?\d{2}(?:[ -]?[A-D])?(?![\w@])",
    re.IGNORECASE,
)
_TLD = r"(?:com|net|org|uk|gov|ac|me|info|biz|io|edu)"
_TYPED_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_SPOKEN_EMAIL = re.compile(
    rf"(?<![\w])[\w+-]+(?:\s+dot\s+[\w+-]+)*\s+at\s+[\w-]+(?:\s+dot\s+[\w-]+)*\s+dot\s+{_TLD}(?![\w@])"
    rf"|(?<![\w])[\w.+-]+\s+at\s+[\w-]+(?:\.[\w-]+)*\.{_TLD}(?![\w@.])",  # "jo at gmail.com"
    re.IGNORECASE,
)

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december"
           "|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec")
_ORDINALS = ("first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth"
             "|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth")
_DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|(?:twenty|thirty)[ -](?:{_ORDINALS})|{_ORDINALS})"
_NUMBER_WORD = (r"(?:oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
                r"|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty"
                r"|ninety|hundred)")
_SPOKEN_YEAR = (rf"(?:nineteen(?:[ -]{_NUMBER_WORD}){{1,2}}"
                rf"|two thousand(?: and)?(?:[ -]{_NUMBER_WORD}){{0,2}})")
_YEAR = rf"(?:\d{{4}}|'?\d{{2}}|{_SPOKEN_YEAR})"
_DATE = re.compile(
    r"(?<![\w/.-])\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?![\w/.-])"
    rf"|(?<![\w])(?:the\s+)?{_DAY}(?:\s+of)?\s+(?:{_MONTHS})\.?,?\s+{_YEAR}(?![\w])"
    rf"|(?<![\w])(?:{_MONTHS})\.?\s+(?:the\s+)?{_DAY},?\s+{_YEAR}(?![\w])",
    re.IGNORECASE,
)
_BIRTH_CONTEXT = re.compile(r"\b(?:born|birth|dob|d\.o\.b|birthday|birthdate)\b", re.IGNORECASE)
_CONTEXT_CHARS = 60
_LAST_CENTURY = re.compile(r"\b19\d\d\b|\bnineteen\b|'[3-9]\d\b", re.IGNORECASE)


_NUMERIC = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})")


def _is_birthday(text: str, match: re.Match[str]) -> bool:
    found = match.group()
    numeric = _NUMERIC.fullmatch(found)
    if numeric:
        day, month = int(numeric.group(1)), int(numeric.group(2))
        if not (1 <= day <= 31 and 1 <= month <= 12) and not (1 <= month <= 31 and 1 <= day <= 12):
            return False  # 40-47-84 is a sort code, not a date
    before = text[max(0, match.start() - _CONTEXT_CHARS):match.start()]
    if _BIRTH_CONTEXT.search(before):
        return True
    if numeric and len(numeric.group(3)) == 2:
        return False  # 12-03-56 without a word of birth may be a sort code
    return bool(_LAST_CENTURY.search(found))


# Two-letter words that can stand before six digits ("is 960101", "at 12 34
# 56"): never a National Insurance prefix when written as a word.
_WORDS_NOT_PREFIXES = frozenset({
    "am", "an", "as", "at", "be", "by", "do", "go", "he", "hi", "if", "in", "is", "it", "me", "my", "no", "of",
    "oh", "ok", "on", "or", "so", "to", "up", "us", "we", "ye", "pm"})


def _is_ni(match: re.Match[str]) -> bool:
    prefix = match.group()[:2]
    return not (prefix.isalpha() and prefix.lower() in _WORDS_NOT_PREFIXES and match.group()[2:3] == " ")


def spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, marker) for each personal detail in `text`, in order,
    none overlapping (an e-mail address first, then a National Insurance
    number, then a date of birth)."""
    found: list[tuple[int, int, str]] = []

    def add(start: int, end: int, marker: str) -> None:
        if not any(start < e and s < end for s, e, _ in found):
            found.append((start, end, marker))

    for pattern in (_TYPED_EMAIL, _SPOKEN_EMAIL):
        for match in pattern.finditer(text):
            add(match.start(), match.end(), EMAIL)
    for match in _NI.finditer(text):
        if _is_ni(match):
            add(match.start(), match.end(), NI_NUMBER)
    for match in _DATE.finditer(text):
        if _is_birthday(text, match):
            add(match.start(), match.end(), DATE_OF_BIRTH)
    return sorted(found)
