"""Rule-based entities with spaCy: a blank English pipeline with an
EntityRuler (typed postcodes, house numbers, reference numbers, "which
council" questions) and a component that reads spoken postcodes and spoken
digit strings the way a speech recogniser writes them.

No statistical model is involved: every entity here has an honest rule. Only
what the rules find is extracted; phone numbers are deliberately not (they
must not travel through the NLU into logs).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from council.catalogue import default_catalogue
from council.postcodes import SPOKEN_DIGITS, normalise

POSTCODE = "postcode"
HOUSE_NUMBER = "house_number"
REFERENCE = "reference"
WHICH_COUNCIL = "which_council"
CENTRE = "centre"
PHONE = "phone"  # recognised only to be ignored

# Postcode areas the outward code alone is trusted for ("I live in LA4"):
# those the bot knows about. Elsewhere an outward code alone is too easily a
# road ("the M6", "the A6").
OUTWARD_ONLY_AREAS = ("LA", "PR", "FY", "BB", "BD")
STREET_WORDS = [
    "street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "close", "drive", "dr", "way",
    "crescent", "terrace", "grove", "place", "court", "gardens", "square", "row", "walk", "view",
    "mews", "parade", "promenade",
]
WHICH_COUNCIL_PHRASES = [
    "which council", "what council", "which of the councils", "city or county", "county or city",
    "city or the county", "county or the city", "city council or county council",
    "county council or city council", "who deals with", "who do i contact about", "who do i contact for",
    "who is responsible", "who's responsible", "whose responsibility", "who looks after",
    "which one deals with", "who do i ring about", "who do i call about", "who sorts out",
    "is it the city", "is it the county",
]
# Digits as a recogniser may spell them inside a reference or postcode;
# "to"/"for"/"too" are left out: in running speech they are nearly always words.
DIGIT_WORDS = {word: digit for word, digit in SPOKEN_DIGITS.items() if word not in ("to", "too", "for")}


@dataclass(frozen=True)
class Entity:
    """One entity as Rasa wants it: character offsets into the original text."""

    entity: str
    value: str
    start: int
    end: int


def _patterns() -> list[dict]:
    outward = r"(?i)^[a-z]{1,2}\d[a-z\d]?$"
    inward = r"(?i)^\d[a-z]{2}$"
    outward_only = rf"(?i)^({'|'.join(OUTWARD_ONLY_AREAS)})\d{{1,2}}$"
    return [
        {"label": POSTCODE, "pattern": [{"TEXT": {"REGEX": outward}}, {"TEXT": {"REGEX": inward}}]},
        {"label": POSTCODE, "pattern": [{"TEXT": {"REGEX": r"(?i)^[a-z]{1,2}\d[a-z\d]?\d[a-z]{2}$"}}]},
        {"label": POSTCODE, "pattern": [{"TEXT": {"REGEX": outward_only}}]},
        {
            "label": HOUSE_NUMBER,
            "pattern": [{"LOWER": {"IN": ["number", "no", "no.", "flat", "house", "apartment"]}},
                        {"TEXT": {"REGEX": r"^\d{1,4}[a-zA-Z]?$"}}],
        },
        {
            "label": HOUSE_NUMBER,
            "pattern": [{"TEXT": {"REGEX": r"^\d{1,4}[a-zA-Z]?$"}}, {"IS_ALPHA": True, "OP": "{1,2}"},
                        {"LOWER": {"IN": STREET_WORDS}}],
        },
        # Council tax accounts and similar: 6-10 digits, never a leading 0
        # (that would be a phone number).
        {"label": REFERENCE, "pattern": [{"TEXT": {"REGEX": r"^[1-9]\d{5,9}$"}}]},
        # Penalty charge notices: two letters and eight digits.
        {"label": REFERENCE, "pattern": [{"TEXT": {"REGEX": r"(?i)^[a-z]{2}\d{8}$"}}]},
        # Planning applications: 23/01234/FUL.
        # (spaCy's tokenizer splits "23/01234/FUL" as "23/01234", "/", "FUL".)
        {"label": REFERENCE, "pattern": [{"TEXT": {"REGEX": r"^\d{2}/\d{4,5}$"}}, {"ORTH": "/"},
                                          {"TEXT": {"REGEX": r"(?i)^[a-z]{2,6}$"}}]},
        # Handoff case references: LAN-7K3-Q9X (tokenised "LAN-7K3", "-", "Q9X").
        {"label": REFERENCE, "pattern": [{"TEXT": {"REGEX": r"(?i)^[a-z]{3}-[a-z0-9]{3}$"}}, {"ORTH": "-"},
                                          {"TEXT": {"REGEX": r"(?i)^[a-z0-9]{2,3}$"}}]},
        # Phone numbers are matched only so that no part of one is taken for a
        # reference; `extract` drops them.
        {"label": PHONE, "pattern": [{"TEXT": {"REGEX": r"^0\d{9,10}$"}}]},
        {"label": PHONE, "pattern": [{"TEXT": {"REGEX": r"^(\+?44|0)\d{2,4}$"}}, {"TEXT": {"REGEX": r"^\d{3,8}$"}},
                                      {"TEXT": {"REGEX": r"^\d{3,4}$"}, "OP": "?"}]},
        {"label": PHONE, "pattern": [{"TEXT": {"REGEX": r"^\+?44$"}}, {"TEXT": {"REGEX": r"^\d{2,5}$"}},
                                      {"TEXT": {"REGEX": r"^\d{3,8}$"}}, {"TEXT": {"REGEX": r"^\d{3,4}$"}, "OP": "?"}]},
    ] + [{"label": WHICH_COUNCIL, "pattern": phrase} for phrase in WHICH_COUNCIL_PHRASES] + [
        {"label": CENTRE, "pattern": alias, "id": centre.id}
        for centre in default_catalogue().centres.values()
        for alias in centre.aliases
    ]


def _spoken_token(text: str) -> bool:
    lowered = text.lower()
    return lowered in DIGIT_WORDS or lowered.isdigit() or (lowered.isalpha() and len(lowered) <= 2)


@Language.component("spoken_numbers")
def spoken_numbers(doc: Doc) -> Doc:
    """Find postcodes spelt out ("l a one one p j") and digit strings spoken
    word by word ("one two three four five six"), where the ruler found
    nothing."""
    found: list[Span] = []
    tokens = list(doc)
    index = 0
    while index < len(tokens):
        match = None
        if _spoken_token(tokens[index].text):
            # Longest run first, so "l a one one p j" beats "l a one".
            for width in range(min(9, len(tokens) - index), 1, -1):
                window = tokens[index:index + width]
                if not all(_spoken_token(t.text) for t in window):
                    continue
                words = [DIGIT_WORDS.get(t.lower_, t.lower_) for t in window]
                postcode = normalise(" ".join(words))
                if postcode and " " in postcode and sum(len(w) for w in words) >= 5:
                    match = Span(doc, index, index + width, label=POSTCODE)
                    break
        if match is None and tokens[index].lower_ in DIGIT_WORDS:
            end = index
            while end < len(tokens) and (tokens[end].lower_ in DIGIT_WORDS or tokens[end].text.isdigit()):
                end += 1
            digits = "".join(DIGIT_WORDS.get(t.lower_, t.text) for t in tokens[index:end])
            if 6 <= len(digits) <= 10 and not digits.startswith("0"):
                match = Span(doc, index, end, label=REFERENCE)
        if match is not None:
            found.append(match)
            index = match.end
        else:
            index += 1
    doc.ents = filter_spans(list(doc.ents) + found)
    return doc


@lru_cache(maxsize=1)
def pipeline() -> Language:
    """The project's spaCy pipeline: blank English, EntityRuler, spoken numbers."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(_patterns())
    nlp.add_pipe("spoken_numbers")
    return nlp


def _value(label: str, span: Span) -> str:
    if label == POSTCODE:
        words = [DIGIT_WORDS.get(t.lower_, t.text) for t in span]
        return normalise(" ".join(words)) or span.text.upper()
    if label == HOUSE_NUMBER:
        number = next(t.text for t in span if t.text[:1].isdigit())
        return number.upper()
    if label == REFERENCE:
        return "".join(DIGIT_WORDS.get(t.lower_, t.text) for t in span).upper().replace(" ", "")
    if label == CENTRE:
        return span.ent_id_
    return "yes"


def extract(text: str) -> list[Entity]:
    """Every rule-based entity in `text`, in order, without overlaps."""
    if not text or not text.strip():
        return []
    doc = pipeline()(text)
    return [
        Entity(span.label_, _value(span.label_, span), span.start_char, span.end_char)
        for span in doc.ents
        if span.label_ != PHONE
    ]
