"""The staff pages over real HTTP (aiohttp's TestServer and TestClient) in
front of a real CaseStore: a SQLite file always, and PostgreSQL too when a
server answers on 127.0.0.1:5432. Cases are made through the store, staff
accounts through handoff.accounts; the clock is fixed with FAKE_NOW."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import datetime, timedelta
from typing import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer

from council.clock import LONDON
from council.references import new_reference
from handoff import accounts
from handoff.app import init_app
from handoff.cases import Case, NewCase
from handoff.settings import HandoffSettings
from handoff.staff.common import CONFIG
from handoff.store import CaseStore

NOW = datetime(2026, 11, 10, 10, 30, tzinfo=LONDON)  # a Tuesday morning, GMT
PASSWORD = "correct horse battery"
FREE_ATTEMPTS, CLIENT_WAIT_MINUTES, ACCOUNT_WAIT_SECONDS = 3, 15, 60
LANCASTER, MORECAMBE = "lancaster_town_hall", "morecambe_town_hall"
SCRIPT, IMG = "<script>alert(1)</script>", "<img src=x onerror=alert(1)>"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


# --- databases ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NOW", NOW.isoformat())


@pytest.fixture
def staff_accounts(store: CaseStore) -> dict[str, accounts.Staff]:
    made = {}
    for username, name, centre, role in (("alice", "Alice Smith", LANCASTER, "staff"),
                                         ("bob", "Bob Jones", LANCASTER, "staff"),
                                         ("mo", "Mo Patel", MORECAMBE, "staff"),
                                         ("max", "Max Manager", LANCASTER, "manager")):
        made[username] = accounts.add_staff(store.engine, username, name, centre, PASSWORD, role=role)
    return made


def settings_for(database_url: str, **changes: object) -> HandoffSettings:
    return HandoffSettings(database_url=database_url, api_token="t" * 32,
                           signin_free_attempts=FREE_ATTEMPTS,
                           signin_client_wait_minutes=CLIENT_WAIT_MINUTES,
                           signin_account_wait_seconds=ACCOUNT_WAIT_SECONDS, **changes)


ClientFactory = Callable[[], Awaitable[TestClient]]


@pytest.fixture
async def new_client(database_url: str, store: CaseStore, staff_accounts: dict) -> AsyncIterator[ClientFactory]:
    """Browsers of their own (own cookie jars) on one running service."""
    server = TestServer(init_app(settings_for(database_url), store=store))
    await server.start_server()
    clients: list[TestClient] = []

    async def make() -> TestClient:
        # unsafe=True: the jar would otherwise ignore cookies from an IP address.
        client = TestClient(server, cookie_jar=CookieJar(unsafe=True))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.session.close()
    await server.close()


@pytest.fixture
async def client(new_client: ClientFactory) -> TestClient:
    return await new_client()


def make_case(store: CaseStore, *, postcode: str = "LA1 1AA", service: str = "council_tax",
              reason: str = "person_requested", minutes_ago: int = 30, transcript: list[dict] | None = None,
              channel: str = "voice") -> Case:
    case, created = store.create_case(NewCase(
        conversation_id=uuid.uuid4().hex, reason=reason, channel=channel,
        transcript=transcript or [{"who": "caller", "text": "I want to talk about my council tax bill"},
                                  {"who": "bot", "text": "I'll pass you to a member of staff."}],
        reference=new_reference(), caller_number="+447700900123", service=service, postcode=postcode,
        created_at=NOW - timedelta(minutes=minutes_ago)))
    assert created
    return case


# --- helpers -----------------------------------------------------------------


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def sign_in(client: TestClient, username: str, password: str = PASSWORD):
    page = await client.get("/staff/login")
    assert page.status == 200
    return await client.post("/staff/login", allow_redirects=False, data={
        "csrf_token": csrf_of(await page.text()), "username": username, "password": password})


async def signed_in(new_client: ClientFactory, username: str) -> TestClient:
    client = await new_client()
    answer = await sign_in(client, username)
    assert answer.status == 303, await answer.text()
    return client


async def csrf_for(client: TestClient, path: str = "/staff/") -> str:
    page = await client.get(path)
    assert page.status == 200
    return csrf_of(await page.text())


async def post_form(client: TestClient, path: str, data: dict[str, str], page: str = "/staff/"):
    return await client.post(path, allow_redirects=False, data={"csrf_token": await csrf_for(client, page), **data})


def session_cookie_header(answer) -> str:
    headers = [value for value in answer.headers.getall("Set-Cookie", []) if value.startswith("handoff_session=")]
    assert headers, "no session cookie was set"
    return headers[0]


# --- signing in --------------------------------------------------------------


async def test_sign_in_leads_to_the_queue(client: TestClient) -> None:
    answer = await sign_in(client, "alice")
    assert answer.status == 303 and answer.headers["Location"] == "/staff/"
    page = await client.get("/staff/")
    assert page.status == 200
    text = await page.text()
    assert "Signed in as Alice Smith" in text and "Queue for Lancaster Town Hall" in text


async def test_username_is_not_case_sensitive(client: TestClient) -> None:
    assert (await sign_in(client, " Alice")).status == 303


@pytest.mark.parametrize("username, password", [("alice", "wrong password"), ("nobody", PASSWORD)])
async def test_wrong_password_and_unknown_user_get_the_same_answer(client: TestClient, username: str,
                                                                   password: str) -> None:
    answer = await sign_in(client, username, password)
    assert answer.status == 401
    text = await answer.text()
    assert "Wrong username or password." in text and "locked" not in text
    assert not [v for v in answer.headers.getall("Set-Cookie", []) if v.startswith("handoff_session=")]
    assert (await client.get("/staff/", allow_redirects=False)).status == 303


class Ticks:
    """The sign-in throttle's clock, moved on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle_ticks(client: TestClient) -> Ticks:
    ticks = Ticks()
    client.server.app[CONFIG].throttle.ticks = ticks
    return ticks


def without(text: str, username: str) -> str:
    return text.replace(f'value="{username}"', 'value=""')


async def test_repeated_failures_slow_down_known_and_unknown_names_alike(new_client: ClientFactory) -> None:
    client = await new_client()
    ticks = throttle_ticks(client)
    for _ in range(FREE_ATTEMPTS):
        assert (await sign_in(client, "nobody", "wrong password")).status == 401
    # This client must now wait, whatever name it types, known or not, with
    # the right password or not: one page, and no password is checked.
    pages = []
    for username, password in (("nobody", "wrong password"), ("alice", PASSWORD), ("bob", "wrong")):
        answer = await sign_in(client, username, password)
        assert answer.status == 429
        pages.append(without(await answer.text(), username))
    assert pages[0] == pages[1] == pages[2] and "Too many sign-in attempts" in pages[0]
    assert "locked" not in pages[0]
    ticks.now += 2.1  # the first back-off is two seconds
    assert (await sign_in(client, "alice")).status == 303


async def test_a_successful_sign_in_resets_the_names_count(new_client: ClientFactory) -> None:
    client = await new_client()
    throttle_ticks(client)
    for _ in range(FREE_ATTEMPTS - 1):
        await sign_in(client, "alice", "wrong password")
    assert (await sign_in(client, "alice")).status == 303
    later = await new_client()  # signed out, as at the start of another shift
    assert (await sign_in(later, "alice", "wrong password")).status == 401


@pytest.mark.parametrize("username, password", [("alice", "wrong password"), ("nobody", PASSWORD),
                                                ("disabled", PASSWORD), ("alice", PASSWORD)])
async def test_every_answer_costs_one_password_check_on_its_own_thread(
        client: TestClient, store: CaseStore, monkeypatch: pytest.MonkeyPatch, username: str, password: str) -> None:
    accounts.add_staff(store.engine, "disabled", "Dee Abled", LANCASTER, PASSWORD)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE handoff_staff SET active = false WHERE username = 'disabled'")
    threads = []
    real = accounts.verify_password

    def counted(given: str, stored: str) -> bool:
        threads.append(threading.current_thread().name)
        return real(given, stored)

    monkeypatch.setattr(accounts, "verify_password", counted)
    answer = await sign_in(client, username, password)
    assert answer.status == (303 if (username, password) == ("alice", PASSWORD) else 401)
    assert len(threads) == 1 and threads[0].startswith("password-check")


async def test_session_cookie_flags(client: TestClient) -> None:
    cookie = session_cookie_header(await sign_in(client, "alice"))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie


async def test_session_cookie_is_secure_when_configured(database_url: str, store: CaseStore,
                                                        staff_accounts: dict) -> None:
    app = init_app(settings_for(database_url, secure_cookies=True), store=store)
    async with TestClient(TestServer(app), cookie_jar=CookieJar(unsafe=True)) as client:
        page = await client.get("/staff/login")
        assert "Secure" in page.headers["Set-Cookie"]
        # The jar keeps a Secure cookie off plain HTTP, so it is sent back by hand.
        token = csrf_of(await page.text())
        answer = await client.post("/staff/login", allow_redirects=False,
                                   headers={"Cookie": f"handoff_login_csrf={token}"},
                                   data={"csrf_token": token, "username": "alice", "password": PASSWORD})
        cookie = session_cookie_header(answer)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


async def test_sign_in_form_needs_its_csrf_token(client: TestClient) -> None:
    await client.get("/staff/login")
    answer = await client.post("/staff/login", allow_redirects=False,
                               data={"username": "alice", "password": PASSWORD})
    assert answer.status == 403


async def test_sign_in_never_redirects_off_the_site(client: TestClient) -> None:
    page = await client.get("/staff/login")
    answer = await client.post("/staff/login", allow_redirects=False, data={
        "csrf_token": csrf_of(await page.text()), "username": "alice", "password": PASSWORD,
        "next": "//evil.example/staff/"})
    assert answer.headers["Location"] == "/staff/"


async def test_the_session_ends_after_eight_hours(new_client: ClientFactory,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    client = await signed_in(new_client, "alice")
    monkeypatch.setenv("FAKE_NOW", (NOW + timedelta(hours=8, minutes=1)).isoformat())
    answer = await client.get("/staff/", allow_redirects=False)
    assert answer.status == 303 and answer.headers["Location"].startswith("/staff/login")


async def test_logout_ends_the_session(new_client: ClientFactory) -> None:
    client = await signed_in(new_client, "alice")
    old = next(c.value for c in client.session.cookie_jar if c.key == "handoff_session")
    answer = await post_form(client, "/staff/logout", {})
    assert answer.status == 303 and answer.headers["Location"].startswith("/staff/login")
    # The old cookie value, sent again by hand, no longer works.
    stale = await new_client()
    answer = await stale.get("/staff/", allow_redirects=False, headers={"Cookie": f"handoff_session={old}"})
    assert answer.status == 303 and answer.headers["Location"].startswith("/staff/login")


# --- the protected paths -------------------------------------------------------

PROTECTED = [
    ("GET", "/staff/"),
    ("GET", "/staff/cases/{ref}"),
    ("POST", "/staff/cases/{ref}/claim"),
    ("POST", "/staff/cases/{ref}/notes"),
    ("POST", "/staff/cases/{ref}/outcome"),
    ("POST", "/staff/cases/{ref}/reveal"),
    ("GET", "/staff/search?reference={ref}"),
    ("GET", "/staff/reports"),
    ("GET", "/staff/reports.csv"),
    ("GET", "/staff/reports/by_service.png"),
    ("POST", "/staff/logout"),
]


@pytest.mark.parametrize("method, path", PROTECTED)
async def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, store: CaseStore, method: str,
                                                       path: str) -> None:
    case = make_case(store)
    data = {"outcome": "resolved_at_desk", "text": "a note", "csrf_token": "x"} if method == "POST" else None
    answer = await client.request(method, path.format(ref=case.reference), data=data, allow_redirects=False)
    assert answer.status == 303
    assert answer.headers["Location"].startswith("/staff/login")
    after = store.get(case.reference)
    assert after.status == "open" and after.notes == () and after.version == case.version


CHANGES = [
    ("/staff/cases/{ref}/claim", {}),
    ("/staff/cases/{ref}/notes", {"text": "should not be saved"}),
    ("/staff/cases/{ref}/outcome", {"outcome": "resolved_at_desk"}),
    ("/staff/cases/{ref}/reveal", {}),
]


@pytest.mark.parametrize("path, data", CHANGES)
@pytest.mark.parametrize("token", ["missing", "wrong", "another session's"])
async def test_a_post_without_the_session_csrf_token_is_refused(new_client: ClientFactory, store: CaseStore,
                                                                path: str, data: dict, token: str) -> None:
    case = make_case(store)
    client = await signed_in(new_client, "alice")
    other = await signed_in(new_client, "bob")
    form = dict(data)
    if token == "wrong":
        form["csrf_token"] = "not-the-token"
    elif token == "another session's":
        form["csrf_token"] = await csrf_for(other)
    answer = await client.post(path.format(ref=case.reference), data=form, allow_redirects=False)
    assert answer.status == 403
    assert "Form not accepted" in await answer.text()
    after = store.get(case.reference)
    assert after.status == "open" and after.notes == () and after.version == case.version
    assert [entry["action"] for entry in store.audit(case.reference)] == ["create"]


# --- queue and access --------------------------------------------------------


async def test_queue_shows_only_the_staff_members_centre(new_client: ClientFactory, store: CaseStore) -> None:
    lancaster = make_case(store, postcode="LA1 1AA")
    morecambe = make_case(store, postcode="LA4 5AF")
    text = await (await (await signed_in(new_client, "alice")).get("/staff/")).text()
    assert lancaster.reference in text and morecambe.reference not in text
    text = await (await (await signed_in(new_client, "mo")).get("/staff/")).text()
    assert morecambe.reference in text and lancaster.reference not in text


async def test_queue_order_waiting_time_priority_and_plain_words(client: TestClient, store: CaseStore) -> None:
    older = make_case(store, minutes_ago=135, reason="not_understood", channel="sms")
    urgent = make_case(store, minutes_ago=20, reason="urgent")
    done = make_case(store, minutes_ago=300)
    store.record_outcome(done.reference, "bob", "duplicate")
    await sign_in(client, "alice")
    text = await (await client.get("/staff/")).text()
    assert text.index(urgent.reference) < text.index(older.reference)  # high priority first
    assert done.reference not in text  # closed cases leave the queue
    row = text[text.index(older.reference):]
    assert "2 h 15 min" in row and "The bot did not understand" in row and "Text message" in row
    assert "Council Tax" in row and "Waiting" in row
    urgent_row = text[text.index(urgent.reference):text.index(older.reference)]
    assert "High priority" in urgent_row and "20 min" in urgent_row


async def test_another_centres_case_is_refused(new_client: ClientFactory, store: CaseStore) -> None:
    case = make_case(store, postcode="LA4 5AF")
    client = await signed_in(new_client, "alice")
    answer = await client.get(f"/staff/cases/{case.reference}")
    assert answer.status == 403
    assert "Not your centre" in await answer.text()
    answer = await post_form(client, f"/staff/cases/{case.reference}/claim", {})
    assert answer.status == 403
    assert store.get(case.reference).status == "open"
    search = await client.get("/staff/search", params={"reference": case.reference})
    assert search.status == 403  # the search leads to the case page, which refuses


async def test_a_manager_sees_every_centre_and_can_filter(new_client: ClientFactory, store: CaseStore) -> None:
    lancaster = make_case(store, postcode="LA1 1AA")
    morecambe = make_case(store, postcode="LA4 5AF")
    housing = make_case(store, service="council_housing", postcode="LA1 1AA")
    client = await signed_in(new_client, "max")
    text = await (await client.get("/staff/")).text()
    assert all(case.reference in text for case in (lancaster, morecambe, housing))
    text = await (await client.get("/staff/", params={"centre": MORECAMBE})).text()
    assert morecambe.reference in text and lancaster.reference not in text and housing.reference not in text
    assert (await client.get(f"/staff/cases/{morecambe.reference}")).status == 200


# --- working a case ----------------------------------------------------------


async def test_case_page_shows_the_conversation_and_a_masked_number(client: TestClient, store: CaseStore) -> None:
    case = make_case(store)
    await sign_in(client, "alice")
    text = await (await client.get(f"/staff/cases/{case.reference}")).text()
    assert "I want to talk about my council tax bill" in text and "Council bot:" in text and "Caller:" in text
    assert case.caller_masked in text and "+447700900123" not in text
    for value, label in (("resolved_at_desk", "Resolved at the desk"), ("no_contact", "No contact"),
                         ("referred_to_other_council", "Referred to the other council")):
        assert f'value="{value}"' in text and label in text


async def test_claim_and_a_colleague_who_was_too_late(new_client: ClientFactory, store: CaseStore) -> None:
    case = make_case(store)
    alice = await signed_in(new_client, "alice")
    bob = await signed_in(new_client, "bob")
    bob_token = await csrf_for(bob, f"/staff/cases/{case.reference}")  # Bob has the page open too
    answer = await post_form(alice, f"/staff/cases/{case.reference}/claim", {})
    assert answer.status == 303
    text = await (await alice.get(answer.headers["Location"])).text()
    assert "You have claimed this case." in text
    answer = await bob.post(f"/staff/cases/{case.reference}/claim", data={"csrf_token": bob_token},
                            allow_redirects=False)
    assert answer.status == 409
    assert "Already claimed by Alice Smith" in await answer.text()
    after = store.get(case.reference)
    assert after.status == "claimed" and after.claimed_by == "alice"


async def test_outcome_is_recorded_with_an_audit_row(client: TestClient, store: CaseStore) -> None:
    case = make_case(store)
    await sign_in(client, "alice")
    answer = await post_form(client, f"/staff/cases/{case.reference}/outcome",
                             {"outcome": "appointment_booked", "note": "Booked Thursday 10am"})
    assert answer.status == 303
    text = await (await client.get(answer.headers["Location"])).text()
    assert "Resolved" in text and "Appointment booked" in text and "Booked Thursday 10am" in text
    after = store.get(case.reference)
    assert (after.status, after.outcome, after.resolved_by) == ("resolved", "appointment_booked", "alice")
    actions = {(entry["action"], entry["actor"]) for entry in store.audit(case.reference)}
    assert ("outcome", "staff:alice") in actions
    # A second outcome on a closed case is refused and changes nothing.
    answer = await post_form(client, f"/staff/cases/{case.reference}/outcome", {"outcome": "duplicate"},
                             page=f"/staff/cases/{case.reference}")
    assert answer.status == 409
    assert store.get(case.reference).outcome == "appointment_booked"


async def test_no_contact_closes_the_case(client: TestClient, store: CaseStore) -> None:
    case = make_case(store)
    await sign_in(client, "alice")
    await post_form(client, f"/staff/cases/{case.reference}/outcome", {"outcome": "no_contact"})
    assert store.get(case.reference).status == "closed_no_contact"


@pytest.mark.parametrize("outcome", ["", "made_up"])
async def test_an_outcome_outside_the_list_is_refused(client: TestClient, store: CaseStore, outcome: str) -> None:
    case = make_case(store)
    await sign_in(client, "alice")
    answer = await post_form(client, f"/staff/cases/{case.reference}/outcome", {"outcome": outcome})
    assert answer.status == 400
    assert "Choose an outcome" in await answer.text()
    assert store.get(case.reference).status == "open"


async def test_note_is_added(client: TestClient, store: CaseStore) -> None:
    case = make_case(store)
    await sign_in(client, "alice")
    answer = await post_form(client, f"/staff/cases/{case.reference}/notes", {"text": "Called back, no answer"})
    assert answer.status == 303
    text = await (await client.get(answer.headers["Location"])).text()
    assert "Your note has been added." in text and "Called back, no answer" in text
    notes = store.get(case.reference).notes
    assert [(note.staff, note.text) for note in notes] == [("alice", "Called back, no answer")]
    answer = await post_form(client, f"/staff/cases/{case.reference}/notes", {"text": "   "})
    assert answer.status == 400 and len(store.get(case.reference).notes) == 1


async def test_reveal_number_is_audited_and_names_who_asked(client: TestClient, store: CaseStore) -> None:
    case = make_case(store)
    await sign_in(client, "alice")
    answer = await post_form(client, f"/staff/cases/{case.reference}/reveal", {})
    assert answer.status == 200
    text = await answer.text()
    assert "+447700900123" in text and "Shown to Alice Smith" in text
    assert ("reveal_number", "staff:alice") in {(e["action"], e["actor"]) for e in store.audit(case.reference)}
    assert answer.headers["Cache-Control"] == "no-store"


async def test_transcript_and_notes_are_never_rendered_as_html(client: TestClient, store: CaseStore) -> None:
    case = make_case(store, transcript=[{"who": "caller", "text": SCRIPT}, {"who": "bot", "text": IMG}])
    await sign_in(client, "alice")
    await post_form(client, f"/staff/cases/{case.reference}/notes", {"text": f"{SCRIPT} and {IMG}"})
    answer = await client.get(f"/staff/cases/{case.reference}")
    text = await answer.text()
    assert text.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    assert text.count("&lt;img src=x onerror=alert(1)&gt;") == 2
    assert "<script" not in text.lower() and "<img" not in text.lower()
    # And if escaping were ever missed, the browser would still run no script.
    assert "script-src" not in answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


# --- search ------------------------------------------------------------------


async def test_search_accepts_lower_case_and_spaces(client: TestClient, store: CaseStore) -> None:
    case = make_case(store)
    await sign_in(client, "alice")
    typed = case.reference.lower().replace("-", " ")
    answer = await client.get("/staff/search", params={"reference": typed}, allow_redirects=False)
    assert answer.status == 303 and answer.headers["Location"] == f"/staff/cases/{case.reference}"


@pytest.mark.parametrize("typed, message", [("LAN-XXX-XX", "is not a valid reference"),
                                            (None, "No case found with the reference")])
async def test_search_not_found(client: TestClient, typed: str | None, message: str) -> None:
    await sign_in(client, "alice")
    answer = await client.get("/staff/search", params={"reference": typed or new_reference()})
    assert answer.status == 404
    assert message in await answer.text()


# --- reports -----------------------------------------------------------------


async def test_reports_page_csv_and_charts(client: TestClient, store: CaseStore) -> None:
    case = make_case(store)
    store.record_outcome(case.reference, "alice", "resolved_at_desk")
    await sign_in(client, "alice")
    page = await client.get("/staff/reports")
    assert page.status == 200 and page.content_type == "text/html"
    text = await page.text()
    assert "Cases handed off" in text and "Resolved at the desk" in text and "Council Tax" in text
    assert "2026-10-12" in text and "2026-11-10" in text  # the last 30 days by default
    csv = await client.get("/staff/reports.csv", params={"from": "2026-11-01", "to": "2026-11-10"})
    assert csv.status == 200 and csv.content_type == "text/csv"
    body = await csv.text()
    assert case.reference in body and "I want to talk" not in body and "900123" not in body
    png = await client.get("/staff/reports/by_service.png")
    assert png.status == 200 and png.content_type == "image/png"
    assert (await png.read()).startswith(b"\x89PNG")
    assert (await client.get("/staff/reports/nothing.png")).status == 404


async def test_reports_cover_the_staff_members_own_centre_unless_a_manager(new_client: ClientFactory,
                                                                           store: CaseStore) -> None:
    lancaster = make_case(store, postcode="LA1 1AA")
    morecambe = make_case(store, postcode="LA4 5AF")
    alice = await signed_in(new_client, "alice")  # Lancaster Town Hall
    for params in ({}, {"centre": MORECAMBE}):  # asking for another centre changes nothing
        body = await (await alice.get("/staff/reports.csv", params=params)).text()
        assert lancaster.reference in body and morecambe.reference not in body
    page = await (await alice.get("/staff/reports")).text()
    assert "Lancaster Town Hall" in page and 'name="centre"' not in page
    manager = await signed_in(new_client, "max")
    everything = await (await manager.get("/staff/reports.csv")).text()
    assert lancaster.reference in everything and morecambe.reference in everything
    chosen = await (await manager.get("/staff/reports.csv", params={"centre": MORECAMBE})).text()
    assert morecambe.reference in chosen and lancaster.reference not in chosen
    assert (await manager.get("/staff/reports", params={"centre": "atlantis"})).status == 400


async def test_views_searches_and_exports_leave_audit_rows(client: TestClient, store: CaseStore) -> None:
    since = NOW - timedelta(minutes=1)
    case = make_case(store)
    await sign_in(client, "alice")
    assert (await client.get(f"/staff/cases/{case.reference}")).status == 200
    found = await client.get("/staff/search", params={"reference": case.reference}, allow_redirects=False)
    assert found.status == 303
    assert (await client.get("/staff/search", params={"reference": "not one"})).status == 404
    assert (await client.get("/staff/reports.csv", params={"from": "2026-11-01", "to": "2026-11-10"})).status == 200
    rows = [(r["actor"], r["action"], r["reference"], r["detail"]) for r in store.accesses(since)]
    assert rows == [
        ("staff:alice", "view_case", case.reference, None),
        ("staff:alice", "search", case.reference, {"valid": True}),
        ("staff:alice", "search", None, {"valid": False}),
        ("staff:alice", "export", None, {"from": "2026-11-01", "to": "2026-11-10", "centre": LANCASTER, "rows": 1}),
    ]
    history = await (await client.get(f"/staff/cases/{case.reference}")).text()
    assert "Case viewed" in history


async def test_reports_refuse_a_bad_period(client: TestClient) -> None:
    await sign_in(client, "alice")
    assert (await client.get("/staff/reports", params={"from": "yesterday"})).status == 400
    assert (await client.get("/staff/reports", params={"from": "2026-11-10", "to": "2026-11-01"})).status == 400


@pytest.mark.parametrize("path", ["/staff/reports", "/staff/reports.csv", "/staff/reports/by_service.png"])
@pytest.mark.parametrize("period", [{"to": "9999-12-31"}, {"from": "0001-01-01"}, {"to": "0001-01-01"},
                                    {"to": "2028-01-01"},
                                    {"from": "2025-01-01", "to": "2026-11-10"}, {"from": "1999-12-31"}])
async def test_reports_refuse_a_period_out_of_bounds(client: TestClient, path: str, period: dict) -> None:
    """The calendar's edges once gave 500s; a report covers at most a year."""
    await sign_in(client, "max")
    answer = await client.get(path, params=period)
    assert answer.status == 400, await answer.text()
