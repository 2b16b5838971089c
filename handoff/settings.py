"""The handoff service's settings, read once from the environment at start.

Every setting has a safe local default except the secrets, which must be set
in production (COUNCIL_ENV, plumbing.settings); `.env.example` documents each one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from plumbing.settings import (
    DEVELOPMENT_HANDOFF_TOKEN,
    DEVELOPMENT_TOKENS,
    SettingsError,
    database_url,
    flag,
    is_production,
    secret,
    text,
    url,
    whole,
)

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "DEVELOPMENT_TOKEN", "AdminSettings", "HandoffSettings", "SettingsError"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
# The development token lets the local bot reach a local service with no
# set-up; production refuses it.
DEVELOPMENT_TOKEN = DEVELOPMENT_HANDOFF_TOKEN


def _retention_days(env: Mapping[str, str]) -> int:
    return whole(env, "HANDOFF_RETENTION_DAYS", 365, 1, 36500)


@dataclass(frozen=True)
class AdminSettings:
    """What the administration commands (add-staff, purge, report) need:
    the database and the retention period. No secret, so the container that
    runs them (compose's handoff-admin) is given none."""

    database_url: str
    retention_days: int = 365

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "AdminSettings":
        env = os.environ if env is None else env
        return cls(database_url=database_url(env), retention_days=_retention_days(env))


@dataclass(frozen=True)
class HandoffSettings:
    database_url: str
    api_token: str = field(repr=False)
    integration_token: str | None = field(default=None, repr=False)
    production: bool = False
    retention_days: int = 365
    signin_free_attempts: int = 5
    signin_client_wait_minutes: int = 15
    signin_account_wait_seconds: int = 60
    secure_cookies: bool = False
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_from_number: str | None = None
    handoff_url: str = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
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
        naming a bad setting; in production (COUNCIL_ENV other than development) a
        missing secret or a development token is an error, not a default."""
        env = os.environ if env is None else env
        production = is_production(env)
        token = secret(env, "HANDOFF_API_TOKEN", production, DEVELOPMENT_TOKEN,
                       "the bearer token the bot uses for the case API")
        integration = text(env, "HANDOFF_INTEGRATION_TOKEN")
        if integration is not None and (integration == token or (production and integration in DEVELOPMENT_TOKENS)):
            raise SettingsError("HANDOFF_INTEGRATION_TOKEN must be a secret of its own, not the bot's token "
                                "or a development one")
        return cls(
            database_url=database_url(env),
            api_token=token,
            integration_token=integration,
            production=production,
            retention_days=_retention_days(env),
            signin_free_attempts=whole(env, "HANDOFF_SIGNIN_FREE_ATTEMPTS", 5, 1, 100),
            signin_client_wait_minutes=whole(env, "HANDOFF_SIGNIN_CLIENT_WAIT_MINUTES", 15, 1, 24 * 60),
            signin_account_wait_seconds=whole(env, "HANDOFF_SIGNIN_ACCOUNT_WAIT_SECONDS", 60, 1, 3600),
            secure_cookies=flag(env, "HANDOFF_SECURE_COOKIES", production),
            twilio_account_sid=text(env, "TWILIO_ACCOUNT_SID"),
            twilio_auth_token=text(env, "TWILIO_AUTH_TOKEN"),
            twilio_from_number=text(env, "TWILIO_FROM_NUMBER"),
            handoff_url=url(env, "HANDOFF_URL", f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"),
            metrics_token=text(env, "METRICS_TOKEN"),
        )
