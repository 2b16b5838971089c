"""Payment and personal details taken out of what citizens said, before
anything is stored.

A caller stuck with the bot sometimes reads out a card number, a sort code,
an account number or a card's security code. `redact(text)` replaces each
with a marker such as "[card number removed]" and keeps every other word, so
staff still see what the person needed. It reads numbers both as digits
("4111 1111 1111 1111", "12-34-56") and as speech recognition writes them
("four one one one ...", "double one", "oh" for zero, "twelve thirty four").

What is removed:
- card numbers: 13 to 19 digits passing the Luhn check, or any 13 to 19
  digits just after the word "card";
- sort codes: 12-34-56 and 12 34 56 as typed, or six digits after
  "sort code" in any form;
- account numbers: eight digits shortly after account / acc / acct / a/c;
- security codes: three or four digits right after "security code", "CVV",
  "CVC", "CV2" or "... on the back".
- National Insurance numbers, e-mail addresses and dates of birth
  (council.personal_details says how each is recognised).
Telephone numbers (01632 960101), postcodes (LA1 1PJ), case references
(LAN-7K3-Q9X), this century's dates and amounts survive. Applying it twice
changes nothing more.

`redact_turns(texts)` does the same over consecutive turns of one person,
so a card number read out across two messages ("4111 1111", then "1111
1111") is found although neither half is a card number on its own.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from council import personal_details
from council.personal_details import DATE_OF_BIRTH, EMAIL, NI_NUMBER

CARD = "[card number removed]"
SORT_CODE = "[sort code removed]"
ACCOUNT = "[account number removed]"
SECURITY_CODE = "[security code removed]"
MARKERS = (CARD, SORT_CODE, ACCOUNT, SECURITY_CODE, NI_NUMBER, EMAIL, DATE_OF_BIRTH)

_UNITS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "nil": "0", "one": "1", "two": "2", "three": "3",
    "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
_TEENS = {
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
    "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
}
_TENS = {
    "twenty": "2", "thirty": "3", "forty": "4", "fifty": "5", "sixty": "6", "seventy": "7", "eighty": "8",
    "ninety": "9",
}
_REPEATS = {"double": 2, "triple": 3}
_NUMBER_WORDS = frozenset(_UNITS) | frozenset(_TEENS) | frozenset(_TENS) | frozenset(_REPEATS)

_B, _E = r"(?<![\w'])", r"(?![\w'])"  # whole words and whole digit groups only ("LA1", "7K3" are not numbers)
_UNIT = "|".join(sorted(_UNITS, key=len, reverse=True))
_DIGIT_UNIT = "|".join(word for word in _UNITS if _UNITS[word] != "0")
_TOKEN = re.compile(
    rf"{_B}(?P<repeat>double|triple)[ \t-]+(?P<repeated>{_UNIT}|\d){_E}"
    rf"|{_B}(?P<tens>{'|'.join(_TENS)})(?:[ \t-]+(?P<tens_unit>{_DIGIT_UNIT}))?{_E}"
    rf"|{_B}(?P<teen>{'|'.join(_TEENS)}){_E}"
    rf"|{_B}(?P<unit>{_UNIT}){_E}"
    rf"|(?<![\w'])(?<!\d\.)(?P<digits>\d+)(?![\w'])",  # not the pence of 12.50
    re.IGNORECASE,
)
# What may stand between the parts of one number: spaces, a comma (speech
# recognition puts them between groups), a dash.
_SEPARATOR = re.compile(r"[ \t]*[,\-\u2013]?[ \t]*")
_MARKER = re.compile("|".join(re.escape(marker) for marker in MARKERS), re.IGNORECASE)
_WORD = re.compile(r"[a-z][a-z0-9]*(?:/[a-z]+)?")
# A full stop ends a sentence, except after the abbreviations people put
# before an account number ("acc no. 12345678").
_SENTENCE_END = re.compile(r"(?:(?<!\bno)(?<!\bacc)(?<!\bacct)(?<!\bnum)\.|[!?])(?:\s|$)")
_CONTEXT_WORDS = 6

_CARD_CONTEXT = re.compile(r"\bcard\b")
_SORT_CODE_CONTEXT = re.compile(r"\bsort ?codes?\b|\bsortcodes?\b")
_ACCOUNT_CONTEXT = re.compile(r"\b(?:account|acc|acct|a/c)\b")
_NI_CONTEXT = re.compile(r"\b(?:national insurance|ni|nino|n i)\b")
# The code must follow its trigger closely ("security code is 123"): three
# digits are too common ("3 bins") to remove on a loose hint.
_SECURITY_CONTEXT = re.compile(
    r"\b(?:security (?:code|number)|cvv2?|cvc2?|cv2|csc|card verification (?:code|value)|on the back)"
    r"(?: [a-z0-9/']+){0,2}$"
)


@dataclass(frozen=True)
class _Group:
    """One number token: a group of typed digits or one spoken number."""

    start: int
    end: int
    digits: str
    typed: bool


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _group(match: re.Match[str]) -> _Group:
    if match.group("digits"):
        return _Group(match.start(), match.end(), match.group("digits"), True)
    if match.group("repeat"):
        repeated = match.group("repeated").lower()
        digits = _UNITS.get(repeated, repeated) * _REPEATS[match.group("repeat").lower()]
        # "double 1" belongs with typed digits, "double one" with spoken words.
        return _Group(match.start(), match.end(), digits, repeated.isdigit())
    if match.group("tens"):
        unit = match.group("tens_unit")
        digits = _TENS[match.group("tens").lower()] + (_UNITS[unit.lower()] if unit else "0")
    elif match.group("teen"):
        digits = _TEENS[match.group("teen").lower()]
    else:
        digits = _UNITS[match.group("unit").lower()]
    return _Group(match.start(), match.end(), digits, False)


def _runs(text: str) -> list[list[_Group]]:
    """Number tokens joined into runs: the tokens of one spoken or typed
    number, separated only by spaces, commas or dashes."""
    runs: list[list[_Group]] = []
    for match in _TOKEN.finditer(text):
        group = _group(match)
        # Digits and number words never share a run: "the other one 87654321"
        # is a word and an account number, not nine digits.
        if (runs and runs[-1][-1].typed == group.typed
                and _SEPARATOR.fullmatch(text, runs[-1][-1].end, group.start)):
            runs[-1].append(group)
        else:
            runs.append([group])
    return runs


class _Context:
    """The few words said just before each number, in the same sentence,
    with numbers and markers left out, so that a second pass over redacted
    text sees the same words as the first. Built once per text."""

    def __init__(self, text: str) -> None:
        # Markers blanked out in place, so positions still match the text.
        masked = _MARKER.sub(lambda m: " " * len(m.group()), text.lower())
        found = [(m.start(), m.group()) for m in _WORD.finditer(masked) if m.group() not in _NUMBER_WORDS]
        self._starts = [start for start, _ in found]
        self._words = [word for _, word in found]
        self._sentence_starts = [m.end() for m in _SENTENCE_END.finditer(masked)]

    def before(self, position: int) -> str:
        sentences = bisect_right(self._sentence_starts, position) - 1
        sentence_start = self._sentence_starts[sentences] if sentences >= 0 else 0
        first = bisect_left(self._starts, sentence_start)
        last = bisect_left(self._starts, position)
        return " ".join(self._words[max(first, last - _CONTEXT_WORDS):last])


def _digits(groups: list[_Group]) -> str:
    return "".join(group.digits for group in groups)


def _card_windows(groups: list[_Group]) -> list[tuple[int, int]]:
    """Stretches of whole groups that are card numbers by the Luhn check, as
    (first, last + 1) group indexes: longest first, none overlapping. A
    stretch entirely outside them is no card, so what is left between them
    can be judged on its own."""
    found: list[tuple[int, int, int]] = []
    for first in range(len(groups)):
        digits = ""
        for last in range(first, len(groups)):
            digits += groups[last].digits
            if len(digits) > 19:
                break
            if len(digits) >= 13 and _luhn(digits):
                found.append((-len(digits), first, last + 1))
    taken = [False] * len(groups)
    chosen: list[tuple[int, int]] = []
    for _, first, last in sorted(found):
        if not any(taken[first:last]):
            taken[first:last] = [True] * (last - first)
            chosen.append((first, last))
    return sorted(chosen)


def _classify(groups: list[_Group], context: str) -> str | None:
    """The marker for a whole run, or None to keep it."""
    digits = _digits(groups)
    count = len(digits)
    if 13 <= count <= 19 and (_luhn(digits) or _CARD_CONTEXT.search(context)):
        return CARD
    if count == 6 and _NI_CONTEXT.search(context):
        return NI_NUMBER
    if count == 6:
        typed_pairs = len(groups) == 3 and all(g.typed and len(g.digits) == 2 for g in groups)
        if typed_pairs or _SORT_CODE_CONTEXT.search(context):
            return SORT_CODE
    if count == 8 and _ACCOUNT_CONTEXT.search(context):
        return ACCOUNT
    if count in (3, 4) and _SECURITY_CONTEXT.search(context):
        return SECURITY_CODE
    return None


def _whole(groups: list[_Group], context: str) -> list[tuple[int, int, str]]:
    marker = _classify(groups, context) if groups else None
    return [(groups[0].start, groups[-1].end, marker)] if marker else []


def _spans(groups: list[_Group], context: str) -> list[tuple[int, int, str]]:
    """What to replace in one run, in order. Cards found inside a longer run
    are taken out and each rest of the run judged on its own, exactly as a
    second pass over the redacted text would judge it."""
    whole = _whole(groups, context)
    if whole:
        return whole
    spans: list[tuple[int, int, str]] = []
    done = 0
    for first, last in _card_windows(groups):
        spans += _whole(groups[done:first], context)
        spans.append((groups[first].start, groups[last - 1].end, CARD))
        done = last
    return spans + _whole(groups[done:], context)


def spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, marker) for everything `redact` replaces, in order, none
    overlapping: personal details first, then payment details outside them."""
    if not text:
        return []
    found = personal_details.spans(text)
    context = _Context(text)
    for groups in _runs(text):
        for start, end, marker in _spans(groups, context.before(groups[0].start)):
            if not any(start < e and s < end for s, e, _ in found):
                found.append((start, end, marker))
    return sorted(found)


def redact(text: str) -> str:
    """`text` with card numbers, sort codes, account numbers, security codes,
    National Insurance numbers, e-mail addresses and dates of birth replaced
    by markers; everything else kept as it was."""
    for start, end, marker in reversed(spans(text)):
        text = text[:start] + marker + text[end:]
    return text


_JOIN = " "


def redact_turns(texts: list[str]) -> list[str]:
    """Each of `texts` (consecutive turns of one person) redacted as if they
    were one message: a detail split across turns is replaced by its marker
    in the turn where it starts and removed from the turns it runs on into.
    Each turn is also redacted on its own, so nothing found alone is missed."""
    if len(texts) < 2:
        return [redact(text) for text in texts]
    starts, offset = [], 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + len(_JOIN)
    edits: list[list[tuple[int, int, str]]] = [[] for _ in texts]
    for start, end, marker in spans(_JOIN.join(texts)):
        first = True
        for index, text in enumerate(texts):
            low, high = max(start, starts[index]), min(end, starts[index] + len(text))
            if low < high:
                edits[index].append((low - starts[index], high - starts[index], marker if first else ""))
                first = False
    out = []
    for text, changes in zip(texts, edits):
        for low, high, marker in reversed(changes):
            text = text[:low] + marker + text[high:]
        out.append(redact(" ".join(text.split()) if changes else text))
    return out
