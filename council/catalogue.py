"""The service catalogue and the data around it, loaded from data/ and validated.

Everything the bot says about a service (who provides it, its number, its
hours, where to go in person) comes from here; nothing is hard-coded in code.
`load_catalogue()` either returns a complete, consistent catalogue or raises
`CatalogueError` naming the file and the entry that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from council import DATA_DIR

AUTHORITIES = ("city", "county", "joint", "external")
OUT_OF_SCOPE = "out_of_scope"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Ofcom reserves 01632 960000-960999 for drama: numbers nobody can own.
DRAMA_NUMBER = re.compile(r"^01632 960\d{3}$")
SERVICE_FIELDS = ("id", "authority", "name", "say", "phone", "web", "centres", "hours", "urgent")


class CatalogueError(ValueError):
    """The data in data/ is wrong; the message names the file and the entry."""


@dataclass(frozen=True)
class Schedule:
    """When something is open, in Europe/London local time."""

    id: str
    always_open: bool
    weekly: Mapping[int, tuple[time, time]]  # weekday (Mon=0) -> (opens, closes)
    closed_on_bank_holidays: bool


@dataclass(frozen=True)
class Centre:
    id: str
    name: str
    address: str
    hours: str
    serves: tuple[str, ...]
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class ContactCentre:
    """The shared contact centre: the line for anything not yet routed."""

    name: str
    phone: str
    hours: str
    web: str


@dataclass(frozen=True)
class Service:
    id: str
    authority: str
    authority_name: str
    name: str
    say: str
    phone: str
    web: str
    centres: tuple[str, ...]
    hours: str
    urgent: bool
    out_of_hours_phone: str | None = None

    @property
    def routable(self) -> bool:
        """True for council services; False for out_of_scope."""
        return self.id != OUT_OF_SCOPE


@dataclass(frozen=True)
class Catalogue:
    services: Mapping[str, Service]
    authorities: Mapping[str, str]
    schedules: Mapping[str, Schedule]
    timezone: str
    bank_holidays: Mapping[date, str]
    centres: Mapping[str, Centre]
    contact_centre: ContactCentre

    def service(self, service_id: str) -> Service:
        try:
            return self.services[service_id]
        except KeyError:
            raise KeyError(f"unknown service id {service_id!r}") from None

    @property
    def routable_ids(self) -> list[str]:
        return [s.id for s in self.services.values() if s.routable]


def checked_entry(entry: Any, index: int, file: str, kind: str, required: Sequence[str]) -> str:
    """Where an entry of a YAML list is ("services.yml: service council_tax")
    for error messages, after checking it is a mapping with every required
    key. Shared by the catalogue and the topics."""
    eid = entry.get("id") if isinstance(entry, dict) else None
    where = f"{file}: {kind} {eid or f'#{index + 1}'}"
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: must be a mapping")
    missing = [key for key in required if key not in entry]
    if missing:
        raise CatalogueError(f"{where}: missing {', '.join(missing)}")
    return where


def read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise CatalogueError(f"{path.name}: file is missing ({path})") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path.name}: not valid YAML: {exc}") from None


def _clock(value: Any, where: str) -> time:
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
        raise CatalogueError(f"{where}: time {value!r} must be a string 'HH:MM'")
    hours, minutes = (int(part) for part in value.split(":"))
    if hours > 23 or minutes > 59:
        raise CatalogueError(f"{where}: time {value!r} is not a time of day")
    return time(hours, minutes)


def _schedules(raw: Any) -> tuple[str, dict[str, Schedule]]:
    if not isinstance(raw, dict) or not isinstance(raw.get("schedules"), dict):
        raise CatalogueError("hours.yml: needs a 'schedules' mapping")
    schedules: dict[str, Schedule] = {}
    for sid, spec in raw["schedules"].items():
        where = f"hours.yml: schedule {sid!r}"
        if not isinstance(spec, dict):
            raise CatalogueError(f"{where}: must be a mapping")
        if spec.get("always_open"):
            schedules[sid] = Schedule(sid, True, {}, False)
            continue
        weekly_raw = spec.get("weekly")
        if not isinstance(weekly_raw, dict) or not weekly_raw:
            raise CatalogueError(f"{where}: needs 'weekly' opening times or 'always_open: true'")
        weekly: dict[int, tuple[time, time]] = {}
        for day, span in weekly_raw.items():
            if day not in WEEKDAYS:
                raise CatalogueError(f"{where}: {day!r} is not one of {', '.join(WEEKDAYS)}")
            if not isinstance(span, list) or len(span) != 2:
                raise CatalogueError(f"{where}: {day} must be [opens, closes]")
            opens, closes = _clock(span[0], f"{where} {day}"), _clock(span[1], f"{where} {day}")
            if opens >= closes:
                raise CatalogueError(f"{where}: {day} closes before it opens")
            weekly[WEEKDAYS.index(day)] = (opens, closes)
        holidays = spec.get("bank_holidays", "closed")
        if holidays not in ("closed", "open"):
            raise CatalogueError(f"{where}: bank_holidays must be 'closed' or 'open'")
        schedules[sid] = Schedule(sid, False, weekly, holidays == "closed")
    timezone = raw.get("timezone")
    if timezone != "Europe/London":
        raise CatalogueError("hours.yml: timezone must be Europe/London")
    return timezone, schedules


def _bank_holidays(raw: Any) -> dict[date, str]:
    entries = raw.get("england_and_wales") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CatalogueError("bank_holidays.yml: needs an 'england_and_wales' list")
    holidays: dict[date, str] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("date"), date):
            raise CatalogueError(f"bank_holidays.yml: entry {index + 1} needs a date YYYY-MM-DD")
        if entry["date"].weekday() > 4:
            raise CatalogueError(f"bank_holidays.yml: {entry['date']} falls at a weekend")
        holidays[entry["date"]] = str(entry.get("title", "bank holiday"))
    return holidays


def _centres(raw: Any, schedules: Mapping[str, Schedule]) -> tuple[dict[str, Centre], ContactCentre]:
    if not isinstance(raw, dict):
        raise CatalogueError("centres.yml: must be a mapping")
    contact = raw.get("contact_centre")
    if not isinstance(contact, dict):
        raise CatalogueError("centres.yml: needs 'contact_centre' with name, phone, hours and web")
    for key in ("name", "phone", "hours", "web"):
        if not contact.get(key):
            raise CatalogueError(f"centres.yml: contact_centre needs {key!r}")
    if not DRAMA_NUMBER.match(str(contact["phone"])):
        raise CatalogueError("centres.yml: contact_centre phone must be in the drama range 01632 960xxx")
    if contact["hours"] not in schedules:
        raise CatalogueError(f"centres.yml: contact_centre hours {contact['hours']!r} is not in hours.yml")
    centres: dict[str, Centre] = {}
    for index, entry in enumerate(raw.get("centres") or []):
        cid = entry.get("id") if isinstance(entry, dict) else None
        where = f"centres.yml: centre {cid or index + 1!r}"
        if not cid:
            raise CatalogueError(f"{where}: needs an id")
        for key in ("name", "address", "hours"):
            if not entry.get(key):
                raise CatalogueError(f"{where}: needs {key!r}")
        if entry["hours"] not in schedules:
            raise CatalogueError(f"{where}: hours {entry['hours']!r} is not in hours.yml")
        centres[cid] = Centre(
            cid,
            entry["name"],
            entry["address"],
            entry["hours"],
            tuple(entry.get("serves") or ()),
            tuple(alias.lower() for alias in entry.get("aliases") or ()),
        )
    return centres, ContactCentre(*(str(contact[k]) for k in ("name", "phone", "hours", "web")))


def _service(
    entry: Any,
    index: int,
    authorities: Mapping[str, str],
    schedules: Mapping[str, Schedule],
    centres: Mapping[str, Centre],
) -> Service:
    where = checked_entry(entry, index, "services.yml", "service", SERVICE_FIELDS)
    sid = entry["id"]
    if not re.fullmatch(r"[a-z][a-z_]*", str(sid)):
        raise CatalogueError(f"{where}: id must be lower_snake_case")
    if entry["authority"] not in authorities:
        raise CatalogueError(f"{where}: authority {entry['authority']!r} is not one of {sorted(authorities)}")
    for key in ("name", "say", "web"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise CatalogueError(f"{where}: {key} must be non-empty text")
    if not entry["web"].startswith("https://"):
        raise CatalogueError(f"{where}: web must be an https:// address")
    routable = sid != OUT_OF_SCOPE
    phones = [("phone", entry["phone"])]
    if entry.get("out_of_hours_phone"):
        phones.append(("out_of_hours_phone", entry["out_of_hours_phone"]))
    for key, phone in phones:
        if routable and not DRAMA_NUMBER.match(str(phone)):
            raise CatalogueError(f"{where}: {key} {phone!r} must be in the drama range 01632 960xxx")
    if entry["hours"] not in schedules:
        raise CatalogueError(f"{where}: hours {entry['hours']!r} is not in hours.yml")
    if not isinstance(entry["centres"], list):
        raise CatalogueError(f"{where}: centres must be a list")
    for centre in entry["centres"]:
        if centre not in centres:
            raise CatalogueError(f"{where}: centre {centre!r} is not in centres.yml")
    if not isinstance(entry["urgent"], bool):
        raise CatalogueError(f"{where}: urgent must be true or false")
    always = schedules[entry["hours"]].always_open
    if entry["urgent"] and not (always or entry.get("out_of_hours_phone")):
        raise CatalogueError(f"{where}: an urgent service needs 24x7 hours or an out_of_hours_phone")
    return Service(
        id=sid,
        authority=entry["authority"],
        authority_name=authorities[entry["authority"]],
        name=entry["name"].strip(),
        say=" ".join(entry["say"].split()),
        phone=str(entry["phone"]),
        web=entry["web"],
        centres=tuple(entry["centres"]),
        hours=entry["hours"],
        urgent=entry["urgent"],
        out_of_hours_phone=entry.get("out_of_hours_phone"),
    )


def load_catalogue(data_dir: Path = DATA_DIR) -> Catalogue:
    """Load and cross-check services, hours, bank holidays and centres."""
    timezone, schedules = _schedules(read_yaml(data_dir / "hours.yml"))
    holidays = _bank_holidays(read_yaml(data_dir / "bank_holidays.yml"))
    centres, contact = _centres(read_yaml(data_dir / "centres.yml"), schedules)
    raw = read_yaml(data_dir / "services.yml")
    if not isinstance(raw, dict) or not isinstance(raw.get("services"), list):
        raise CatalogueError("services.yml: needs 'authorities' and a 'services' list")
    authorities = raw.get("authorities") or {}
    if sorted(authorities) != sorted(AUTHORITIES):
        raise CatalogueError(f"services.yml: authorities must name exactly {', '.join(AUTHORITIES)}")
    services: dict[str, Service] = {}
    for index, entry in enumerate(raw["services"]):
        service = _service(entry, index, authorities, schedules, centres)
        if service.id in services:
            raise CatalogueError(f"services.yml: service {service.id} appears twice")
        services[service.id] = service
    if OUT_OF_SCOPE not in services:
        raise CatalogueError("services.yml: the out_of_scope entry is missing")
    return Catalogue(
        services=services,
        authorities=dict(authorities),
        schedules=schedules,
        timezone=timezone,
        bank_holidays=holidays,
        centres=centres,
        contact_centre=contact,
    )


@lru_cache(maxsize=None)
def default_catalogue() -> Catalogue:
    """The catalogue under data/, loaded once per process."""
    return load_catalogue()
