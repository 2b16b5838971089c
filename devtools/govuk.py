"""GOV.UK's list of local services (shared/reference/govuk-local-services.csv)
against the topics: which council each row should reach in the Lancaster
district, and whether the bot gets it there.

The list is published by the Government Digital Service in alphagov/publisher
(data/local_services.csv, MIT licence); its LGSL codes and names come from
the Local Government Service List (esd standards, Open Government Licence
v3.0). It is read where it lies, beside the repository, never copied in.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from council.catalogue import Catalogue, default_catalogue
from council.routing import Route
from council.topics import Topics, default_topics
from plumbing.paths import ROOT

TIERS = {"district/unitary": "city", "county/unitary": "county", "all": "either"}
ATTRIBUTION = ("GOV.UK local services list (alphagov/publisher, MIT licence); LGSL codes and names from the "
               "Local Government Service List, esd standards, Open Government Licence v3.0")


def reference_csv() -> Path:
    configured = os.environ.get("COUNCIL_REFERENCE_DIR")
    base = Path(configured) if configured else ROOT.parent / "shared" / "reference"
    return base / "govuk-local-services.csv"


@dataclass(frozen=True)
class Row:
    lgsl: int
    description: str
    tier: str  # city | county | either

    def agrees(self, authority: str) -> bool:
        """Whether a topic of this council fits the row's providing tier.
        Joint services are both councils'."""
        if self.tier == "either" or authority == "joint":
            return authority in ("city", "county", "joint")
        return authority == self.tier


def load_rows(path: Path | None = None) -> list[Row]:
    path = path or reference_csv()
    with path.open(encoding="utf-8", newline="") as handle:
        return [Row(int(r["LGSL"]), " ".join(r["Description"].split()), TIERS[r["Providing Tier"].strip()])
                for r in csv.DictReader(handle)]


@dataclass(frozen=True)
class Expected:
    """Where a row should go: its topics' council, or an intent of the bot."""

    row: Row
    topics: tuple[str, ...]
    authority: str | None
    handled_by: str | None

    authorities: tuple[str, ...] = ()  # every council among its topics

    @property
    def topic(self) -> str | None:
        return self.topics[0] if self.topics else None


def expected(rows: list[Row], topics: Topics | None = None, catalogue: Catalogue | None = None) -> list[Expected]:
    topics = topics or default_topics()
    catalogue = catalogue or default_catalogue()
    found = []
    for row in rows:
        mapped = topics.for_lgsl(row.lgsl)
        if mapped:
            councils = tuple(dict.fromkeys(catalogue.service(t.service).authority for t in mapped))
            found.append(Expected(row, tuple(t.id for t in mapped), councils[0], None, councils))
        elif row.lgsl in topics.govuk_exceptions:
            found.append(Expected(row, (), None, topics.govuk_exceptions[row.lgsl].handled_by))
        else:
            found.append(Expected(row, (), None, None))
    return found


def reached(expect: Expected, route: Route) -> bool:
    """The row's words reached the right council (or the intent that handles it)."""
    if expect.handled_by is not None:
        return route.intent == expect.handled_by
    if route.authority in (None, "external"):
        return False
    if expect.row.tier == "either":
        return True
    return route.authority in expect.authorities
