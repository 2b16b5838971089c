"""data/directory.yml read into a Directory: departments checked against the
service catalogue (their phone and hours default to the service's), people
checked against their departments, every name unique."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from council import DATA_DIR
from council.catalogue import DRAMA_NUMBER, Catalogue, CatalogueError, default_catalogue, load_catalogue, read_yaml
from telephony_bridge.directory import Directory, Entry
from telephony_bridge.sounds import content_words

FILE = "directory.yml"
_ENTRY_KEYS = {"id", "name", "service", "aliases", "phone", "hours"}
_PERSON_KEYS = {"id", "name", "department", "phone", "aliases"}


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
    raw = read_yaml(data_dir / FILE)
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
