"""A case from a conversation to the staff's store: the real model, the
real action server (its outbox) and the real handoff service."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from handoff.app import init_app
from handoff.settings import HandoffSettings
from handoff.store import CaseStore
from tests.bot.test_conversations import Conversation, events, texts

pytestmark = pytest.mark.model


async def test_a_complaint_reaches_the_staff_queue_with_what_was_said(agent_open: Any, tmp_path: Path) -> None:
    # The action server was started with HANDOFF_URL naming a port nobody
    # listened on; the service starts there now, as after an outage.
    port = int(os.environ["HANDOFF_URL"].rsplit(":", 1)[1])
    database = f"sqlite:///{tmp_path / 'cases.db'}"
    store = CaseStore(database)
    settings = HandoffSettings.from_env({"DATABASE_URL": database})
    server = TestServer(init_app(settings, store=store), port=port)
    await server.start_server()
    try:
        chat = Conversation(agent_open, "sms")
        await chat.say("hello, I paid by card, 4111 1111 1111 1111, and was charged twice")
        replies = await chat.say("I want to make a formal complaint about the council")
        (handoff,) = [e for e in events(replies) if e["event"] == "handoff"]
        assert handoff["reference"] in texts(replies)
        case = store.get(handoff["reference"])  # stored before the reference was said
        assert (case.reason, case.channel, case.centre) == ("complaint", "sms", "lancaster_town_hall")
        said = [turn["text"] for turn in case.transcript or []]
        assert said[0].startswith("hello") and "[card number removed]" in said[0] and "4111" not in " ".join(said)
        assert said[-1] == "I want to make a formal complaint about the council"
    finally:
        await server.close()
        store.close()
