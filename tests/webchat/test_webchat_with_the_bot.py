"""The web chat in Chromium in front of the real bot (the model trained in
this test run, the real action server): a whole conversation to a route, a
clarification answered with the bot's own button, and a handoff with its
reference, by keyboard, with axe-core's checks on the way."""

from __future__ import annotations

import re
from typing import Any, AsyncIterator, Callable

import pytest
from aiohttp.test_utils import TestServer

from tests.conftest import WEEKDAY_OPEN
from webchat.app import init_app
from webchat.settings import WebchatSettings

from .test_webchat_browser import RESULTS, browser, context, no_violations  # noqa: F401 - the fixture

pytestmark = pytest.mark.model
REFERENCE = re.compile(r"^[A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{3}$")


@pytest.fixture
async def chat_with_the_bot(rasa_server: Callable[[str], str]) -> AsyncIterator[str]:
    settings = WebchatSettings(rasa_url=rasa_server(WEEKDAY_OPEN), session_key="test-session-key", bot_timeout_s=20)
    server = TestServer(init_app(settings), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def send(page: Any, text: str) -> None:
    await page.get_by_label("Your message").focus()
    await page.keyboard.type(text)
    await page.keyboard.press("Enter")


async def test_a_real_conversation_routes_clarifies_and_hands_off(browser: Any, chat_with_the_bot: str) -> None:  # noqa: F811
    from playwright.async_api import expect

    ctx = await context(browser)
    page = await ctx.new_page()
    await page.goto(f"{chat_with_the_bot}/chat")
    log = page.get_by_role("log")

    await send(page, "my bin wasn't collected on thursday")
    await expect(log.locator("li.bot").last).to_contain_text("Is there anything else", timeout=30_000)
    await expect(log).to_contain_text("Lancaster City Council")

    await send(page, "I got a parking fine")
    await expect(page.locator("form.choices button").first).to_be_focused(timeout=30_000)
    await no_violations(page, "a real clarification")
    await page.keyboard.press("Tab")  # to the second of the bot's two options
    await expect(page.get_by_role("button", name="In a council car park")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(log.locator("li.bot").nth(-2)).to_contain_text("car park", timeout=30_000)

    await send(page, "I want to make a complaint about how I was treated at the town hall")
    await expect(log.locator(".reference-value")).to_have_text(REFERENCE, timeout=30_000)
    await no_violations(page, "a real handoff")
    await page.screenshot(path=str(RESULTS / "webchat-real-bot.png"), full_page=True)
    await ctx.close()
