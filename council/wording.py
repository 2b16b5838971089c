"""Wording shared by the actions and the telephony bridge."""

from __future__ import annotations

import re

VOICE = "voice"


def web_for(url: str, channel_name: str) -> str:
    """The address as the person can use it: the full link in writing, the
    site said aloud on the phone ("lancaster dot gov dot uk")."""
    if channel_name != VOICE:
        return url
    host = re.sub(r"^https?://(www\.)?", "", url).split("/", 1)[0]
    return host.replace(".", " dot ")
