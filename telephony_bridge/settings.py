"""The bridge's settings, read once from the environment at start.

Every setting has a safe local default except the Twilio auth token, which
must be set outside development; `.env.example` documents each one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from plumbing.paths import VAR_DIR

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Without a token nothing can be checked; a fixed development token lets the
# local simulator and a newcomer's first call work, and is refused in production.
DEVELOPMENT_TOKEN = "development-only-token"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw!r} must be between {low} and {high}")
    return value


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name}={value!r} must start with http:// or https://")
    return value.rstrip("/")


@dataclass(frozen=True)
class Settings:
    auth_token: str
    public_base_url: str | None  # None: the address the request came to
    rasa_url: str
    bot_timeout_s: float
    database_url: str
    voice: str = "Polly.Amy"  # a British English voice
    language: str = "en-GB"
    dial_timeout_s: int = 20
    twilio_account_sid: str | None = None
    production: bool = False
    metrics_token: str | None = field(default=None, repr=False)  # None: see plumbing.observability

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Read the environment. Raises SettingsError naming a bad setting;
        in production (BRIDGE_ENV=production) a missing TWILIO_AUTH_TOKEN or
        PUBLIC_BASE_URL is an error rather than a development default."""
        env = os.environ if env is None else env
        production = env.get("BRIDGE_ENV", "").strip().lower() == "production"
        token = env.get("TWILIO_AUTH_TOKEN", "").strip()
        if not token:
            if production:
                raise SettingsError("TWILIO_AUTH_TOKEN is not set (needed to check Twilio's signatures)")
            token = DEVELOPMENT_TOKEN
        public = env.get("PUBLIC_BASE_URL", "").strip()
        if public:
            public = _url(env, "PUBLIC_BASE_URL", public)
        elif production:
            raise SettingsError("PUBLIC_BASE_URL is not set (the address Twilio calls; signatures are checked against it)")
        database = env.get("DATABASE_URL", "").strip() or f"sqlite:///{VAR_DIR / 'council.db'}"
        return cls(
            auth_token=token,
            public_base_url=public or None,
            rasa_url=_url(env, "RASA_URL", "http://127.0.0.1:5005"),
            bot_timeout_s=_float(env, "BOT_TIMEOUT_S", 3.0, 0.1, 30.0),
            database_url=database,
            voice=env.get("TWILIO_VOICE", "").strip() or "Polly.Amy",
            dial_timeout_s=int(_float(env, "DIAL_TIMEOUT_S", 20, 5, 120)),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", "").strip() or None,
            production=production,
            metrics_token=env.get("METRICS_TOKEN", "").strip() or None,
        )
