"""The speech-dial directory (automated attendant): who a caller asked for.

Callers name a department or a person the way they say it and the way the
recogniser hears it: "put me through to planning", "sara jones in
licencing", "counsel tax". `Directory.match()` scores every name and alias
against the words, fuzzily (typos, plurals) and phonetically (mis-hearings),
and returns the best entry with a score the bridge compares with CONNECT
(dial now) and CONFIRM (ask first). Entries come from data/directory.yml,
checked against the service catalogue when loaded; phone numbers and hours
a department leaves out are its service's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Iterable, Mapping, TypeVar

from telephony_bridge.dial_requests import dial_request
from telephony_bridge.sounds import content_words, phonetic_key

CONNECT = 0.85  # at or above: dial straight away
CONFIRM = 0.6  # at or above (below CONNECT): ask "Did you want Planning? Say yes or press 1"

T = TypeVar("T")
# When a different entry scores this close to the best, the words did not
# decide between them ("street": Street Lighting or Street Cleaning?).
# Offering either would be a coin toss; the bot's clarifying question is not.
AMBIGUITY_MARGIN = 0.05
# Two words with the same sound key are nearly, not quite, the same word.
PHONETIC_SCORE = 0.9
# Keys of one or two sounds are shared by too many words ("tip", "top").
MIN_KEY = 3
# Character similarity below this is chance resemblance ("housing" and
# "voting", 0.62, share letters, not meaning): counted as no match at all.
FLOOR = 0.65
# A name's words run together ("cablestreet") exist to catch a caller's one
# word for two; a part of them ("street") resembles the whole only by
# containment, so such a token must be far closer to count.
JOINED_FLOOR = 0.8
# Share of letter pairs (Dice) two words need before their letters are compared.
MIN_SHARED_BIGRAMS = 0.3
# No name in a directory runs to more words than this once filler is gone;
# anything longer is an enquiry for the bot, not a name for the switchboard.
MAX_QUERY_WORDS = 6
MERGE_UP_TO = 4  # words: longer phrases are not tried with words run together
# Twilio takes at most 500 hints of at most 100 characters each.
MAX_HINTS = 500
MAX_HINT_CHARS = 100





@dataclass(frozen=True)
class Entry:
    """Something a caller can be put through to."""

    id: str
    kind: str  # "department" | "person"
    name: str  # how the bridge says it: "Planning", "Sarah Jones in Licensing"
    phone: str  # national format, drama range
    hours: str  # schedule id in data/hours.yml
    service: str | None  # catalogue service id (a person's is their department's)
    out_of_hours_phone: str | None  # from the catalogue service, when it has one
    aliases: tuple[str, ...]  # every other phrase that names it, as written


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float  # 0..1: compare with CONNECT and CONFIRM


# --- matching ----------------------------------------------------------------


@dataclass(frozen=True)
class _Phrase:
    """One way of naming an entry, reduced to what matching compares."""

    tokens: tuple[str, ...]
    weights: tuple[float, ...]
    total: float  # sum of weights
    entry: int  # index into Directory.entries


def _bigrams(word: str) -> frozenset[str]:
    """Letter pairs, with the word's edges marked so first and last letters count."""
    padded = f"^{word}$"
    return frozenset(padded[i : i + 2] for i in range(len(padded) - 1))


def _merged_variants(tokens: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The tokens, and each with one adjacent pair run together: recognisers
    split and join words ("telly care" for "telecare", "o neill"). Only
    short phrases get variants: names are short, enquiries are not."""
    variants = [tokens]
    if len(tokens) > MERGE_UP_TO:
        return variants
    for i in range(len(tokens) - 1):
        variants.append(tokens[:i] + (tokens[i] + tokens[i + 1],) + tokens[i + 2 :])
    return variants


def _f_score(
    query: tuple[str, ...],
    query_weights: tuple[float, ...],
    phrase: _Phrase,
    sims: Mapping[str, Mapping[str, float]],
) -> float:
    """Weighted harmonic mean of how much of the query the phrase explains
    (extra words lower it) and how much of the phrase the query says
    (missing words lower it). Each word pairs with at most one other, best
    pairs first, so one word cannot stand for two ("voting" is not both
    "housing" and "options")."""
    pairs = []
    for i, word in enumerate(query):
        similar = sims[word]
        for j, token in enumerate(phrase.tokens):
            similarity = similar.get(token)
            if similarity:
                pairs.append((similarity, i, j))
    pairs.sort(reverse=True)
    said = heard = 0.0
    used_q: set[int] = set()
    used_p: set[int] = set()
    for similarity, i, j in pairs:
        if i in used_q or j in used_p:
            continue
        used_q.add(i)
        used_p.add(j)
        said += query_weights[i] * similarity
        heard += phrase.weights[j] * similarity
    if not said:
        return 0.0
    precision = said / sum(query_weights)
    recall = heard / phrase.total
    return 2 * precision * recall / (precision + recall)


def _spelled(entries: tuple[Entry, ...]) -> list[list[tuple[str, ...]]]:
    """For each entry, the token sequences of its name and aliases, with the
    run-together variants, each once."""
    spelled: list[list[tuple[str, ...]]] = []
    for entry in entries:
        forms: dict[tuple[str, ...], None] = {}
        for text in (entry.name, *entry.aliases):
            for tokens in _merged_variants(tuple(content_words(text))):
                if tokens:
                    forms.setdefault(tokens, None)
        spelled.append(list(forms))
    return spelled


def _rarity(spelled: list[list[tuple[str, ...]]]) -> dict[str, float]:
    """How much each word tells entries apart (an inverse document frequency).
    A word in many entries ("street", "council") tells them apart less than
    one in a single entry ("cable", "jones"); weights multiply it by the
    word's length, since long words are heard more reliably and say more
    than short ones ("environmental elf")."""
    spread: dict[str, int] = {}
    for forms in spelled:
        for token in {token for tokens in forms for token in tokens}:
            spread[token] = spread.get(token, 0) + 1
    return {token: math.log(1 + len(spelled) / count) for token, count in spread.items()}


def _written_words(entries: Iterable[Entry]) -> set[str]:
    """The words of the names and aliases as written, not run together."""
    return {token for entry in entries for text in (entry.name, *entry.aliases) for token in content_words(text)}


def _index(items: Iterable[tuple[T, Iterable[str]]]) -> dict[str, list[T]]:
    """Each key to the items that list it."""
    index: dict[str, list[T]] = {}
    for item, keys in items:
        for key in dict.fromkeys(keys):
            index.setdefault(key, []).append(item)
    return index


class Directory:
    """The entries and an index over their names for `match()`."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self._by_id = {entry.id: entry for entry in self.entries}
        spelled = _spelled(self.entries)
        self._rarest = math.log(1 + len(self.entries))
        self._rarity = _rarity(spelled)
        self._phrases = [
            _Phrase(tokens, weights, sum(weights), index)
            for index, forms in enumerate(spelled)
            for tokens in forms
            for weights in [tuple(len(t) * self._rarity[t] for t in tokens)]
        ]
        self._containing = _index((number, phrase.tokens) for number, phrase in enumerate(self._phrases))
        self._by_key = _index((token, [phonetic_key(token)]) for token in self._containing)
        self._grams = {token: _bigrams(token) for token in self._containing}
        self._by_bigram = _index(self._grams.items())
        self._joined = set(self._containing) - _written_words(self.entries)
        self._similar: dict[str, dict[str, float]] = {}

    def get(self, entry_id: str) -> Entry:
        """The entry with this id; KeyError if there is none."""
        try:
            return self._by_id[entry_id]
        except KeyError:
            raise KeyError(f"no directory entry {entry_id!r}") from None

    def speech_hints(self) -> list[str]:
        """Every name and alias once, in directory order, fit for Twilio's
        <Gather hints> (no commas, at most 500 of at most 100 characters)."""
        hints: dict[str, None] = {}
        for entry in self.entries:
            for text in (entry.name, *entry.aliases):
                hint = " ".join(text.replace(",", " ").split())[:MAX_HINT_CHARS]
                hints.setdefault(hint, None)
        return list(hints)[:MAX_HINTS]

    def match(self, text: str) -> Match | None:
        """The entry the words most likely name, if its score is at least
        CONFIRM; None for anything else (a question, an enquiry, silence).
        Accepts the bare name or a whole request ("put me through to X").
        None too when another entry scored within AMBIGUITY_MARGIN of the
        best: the words do not decide between them."""
        query = tuple(content_words(dial_request(text) or text))
        if not query or len(query) > MAX_QUERY_WORDS:
            return None
        best: dict[int, float] = {}
        for variant in _merged_variants(query):
            sims = {token: self._similar_to(token) for token in variant}
            weights = tuple(self._query_weight(token, sims[token]) for token in variant)
            for number in self._candidates(sims):
                phrase = self._phrases[number]
                score = _f_score(variant, weights, phrase, sims)
                if score > best.get(phrase.entry, 0.0):
                    best[phrase.entry] = score
        if not best:
            return None
        ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)
        index, score = ranked[0]
        if score < CONFIRM or (len(ranked) > 1 and ranked[1][1] >= score - AMBIGUITY_MARGIN):
            return None
        return Match(self.entries[index], round(min(score, 1.0), 3))

    def _query_weight(self, word: str, similar: Mapping[str, float]) -> float:
        # A word the directory does not know counts as fully distinctive:
        # words that name nothing here are what make an enquiry not a name.
        if not similar:
            return len(word) * self._rarest
        closest = max(similar, key=similar.__getitem__)
        return len(word) * self._rarity[closest]

    def _candidates(self, sims: Mapping[str, Mapping[str, float]]) -> set[int]:
        # Only phrases sharing a similar word can score: the rest are skipped.
        return {number for similar in sims.values() for token in similar for number in self._containing[token]}

    def _similar_to(self, word: str) -> dict[str, float]:
        """Directory words resembling `word`, with a similarity in (0, 1]."""
        cached = self._similar.get(word)
        if cached is not None:
            return cached
        key = phonetic_key(word)
        sounds_like = self._by_key.get(key, []) if len(key) >= MIN_KEY else []
        found = {token: PHONETIC_SCORE for token in sounds_like}
        matcher = SequenceMatcher(autojunk=False)
        matcher.set_seq2(word)
        for token in self._shaped_like(word):
            matcher.set_seq1(token)
            if matcher.quick_ratio() >= FLOOR:
                found[token] = max(found.get(token, 0.0), matcher.ratio())
        if word in self._containing:
            found[word] = 1.0
        found = {t: v for t, v in found.items() if v >= (JOINED_FLOOR if t in self._joined else FLOOR)}
        if len(self._similar) > 10_000:  # callers' words are unbounded; keep the cache small
            self._similar.clear()
        self._similar[word] = found
        return found

    def _shaped_like(self, word: str) -> list[str]:
        # Comparing letter pairs through an index is far cheaper than
        # SequenceMatcher on every word; words sharing too few pairs could
        # reach FLOOR only through scattered single letters, which is chance.
        grams = _bigrams(word)
        shared: dict[str, int] = {}
        for gram in grams:
            for token in self._by_bigram.get(gram, ()):
                shared[token] = shared.get(token, 0) + 1
        return [
            token
            for token, count in shared.items()
            if 2 * count / (len(grams) + len(self._grams[token])) >= MIN_SHARED_BIGRAMS
        ]


