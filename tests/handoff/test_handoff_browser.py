"""The staff pages in a real browser (Chromium through Playwright) against
the handoff service on a real local port: sign in, open a case from the
queue, claim it, record an outcome, find a case by reference; on every page
axe-core's WCAG 2.2 AA checks find no serious or critical violation.

Chromium comes from the system (/usr/bin/chromium), never downloaded. When
it is missing the test is skipped, except under CI (CI set), where the
project's set-up installs it and a skip would hide a broken build.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
from aiohttp.test_utils import TestServer

from council.clock import LONDON
from council.references import new_reference
from handoff import accounts
from handoff.app import init_app
from handoff.cases import Case, NewCase
from handoff.settings import HandoffSettings
from handoff.store import CaseStore
from plumbing.paths import VAR_DIR
from tests.browser import CHROMIUM_ARGS, axe_or_skip, axe_violations, chromium_or_skip

RESULTS = VAR_DIR / "test-results"
NOW = datetime(2026, 11, 10, 10, 30, tzinfo=LONDON)
PASSWORD = "correct horse battery"
SCRIPT, IMG = "<script>alert(1)</script>", "<img src=x onerror=alert(1)>"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NOW", NOW.isoformat())


@pytest.fixture
def chromium() -> Path:
    axe_or_skip()
    return chromium_or_skip()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    case_store = CaseStore(f"sqlite:///{tmp_path / 'council.db'}")
    accounts.add_staff(case_store.engine, "alice", "Alice Smith", "lancaster_town_hall", PASSWORD)
    yield case_store
    case_store.close()


@pytest.fixture
async def base_url(store: CaseStore, tmp_path: Path) -> AsyncIterator[str]:
    settings = HandoffSettings(database_url=f"sqlite:///{tmp_path / 'council.db'}", api_token="t" * 32)
    server = TestServer(init_app(settings, store=store), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


def make_case(store: CaseStore, transcript: list[dict], minutes_ago: int, reason: str = "person_requested") -> Case:
    case, _ = store.create_case(NewCase(
        conversation_id=uuid.uuid4().hex, reason=reason, channel="voice", transcript=transcript,
        reference=new_reference(), caller_number="+447700900123", service="council_tax", postcode="LA1 1AA",
        created_at=NOW - timedelta(minutes=minutes_ago)))
    return case


async def test_staff_work_a_case_in_a_real_browser(chromium: Path, store: CaseStore, base_url: str) -> None:
    from playwright.async_api import async_playwright, expect

    case = make_case(store, minutes_ago=135, transcript=[
        {"who": "caller", "text": f"My bill is wrong {SCRIPT}"},
        {"who": "bot", "text": "Sorry, I didn't catch that. Could you say it another way?"},
        {"who": "caller", "text": f"{IMG} I want a person"},
        {"who": "bot", "text": "I'll pass you to a member of staff at Lancaster Town Hall."},
    ])
    other = make_case(store, minutes_ago=10, transcript=[{"who": "caller", "text": "Bins not collected"}],
                      reason="urgent")
    RESULTS.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1024, "height": 768}, bypass_csp=True)
            page = await context.new_page()
            checked: dict[str, list[str]] = {}

            async def check(state: str) -> None:
                checked[state] = await axe_violations(page)

            async def on_dialog(dialog: object) -> None:
                dialogs.append(dialog.message)  # type: ignore[attr-defined]
                await dialog.dismiss()  # type: ignore[attr-defined]

            page.on("dialog", on_dialog)

            await page.goto(f"{base_url}/staff/login")
            await check("sign-in")
            await page.get_by_label("Username").fill("alice")
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()

            await expect(page.get_by_role("heading", name="Queue for Lancaster Town Hall")).to_be_visible()
            rows = page.locator("table.queue tbody tr")
            await expect(rows).to_have_count(2)
            await expect(rows.nth(0)).to_contain_text(other.reference)  # urgent first
            await expect(rows.nth(1)).to_contain_text("2 h 15 min")
            await page.screenshot(path=str(RESULTS / "handoff-queue.png"), full_page=True)
            await check("queue")

            await page.get_by_role("link", name=case.reference).click()
            await expect(page.get_by_role("heading", name=f"Case {case.reference}")).to_be_visible()
            await expect(page.locator(".turns")).to_contain_text(SCRIPT)
            await expect(page.locator(".turns")).to_contain_text(IMG)
            assert await page.locator(".turns script, .turns img").count() == 0

            await page.get_by_role("button", name="Claim this case").click()
            await expect(page.get_by_text("You have claimed this case.").first).to_be_visible()
            await page.get_by_label("Appointment booked").check()
            await page.get_by_label("Note (optional)").fill(f"Booked for Thursday {SCRIPT}")
            await page.screenshot(path=str(RESULTS / "handoff-case.png"), full_page=True)
            await check("case")
            await page.get_by_role("button", name="Save outcome").click()
            await expect(page.locator("#case-status")).to_have_text("Resolved")
            await expect(page.locator(".notes")).to_contain_text(f"Booked for Thursday {SCRIPT}")
            await page.screenshot(path=str(RESULTS / "handoff-case-resolved.png"), full_page=True)

            # A tablet held upright: one column, nothing cut off.
            await page.set_viewport_size({"width": 768, "height": 1024})
            await page.screenshot(path=str(RESULTS / "handoff-case-tablet.png"), full_page=True)
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 768

            search = page.get_by_label("Find a case by reference")
            await search.fill(other.reference.lower().replace("-", " "))
            await search.press("Enter")
            await expect(page.get_by_role("heading", name=f"Case {other.reference}")).to_be_visible()
            assert page.url.endswith(f"/staff/cases/{other.reference}")

            await page.set_viewport_size({"width": 1024, "height": 768})
            await page.get_by_role("link", name="Reports").click()
            await expect(page.get_by_role("heading", name="Cases by outcome")).to_be_visible()
            await page.screenshot(path=str(RESULTS / "handoff-reports.png"), full_page=True)
            await check("reports")
            await page.goto(f"{base_url}/staff/search?reference=NOT-A-REF")
            await check("search, nothing found")
            await page.goto(f"{base_url}/staff/cases/LAN-000-000")
            await check("error page")
        finally:
            await browser.close()

    assert dialogs == [], f"a script ran in the page: {dialogs}"
    assert set(checked) == {"sign-in", "queue", "case", "reports", "search, nothing found", "error page"}
    assert {state: found for state, found in checked.items() if found} == {}
    assert store.get(case.reference).outcome == "appointment_booked"
