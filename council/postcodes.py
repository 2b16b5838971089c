"""UK postcodes: recognise them as typed or as a speech recogniser writes them,
and say which council serves them (data/postcodes.yml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml

from council import DATA_DIR
from council.catalogue import CatalogueError

OUTWARD = r"[A-Z]{1,2}\d[A-Z\d]?"
INWARD = r"\d[A-Z]{2}"
FULL_RE = re.compile(rf"^({OUTWARD})({INWARD})$")
OUTWARD_RE = re.compile(rf"^{OUTWARD}$")
# What a recogniser may write for a digit inside a spoken postcode.
SPOKEN_DIGITS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "to": "2", "too": "2", "three": "3",
    "four": "4", "for": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}

Status = Literal["in_district", "shared", "neighbour", "unknown"]


def normalise(text: str) -> str | None:
    """'la1 1pj', 'LA11PJ', 'l a one one p j' -> 'LA1 1PJ'; 'la4' -> 'LA4';
    None when the text is not a postcode."""
    words = [SPOKEN_DIGITS.get(word, word) for word in re.split(r"[\s.,-]+", text.lower()) if word]
    compact = "".join(words).upper()
    if not compact or len(compact) > 7:
        return None
    full = FULL_RE.match(compact)
    if full:
        return f"{full.group(1)} {full.group(2)}"
    if OUTWARD_RE.match(compact):
        return compact
    return None


@dataclass(frozen=True)
class PostcodeArea:
    """Who serves a postcode. `district_council`/`county_council` are None when
    unknown; for `shared` they name the neighbour that serves part of it."""

    postcode: str
    status: Status
    district_council: str | None = None
    county_council: str | None = None


@dataclass(frozen=True)
class PostcodeBook:
    district_name: str
    in_district: frozenset[str]
    shared_sectors: dict[str, str]
    neighbours: dict[str, tuple[str, str]]  # prefix -> (district, county)

    def lookup(self, postcode: str) -> PostcodeArea:
        """Classify a normalised postcode (see `normalise`)."""
        outward, _, inward = postcode.partition(" ")
        sector = f"{outward} {inward[:1]}" if inward else None
        if outward in self.in_district:
            if sector and sector in self.shared_sectors:
                neighbour = self.shared_sectors[sector]
                return PostcodeArea(postcode, "shared", neighbour, neighbour)
            if not sector and any(s.startswith(outward + " ") for s in self.shared_sectors):
                neighbour = next(v for s, v in self.shared_sectors.items() if s.startswith(outward + " "))
                return PostcodeArea(postcode, "shared", neighbour, neighbour)
            return PostcodeArea(postcode, "in_district")
        if outward in self.neighbours:
            district, county = self.neighbours[outward]
            return PostcodeArea(postcode, "neighbour", district, county)
        return PostcodeArea(postcode, "unknown")


def load_postcodes(path: Path = DATA_DIR / "postcodes.yml") -> PostcodeBook:
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    try:
        neighbours: dict[str, tuple[str, str]] = {}
        for index, entry in enumerate(raw["neighbours"]):
            for prefix in entry["prefixes"]:
                if not OUTWARD_RE.match(prefix):
                    raise CatalogueError(f"postcodes.yml: neighbour {index + 1}: {prefix!r} is not an outward code")
                neighbours[prefix] = (entry["district"], entry["county"])
        in_district = frozenset(raw["in_district"])
        bad = [code for code in in_district if not OUTWARD_RE.match(code)]
        if bad:
            raise CatalogueError(f"postcodes.yml: in_district has bad outward codes {bad}")
        return PostcodeBook(
            district_name=raw["district_name"],
            in_district=in_district,
            shared_sectors=dict(raw.get("shared_sectors") or {}),
            neighbours=neighbours,
        )
    except (KeyError, TypeError) as exc:
        raise CatalogueError(f"postcodes.yml: missing or malformed {exc}") from None


@lru_cache(maxsize=None)
def default_postcodes() -> PostcodeBook:
    return load_postcodes()
