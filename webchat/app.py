"""The web chat's routes (module docstring of webchat for what it is).

  GET  /chat              the chat page (the conversation so far, a form)
  POST /chat/send         a message or a button, as a plain form; 303 back
  POST /chat/restart      forget this chat and start again
  POST /chat/api/send     the same for the page's script: JSON in, turns out
  GET  /chat/privacy      what happens to what residents type
  GET  /chat/embed.js     one script tag puts the chat in a council's page
  GET  /healthz, /metrics as every service
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from council.catalogue import Catalogue, default_catalogue
from plumbing import observability
from plumbing.bot_client import BotClient
from plumbing.rate_limit import CallerLimit
from webchat.conversation import MAX_MESSAGE_CHARS, WELCOME, Chat
from webchat.sessions import COOKIE, SessionKeys
from webchat.settings import WebchatSettings
from webchat.transcripts import Transcripts, Turn

HERE = Path(__file__).resolve().parent
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger("webchat.app")
access_log = logging.getLogger("webchat.access")

SETTINGS = web.AppKey("settings", WebchatSettings)
KEYS = web.AppKey("keys", SessionKeys)
TRANSCRIPTS = web.AppKey("transcripts", Transcripts)
CHAT = web.AppKey("chat", Chat)
BOT = web.AppKey("bot", BotClient)
CATALOGUE = web.AppKey("catalogue", Catalogue)
# Forms are small; anything bigger is not a chat message.
MAX_BODY_BYTES = 8 * 1024
EXPIRED = ("Sorry, that message could not be sent because the page had expired. "
           "It is in the box below: press Send again.")
TROUBLE = ("Sorry, something went wrong on our side. Your conversation is kept: please try again, "
           "or call {phone}.")
URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")


def linkify(text: str) -> Markup:
    """The bot's text, escaped, with its web addresses as links and its
    line breaks as paragraphs' breaks."""
    parts, last = [], 0
    for match in URL.finditer(text):
        parts.append(escape(text[last:match.start()]))
        address = match.group(0)
        parts.append(Markup('<a href="{0}">{0}</a>').format(address))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts).replace("\n", Markup("<br>"))


def turn_json(turn: Turn) -> dict[str, Any]:
    return {"who": turn.who, "text": turn.text, "buttons": list(turn.buttons), "reference": turn.reference}


def client_address(request: web.Request) -> str:
    """The resident's address: the proxy's last X-Forwarded-For hop when the
    council's reverse proxy is trusted (WEBCHAT_TRUST_FORWARDED), else the peer."""
    if request.app[SETTINGS].trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:64]
    return request.remote or "unknown"


def _session(request: web.Request) -> tuple[str, str | None]:
    """(session id, a new cookie value to set or None when the cookie was good)."""
    keys = request.app[KEYS]
    session_id = keys.read(request.cookies.get(COOKIE))
    if session_id is not None:
        return session_id, None
    return keys.new()


def _set_cookie(request: web.Request, response: web.StreamResponse, value: str | None) -> None:
    if value is None:
        return
    settings = request.app[SETTINGS]
    # A frame on a council's own site is a third party's: the cookie must say so.
    cross_site = bool(settings.embed_origins) and settings.secure_cookies
    response.set_cookie(COOKIE, value, path="/chat", httponly=True, secure=settings.secure_cookies,
                        samesite="None" if cross_site else "Lax")


def _page(request: web.Request, session_id: str, cookie: str | None, *, notice: str | None = None,
          draft: str = "") -> web.Response:
    turns = request.app[TRANSCRIPTS].turns(session_id)
    context = {
        "turns": turns, "welcome": WELCOME, "csrf_token": request.app[KEYS].csrf_token(session_id),
        "max_chars": MAX_MESSAGE_CHARS, "notice": notice, "draft": draft,
        "embed": request.query.get("embed") == "1", "contact": request.app[CATALOGUE].contact_centre,
        "last_buttons": bool(turns and turns[-1].buttons),
    }
    response = aiohttp_jinja2.render_template("chat.html", request, context)
    _set_cookie(request, response, cookie)
    return response


async def chat_page(request: web.Request) -> web.Response:
    session_id, cookie = _session(request)
    return _page(request, session_id, cookie)


async def _form(request: web.Request) -> dict[str, str]:
    try:
        form = await request.post()
    except (ValueError, UnicodeDecodeError):
        return {}
    return {name: value for name, value in form.items() if isinstance(value, str)}


async def send_form(request: web.Request) -> web.Response:
    form = await _form(request)
    session_id, cookie = _session(request)
    if cookie is not None or not request.app[KEYS].csrf_ok(session_id, form.get("csrf_token")):
        return _page(request, session_id, cookie, notice=EXPIRED, draft=form.get("message", "")[:MAX_MESSAGE_CHARS])
    await request.app[CHAT].send(session_id, client_address(request), form.get("message"), form.get("choice"))
    raise web.HTTPSeeOther("/chat#latest")


async def restart(request: web.Request) -> web.Response:
    form = await _form(request)
    session_id, cookie = _session(request)
    if cookie is None and request.app[KEYS].csrf_ok(session_id, form.get("csrf_token")):
        request.app[TRANSCRIPTS].forget(session_id)
        session_id, cookie = request.app[KEYS].new()
    response = web.HTTPSeeOther("/chat")
    _set_cookie(request, response, cookie)
    raise response


async def send_api(request: web.Request) -> web.Response:
    session_id = request.app[KEYS].read(request.cookies.get(COOKIE))
    if session_id is None or not request.app[KEYS].csrf_ok(session_id, request.headers.get("X-CSRF-Token")):
        return web.json_response({"error": "expired", "notice": EXPIRED}, status=403)
    try:
        body = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return web.json_response({"error": "a JSON object with message or choice"}, status=400)
    message, choice = body.get("message"), body.get("choice")
    turns = await request.app[CHAT].send(session_id, client_address(request),
                                         message if isinstance(message, str) else None,
                                         str(choice) if isinstance(choice, (int, str)) else None)
    return web.json_response({"turns": [turn_json(turn) for turn in turns]})


async def privacy(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("privacy.html", request, {"contact": request.app[CATALOGUE].contact_centre})


async def embed_script(request: web.Request) -> web.Response:
    response = web.FileResponse(HERE / "static" / "embed.js")
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.content_type = "text/javascript"
    return response


async def to_chat(request: web.Request) -> web.Response:
    raise web.HTTPFound("/chat")


async def healthz(request: web.Request) -> web.Response:
    """Ready whenever this service runs; the bot is reported: without it the
    chat still answers, with the contact centre's number."""
    bot = "ok" if await request.app[BOT].alive() else "unreachable"
    return observability.health({"bot": bot}, required=())


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Only this service's own script runs; only the council's sites may
    frame the chat; no page of a conversation stays in a shared PC's cache."""
    ancestors = " ".join(("'self'", *request.app[SETTINGS].embed_origins))
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        f"form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith("/chat") and not request.path.startswith("/chat/static"):
        response.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def _polite_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No stack trace reaches a resident: an unexpected fault is logged and
    answered with an apology and the contact centre's number."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:  # noqa: BLE001 - the last line of defence
        log.exception("chat request failed")
        text = TROUBLE.format(phone=request.app[CATALOGUE].contact_centre.phone)
        if request.path.startswith("/chat/api/"):
            return web.json_response({"error": "trouble", "notice": text}, status=503)
        return web.Response(status=503, text=text, content_type="text/plain")


def init_app(settings: WebchatSettings, *, catalogue: Catalogue | None = None,
             transcripts: Transcripts | None = None) -> web.Application:
    catalogue = catalogue or default_catalogue()
    metrics = observability.HttpMetrics("webchat")
    app = web.Application(middlewares=[observability.middleware(metrics, access_log), _polite_errors],
                          client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app[CATALOGUE] = catalogue
    app[KEYS] = SessionKeys(settings.session_key)
    app[TRANSCRIPTS] = transcripts or Transcripts()
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True)
    env.filters["linkify"] = linkify
    app.on_response_prepare.append(_security_headers)

    async def resources(app: web.Application) -> Any:
        session = aiohttp.ClientSession()
        app[BOT] = BotClient(session, settings.rasa_url, settings.bot_timeout_s)
        app[CHAT] = Chat(app[BOT], app[KEYS], app[TRANSCRIPTS], catalogue,
                         CallerLimit(settings.messages_per_session_per_hour, 3600),
                         CallerLimit(settings.messages_per_address_per_hour, 3600))
        yield
        await session.close()

    app.cleanup_ctx.append(resources)
    router = app.router
    router.add_get("/", to_chat)
    router.add_get("/chat", chat_page)
    router.add_post("/chat/send", send_form)
    router.add_post("/chat/restart", restart)
    router.add_post("/chat/api/send", send_api)
    router.add_get("/chat/privacy", privacy)
    router.add_get("/chat/embed.js", embed_script)
    router.add_static("/chat/static/", HERE / "static", name="chat_static")
    router.add_get(observability.HEALTH_PATH, healthz)
    observability.metrics_route(app, metrics, settings.metrics_token, settings.production)
    return app
