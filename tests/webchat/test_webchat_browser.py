"""The web chat in a real browser (Debian's Chromium through Playwright)
against the service on a real local port and a stand-in for Rasa's REST
channel: a whole conversation to a route, a clarification and a handoff,
by keyboard only, with new messages in an ARIA live region; the same with
JavaScript off; 320 px wide and at 200% zoom; the embed on another site;
and axe-core's WCAG 2.2 AA checks on every state (no serious or critical
violation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from plumbing.paths import VAR_DIR
from tests.browser import CHROMIUM_ARGS, axe_or_skip, axe_violations, chromium_or_skip
from tests.conftest import free_port
from webchat.app import init_app
from webchat.settings import WebchatSettings

from .fake_bot import CLARIFY, REFERENCE, FakeBot

RESULTS = VAR_DIR / "test-results"


@pytest.fixture
def council_port() -> int:
    """Where the embed test serves a council's page: another origin, allowed to frame the chat."""
    return free_port()


@pytest.fixture
async def chat_url(bot: FakeBot, council_port: int) -> AsyncIterator[str]:
    settings = WebchatSettings(rasa_url=bot.url, session_key="test-session-key", bot_timeout_s=2.0,
                               embed_origins=(f"http://127.0.0.1:{council_port}",))
    server = TestServer(init_app(settings), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    chromium = chromium_or_skip()
    axe_or_skip()
    RESULTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def context(browser: Any, **options: Any) -> Any:
    return await browser.new_context(bypass_csp=True, viewport=options.pop("viewport", {"width": 1024, "height": 768}),
                                     **options)


async def no_violations(page: Any, state: str) -> None:
    found = await axe_violations(page)
    assert found == [], f"{state}: " + "\n".join(found)


async def no_sideways_scroll(page: Any) -> None:
    overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px"


async def test_a_whole_conversation_by_keyboard_alone(browser: Any, chat_url: str, bot: FakeBot) -> None:
    from playwright.async_api import expect

    ctx = await context(browser, permissions=["clipboard-read", "clipboard-write"])
    page = await ctx.new_page()
    await page.goto(f"{chat_url}/chat")
    log = page.get_by_role("log")
    await expect(log).to_have_attribute("aria-live", "polite")
    await no_violations(page, "the empty chat")

    box = page.get_by_label("Your message")
    await expect(box).to_be_focused()  # ready to type
    await page.keyboard.type("my bin wasn't collected")
    await page.keyboard.press("Enter")
    await expect(log.locator("li.bot").last).to_contain_text("Missed bins are collected")
    await expect(log.locator("a", has_text="https://www.lancaster.gov.uk/bins")).to_have_attribute(
        "href", "https://www.lancaster.gov.uk/bins")
    await expect(box).to_be_focused()
    await expect(box).to_have_value("")

    await page.keyboard.type("the drain outside my house is blocked")
    await page.keyboard.press("Enter")
    await expect(log.locator("li.bot").last).to_contain_text(CLARIFY)
    first = page.get_by_role("button", name="A drain on the road")
    await expect(first).to_be_focused()  # the question's answers are real buttons, and focus goes to them
    await no_violations(page, "a clarification")
    await page.keyboard.press("Enter")
    await expect(log.locator("li.bot").last).to_contain_text("cleared by Lancashire County Council")
    assert bot.received[-1]["message"] == '/roads_pavements{"topic":"road_drains"}'
    await expect(page.get_by_role("button", name="A drain on the road")).to_have_count(0)

    await expect(box).to_be_focused()
    await page.keyboard.type("can I speak to a person please")
    await page.keyboard.press("Enter")
    await expect(log.locator(".reference-value")).to_have_text(REFERENCE)
    copy = page.get_by_role("button", name="Copy reference")
    await copy.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Reference copied")
    assert await page.evaluate("navigator.clipboard.readText()") == REFERENCE
    await no_violations(page, "a handoff")
    await page.screenshot(path=str(RESULTS / "webchat-conversation.png"), full_page=True)

    await page.reload()  # the conversation survives a reload
    await expect(page.get_by_role("log").locator(".reference-value")).to_have_text(REFERENCE)
    await expect(page.get_by_role("log")).to_contain_text("my bin wasn't collected")

    await page.get_by_role("button", name="Start again").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("log").locator("li")).to_have_count(1)  # the welcome only

    await page.get_by_role("link", name="How we use what you type").click()
    await expect(page.get_by_role("heading", name="How we use what you type")).to_be_visible()
    await no_violations(page, "the privacy notice")
    await ctx.close()


async def test_the_same_conversation_with_javascript_off(browser: Any, chat_url: str) -> None:
    from playwright.async_api import expect

    ctx = await context(browser, java_script_enabled=False)
    page = await ctx.new_page()
    await page.goto(f"{chat_url}/chat")
    await page.get_by_label("Your message").fill("the drains are blocked")
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("log").locator("li.bot").last).to_contain_text(CLARIFY)
    await page.get_by_role("button", name="A drain on the road").click()
    await expect(page.get_by_role("log").locator("li.bot").last).to_contain_text("Lancashire County Council")
    await page.get_by_label("Your message").fill("I want a person")
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator(".reference-value")).to_have_text(REFERENCE)
    await expect(page.get_by_role("button", name="Copy reference")).to_be_hidden()  # needs the script
    await page.screenshot(path=str(RESULTS / "webchat-no-javascript.png"), full_page=True)
    await ctx.close()


@pytest.mark.parametrize(("viewport", "scale", "name"), [
    ({"width": 320, "height": 640}, 1, "320px"),
    # 200% zoom of a 1280 px window: 640 CSS pixels, each two device pixels
    ({"width": 640, "height": 400}, 2, "zoom-200"),
])
async def test_narrow_screens_and_zoom_reflow_without_sideways_scrolling(browser: Any, chat_url: str, viewport: dict,
                                                                        scale: int, name: str) -> None:
    from playwright.async_api import expect

    ctx = await context(browser, viewport=viewport, device_scale_factor=scale)
    page = await ctx.new_page()
    await page.goto(f"{chat_url}/chat")
    for message, answer in (("my bin wasn't collected", "Missed bins"), ("the drain is blocked", CLARIFY)):
        await page.get_by_label("Your message").fill(message)
        await page.get_by_role("button", name="Send").click()
        await expect(page.get_by_role("log").locator("li.bot").last).to_contain_text(answer)
    await expect(page.get_by_role("button", name="A drain at my home")).to_be_visible()
    await no_sideways_scroll(page)
    for control in ("Send", "Start again", "A drain on the road"):
        box = await page.get_by_role("button", name=control).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], control
        assert box["height"] >= 24, f"{control}: a target under 24 px (WCAG 2.5.8)"
    await no_violations(page, name)
    await page.screenshot(path=str(RESULTS / f"webchat-{name}.png"), full_page=True)
    await ctx.close()


async def test_the_embed_puts_the_chat_in_a_council_page(browser: Any, chat_url: str, council_port: int) -> None:
    from playwright.async_api import expect

    async def council_page(request: web.Request) -> web.Response:
        return web.Response(content_type="text/html", text=(
            '<!doctype html><html lang="en-GB"><head><title>Lancaster City Council</title></head><body>'
            f'<main><h1>Contact us</h1><script src="{chat_url}/chat/embed.js" async></script></main></body></html>'))

    app = web.Application()
    app.router.add_get("/", council_page)
    host = TestServer(app, host="127.0.0.1", port=council_port)
    await host.start_server()
    try:
        ctx = await context(browser)
        page = await ctx.new_page()
        await page.goto(str(host.make_url("/")))
        frame_element = page.locator("iframe")
        await expect(frame_element).to_have_attribute("title", "Ask the council: chat with Lancaster City Council "
                                                              "and Lancashire County Council")
        frame = page.frame_locator("iframe")
        await frame.get_by_label("Your message").fill("my bin wasn't collected")
        await frame.get_by_role("button", name="Send").click()
        await expect(frame.get_by_role("log")).to_contain_text("Missed bins are collected")
        await expect(page.get_by_role("link", name="Open the chat in its own page")).to_have_attribute(
            "href", f"{chat_url}/chat")
        await ctx.close()
    finally:
        await host.close()


def test_the_page_has_no_inline_script_or_style() -> None:
    """The CSP allows only the service's own files; an inline script or
    style would be blocked and the page would break in production."""
    template = (Path(__file__).resolve().parents[2] / "webchat" / "templates" / "chat.html").read_text()
    assert "<script>" not in template and "style=" not in template and "onclick" not in template
