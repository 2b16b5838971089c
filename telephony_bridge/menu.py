"""The keypad (DTMF) menu: what a caller hears and where each key leads.

The tree is data (data/ivr_menu.yml), checked against the service catalogue
when loaded. A menu is named by its path, the keys that reach it from the
main menu: "" is the main menu, "1" the first submenu, "13" the third
option of that. The bridge keeps the path in its action URL between turns;
`Menu.choose()` turns a path and the keys pressed into a `Choice`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from council import DATA_DIR
from council.catalogue import Catalogue, CatalogueError, default_catalogue, load_catalogue, read_yaml

FILE = "ivr_menu.yml"
MAX_DEPTH = 3  # levels of menus, the main menu included: deeper loses callers
KEY_NAMES = {"*": "star", "#": "hash"}
# A person, from every menu (and every other prompt: telephony_bridge/voice.py).
PERSON_KEY = "0"
_OPTION_KEYS = {"digit", "label", "service", "menu", "person"}
_LEADS = ("service", "menu", "person")


@dataclass(frozen=True)
class Option:
    """One key in one menu; exactly one of service, submenu or person."""

    digit: str
    label: str
    service: str | None = None
    submenu: bool = False
    person: bool = False


@dataclass(frozen=True)
class Choice:
    """What the keys pressed mean.

    kind: "menu" (now in submenu `path`), "service" (route to `service`),
    "person" (the caller wants someone), "repeat" (say menu `path` again),
    "main" (back to the main menu), "invalid" (a key that is no option in
    menu `path`, or no key at all). For "service" and "person", `path` is the
    menu the option was chosen in."""

    kind: str
    path: str  # the menu path after the choice: "" is the root, "1" the first submenu
    service: str | None = None
    label: str = ""
    keys: str = ""  # the keys this choice used (those after it were ignored); "" for "invalid"


class Menu:
    """The menus by path, and the keys that work in all of them."""

    def __init__(self, menus: Mapping[str, tuple[Option, ...]], repeat_key: str, main_menu_key: str) -> None:
        self._menus = {path: {option.digit: option for option in options} for path, options in menus.items()}
        self.repeat_key = repeat_key
        self.main_menu_key = main_menu_key

    def options(self, path: str) -> tuple[Option, ...]:
        """The options of menu `path` in the order they are read out (the
        main menu's for an unknown path)."""
        return tuple(self._menus[self._known(path)].values())

    def choose(self, path: str, digits: str) -> Choice:
        """What `digits` pressed in menu `path` mean. Several keys are taken
        one after another ("11" from the main menu is council tax), stopping
        at the first that leads out of the menus (a service or a person) or
        that is no option. An unknown path is the main menu."""
        current = self._known(path)
        choice = Choice("invalid", current)
        for used, key in enumerate(digits, 1):
            keys = digits[:used]
            if key == self.repeat_key:
                choice = Choice("repeat", current, keys=keys)
                continue
            if key == self.main_menu_key:
                current = ""
                choice = Choice("main", current, keys=keys)
                continue
            option = self._menus[current].get(key)
            if option is None and key == PERSON_KEY:
                return Choice("person", current, label="speak to someone", keys=keys)
            if option is None:
                return Choice("invalid", current)
            if option.service:
                return Choice("service", current, option.service, option.label, keys=keys)
            if option.person:
                return Choice("person", current, label=option.label, keys=keys)
            current += key
            choice = Choice("menu", current, label=option.label, keys=keys)
        return choice

    def prompt(self, path: str) -> str:
        """The words read out for menu `path` (the main menu's for an unknown
        path): each option, then how to hear it again, and in a submenu how
        to get back to the main menu."""
        current = self._known(path)
        sentences = [
            f"{'To' if option.person else 'For'} {option.label}, press {option.digit}."
            for option in self._menus[current].values()
        ]
        if not any(option.person for option in self._menus[current].values()):
            sentences.append(f"To speak to someone, press {PERSON_KEY}.")
        sentences.append(f"To hear these options again, press {KEY_NAMES[self.repeat_key]}.")
        if current:
            sentences.append(f"To go back to the main menu, press {KEY_NAMES[self.main_menu_key]}.")
        return " ".join(sentences)

    def services(self) -> set[str]:
        """Every service id some option routes to."""
        return {option.service for menu in self._menus.values() for option in menu.values() if option.service}

    def _known(self, path: str) -> str:
        return path if path in self._menus else ""


# --- loading -----------------------------------------------------------------


def _fail(where: str, problem: str) -> CatalogueError:
    return CatalogueError(f"{FILE}: {where}: {problem}")


def _digit(raw: Any, where: str) -> str:
    # YAML reads `digit: 1` as a number and `digit: "1"` as text; both mean the key.
    if isinstance(raw, bool) or str(raw) not in tuple("0123456789"):
        raise _fail(where, f"digit {raw!r} must be a single key 0-9")
    return str(raw)


def _where(parent: str, raw: Any, index: int) -> str:
    digit = raw.get("digit") if isinstance(raw, dict) else None
    label = raw.get("label") if isinstance(raw, dict) else None
    steps = " > ".join([*parent, str(digit if digit is not None else f"#{index + 1}")])
    return f"option {steps}" + (f" ({label})" if label else "")


def _options(
    raw: Any, parent: str, where: str, catalogue: Catalogue, menus: dict[str, tuple[Option, ...]]
) -> None:
    """Check the options of menu `parent` and record them, and their
    submenus, in `menus`."""
    if len(parent) >= MAX_DEPTH:
        raise _fail(where, f"menus nest deeper than {MAX_DEPTH} levels")
    if not isinstance(raw, list) or not raw:
        raise _fail(where, "a menu needs a non-empty list of options")
    options: dict[str, Option] = {}
    for index, item in enumerate(raw):
        option_where = _where(parent, item, index)
        option = _option(item, parent, option_where, catalogue, menus)
        if option.digit in options:
            raise _fail(option_where, f"digit {option.digit} is used twice in this menu")
        options[option.digit] = option
    menus[parent] = tuple(options.values())


def _option(
    raw: Any, parent: str, where: str, catalogue: Catalogue, menus: dict[str, tuple[Option, ...]]
) -> Option:
    if not isinstance(raw, dict):
        raise _fail(where, "must be a mapping")
    unknown = sorted(set(raw) - _OPTION_KEYS)
    if unknown:
        raise _fail(where, f"unknown field {', '.join(unknown)}")
    digit = _digit(raw.get("digit"), where)
    if digit == PERSON_KEY and raw.get("person") is not True:
        raise _fail(where, f"digit {PERSON_KEY} is kept for a person in every menu")
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        raise _fail(where, "needs a label")
    leads = [key for key in _LEADS if key in raw]
    if len(leads) != 1:
        raise _fail(where, "needs exactly one of service, menu or person")
    if leads == ["person"] and raw["person"] is not True:
        raise _fail(where, "person must be true")
    service = raw.get("service")
    if leads == ["service"]:
        known = catalogue.services.get(service) if isinstance(service, str) else None
        if known is None or not known.routable:
            raise _fail(where, f"service {service!r} is not a council service in services.yml")
    if leads == ["menu"]:
        _options(raw["menu"], parent + digit, where, catalogue, menus)
    return Option(digit, " ".join(label.split()), service, leads == ["menu"], leads == ["person"])


def _keys(raw: Any) -> tuple[str, str]:
    keys = raw.get("keys")
    if not isinstance(keys, dict):
        raise CatalogueError(f"{FILE}: keys: needs repeat and main_menu")
    repeat, main = keys.get("repeat"), keys.get("main_menu")
    if repeat not in KEY_NAMES or main not in KEY_NAMES or repeat == main:
        raise CatalogueError(f"{FILE}: keys: repeat and main_menu must be '*' and '#', one each")
    return repeat, main


def load_menu(data_dir: Path = DATA_DIR, catalogue: Catalogue | None = None) -> Menu:
    """The menu in data_dir/ivr_menu.yml, checked against the catalogue
    (loaded from data_dir when not given). Raises CatalogueError naming the
    file and the option for an unknown service, a duplicate digit, a digit
    not 0-9, an option with none or more than one of service, menu and
    person, an empty menu, or menus nested deeper than MAX_DEPTH."""
    catalogue = catalogue or load_catalogue(data_dir)
    raw = read_yaml(data_dir / FILE)
    if not isinstance(raw, dict):
        raise CatalogueError(f"{FILE}: needs 'keys' and 'options'")
    repeat, main = _keys(raw)
    menus: dict[str, tuple[Option, ...]] = {}
    _options(raw.get("options"), "", "main menu", catalogue, menus)
    return Menu(menus, repeat, main)


@lru_cache(maxsize=None)
def default_menu() -> Menu:
    """The menu under data/, loaded once per process."""
    return load_menu(catalogue=default_catalogue())
