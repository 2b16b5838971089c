"""The bridge's settings, read once from the environment at start.

Every setting has a safe local default except the Twilio auth token, which
must be set outside development; `.env.example` documents each one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Mapping

from plumbing.settings import (
    DEVELOPMENT_TWILIO_TOKEN,
    SettingsError,
    database_url,
    is_production,
    number,
    secret,
    text,
    url,
    whole,
)

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "DEVELOPMENT_TOKEN", "Settings", "SettingsError"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Without a token nothing can be checked; the development token lets the
# local simulator and a newcomer's first call work, and production refuses it.
DEVELOPMENT_TOKEN = DEVELOPMENT_TWILIO_TOKEN


def _regions(env: Mapping[str, str]) -> frozenset[str]:
    raw = text(env, "SMS_REPLY_REGIONS", "GB") or "GB"
    regions = frozenset(part.strip().upper() for part in raw.split(",") if part.strip())
    if not all(len(region) == 2 and region.isalpha() for region in regions):
        raise SettingsError(f"SMS_REPLY_REGIONS={raw!r} must be two-letter ISO country codes, such as GB or GB,IE")
    return regions


@dataclass(frozen=True)
class Settings:
    auth_token: str
    public_base_url: str | None  # None: the address the request came to
    rasa_url: str
    bot_timeout_s: float
    database_url: str
    # Keys the hash a texter's conversation goes by (sms.conversation_id);
    # SENDER_ID_KEY, else derived from the auth token.
    sender_id_key: str = field(default="development-sender-id-key", repr=False)
    voice: str = "Polly.Amy"  # a British English voice
    language: str = "en-GB"
    dial_timeout_s: int = 20
    calllog_deadline_s: float = 0.25
    calllog_retention_days: int = 365
    calls_per_caller_per_hour: int = 10
    texts_per_sender_per_hour: int = 30
    sms_reply_regions: frozenset[str] = frozenset({"GB"})
    twilio_account_sid: str | None = None
    production: bool = False
    metrics_token: str | None = field(default=None, repr=False)  # None: see plumbing.observability

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Read the environment. Raises SettingsError naming a bad setting;
        in production (plumbing.settings: COUNCIL_ENV other than development)
        a missing TWILIO_AUTH_TOKEN or PUBLIC_BASE_URL, or the development
        token, is an error rather than a development default."""
        env = os.environ if env is None else env
        production = is_production(env)
        token = secret(env, "TWILIO_AUTH_TOKEN", production, DEVELOPMENT_TOKEN,
                       "needed to check Twilio's signatures")
        public = text(env, "PUBLIC_BASE_URL")
        if public:
            public = url(env, "PUBLIC_BASE_URL", public)
        elif production:
            raise SettingsError("PUBLIC_BASE_URL is not set "
                                "(the address Twilio calls; signatures are checked against it)")
        # A key of its own when set; otherwise one derived from the auth token
        # (rotating the token then starts texters' conversations afresh).
        sender_key = text(env, "SENDER_ID_KEY") or hmac.new(token.encode("utf-8"), b"sms conversation id",
                                                             hashlib.sha256).hexdigest()
        return cls(
            sender_id_key=sender_key,
            auth_token=token,
            public_base_url=public or None,
            rasa_url=url(env, "RASA_URL", "http://127.0.0.1:5005"),
            bot_timeout_s=number(env, "BOT_TIMEOUT_S", 3.0, 0.1, 30.0),
            database_url=database_url(env),
            voice=text(env, "TWILIO_VOICE", "Polly.Amy"),
            dial_timeout_s=int(number(env, "DIAL_TIMEOUT_S", 20, 5, 120)),
            calllog_deadline_s=number(env, "CALLLOG_DEADLINE_S", 0.25, 0.01, 2.0),
            calllog_retention_days=whole(env, "CALLLOG_RETENTION_DAYS", 365, 1, 3650),
            calls_per_caller_per_hour=int(number(env, "CALLS_PER_CALLER_PER_HOUR", 10, 0, 1000)),
            texts_per_sender_per_hour=int(number(env, "TEXTS_PER_SENDER_PER_HOUR", 30, 0, 1000)),
            sms_reply_regions=_regions(env),
            twilio_account_sid=text(env, "TWILIO_ACCOUNT_SID"),
            production=production,
            metrics_token=text(env, "METRICS_TOKEN"),
        )
