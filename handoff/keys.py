"""Typed keys under which the handoff app keeps its shared objects.

Kept apart from app.py so the API, the staff pages and the reports can all
read `app[STORE]` and `app[SETTINGS]` without importing one another.
"""

from __future__ import annotations

from aiohttp import web

from handoff.metrics import HandoffMetrics
from handoff.settings import HandoffSettings
from handoff.store import CaseStore

STORE = web.AppKey("store", CaseStore)
SETTINGS = web.AppKey("settings", HandoffSettings)
METRICS = web.AppKey("metrics", HandoffMetrics)
