"""The handoff service's settings, read once from the environment at start.

Every setting has a safe local default except the secrets, which must be set
when HANDOFF_ENV=production; `.env.example` documents each one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from plumbing.paths import VAR_DIR

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
# A fixed development token lets the local bot reach a local service with no
# set-up; production refuses it.
DEVELOPMENT_TOKEN = "development-handoff-token"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw!r} must be between {low} and {high}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} must be on or off (true/false, 1/0, yes/no)")


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name}={value!r} must start with http:// or https://")
    return value.rstrip("/")


def _secret(env: Mapping[str, str], name: str, production: bool, development: str, why: str) -> str:
    value = env.get(name, "").strip()
    if value:
        return value
    if production:
        raise SettingsError(f"{name} is not set ({why})")
    return development


@dataclass(frozen=True)
class HandoffSettings:
    database_url: str
    api_token: str = field(repr=False)
    production: bool = False
    retention_days: int = 365
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    secure_cookies: bool = False
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_from_number: str | None = None
    handoff_url: str = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    outbox_path: Path = VAR_DIR / "handoff-outbox.db"
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    metrics_token: str | None = field(default=None, repr=False)  # None: see plumbing.observability

    @property
    def can_text(self) -> bool:
        """True when all three Twilio settings are present; otherwise texts
        are logged, not sent."""
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "HandoffSettings":
        """Read the environment (os.environ when None). Raises SettingsError
        naming a bad setting; with HANDOFF_ENV=production a missing secret is
        an error rather than a development default."""
        env = os.environ if env is None else env
        production = env.get("HANDOFF_ENV", "").strip().lower() == "production"
        token = _secret(env, "HANDOFF_API_TOKEN", production, DEVELOPMENT_TOKEN,
                        "the bearer token the bot uses for the case API")
        if production and token == DEVELOPMENT_TOKEN:
            raise SettingsError("HANDOFF_API_TOKEN is the development token; set a real one in production")
        database = env.get("DATABASE_URL", "").strip() or f"sqlite:///{VAR_DIR / 'council.db'}"
        outbox = env.get("HANDOFF_OUTBOX", "").strip()
        return cls(
            database_url=database,
            api_token=token,
            production=production,
            retention_days=_int(env, "HANDOFF_RETENTION_DAYS", 365, 1, 36500),
            lockout_attempts=_int(env, "HANDOFF_LOCKOUT_ATTEMPTS", 5, 1, 100),
            lockout_minutes=_int(env, "HANDOFF_LOCKOUT_MINUTES", 15, 1, 24 * 60),
            secure_cookies=_flag(env, "HANDOFF_SECURE_COOKIES", production),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", "").strip() or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", "").strip() or None,
            twilio_from_number=env.get("TWILIO_FROM_NUMBER", "").strip() or None,
            handoff_url=_url(env, "HANDOFF_URL", f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"),
            outbox_path=Path(outbox) if outbox else VAR_DIR / "handoff-outbox.db",
            metrics_token=env.get("METRICS_TOKEN", "").strip() or None,
        )
