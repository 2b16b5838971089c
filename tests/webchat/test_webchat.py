"""The web chat over real HTTP (aiohttp's TestServer) against a stand-in
for Rasa's REST channel on a real port: the plain-form conversation (no
JavaScript), the page's JSON endpoint, sessions that survive a reload and
carry nothing personal, redaction, limits, and polite answers to every
fault and bad input."""

from __future__ import annotations

import logging
import re
from typing import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from webchat.app import init_app, linkify
from webchat.conversation import BUSY, DOWN, EMPTY, MAX_MESSAGE_CHARS, STALE_CHOICE, TOO_LONG
from webchat.sessions import COOKIE, SessionKeys
from webchat.settings import SettingsError, WebchatSettings
from webchat.transcripts import Transcripts

from .fake_bot import BINS, CLARIFY, REFERENCE, ROAD_DRAINS, FakeBot

CARD = "4111 1111 1111 1111"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def settings_for(bot: FakeBot, **changes: object) -> WebchatSettings:
    values = {"rasa_url": bot.url, "session_key": "test-session-key", "bot_timeout_s": 1.0}
    values.update(changes)
    return WebchatSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def client(bot: FakeBot) -> AsyncIterator[TestClient]:
    test_client = TestClient(TestServer(init_app(settings_for(bot))))
    await test_client.start_server()
    yield test_client
    await test_client.close()


async def page(client: TestClient) -> tuple[str, str]:
    """(the chat page's HTML, its form token)."""
    response = await client.get("/chat")
    assert response.status == 200
    html = await response.text()
    return html, CSRF.search(html).group(1)


async def say(client: TestClient, message: str | None = None, choice: str | None = None) -> str:
    """Send as a browser without JavaScript does, follow the redirect, return the page."""
    _, token = await page(client)
    form = {"csrf_token": token, **({"message": message} if message is not None else {}),
            **({"choice": choice} if choice is not None else {})}
    response = await client.post("/chat/send", data=form, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/chat#latest"
    html, _ = await page(client)
    return html


async def test_a_conversation_without_javascript_routes_clarifies_and_hands_off(client: TestClient,
                                                                                bot: FakeBot) -> None:
    html = await say(client, "my bin wasn't collected")
    assert "my bin wasn&#39;t collected" in html and "Missed bins are collected" in html
    assert '<a href="https://www.lancaster.gov.uk/bins">https://www.lancaster.gov.uk/bins</a>' in html

    html = await say(client, "the drain outside is blocked")
    assert CLARIFY in html
    assert re.search(r'<button type="submit" name="choice" value="0">A drain on the road</button>', html)
    html = await say(client, choice="0")
    assert ROAD_DRAINS.split(" Report")[0] in html
    assert re.search(r'You:</span>\s*<span class="text">A drain on the road', html)
    # the bot got the payload it offered with that button, not the title
    assert bot.received[-1]["message"] == '/roads_pavements{"topic":"road_drains"}'

    html = await say(client, "can I speak to a person")
    assert f'<strong class="reference-value">{REFERENCE}</strong>' in html
    # the same conversation all along, by a keyed id that is not the cookie
    senders = {message["sender"] for message in bot.received}
    assert len(senders) == 1 and next(iter(senders)).startswith("web-")
    assert all(message["metadata"] == {"channel": "chat"} for message in bot.received)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/chat"))[COOKIE].value
    assert next(iter(senders)) not in cookie and cookie.split(".")[0] not in next(iter(senders))


async def test_the_conversation_survives_a_reload_and_start_again_forgets_it(client: TestClient) -> None:
    await say(client, "my bin was not collected")
    html, token = await page(client)
    assert BINS.split(" Report")[0] in html
    response = await client.post("/chat/restart", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    html, _ = await page(client)
    assert "Missed bins" not in html and "Hello. I can help" in html


async def test_the_cookie_is_signed_random_and_holds_nothing_personal(client: TestClient, bot: FakeBot) -> None:
    await say(client, f"my card is {CARD} and my email is jo@example.com")
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/chat"))[COOKIE]
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}\.[0-9a-f]{32}", cookie.value)
    client.session.cookie_jar.clear()
    set_cookie = (await client.get("/chat")).headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "Path=/chat" in set_cookie and "SameSite=Lax" in set_cookie
    assert "Max-Age" not in set_cookie and "expires" not in set_cookie.lower()  # ends with the browser session
    keys = SessionKeys("test-session-key")
    session_id, _ = cookie.value.split(".")
    forged = f"{session_id}.{'0' * 32}"
    assert keys.read(cookie.value) == session_id and keys.read(forged) is None and keys.read("x" * 500) is None
    # found by the fuzzer: characters beyond ASCII once made the comparison raise
    assert keys.read(f"{session_id}.\u00e9\ud800") is None and not keys.csrf_ok(session_id, "\x80")


async def test_what_residents_type_is_shown_back_redacted_even_across_two_messages(client: TestClient) -> None:
    await say(client, "my card number is 4111 1111")
    html = await say(client, "1111 1111")
    assert "4111" not in html and "1111 1111" not in html
    html = await say(client, "my email is jo.bloggs@example.com and I was born 01/02/1950")
    assert "jo.bloggs@example.com" not in html and "01/02/1950" not in html


async def test_bad_input_gets_a_polite_answer_and_loses_nothing(client: TestClient, bot: FakeBot) -> None:
    html = await say(client, "   ")
    assert EMPTY.replace('"', "&#34;") in html
    html = await say(client, "x" * (MAX_MESSAGE_CHARS + 1))
    assert TOO_LONG in html
    html = await say(client, choice="7")  # no button on offer
    assert STALE_CHOICE in html
    await say(client, "/nlu_fallback")  # typed text never becomes an intent payload
    assert bot.received[-1]["message"] == "nlu_fallback"
    # an expired page or a missing token: the message comes back in the box to send again
    response = await client.post("/chat/send", data={"message": "my bin was missed", "csrf_token": "nope"})
    html = await response.text()
    assert response.status == 200 and "the page had expired" in html and ">my bin was missed</textarea>" in html
    assert bot.received[-1]["message"] == "nlu_fallback"  # and it was not sent


async def test_the_bot_down_or_slow_gets_an_apology_with_the_number(client: TestClient, bot: FakeBot) -> None:
    bot.down = True
    html = await say(client, "my bin was not collected")
    assert "Sorry, the chat cannot answer right now" in html and "my bin was not collected" in html
    bot.down, bot.delay_s = False, 2.0  # past the 1 s budget of these tests
    html = await say(client, "my bin was not collected")
    assert html.count("Sorry, the chat cannot answer right now") == 2
    assert DOWN.split("{")[0] in html


async def test_limits_per_session_and_per_address(bot: FakeBot) -> None:
    for changes in ({"messages_per_session_per_hour": 2}, {"messages_per_address_per_hour": 2}):
        async with TestClient(TestServer(init_app(settings_for(bot, **changes)))) as client:
            for _ in range(2):
                await say(client, "my bin was not collected")
            sent = len(bot.received)
            html = await say(client, "my bin was not collected")
            assert BUSY.split("{")[0] in html and len(bot.received) == sent


async def test_the_address_limit_reads_the_trusted_proxy_hop_only(bot: FakeBot) -> None:
    """Behind the council's proxy every resident has the proxy's address;
    with WEBCHAT_TRUST_FORWARDED the proxy's last X-Forwarded-For hop counts,
    and without it the header is ignored (anyone could write it)."""
    for trusted, answered in ((True, 2), (False, 1)):
        settings = settings_for(bot, messages_per_address_per_hour=1, trust_forwarded=trusted)
        async with TestClient(TestServer(init_app(settings))) as client:
            _, token = await page(client)
            before = len(bot.received)
            for resident in ("203.0.113.7", "198.51.100.9"):
                await client.post("/chat/send", data={"csrf_token": token, "message": "my bin"},
                                  headers={"X-Forwarded-For": f"10.0.0.1, {resident}"})
            assert len(bot.received) - before == answered


async def test_the_page_endpoint_for_javascript(client: TestClient, bot: FakeBot) -> None:
    _, token = await page(client)
    response = await client.post("/chat/api/send", json={"message": "the drains"}, headers={"X-CSRF-Token": token})
    body = await response.json()
    assert response.status == 200
    assert [turn["who"] for turn in body["turns"]] == ["resident", "bot"]
    assert body["turns"][1]["buttons"] == ["A drain on the road", "A drain at my home"]
    assert "payload" not in str(body) and "/roads" not in str(body)
    response = await client.post("/chat/api/send", json={"choice": 1}, headers={"X-CSRF-Token": token})
    assert bot.received[-1]["message"] == '/council_housing{"topic":"home_drains"}'
    response = await client.post("/chat/api/send", json={"message": "a person please"},
                                 headers={"X-CSRF-Token": token})
    assert (await response.json())["turns"][-1]["reference"] == REFERENCE
    for headers, body, status in (({}, {"message": "hi"}, 403), ({"X-CSRF-Token": token}, ["x"], 400)):
        response = await client.post("/chat/api/send", json=body, headers=headers)
        assert response.status == status and "notice" in await response.json() or status == 400


async def test_crafted_requests_get_no_stack_trace(client: TestClient) -> None:
    _, token = await page(client)
    for data in (b"\xff\xfe", b"csrf_token=" + token.encode() + b"&message=" + b"%FF" * 50):
        response = await client.post("/chat/send", data=data,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status in (200, 303, 400) and "Traceback" not in await response.text()
    response = await client.post("/chat/send", data={"csrf_token": token, "message": "x" * 20_000})
    assert response.status == 413
    response = await client.post("/chat/api/send", data=b"{not json", headers={"X-CSRF-Token": token})
    assert response.status == 400


async def test_headers_keep_other_sites_and_scripts_out(bot: FakeBot) -> None:
    settings = settings_for(bot, embed_origins=("https://www.lancaster.gov.uk",), secure_cookies=True)
    async with TestClient(TestServer(init_app(settings))) as client:
        response = await client.get("/chat")
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'self' https://www.lancaster.gov.uk" in policy
        assert response.headers["Cache-Control"] == "no-store"
        assert "SameSite=None" in response.headers["Set-Cookie"] and "Secure" in response.headers["Set-Cookie"]
        embed = await client.get("/chat/embed.js")
        assert embed.status == 200 and "iframe" in await embed.text()
        assert embed.headers["Content-Type"].startswith("text/javascript")
        assert (await client.get("/chat/privacy")).status == 200
        health = await client.get("/healthz")
        assert (await health.json()) == {"status": "ok", "bot": "ok"}


async def test_nothing_residents_type_is_logged(client: TestClient, caplog: pytest.LogCaptureFixture,
                                                bot: FakeBot) -> None:
    caplog.set_level(logging.DEBUG)
    await say(client, f"my secret words and card {CARD}")
    bot.down = True
    await say(client, "more secret words")
    logged = " ".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert "secret words" not in logged and "4111" not in logged and "bot unavailable" in logged


def test_transcripts_are_bounded_and_forget_quiet_sessions() -> None:
    now = [0.0]
    transcripts = Transcripts(max_sessions=2, max_turns=3, idle_s=60, clock=lambda: now[0])
    for index in range(5):
        transcripts.add_resident("a", f"message {index}")
    assert [turn.text for turn in transcripts.turns("a")] == ["message 2", "message 3", "message 4"]
    transcripts.add_resident("b", "hello")
    transcripts.add_resident("c", "hello")
    assert len(transcripts) == 2 and transcripts.turns("a") == []
    now[0] = 61
    assert transcripts.turns("b") == []


def test_links_are_made_only_of_addresses_and_everything_else_is_escaped() -> None:
    made = str(linkify('See https://www.lancashire.gov.uk/roads. <script>alert("x")</script>'))
    assert '<a href="https://www.lancashire.gov.uk/roads">https://www.lancashire.gov.uk/roads</a>.' in made
    assert "<script>" not in made and "&lt;script&gt;" in made
    assert 'href="javascript' not in str(linkify("javascript:alert(1) http://x.test/\"onmouseover=alert(1)"))


def test_production_refuses_a_missing_or_development_key() -> None:
    with pytest.raises(SettingsError, match="WEBCHAT_SESSION_KEY"):
        WebchatSettings.from_env({"COUNCIL_ENV": "production"})
    with pytest.raises(SettingsError, match="development token"):
        WebchatSettings.from_env({"COUNCIL_ENV": "production", "WEBCHAT_SESSION_KEY": "development-webchat-key"})
    with pytest.raises(SettingsError, match="WEBCHAT_EMBED_ORIGINS"):
        WebchatSettings.from_env({"WEBCHAT_EMBED_ORIGINS": "https://www.example.gov.uk/page"})
    settings = WebchatSettings.from_env({"COUNCIL_ENV": "production", "WEBCHAT_SESSION_KEY": "k" * 32})
    assert settings.secure_cookies and settings.production
