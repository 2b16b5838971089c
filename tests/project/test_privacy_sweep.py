"""The issue's scripted privacy check: on every channel (a phone call by
speech and keypad, text messages, the web chat) a resident gives a test card
number (once in two halves), a National Insurance number and an e-mail
address, then asks for a case. Afterwards no file the five real processes
wrote (the tracker store, the case store and call log, the outbox and its
write-ahead log, every log) holds any of them, nor does the chat page shown
back to the resident."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from devtools.simulator import run_call
from devtools.simulator.common import signed_headers
from tests.bridge_harness import CALLER, TOKEN
from tests.stack_harness import four_processes

pytestmark = pytest.mark.model

TEXTER = "+447700900456"
COMPLAINT = "I want to make a formal complaint about the council"
SAID = ["my card number is 4111 1111", "1111 1111", "my national insurance number is QQ 12 34 56 C",
        "my email is jo dot smith at example dot com", COMPLAINT]
TYPED = ["card 4111 1111", "1111 1111", "NI number QQ123456C", "email jo.smith@example.com", COMPLAINT]
FORBIDDEN = ("4111 1111", "41111111", "1111 1111", "QQ 12 34 56", "QQ123456C", "jo dot smith", "jo.smith",
             "example dot com", "example.com")


async def _texts(bridge: str) -> list[str]:
    replies = []
    async with aiohttp.ClientSession() as session:
        for number, body in enumerate(TYPED):
            form = {"MessageSid": f"SM{number:032d}", "AccountSid": "AC" + "1" * 32, "From": TEXTER,
                    "To": "+441632960000", "Body": body}
            url = f"{bridge}/sms/incoming"
            async with session.post(url, data=form, headers=signed_headers(TOKEN, url, form)) as answer:
                assert answer.status == 200
                replies.append(await answer.text())
    return replies


async def _chat(webchat: str) -> list[str]:
    """The web chat as a browser without JavaScript uses it: each message a
    form post, then the page it leads back to; the last page is returned too."""
    import re

    pages = []
    # unsafe: keep cookies from an IP address (127.0.0.1), as browsers do
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{webchat}/chat") as page:
            token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', await page.text()).group(1)
        for body in TYPED:
            async with session.post(f"{webchat}/chat/send", data={"csrf_token": token, "message": body}) as page:
                assert page.status == 200
                pages.append(await page.text())
    return pages


def test_no_store_log_or_file_keeps_a_card_ni_number_or_email(model_path: Path, tmp_path: Path) -> None:
    with four_processes(model_path, tmp_path, webchat=True, CALLS_PER_CALLER_PER_HOUR="0",
                        TEXTS_PER_SENDER_PER_HOUR="0") as stack:
        call = asyncio.run(run_call(stack.urls["bridge"], [*SAID[:-1], "#4111111111111111", SAID[-1]],
                                    auth_token=TOKEN, caller=CALLER))
        texts = asyncio.run(_texts(stack.urls["bridge"]))
        chat = asyncio.run(_chat(stack.urls["webchat"]))
    # Each conversation reached a case, so the transcripts went everywhere they go.
    assert "reference" in " ".join(call.said).lower(), call.said
    assert "reference" in texts[-1].lower() and "reference-value" in chat[-1]
    # the page shown back to the resident holds none of it either
    assert [detail for detail in FORBIDDEN if detail in chat[-1]] == []
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert {"council.db", "tracker.db", "outbox.db", "rasa.log", "webchat.log"} <= {path.name for path in written}
    # What was said is there, redacted: the sweep looks where the details went.
    markers = (b"[card number removed]", b"[National Insurance number removed]", b"[email address removed]")
    for name in ("tracker.db", "council.db"):
        kept = (tmp_path / name).read_bytes()
        assert all(marker in kept for marker in markers), name
    leaks = [f"{path.name}: {detail}" for path in written for detail in FORBIDDEN
             if detail.encode() in path.read_bytes()]
    assert leaks == []
    # Full numbers only in the audited numbers table: no conversation goes by
    # a texter's number, and every other table and file holds masked ones.
    numbers = [number[3:] for number in (CALLER, TEXTER)]  # without +44: "07700..." or "+447700..." alike
    assert [f"{path.name}: {n}" for path in written if path.name not in ("council.db", "council.db-wal")
            for n in numbers if n.encode() in path.read_bytes()] == []
    with sqlite3.connect(tmp_path / "council.db") as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        elsewhere = [table for table in tables if table != "handoff_caller_numbers"
                     for row in db.execute(f'SELECT * FROM "{table}"') for n in numbers if n in repr(row)]
        assert elsewhere == []
        assert {row[0] for row in db.execute("SELECT number FROM handoff_caller_numbers")} >= {TEXTER}
