"""X-Twilio-Signature on every Twilio request, checked with the twilio
library's own RequestValidator against the URL Twilio called.

Twilio signs the full URL it requested (scheme, host, port, path and query)
plus the POSTed form fields. Behind a proxy the bridge sees another host, so
the URL is rebuilt from PUBLIC_BASE_URL and the raw path and query as they
arrived; without that setting, from the request itself (local development).
"""

from __future__ import annotations

import logging
from typing import Mapping

from aiohttp import web
from twilio.request_validator import RequestValidator

log = logging.getLogger("telephony_bridge.signatures")


def signed_url(request: web.Request, public_base_url: str | None) -> str:
    """The URL Twilio signed: the public base plus the path and query exactly
    as they arrived (percent-encoding untouched)."""
    base = public_base_url or f"{request.scheme}://{request.host}"
    return base.rstrip("/") + request.raw_path


def is_valid(validator: RequestValidator, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    """True when `signature` is Twilio's for this URL and form. The library
    also tries the URL with and without an explicit port, as Twilio may
    sign either."""
    if not signature:
        return False
    return bool(validator.validate(url, dict(params), signature))
