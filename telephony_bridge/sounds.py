"""Words and their sounds for speech dial: a caller's words with punctuation
and filler gone, and a phonetic key (a Metaphone-like code) so that
mis-hearings of one name still meet."""

from __future__ import annotations

import re

# Words that carry no part of a name: hesitations, politeness, and the
# generic nouns callers tack on ("the planning department", "licensing team").
FILLER = frozenset(
    """um umm uh uhm er erm ah eh hmm mm oh ok okay yeah yes well so just
    please pls thanks thank cheers
    a an the my me i it is its can could would like
    in to for of and on at with from about
    team teams department departments dept section office offices service services""".split()
)
_PHRASE_FILLER = re.compile(r"\b(?:thank you|if possible|if thats ok)\b")


def words(text: str) -> list[str]:
    """Lower-case words with punctuation gone and apostrophes closed up
    ("O'Neill" -> "oneill", "children's" -> "childrens", "&" -> "and")."""
    text = text.lower().replace("&", " and ").replace("’", "'")
    text = re.sub(r"(\w)'(\w)", r"\1\2", text)
    return re.findall(r"[a-z0-9]+", text)


def content_words(text: str) -> list[str]:
    """The words that can name an entry: `words()` without FILLER."""
    text = _PHRASE_FILLER.sub(" ", " ".join(words(text)))
    return [word for word in text.split() if word not in FILLER]


_VOWELS = frozenset("aeiou")


def _letter_code(word: str, i: int) -> str:
    """The sound of word[i] in context, in a simplified Metaphone."""
    ch = word[i]
    prev = word[i - 1] if i else ""
    nxt = word[i + 1] if i + 1 < len(word) else ""
    after = word[i + 2] if i + 2 < len(word) else ""
    if ch in _VOWELS:
        return "A" if i == 0 else ""
    if ch == "b":
        return "" if prev == "m" and not nxt else "B"
    if ch == "c":
        if nxt == "h":
            return "K" if prev == "s" else "X"
        if nxt == "i" and after == "a":
            return "X"
        if nxt in ("e", "i", "y"):
            return "" if prev == "s" else "S"
        return "K"
    if ch == "d":
        return "J" if nxt == "g" and after in ("e", "i", "y") else "T"
    if ch == "g":
        if nxt == "h" and after not in _VOWELS:
            return ""
        if nxt == "n" and (not after or word[i + 2 :] == "ed"):
            return ""
        return "J" if nxt in ("e", "i", "y") and prev != "g" else "K"
    if ch == "h":
        return "H" if prev not in ("c", "g", "p", "s", "t") and nxt in _VOWELS else ""
    if ch == "k":
        return "" if prev == "c" else "K"
    if ch == "p":
        return "F" if nxt == "h" else "P"
    if ch == "s":
        return "X" if nxt == "h" or (nxt == "i" and after in ("o", "a")) else "S"
    if ch == "t":
        if nxt == "i" and after in ("o", "a"):
            return "X"
        if nxt == "h":
            return "0"
        return "" if nxt == "c" and after == "h" else "T"
    if ch in ("w", "y"):
        return ch.upper() if nxt in _VOWELS else ""
    return {"q": "K", "v": "F", "x": "KS", "z": "S"}.get(ch, ch.upper())


def phonetic_key(word: str) -> str:
    """A sound key (simplified Metaphone): words that sound alike to a
    recogniser share it ("council"/"counsel", "licensing"/"licencing",
    "sara"/"sarah", "tellycare"/"telecare"). Letters only; '' for none."""
    word = "".join(ch for ch in word.lower() if "a" <= ch <= "z")
    for silent in ("kn", "gn", "pn", "wr", "ae"):
        if word.startswith(silent):
            word = word[1:]
            break
    if word.startswith("x"):
        word = "s" + word[1:]
    elif word.startswith("wh"):
        word = "w" + word[2:]
    codes = [
        _letter_code(word, i) for i in range(len(word)) if i == 0 or word[i] != word[i - 1] or word[i] == "c"
    ]
    return "".join(codes)


