"""The handoff service's aiohttp application, built by `init_app(settings)`:
the case API under /api/ (bearer token) and the staff pages under /staff/."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from aiohttp import web
from twilio.http import HttpClient

from council.catalogue import Catalogue, default_catalogue
from handoff import api, staff
from handoff.keys import METRICS, SETTINGS, STORE
from handoff.metrics import HandoffMetrics
from handoff.settings import HandoffSettings
from handoff.store import CaseStore


def init_app(settings: HandoffSettings, store: CaseStore | None = None, *, catalogue: Catalogue | None = None,
             twilio_http: HttpClient | None = None) -> web.Application:
    """The service with its routes. The catalogue is loaded (and validated)
    here, so bad data fails at start. Without a `store`, one is opened on
    `settings.database_url` when the app starts (migrating the database) and
    closed when it stops; a `store` passed in is used as it is and left open.
    `twilio_http` replaces Twilio's HTTP client (tests fake Twilio's cloud)."""
    catalogue = catalogue or default_catalogue()
    metrics = HandoffMetrics()
    app = web.Application(middlewares=api.middlewares(settings, metrics))
    app[SETTINGS] = settings
    app[METRICS] = metrics
    if store is not None:
        app[STORE] = store
    if twilio_http is not None:
        app[api.TWILIO_HTTP] = twilio_http

    async def resources(app: web.Application) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        own_store = store is None
        if own_store:
            # Opening runs the migrations: blocking work, kept off the loop.
            app[STORE] = await loop.run_in_executor(None, CaseStore, settings.database_url, catalogue)
        yield
        await api.finish_texts(app)
        if own_store:
            await loop.run_in_executor(None, app[STORE].close)

    app.cleanup_ctx.append(resources)
    api.setup(app, catalogue)
    staff.setup(app, settings)
    return app
