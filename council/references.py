"""Case references a caller can read out on a bad phone line: LAN-7K3-Q9X.

Made of digits and capital letters with the easily confused ones left out
(no O/0, I/1, nor S/5, Z/2 or B/8 pairs that blur on a phone), in two groups
of three after the LAN- prefix. The last character is a check character over
the other five, so a reference mis-heard in one place is recognised as wrong
rather than matching someone else's case. Five random characters give 12
million references: the action server makes them itself (so a caller can be
told one while the case service is down), and the store gives a new one in
the rare clash, which the action then tells instead when it can.
"""

from __future__ import annotations

import re
import secrets

PREFIX = "LAN"
ALPHABET = "34679ACDEFGHJKLMNPQRTUVWXY"  # 26 symbols: no 0 O 1 I 2 Z 5 S 8 B
_BODY = 6
RANDOM_CHARACTERS = _BODY - 1  # the last is the check character
_PATTERN = re.compile(rf"^{PREFIX}-[{ALPHABET}]{{3}}-[{ALPHABET}]{{3}}$")
# How each character is said on the phone.
SPOKEN = {
    "3": "three", "4": "four", "6": "six", "7": "seven", "9": "nine",
    "A": "A for Alpha", "C": "C for Charlie", "D": "D for Delta", "E": "E for Echo", "F": "F for Foxtrot",
    "G": "G for Golf", "H": "H for Hotel", "J": "J for Juliet", "K": "K for Kilo", "L": "L for Lima",
    "M": "M for Mike", "N": "N for November", "P": "P for Papa", "Q": "Q for Quebec", "R": "R for Romeo",
    "T": "T for Tango", "U": "U for Uniform", "V": "V for Victor", "W": "W for Whiskey", "X": "X for X-ray",
    "Y": "Y for Yankee",
}


def _check(body: str) -> str:
    """A weighted sum mod 26 with odd weights (none shares a factor with 26):
    any single wrong character changes it, and so do most swaps of two
    neighbours."""
    total = sum((2 * index + 1) * ALPHABET.index(char) for index, char in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_reference() -> str:
    """A fresh random reference, e.g. 'LAN-7K3-Q9X'. Uniqueness is the
    store's job (a unique column, and a retry on the rare clash)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(_BODY - 1))
    body += _check(body)
    return f"{PREFIX}-{body[:3]}-{body[3:]}"


def normalise(text: str) -> str | None:
    """A reference as typed or heard ('lan 7k3 q9x', 'LAN7K3Q9X') in its
    canonical form, or None when it is not a valid reference (bad check
    character included)."""
    compact = re.sub(r"[\s\-_.]", "", text.upper())
    if compact.startswith(PREFIX):
        compact = compact[len(PREFIX):]
    if len(compact) != _BODY or any(char not in ALPHABET for char in compact):
        return None
    if _check(compact[:-1]) != compact[-1]:
        return None
    return f"{PREFIX}-{compact[:3]}-{compact[3:]}"


def is_reference(text: str) -> bool:
    return bool(_PATTERN.match(text)) and normalise(text) == text


def spoken(reference: str) -> str:
    """How the bot says it on the phone: 'L A N, seven, K for Kilo, three,
    Q for Quebec, nine, X for X-ray'."""
    body = reference.replace(f"{PREFIX}-", "").replace("-", "")
    return "L A N, " + ", ".join(SPOKEN.get(char, char) for char in body)
