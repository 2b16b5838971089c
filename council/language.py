"""Is this something the English NLU can read at all?

`assess(text)` answers None when it can, or names the problem: no words at
all (empty, emoji, symbols, binary junk) or another language. Other languages
are told apart by script (Arabic, Urdu, Bengali, Chinese...) and, for Latin
script, by spaCy's stop-word lists: a sentence whose little words are Polish
rather than English is Polish. No model is downloaded.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import import_module

NO_WORDS = "no_words"
NOT_ENGLISH = "not_english"

# Languages most spoken in the district after English (spaCy ships their
# stop-word lists), with the name the bot says.
LATIN_LANGUAGES = {
    "pl": "Polish", "ro": "Romanian", "es": "Spanish", "pt": "Portuguese", "fr": "French",
    "it": "Italian", "de": "German", "lt": "Lithuanian", "lv": "Latvian", "tr": "Turkish", "nl": "Dutch",
}
LONGEST_WORD = 30  # letters; longer "words" are junk or pasted codes
WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
PUNCTUATION = "\"'“”‘’.,;:!?¿¡()[]{}-–—…*"


@lru_cache(maxsize=None)
def _stop_words(code: str) -> frozenset[str]:
    module = import_module(f"spacy.lang.{code}.stop_words")
    return frozenset(word.lower() for word in module.STOP_WORDS)


def _script(char: str) -> str:
    try:
        name = unicodedata.name(char)
    except ValueError:
        return "UNKNOWN"
    return name.split(" ", 1)[0]


def assess(text: str) -> str | None:
    """None if the NLU should read `text`; else NO_WORDS or
    'not_english:<Language or script>'."""
    letters = [c for c in text if c.isalpha()]
    junk = sum(1 for c in text
               if c == "\ufffd" or (unicodedata.category(c) in ("Cc", "Cs", "Co") and c not in "\t\n\r"))
    # "y", "n" and "2" are answers; only input with no letter or digit at all
    # (emoji, symbols, white space) or mostly control bytes has no words.
    if not any(c.isalnum() for c in text) or junk * 10 > len(text):
        return NO_WORDS
    # Mostly "words" no language has ("xxxxxxxx...", a pasted hash): no words.
    tokens = text.split()
    overlong = sum(len(t) for t in tokens if len(t) > LONGEST_WORD)
    if overlong > 0.9 * sum(len(t) for t in tokens):
        return NO_WORDS
    latin = sum(1 for c in letters if _script(c) == "LATIN")
    if letters and latin < len(letters) / 2:
        scripts: dict[str, int] = {}
        for c in letters:
            scripts[_script(c)] = scripts.get(_script(c), 0) + 1
        return f"{NOT_ENGLISH}:{max(scripts, key=scripts.get).title()}"
    # Whole words only: letters inside codes ("9f86d0") are not words.
    # Single letters ("h m r c" spelt out) are no evidence of a language.
    words = [w for w in (t.strip(PUNCTUATION).lower() for t in tokens) if len(w) > 1 and WORD_RE.fullmatch(w)]
    english = _stop_words("en")
    english_hits = sum(1 for w in words if w in english)
    best_code, best_hits = None, 0
    for code in LATIN_LANGUAGES:
        hits = sum(1 for w in words if w in _stop_words(code) and w not in english)
        if hits > best_hits:
            best_code, best_hits = code, hits
    # Conservative: English callers say "um", "die" and "bin", which are German
    # stop words. Call it another language only when its little words are
    # many, outnumber English ones two to one, make up much of the message,
    # and either there are accented letters or there are four or more of them.
    accented = any(not c.isascii() for c in letters)
    if (best_code and best_hits >= 3 and best_hits > 2 * english_hits and best_hits >= 0.3 * len(words)
            and (accented or best_hits >= 4)):
        return f"{NOT_ENGLISH}:{LATIN_LANGUAGES[best_code]}"
    # Accented words English never has ("zapłacić", "nieruchomości"), with
    # hardly an English little word beside them.
    foreign_spelt = sum(1 for w in words if not w.isascii())
    if foreign_spelt >= 2 and foreign_spelt >= 0.25 * len(words) and english_hits <= 1:
        return f"{NOT_ENGLISH}:{LATIN_LANGUAGES[best_code] if best_code else 'Latin'}"
    return None
