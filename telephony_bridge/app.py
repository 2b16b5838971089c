"""The bridge's aiohttp application, built by `init_app(settings)`.

Twilio reaches it at POST /voice/incoming and POST /sms/incoming; every other
/voice/ path is reached through the action URLs of its own TwiML. Every
request under /voice/ and /sms/ must carry a valid X-Twilio-Signature, and no
request ever gets a 5xx: a fault becomes an apology and the keypad menu.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from bot.catalogue import Catalogue, default_catalogue
from telephony_bridge import sms, twiml
from telephony_bridge.calllog import CallLog
from telephony_bridge.directory import Directory, default_directory
from telephony_bridge.menu import Menu, default_menu
from telephony_bridge.rasa_client import BotClient
from telephony_bridge.settings import Settings
from telephony_bridge.signatures import SIGNATURE_HEADER, decode_form, is_valid, signed_url
from telephony_bridge.state import TurnState
from telephony_bridge.voice import DANGER, AsyncCallLog, CallFlow

log = logging.getLogger("telephony_bridge.app")

SETTINGS = web.AppKey("settings", Settings)
FLOW = web.AppKey("flow", CallFlow)
BOT = web.AppKey("bot", BotClient)
CATALOGUE = web.AppKey("catalogue", Catalogue)
PARAMS = "twilio_params"
TWILIO_PREFIXES = ("/voice/", "/sms/")
XML = "application/xml"
SORRY = "Sorry, something went wrong on our side."


def _twiml(text: str) -> web.Response:
    return web.Response(text=text, content_type=XML)


def _speech_hints(catalogue: Catalogue, directory: Directory) -> str:
    names = [s.name for s in catalogue.services.values() if s.routable]
    return twiml.hints([*directory.speech_hints(), *names])


def _signature_middleware(settings: Settings) -> Callable[..., Awaitable[web.StreamResponse]]:
    validator = RequestValidator(settings.auth_token)

    @web.middleware
    async def check(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if not request.path.startswith(TWILIO_PREFIXES):
            return await handler(request)
        if request.method != "POST":
            raise web.HTTPMethodNotAllowed(request.method, ["POST"])
        params = decode_form(await request.read())
        signature = request.headers.get(SIGNATURE_HEADER)
        if not is_valid(validator, signed_url(request, settings.public_base_url), params, signature):
            # The body is not logged: it may hold a caller's number or words.
            log.warning("signature %s", "missing" if not signature else "does not match",
                        extra={"path": request.path, "status": 403})
            return web.Response(status=403, text="Forbidden: the request is not signed by Twilio.\n")
        request[PARAMS] = params
        return await handler(request)

    return check


@web.middleware
async def _never_5xx(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """A fault anywhere still gives Twilio a 200 and the caller words."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:  # noqa: BLE001 - last line of defence for a live call
        call = request.get(PARAMS, {}).get("CallSid")
        log.exception("fault while answering", extra={"path": request.path, "call": call})
        if request.path.startswith("/sms/"):
            return _twiml(twiml.messages([SORRY + " Please try again in a few minutes."]))
        flow = request.app[FLOW]
        return _twiml(flow.apology([SORRY, DANGER]))


async def incoming(request: web.Request) -> web.Response:
    return _twiml(await request.app[FLOW].incoming(request[PARAMS]))


async def turn(request: web.Request) -> web.Response:
    return _twiml(await request.app[FLOW].turn(request[PARAMS], TurnState.from_query(request.query)))


async def no_input(request: web.Request) -> web.Response:
    return _twiml(await request.app[FLOW].no_input(request[PARAMS], TurnState.from_query(request.query)))


async def dial_result(request: web.Request) -> web.Response:
    return _twiml(await request.app[FLOW].dial_result(request[PARAMS], request.query))


async def dial_status(request: web.Request) -> web.Response:
    await request.app[FLOW].dial_status(request[PARAMS], request.query)
    return _twiml(str(twiml.VoiceResponse()))


async def status(request: web.Request) -> web.Response:
    await request.app[FLOW].status(request[PARAMS])
    return _twiml(str(twiml.VoiceResponse()))


async def sms_incoming(request: web.Request) -> web.Response:
    return _twiml(await sms.answer(request.app[BOT], request.app[CATALOGUE], request[PARAMS]))


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def init_app(settings: Settings, *, catalogue: Catalogue | None = None, menu: Menu | None = None,
             directory: Directory | None = None, call_log: CallLog | None = None) -> web.Application:
    """The bridge with its routes. Data files are loaded (and validated) here,
    so a bad catalogue fails at start, not on a call. The HTTP session and
    the call log are opened when the app starts and closed when it stops;
    a `call_log` passed in is used as it is and left open."""
    catalogue = catalogue or default_catalogue()
    menu = menu or default_menu()
    directory = directory or default_directory()
    app = web.Application(middlewares=[_never_5xx, _signature_middleware(settings)])
    app[SETTINGS] = settings
    app[CATALOGUE] = catalogue

    async def resources(app: web.Application) -> Any:
        session = aiohttp.ClientSession()
        own_log = call_log is None
        calls = CallLog(settings.database_url) if own_log else call_log
        loop = asyncio.get_running_loop()
        bot = BotClient(session, settings.rasa_url, settings.bot_timeout_s)
        app[BOT] = bot
        app[FLOW] = CallFlow(
            catalogue, menu, directory, bot,
            AsyncCallLog(calls, lambda fn, *args: loop.run_in_executor(None, fn, *args)),
            twiml.Voice(settings.voice, settings.language), _speech_hints(catalogue, directory),
            settings.dial_timeout_s,
        )
        yield
        await session.close()
        if own_log and calls is not None:
            calls.close()

    app.cleanup_ctx.append(resources)
    app.router.add_post("/voice/incoming", incoming)
    app.router.add_post("/voice/turn", turn)
    app.router.add_post("/voice/no-input", no_input)
    app.router.add_post("/voice/dial-result", dial_result)
    app.router.add_post("/voice/dial-status", dial_status)
    app.router.add_post("/voice/status", status)
    app.router.add_post("/sms/incoming", sms_incoming)
    app.router.add_get("/healthz", healthz)
    return app
