"""The Rasa server's input channel: Rasa's REST channel (same path,
/webhooks/rest/webhook, same body) that also gives every message a request
id, so one id follows a call from the bridge through Rasa to the actions
and the handoff service.

The id is the request's X-Request-Id header, else the `request_id` of its
metadata, else a new one. It is bound for the logs while Rasa handles the
message and put into the message's metadata, where the action server reads
it (and the tracker store keeps it with the user's event)."""

from __future__ import annotations

import logging
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from plumbing.logs import (
    REQUEST_ID_HEADER,
    bind_request_id,
    clean_request_id,
    new_request_id,
    request_id_from_metadata,
    reset_request_id,
)

log = logging.getLogger("bot.channels")


def _metadata(request: Request) -> Dict[Text, Any]:
    body = request.json if isinstance(request.json, dict) else {}
    metadata = body.get("metadata")
    return dict(metadata) if isinstance(metadata, dict) else {}


class RequestIdRestInput(RestInput):
    """Registered in bot/credentials.yml; its name stays "rest", so the URL
    and the input channel recorded in the tracker are Rasa's own."""

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return {**_metadata(request), "request_id": request.ctx.request_id}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def bind(request: Request) -> None:
            request.ctx.request_id = (clean_request_id(request.headers.get(REQUEST_ID_HEADER))
                                      or request_id_from_metadata(_metadata(request)) or new_request_id())
            request.ctx.request_id_token = bind_request_id(request.ctx.request_id)
            request.ctx.started = time.perf_counter()

        @webhook.middleware("response")
        async def unbind(request: Request, response: HTTPResponse) -> None:
            token = getattr(request.ctx, "request_id_token", None)
            if token is None:
                return
            if request.method == "POST":  # a message, not the health check
                milliseconds = round((time.perf_counter() - request.ctx.started) * 1000, 1)
                log.info("message answered", extra={"method": request.method, "path": request.path,
                                                    "status": response.status, "duration_ms": milliseconds})
            reset_request_id(token)

        return webhook
