"""The web chat's settings, read once from the environment at start
(`.env.example` documents each; production refuses to run without the
session key)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from plumbing.settings import (
    DEVELOPMENT_WEBCHAT_KEY,
    SettingsError,
    flag,
    is_production,
    number,
    secret,
    text,
    url,
    whole,
)

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "SettingsError", "WebchatSettings"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8070


def _origins(value: str | None) -> tuple[str, ...]:
    """WEBCHAT_EMBED_ORIGINS: the council sites allowed to show the chat in
    a frame, space-separated, each https://host[:port]."""
    origins = tuple((value or "").split())
    for origin in origins:
        if not origin.startswith(("https://", "http://")) or origin.count("/") != 2 or ";" in origin:
            raise SettingsError(f"WEBCHAT_EMBED_ORIGINS: {origin!r} is not an origin like https://www.example.gov.uk")
    return origins


@dataclass(frozen=True)
class WebchatSettings:
    rasa_url: str = "http://127.0.0.1:5005"
    session_key: str = field(default=DEVELOPMENT_WEBCHAT_KEY, repr=False)
    production: bool = False
    bot_timeout_s: float = 8.0
    messages_per_session_per_hour: int = 60
    messages_per_address_per_hour: int = 300
    trust_forwarded: bool = False
    secure_cookies: bool = False
    embed_origins: tuple[str, ...] = ()
    metrics_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "WebchatSettings":
        env = os.environ if env is None else env
        production = is_production(env)
        return cls(
            rasa_url=url(env, "RASA_URL", "http://127.0.0.1:5005"),
            session_key=secret(env, "WEBCHAT_SESSION_KEY", production, DEVELOPMENT_WEBCHAT_KEY,
                               "the key that signs chat session cookies"),
            production=production,
            bot_timeout_s=number(env, "WEBCHAT_BOT_TIMEOUT_S", 8.0, 1.0, 30.0),
            messages_per_session_per_hour=whole(env, "WEBCHAT_MESSAGES_PER_SESSION_PER_HOUR", 60, 0, 10_000),
            messages_per_address_per_hour=whole(env, "WEBCHAT_MESSAGES_PER_ADDRESS_PER_HOUR", 300, 0, 100_000),
            trust_forwarded=flag(env, "WEBCHAT_TRUST_FORWARDED", False),
            secure_cookies=flag(env, "WEBCHAT_SECURE_COOKIES", production),
            embed_origins=_origins(text(env, "WEBCHAT_EMBED_ORIGINS")),
            metrics_token=text(env, "METRICS_TOKEN"),
        )
