"""Send one generated request to its target and return the status; webhook
requests are signed as Twilio signs them (the twilio library's
RequestValidator), the others carry the bearer token or the staff session."""

from __future__ import annotations

import json

import requests
from twilio.request_validator import RequestValidator

from devtools.fuzz.strategies import Req
from devtools.fuzz.targets import API_TOKEN, INTEGRATION_TOKEN, TWILIO_TOKEN, Targets

TIMEOUT_S = 30
_validator = RequestValidator(TWILIO_TOKEN)
_anonymous = requests.Session()


def _encodable(value: str) -> str:
    # requests refuses lone surrogates in a form or URL; a real client could
    # not send them either.
    return value.encode("utf-8", "replace").decode("utf-8")


def _clean(mapping: dict[str, str]) -> dict[str, str]:
    return {_encodable(k): _encodable(v) for k, v in mapping.items()}


def prepare(targets: Targets, req: Req) -> tuple[requests.Session, requests.PreparedRequest]:
    base = {"case_api": targets.handoff, "staff_pages": targets.handoff, "webhooks": targets.bridge,
            "web_chat": targets.webchat}[req.target]
    headers: dict[str, str] = {}
    if req.content_type:
        headers["Content-Type"] = req.content_type
    data: dict[str, str] | bytes | None = req.data
    if isinstance(data, dict):
        tokens = {"{csrf}": targets.csrf, "{chat_csrf}": targets.chat_csrf}
        data = _clean({k: tokens.get(v, v) for k, v in data.items()})
    if req.has_body:
        data = json.dumps(req.body).encode("utf-8", "replace")
        headers["Content-Type"] = "application/json"
    session = _anonymous
    if req.target == "case_api" and req.auth != "none":
        token = {"good": API_TOKEN, "integration": INTEGRATION_TOKEN}.get(req.auth, "not-the-token")
        headers["Authorization"] = f"Bearer {token}"
    if req.target == "staff_pages" and req.auth == "good":
        session = targets.staff
    if req.target == "web_chat" and req.auth == "good" and targets.chat is not None:
        session = targets.chat
        if req.has_body:
            headers["X-CSRF-Token"] = targets.chat_csrf
    elif req.target == "web_chat" and req.auth == "bad":
        headers["Cookie"] = "council_chat=forged.0123456789abcdef0123456789abcdef"
    prepared = session.prepare_request(requests.Request(req.method, base + _encodable(req.path),
                                                        params=_clean(req.params), data=data, headers=headers))
    if req.target == "webhooks" and req.auth != "none":
        form = data if isinstance(data, dict) else {}
        signature = _validator.compute_signature(prepared.url, form) if req.auth == "good" else "bm90IGl0"
        prepared.headers["X-Twilio-Signature"] = signature
    return session, prepared


def send(targets: Targets, req: Req) -> int:
    session, prepared = prepare(targets, req)
    return session.send(prepared, timeout=TIMEOUT_S, allow_redirects=False).status_code
