"""Settings from the environment: one production switch and typed readers,
shared by every service (`.env.example` documents each setting).

COUNCIL_ENV is the one switch. Unset or "development" is a developer's
machine: local defaults and the development tokens below work. Any other
value is production, a misspelling included ("prod", "Production ",
"staging"): a switch that fails closed refuses the development tokens and
insists on every secret rather than running a public line on defaults.
"""

from __future__ import annotations

import os
from typing import Callable, Mapping

from plumbing.paths import VAR_DIR

SWITCH = "COUNCIL_ENV"
DEVELOPMENT = "development"
# Fixed tokens that let a newcomer's local stack work with no set-up; refused
# in production, whatever the setting they arrive in.
DEVELOPMENT_TWILIO_TOKEN = "development-only-token"
DEVELOPMENT_HANDOFF_TOKEN = "development-handoff-token"
DEVELOPMENT_WEBCHAT_KEY = "development-webchat-key"
DEVELOPMENT_TOKENS = frozenset({DEVELOPMENT_TWILIO_TOKEN, DEVELOPMENT_HANDOFF_TOKEN, DEVELOPMENT_WEBCHAT_KEY})


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


def environment(env: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return os.environ if env is None else env


def is_production(env: Mapping[str, str] | None = None) -> bool:
    """False only when COUNCIL_ENV is unset, empty or "development"."""
    env = environment(env)
    value = env.get(SWITCH, "").strip().lower()
    return value not in ("", DEVELOPMENT)


def text(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    """The setting with surrounding spaces removed; `default` when unset or blank."""
    return env.get(name, "").strip() or default


def _bounded(env: Mapping[str, str], name: str, default: float, low: float, high: float,
             convert: Callable[[str], float], kind: str) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = convert(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not {kind}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw!r} must be between {low} and {high}")
    return value


def number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    return _bounded(env, name, default, low, high, float, "a number")


def whole(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    return int(_bounded(env, name, default, low, high, int, "a whole number"))


def database_url(env: Mapping[str, str]) -> str:
    """DATABASE_URL, the one database the call log and the case store share;
    a SQLite file under var/ when unset."""
    return text(env, "DATABASE_URL") or f"sqlite:///{VAR_DIR / 'council.db'}"


def flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} must be on or off (true/false, 1/0, yes/no)")


def url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name}={value!r} must start with http:// or https://")
    return value.rstrip("/")


def secret(env: Mapping[str, str], name: str, production: bool, development: str, why: str) -> str:
    """A secret: in production it must be set, and not to a development token;
    elsewhere `development` stands in when it is unset."""
    value = env.get(name, "").strip()
    if production and not value:
        raise SettingsError(f"{name} is not set ({why})")
    if production and value in DEVELOPMENT_TOKENS:
        raise SettingsError(f"{name} is a development token; set a real one in production")
    return value or development
