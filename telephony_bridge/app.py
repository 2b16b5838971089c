"""The bridge's aiohttp application, built by `init_app(settings)`.

Twilio reaches it at POST /voice/incoming and POST /sms/incoming; every other
/voice/ path is reached through the action URLs of its own TwiML. Every
request under /voice/ and /sms/ must carry a valid X-Twilio-Signature, and no
request ever gets a 5xx: a fault becomes an apology and the keypad menu.

Each Twilio request is handled, and logged, under a request id: the CallSid
for a call (one id for the whole call, as in the call log and Twilio's own
records), the MessageSid for a text (a text conversation is keyed by the
sender's number, which no id may reveal). The bridge sends it on to Rasa.
GET /metrics (plumbing.observability) and GET /healthz need no signature.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Awaitable, Callable, Mapping

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from council.catalogue import Catalogue, default_catalogue
from council.phones import region_of
from council.wording import web_for
from plumbing import observability
from plumbing.bot_client import BotClient
from plumbing.logs import bind_request_id, clean_request_id, new_request_id
from plumbing.masking import mask
from plumbing.rate_limit import CallerLimit
from telephony_bridge import guards, sms, twiml
from telephony_bridge.calllog import CallLog
from telephony_bridge.directory import Directory
from telephony_bridge.directory_file import default_directory
from telephony_bridge.menu import Menu, default_menu
from telephony_bridge.metrics import SMS, VOICE, BridgeMetrics, MeteredCallLog
from telephony_bridge.settings import Settings
from telephony_bridge.signatures import is_valid, signed_url
from telephony_bridge.state import TurnState
from telephony_bridge.voice import DANGER, CallFlow

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger("telephony_bridge.app")

SETTINGS = web.AppKey("settings", Settings)
FLOW = web.AppKey("flow", CallFlow)
BOT = web.AppKey("bot", BotClient)
CATALOGUE = web.AppKey("catalogue", Catalogue)
METRICS = web.AppKey("metrics", BridgeMetrics)
CALLS = web.AppKey("calls", CallLog)
CALL_LIMIT = web.AppKey("call_limit", CallerLimit)
TEXT_LIMIT = web.AppKey("text_limit", CallerLimit)
PARAMS = "twilio_params"
TWILIO_PREFIXES = ("/voice/", "/sms/")
XML = "application/xml"
SORRY = "Sorry, something went wrong on our side."
TOO_MANY_CALLS = ("You've called us several times in the last hour, so I can't take this call now. Please try "
                  "again later, or go to {web} at any time. If someone is in danger, dial 999.")


def _twiml(text: str) -> web.Response:
    return web.Response(text=text, content_type=XML)


def _speech_hints(catalogue: Catalogue, directory: Directory) -> str:
    names = [s.name for s in catalogue.services.values() if s.routable]
    return twiml.hints([*directory.speech_hints(), *names])


def _request_id(params: Mapping[str, str]) -> str:
    """The call's CallSid, else the text's MessageSid (Twilio's ids: letters
    and digits), else a new id."""
    return (clean_request_id(params.get("CallSid")) or clean_request_id(params.get("MessageSid"))
            or new_request_id())


def _signature_middleware(settings: Settings,
                          metrics: BridgeMetrics) -> Callable[..., Awaitable[web.StreamResponse]]:
    validator = RequestValidator(settings.auth_token)

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(TWILIO_PREFIXES):
            return await handler(request)
        try:
            signature = guards.check_headers(request)  # nothing of the body read yet
            params = await guards.read_form(request)
            if not is_valid(validator, signed_url(request, settings.public_base_url), params, signature):
                raise guards.Refused(403, "mismatch")
        except guards.Refused as refused:
            # The body is never logged: it may hold a caller's number or words.
            metrics.signature_rejections.labels(refused.problem).inc()
            log.warning("refused: %s", guards.PROBLEMS[refused.problem],
                        extra={"path": request.path, "status": refused.status})
            return guards.refusal(refused)
        request[PARAMS] = guards.capped(params)
        bind_request_id(_request_id(params))  # unbound by the outer observability middleware
        return await handler(request)

    return check


@web.middleware
async def _never_5xx(request: web.Request, handler: Handler) -> web.StreamResponse:
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
    params = request[PARAMS]
    caller = params.get("From", "")
    if region_of(caller) is not None and not request.app[CALL_LIMIT].allow(caller):
        request.app[METRICS].limited.labels(VOICE, "over_limit").inc()
        log.warning("call refused: over the per-caller limit", extra={"caller": mask(caller)})
        web = web_for(request.app[CATALOGUE].contact_centre.web, "voice")
        return _twiml(twiml.hang_up([TOO_MANY_CALLS.format(web=web)], request.app[FLOW].voice))
    return _twiml(await request.app[FLOW].incoming(params))


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
    sender = request[PARAMS].get("From", "")
    why = _no_reply(request.app, sender)
    if why is not None:
        # An empty answer: Twilio sends nothing back.
        request.app[METRICS].limited.labels(SMS, why).inc()
        log.warning("text not answered: %s", why.replace("_", " "), extra={"caller": mask(sender)})
        return _twiml(twiml.messages([]))
    started = time.perf_counter()
    answer = await sms.answer(request.app[BOT], request.app[CATALOGUE], request[PARAMS],
                              request.app[SETTINGS].sender_id_key)
    request.app[METRICS].turn(SMS, "text", time.perf_counter() - started)
    return _twiml(answer)


def _no_reply(app: web.Application, sender: str) -> str | None:
    """Why a text from `sender` gets no reply (None: it gets one)."""
    if region_of(sender) not in app[SETTINGS].sms_reply_regions:
        return "region"
    if not app[TEXT_LIMIT].allow(sender):
        return "over_limit"
    return None


async def healthz(request: web.Request) -> web.Response:
    """Ready when the call log's database answers. Rasa is reported, not
    required: without it callers still get the keypad menu and transfers."""
    database = await observability.check(request.app[CALLS].ping)
    rasa = "ok" if await request.app[BOT].alive() else "unreachable"
    parts = {"database": database, "rasa": rasa,
             "answering": "bot and keypad menu" if rasa == "ok" else "keypad menu only (the bot is unreachable)"}
    return observability.health(parts, required=("database",))


def init_app(settings: Settings, *, catalogue: Catalogue | None = None, menu: Menu | None = None,
             directory: Directory | None = None, call_log: CallLog | None = None) -> web.Application:
    """The bridge with its routes. Data files are loaded (and validated) here,
    so a bad catalogue fails at start, not on a call. The HTTP session and
    the call log are opened when the app starts and closed when it stops;
    a `call_log` passed in is used as it is and left open."""
    catalogue = catalogue or default_catalogue()
    menu = menu or default_menu()
    directory = directory or default_directory()
    metrics = BridgeMetrics()
    app = web.Application(middlewares=[observability.middleware(metrics, log), _never_5xx,
                                       _signature_middleware(settings, metrics)],
                          client_max_size=guards.MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app[CATALOGUE] = catalogue
    app[METRICS] = metrics
    app[CALL_LIMIT] = CallerLimit(settings.calls_per_caller_per_hour, 3600)
    app[TEXT_LIMIT] = CallerLimit(settings.texts_per_sender_per_hour, 3600)

    async def resources(app: web.Application) -> Any:
        session = aiohttp.ClientSession()
        own_log = call_log is None
        calls = CallLog(settings.database_url) if own_log else call_log
        bot = BotClient(session, settings.rasa_url, settings.bot_timeout_s, observer=metrics)
        writes = MeteredCallLog(calls, metrics, settings.calllog_deadline_s)
        app[BOT] = bot
        app[CALLS] = calls
        app[FLOW] = CallFlow(
            catalogue, menu, directory, bot,
            writes,
            twiml.Voice(settings.voice, settings.language), _speech_hints(catalogue, directory),
            settings.dial_timeout_s,
        )
        yield
        await writes.drain()
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
    app.router.add_get(observability.HEALTH_PATH, healthz)
    observability.metrics_route(app, metrics, settings.metrics_token, settings.production)
    return app
