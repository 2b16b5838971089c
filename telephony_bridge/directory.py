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
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, TypeVar

from council import DATA_DIR
from council.catalogue import DRAMA_NUMBER, Catalogue, CatalogueError, _read, default_catalogue, load_catalogue

CONNECT = 0.85  # at or above: dial straight away
CONFIRM = 0.6  # at or above (below CONNECT): ask "Did you want Planning? Say yes or press 1"

FILE = "directory.yml"
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

_ENTRY_KEYS = {"id", "name", "service", "aliases", "phone", "hours"}
_PERSON_KEYS = {"id", "name", "department", "phone", "aliases"}


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


# --- words and sounds --------------------------------------------------------


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


# --- "put me through to ..." -------------------------------------------------

_CUE = re.compile(
    r"""\b(?:
        (?:put|get|send|transfer|pass)\s+(?:me|us|my\s+call)\s+(?:through|thru|over|across)\s+(?:to|with)
      | (?:connect|transfer|forward|pass|put)\s+(?:me|us|my\s+call)\s+(?:to|with|onto)
      | (?:speak|talk|chat)\s+(?:to|with)
      | extension\s+(?:number\s+)?(?:for|of)
      | (?:get|go)\s+(?:me\s+)?through\s+to
    )\b""",
    re.X,
)
# The start of a request with no line named yet ("put me through please").
_BARE_CUE = re.compile(r"\b(?:put|get|send|connect|transfer|pass|forward)\s+(?:me|us|my\s+call)\b")
# Lead-ins that, with a closing "please", ask for a line ("can I have planning please").
_ASKING = re.compile(r"^(?:(?:can|could|may)\s+i\s+(?:have|get)|i'?d\s+like|i\s+would\s+like)\s+")
_POLITE = re.compile(r"\b(?:please|thanks|thank\s+you|cheers|the|department|dept|team|if\s+possible)\b")
_LEADING = re.compile(r"^(?:(?:hi|hello|hiya|yes|yeah|oh|um+|er+m?|uh|ok|okay|right|so)\s+)+")
_SOMEONE = r"(?:someone|somebody|anyone|anybody|a\s+person|a\s+member\s+of\s+staff)"
_SOMEONE_IN = re.compile(rf"^{_SOMEONE}\s+(?:in|from|at|on|who\s+deals\s+with)\s+")
# A request for any person, not a particular line: the bot handles it.
_PERSON = re.compile(
    rf"^(?:{_SOMEONE}|(?:a|an)\s+(?:real\s+)?(?:human|person|advisor|adviser|agent|operator)"
    r"|(?:a\s+)?(?:real\s+)?(?:human|person|operator)(?:\s+being)?)\b"
)
_NOT_A_NAME = re.compile(r"^(?:yes|no|ok|okay|yeah|nope|help|hello|hi|you|yourself|u)\b")
SHORT = 5  # "X please" is a request for a line only when X is this many words or fewer


# What the call is about follows the name; it is for the person, not for dialling.
_ABOUT = re.compile(r"\s+(?:about|regarding|concerning|because|to\s+(?:ask|discuss|talk|report|complain))\b.*$")


def _clean(text: str) -> str:
    text = text.lower().replace("&", " and ").replace("’", "'")
    text = re.sub(r"[^\w\s']|(?<!\w)'|'(?!\w)", " ", text)
    return " ".join(text.split())


def _target(rest: str) -> str | None:
    """What is left of a request once politeness is gone; None when it is
    empty or asks for a person in general."""
    rest = " ".join(_POLITE.sub(" ", _ABOUT.sub("", rest)).split())
    rest = _SOMEONE_IN.sub("", rest)
    if not rest or _PERSON.match(rest) or _NOT_A_NAME.match(rest):
        return None
    return rest


def dial_request(text: str) -> str | None:
    """If the words ask to be put through to a line ("put me through to
    planning", "can I speak to Sarah Jones", "licensing please", "extension
    for council tax"), the line's name in lower case with the cue words and
    politeness ("please", "thanks", "the", "department", "team", "someone
    in") gone; else None. A request for any person ("can I speak to
    someone", "a human") is None: the bot handles that."""
    cleaned = _LEADING.sub("", _clean(text))
    cue = _CUE.search(cleaned)
    if cue:
        return _target(cleaned[cue.end() :])
    if not re.search(r"\b(?:please|thanks|thank\s+you|cheers)$", cleaned) or _BARE_CUE.search(cleaned):
        return None
    rest = _ASKING.sub("", cleaned)
    target = _target(rest)
    if target is None or len(target.split()) > SHORT:
        return None
    return target


# --- loading -----------------------------------------------------------------


def _fail(where: str, problem: str) -> CatalogueError:
    return CatalogueError(f"{FILE}: {where}: {problem}")


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"needs a {key}")
    return " ".join(value.split())


def _aliases(raw: Mapping[str, Any], where: str) -> tuple[str, ...]:
    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise _fail(where, "aliases must be a list of phrases")
    return tuple(" ".join(alias.split()) for alias in aliases)


def _phone(value: Any, where: str) -> str:
    if not DRAMA_NUMBER.match(str(value)):
        raise _fail(where, f"phone {value!r} must be in the drama range 01632 960xxx")
    return str(value)


def _where(kind: str, raw: Any, index: int) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    return f"{kind} {ident!r}" if ident else f"{kind} #{index + 1}"


def _check_keys(raw: Any, allowed: set[str], where: str) -> None:
    if not isinstance(raw, dict):
        raise _fail(where, "must be a mapping")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise _fail(where, f"unknown field {', '.join(unknown)}")
    ident = raw.get("id")
    if not isinstance(ident, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", ident):
        raise _fail(where, "needs an id in lower_snake_case")


def _department(raw: Any, index: int, catalogue: Catalogue) -> Entry:
    where = _where("department", raw, index)
    _check_keys(raw, _ENTRY_KEYS, where)
    if "service" not in raw:
        raise _fail(where, "needs a service (a service id, or null)")
    service_id = raw["service"]
    service = None
    if service_id is not None:
        service = catalogue.services.get(service_id)
        if service is None or not service.routable:
            raise _fail(where, f"service {service_id!r} is not a council service in services.yml")
    if service is None and not (raw.get("phone") and raw.get("hours")):
        raise _fail(where, "with no service it needs its own phone and hours")
    hours = raw.get("hours") or service.hours  # type: ignore[union-attr]
    if hours not in catalogue.schedules:
        raise _fail(where, f"hours {hours!r} is not a schedule in hours.yml")
    return Entry(
        id=raw["id"],
        kind="department",
        name=_text(raw, "name", where),
        phone=_phone(raw.get("phone") or service.phone, where),  # type: ignore[union-attr]
        hours=hours,
        service=service_id,
        out_of_hours_phone=service.out_of_hours_phone if service else None,
        aliases=_aliases(raw, where),
    )


def _person_aliases(name: str, extra: tuple[str, ...], department: Entry) -> tuple[str, ...]:
    """The ways a person is named: full name (and its listed spellings),
    surname with department, full name with department."""
    forms: list[str] = []
    for full in (name, *extra):
        surname = full.split()[-1]
        forms += [full, f"{surname} in {department.name}", f"{full} in {department.name}"]
    said_as = f"{name} in {department.name}"
    return tuple(dict.fromkeys(form for form in forms if form != said_as))


def _person(raw: Any, index: int, departments: Mapping[str, Entry]) -> Entry:
    where = _where("person", raw, index)
    _check_keys(raw, _PERSON_KEYS, where)
    name = _text(raw, "name", where)
    department_id = raw.get("department")
    if not department_id:
        raise _fail(where, "needs a department")
    department = departments.get(department_id)
    if department is None:
        raise _fail(where, f"department {department_id!r} is not a department in {FILE}")
    return Entry(
        id=raw["id"],
        kind="person",
        name=f"{name} in {department.name}",
        phone=_phone(raw.get("phone"), where),
        hours=department.hours,
        service=department.service,
        out_of_hours_phone=department.out_of_hours_phone,
        aliases=_person_aliases(name, _aliases(raw, where), department),
    )


def _check_unique(entries: list[Entry]) -> None:
    """Ids, and the names callers say, must each lead to one entry."""
    ids: set[str] = set()
    said: dict[tuple[str, ...], Entry] = {}
    for entry in entries:
        if entry.id in ids:
            raise _fail(f"{entry.kind} {entry.id!r}", "id appears twice")
        ids.add(entry.id)
        for text in (entry.name, *entry.aliases):
            tokens = tuple(content_words(text))
            if not tokens:
                raise _fail(f"{entry.kind} {entry.id!r}", f"{text!r} has no words to match")
            other = said.setdefault(tokens, entry)
            if other is not entry:
                raise _fail(f"{entry.kind} {entry.id!r}", f"{text!r} also names {other.kind} {other.id!r}")


def load_directory(data_dir: Path = DATA_DIR, catalogue: Catalogue | None = None) -> Directory:
    """Departments then people from data_dir/directory.yml, checked against
    the catalogue (loaded from data_dir when not given). Raises
    CatalogueError naming the file and the entry for an unknown service,
    department or hours schedule, a number outside the drama range, a
    duplicate id or spoken name, or a missing name or department."""
    catalogue = catalogue or load_catalogue(data_dir)
    raw = _read(data_dir / FILE)
    if not isinstance(raw, dict) or not isinstance(raw.get("departments"), list) or not raw["departments"]:
        raise CatalogueError(f"{FILE}: needs a 'departments' list")
    people = raw.get("people") or []
    if not isinstance(people, list):
        raise CatalogueError(f"{FILE}: 'people' must be a list")
    departments = [_department(item, i, catalogue) for i, item in enumerate(raw["departments"])]
    _check_unique(departments)
    by_id = {entry.id: entry for entry in departments}
    entries = departments + [_person(item, i, by_id) for i, item in enumerate(people)]
    _check_unique(entries)
    return Directory(entries)


@lru_cache(maxsize=None)
def default_directory() -> Directory:
    """The directory under data/, loaded once per process."""
    return load_directory(catalogue=default_catalogue())
