"""The case API over real HTTP (aiohttp's TestServer) in front of a real
CaseStore: a SQLite file always, and PostgreSQL too when a server answers on
127.0.0.1:5432. Only Twilio's cloud is faked."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from council.references import new_reference
from handoff import api
from handoff.app import init_app
from handoff.settings import HandoffSettings
from handoff.store import CaseStore
from plumbing import masking
from tests.handoff.test_handoff_notify import SID, FakeTwilio

TOKEN = "test-token-" + "x" * 20  # the bot's
STAFF_SYSTEM = "staff-system-token-" + "y" * 20  # a contact-centre system's (HANDOFF_INTEGRATION_TOKEN)
STAFF_ACTIONS = ("/claim", "/outcome", "/notes")
MOBILE = "+447700900123"
MOBILE_DIGITS = "7700900123"
CARD = "4111 1111 1111 1111"


# --- databases -------------------------------------------------------------


@pytest.fixture
def twilio() -> FakeTwilio:
    return FakeTwilio()


@pytest.fixture
async def client(database_url: str, store: CaseStore, twilio: FakeTwilio) -> AsyncIterator[TestClient]:
    settings = HandoffSettings(database_url=database_url, api_token=TOKEN, integration_token=STAFF_SYSTEM,
                               twilio_account_sid=SID, twilio_auth_token="secret",
                               twilio_from_number="+441632960999")
    test_client = TestClient(TestServer(init_app(settings, store=store, twilio_http=twilio)))
    await test_client.start_server()
    yield test_client
    await test_client.close()


# --- helpers -----------------------------------------------------------------


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(method: str, path: str) -> str:
    """The token a well-behaved caller uses: the bot's to make and read cases,
    the contact-centre system's to list them and act on them."""
    listing = method == "GET" and path.split("?")[0] == "/api/cases"
    return STAFF_SYSTEM if listing or path.endswith(STAFF_ACTIONS) else TOKEN


async def call(client: TestClient, method: str, path: str, body: Any = None, *, token: str | None = "",
               raw: bytes | None = None) -> tuple[int, dict[str, Any], str]:
    """(status, JSON answer, raw text of the answer); `token` None sends none."""
    if token == "":
        token = token_for(method, path)
    headers = auth(token) if token is not None else {}
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        headers["Content-Type"] = "application/json"
    async with client.request(method, path, data=data, headers=headers) as response:
        text = await response.text()
        assert response.content_type == "application/json", text
        return response.status, json.loads(text), text


def new_case(conversation: str = "conv-1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "conversation_id": conversation, "reason": "person_requested", "channel": "voice",
        "caller_number": MOBILE, "service": "council_tax", "postcode": "LA1 1PJ",
        "transcript": [{"who": "bot", "text": "How can I help?"},
                       {"who": "caller", "text": "I'd like to talk to a person about my council tax"}],
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


async def create(client: TestClient, conversation: str = "conv-1", **fields: Any) -> dict[str, Any]:
    status, answer, _ = await call(client, "POST", "/api/cases", new_case(conversation, **fields))
    assert status == 201, answer
    return answer["case"]


# --- creating and reading ----------------------------------------------------


async def test_create_is_201_then_the_same_create_is_200_with_the_same_reference(client: TestClient) -> None:
    status, first, _ = await call(client, "POST", "/api/cases", new_case())
    assert status == 201
    case = first["case"]
    assert case["status"] == "open" and case["centre"] == "lancaster_town_hall"
    assert case["authority"] == "city" and case["priority"] == "normal"
    status, again, _ = await call(client, "POST", "/api/cases", new_case())
    assert status == 200
    assert again["case"]["reference"] == case["reference"]
    _, listed, _ = await call(client, "GET", "/api/cases")
    assert [c["reference"] for c in listed["cases"]] == [case["reference"]]


async def test_a_reference_chosen_by_the_client_is_kept(client: TestClient) -> None:
    reference = new_reference()
    case = await create(client, reference=reference)
    assert case["reference"] == reference


async def test_get_by_reference_in_any_form_normalise_accepts(client: TestClient) -> None:
    case = await create(client)
    for form in (case["reference"], case["reference"].lower(), case["reference"].replace("-", "")):
        status, answer, _ = await call(client, "GET", f"/api/cases/{form}")
        assert status == 200
        assert answer["case"] == case


async def test_list_filters_and_order(client: TestClient) -> None:
    town_hall = await create(client, "c-town-hall")
    morecambe = await create(client, "c-morecambe", postcode="LA4 5AF")
    housing = await create(client, "c-housing", service="council_housing")
    urgent = await create(client, "c-urgent", reason="urgent", service="adult_social_care")
    assert urgent["priority"] == "high"

    async def listed(query: str) -> list[str]:
        status, answer, _ = await call(client, "GET", f"/api/cases{query}")
        assert status == 200, answer
        return [c["reference"] for c in answer["cases"]]

    # High priority first, then oldest first.
    assert await listed("") == [urgent["reference"], town_hall["reference"], morecambe["reference"],
                                housing["reference"]]
    assert await listed("?centre=morecambe_town_hall") == [morecambe["reference"]]
    assert await listed("?centre=cable_street") == [housing["reference"]]
    assert await listed("?priority=high") == [urgent["reference"]]
    assert await listed("?service=council_housing") == [housing["reference"]]
    assert await listed("?limit=2") == [urgent["reference"], town_hall["reference"]]
    assert await listed("?limit=2&offset=2") == [morecambe["reference"], housing["reference"]]

    await call(client, "POST", f"/api/cases/{morecambe['reference']}/claim", {"staff": "alice"})
    assert await listed("?status=claimed") == [morecambe["reference"]]
    assert set(await listed("?status=open")) == {urgent["reference"], town_hall["reference"], housing["reference"]}
    assert len(await listed("?status=open,claimed")) == 4
    assert len(await listed("?status=open&status=claimed")) == 4
    assert await listed("?status=resolved") == []


@pytest.mark.parametrize("query, status", [
    ("?status=lost", 422), ("?priority=urgent", 422), ("?limit=lots", 400), ("?limit=0", 400),
    ("?limit=100000", 400), ("?offset=-1", 400),
])
async def test_list_refuses_bad_filters(client: TestClient, query: str, status: int) -> None:
    answer_status, answer, _ = await call(client, "GET", f"/api/cases{query}")
    assert answer_status == status
    assert answer["error"]


# --- claiming, outcomes, notes ------------------------------------------------


async def test_claim(client: TestClient) -> None:
    case = await create(client)
    path = f"/api/cases/{case['reference']}/claim"
    status, answer, _ = await call(client, "POST", path, {"staff": "alice"})
    assert status == 200
    assert answer["case"]["status"] == "claimed" and answer["case"]["claimed_by"] == "alice"
    status, again, _ = await call(client, "POST", path, {"staff": "alice"})  # holding it already: no-op
    assert status == 200 and again["case"]["claimed_by"] == "alice"
    status, conflict, _ = await call(client, "POST", path, {"staff": "bob"})
    assert status == 409
    assert conflict["error"] and conflict["case"]["claimed_by"] == "alice"


async def test_two_concurrent_claims_exactly_one_wins(client: TestClient) -> None:
    for round_ in range(5):
        case = await create(client, f"race-{round_}")
        path = f"/api/cases/{case['reference']}/claim"
        answers = await asyncio.gather(call(client, "POST", path, {"staff": "alice"}),
                                       call(client, "POST", path, {"staff": "bob"}))
        assert sorted(status for status, _, _ in answers) == [200, 409]
        winner = next(answer for status, answer, _ in answers if status == 200)["case"]["claimed_by"]
        loser = next(answer for status, answer, _ in answers if status == 409)
        assert loser["case"]["claimed_by"] == winner
        _, stored, _ = await call(client, "GET", f"/api/cases/{case['reference']}")
        assert stored["case"]["claimed_by"] == winner


async def test_outcome(client: TestClient) -> None:
    case = await create(client)
    ref = case["reference"]
    await call(client, "POST", f"/api/cases/{ref}/claim", {"staff": "alice"})
    status, answer, _ = await call(client, "POST", f"/api/cases/{ref}/outcome",
                                   {"staff": "bob", "outcome": "appointment_booked", "note": "Tuesday 10am"})
    assert status == 200
    assert answer["case"]["status"] == "resolved" and answer["case"]["outcome"] == "appointment_booked"
    assert answer["case"]["resolved_by"] == "bob"
    assert [n["text"] for n in answer["case"]["notes"]] == ["Tuesday 10am"]
    status, conflict, _ = await call(client, "POST", f"/api/cases/{ref}/outcome",
                                     {"staff": "bob", "outcome": "duplicate"})
    assert status == 409 and conflict["case"]["outcome"] == "appointment_booked"


async def test_outcome_of_an_open_case_claims_it_and_no_contact_closes_it(client: TestClient) -> None:
    case = await create(client)
    status, answer, _ = await call(client, "POST", f"/api/cases/{case['reference']}/outcome",
                                   {"staff": "carol", "outcome": "no_contact"})
    assert status == 200
    assert answer["case"]["status"] == "closed_no_contact" and answer["case"]["claimed_by"] == "carol"


async def test_unknown_outcome_is_422(client: TestClient) -> None:
    case = await create(client)
    status, answer, _ = await call(client, "POST", f"/api/cases/{case['reference']}/outcome",
                                   {"staff": "carol", "outcome": "sorted"})
    assert status == 422 and "outcome" in answer["error"]


async def test_note(client: TestClient) -> None:
    case = await create(client)
    status, answer, _ = await call(client, "POST", f"/api/cases/{case['reference']}/notes",
                                   {"staff": "alice", "text": "Rang back, no answer"})
    assert status == 201
    [note] = answer["case"]["notes"]
    assert note["staff"] == "alice" and note["text"] == "Rang back, no answer"
    status, _, _ = await call(client, "POST", f"/api/cases/{case['reference']}/notes",
                              {"staff": "alice", "text": "x" * 4001})
    assert status == 422


# --- refusals ------------------------------------------------------------------


ROUTES = [("POST", "/api/cases"), ("GET", "/api/cases"), ("GET", "/api/cases/{ref}"),
          ("POST", "/api/cases/{ref}/claim"), ("POST", "/api/cases/{ref}/outcome"),
          ("POST", "/api/cases/{ref}/notes")]


@pytest.mark.parametrize("method, path", ROUTES)
@pytest.mark.parametrize("token", [None, "wrong-token", ""])
async def test_401_without_the_right_token(client: TestClient, store: CaseStore, method: str, path: str,
                                           token: str | None, caplog: pytest.LogCaptureFixture) -> None:
    case = await create(client)
    headers = {} if token is None else auth(token)
    body = new_case("intruder") if path == "/api/cases" else {"staff": "mallory", "outcome": "duplicate",
                                                             "text": "hello"}
    caplog.set_level(logging.INFO)
    async with client.request(method, path.format(ref=case["reference"]), json=body, headers=headers) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert (await response.json())["error"]
    assert MOBILE_DIGITS not in caplog.text and "mallory" not in caplog.text
    assert [c.status for c in store.list_cases()] == ["open"]  # nothing created or changed


async def test_401_for_another_scheme(client: TestClient) -> None:
    async with client.get("/api/cases", headers={"Authorization": f"Basic {TOKEN}"}) as response:
        assert response.status == 401


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"a string"', b"42", b"null",
                                 b"[" * 100_000])
async def test_400_for_a_body_that_is_not_a_json_object(client: TestClient, raw: bytes) -> None:
    status, answer, _ = await call(client, "POST", "/api/cases", raw=raw)
    assert status == 400 and answer["error"]


@pytest.mark.parametrize("missing", ["conversation_id", "reason", "channel", "transcript"])
async def test_400_for_a_missing_field(client: TestClient, missing: str) -> None:
    body = new_case()
    del body[missing]
    status, answer, _ = await call(client, "POST", "/api/cases", body)
    assert status == 400 and missing in answer["error"]


@pytest.mark.parametrize("path, body", [
    ("claim", {}), ("claim", {"staff": ""}), ("claim", {"staff": 7}), ("outcome", {"staff": "alice"}),
    ("notes", {"staff": "alice"}), ("notes", {"text": "hello"}),
])
async def test_400_for_missing_fields_of_case_actions(client: TestClient, path: str, body: dict) -> None:
    case = await create(client)
    status, answer, _ = await call(client, "POST", f"/api/cases/{case['reference']}/{path}", body)
    assert status == 400 and answer["error"]


async def test_413_for_an_oversized_body(client: TestClient, store: CaseStore) -> None:
    body = new_case(transcript=[{"who": "caller", "text": "a" * 1000}] * 300)
    status, answer, _ = await call(client, "POST", "/api/cases", body)
    assert status == 413 and answer["error"]

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length to refuse it by
        data = json.dumps(body).encode()
        for start in range(0, len(data), 32 * 1024):
            yield data[start:start + 32 * 1024]

    async with client.post("/api/cases", data=chunked(), headers=auth()) as response:
        assert response.status == 413
    assert store.list_cases() == []


async def test_a_refused_request_leaves_the_next_one_on_the_connection_intact(client: TestClient) -> None:
    big = new_case(transcript=[{"who": "caller", "text": "a" * 1000}] * 300)
    within = new_case(transcript=[{"who": "caller", "text": "a" * 1000}] * 200)
    refusals = [(big, TOKEN, 413), (within, "wrong", 401), (big, "wrong", 401), (within, None, 401)]
    for round_, (body, token, status) in enumerate(refusals):
        answer_status, _, _ = await call(client, "POST", "/api/cases", body, token=token)
        assert answer_status == status
        await create(client, f"after-{round_}")


@pytest.mark.parametrize("fields, word", [
    ({"service": "dragon_slaying"}, "service"), ({"reason": "bored"}, "reason"), ({"channel": "fax"}, "channel"),
    ({"priority": "urgent"}, "priority"), ({"reference": "LAN-777-77"}, "reference"),
    ({"reference": "not a reference"}, "reference"), ({"transcript": "hello"}, "transcript"),
    ({"transcript": [{"who": "caller"}]}, "transcript"), ({"created_at": "yesterday"}, "created_at"),
    # The calendar's edges once gave 500s (and the outbox then resent them forever).
    ({"created_at": "0001-01-01T00:00:00+14:00"}, "created_at"), ({"created_at": "0001-01-01T00:00:00Z"}, "created_at"),
    ({"created_at": "9999-12-31T23:59:59-14:00"}, "created_at"), ({"created_at": "1999-12-31T23:59:59Z"}, "created_at"),
    ({"created_at": "2100-01-01T00:00:00Z"}, "created_at"),
])
async def test_422_for_invalid_fields(client: TestClient, store: CaseStore, fields: dict, word: str) -> None:
    status, answer, _ = await call(client, "POST", "/api/cases", new_case(**fields))
    assert status == 422, answer
    assert word in answer["error"]
    assert store.list_cases() == []


@pytest.mark.parametrize("method, suffix", [("GET", ""), ("POST", "/claim"), ("POST", "/outcome"),
                                            ("POST", "/notes")])
async def test_bad_reference_is_422_and_unknown_reference_is_404(client: TestClient, method: str,
                                                                 suffix: str) -> None:
    body = {"staff": "alice", "outcome": "duplicate", "text": "hello"} if method == "POST" else None
    status, answer, _ = await call(client, method, f"/api/cases/NOT-A-REF{suffix}", body)
    assert status == 422 and "reference" in answer["error"]
    status, answer, _ = await call(client, method, f"/api/cases/{new_reference()}{suffix}", body)
    assert status == 404 and answer["error"]


async def test_unknown_api_paths_and_methods_answer_json(client: TestClient) -> None:
    status, answer, _ = await call(client, "GET", "/api/nothing-here")
    assert status == 404 and answer["error"]
    status, answer, _ = await call(client, "DELETE", "/api/cases")
    assert status == 405 and answer["error"]


async def test_a_fault_is_a_500_and_its_log_holds_no_body(client: TestClient, store: CaseStore,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"database exploded while storing {args!r}")  # a message that quotes the body

    monkeypatch.setattr(store, "create_case", broken)
    caplog.set_level(logging.INFO)
    status, answer, _ = await call(client, "POST", "/api/cases", new_case(transcript=[
        {"who": "caller", "text": "my secret words"}]))
    assert status == 500 and answer == {"error": "internal error"}
    assert "RuntimeError" in caplog.text
    assert "secret words" not in caplog.text and MOBILE_DIGITS not in caplog.text


# --- what comes back -----------------------------------------------------------


async def test_markup_in_a_transcript_comes_back_unchanged_as_json_data(client: TestClient) -> None:
    words = '<script>alert("hi")</script> & <b>bold</b>'
    case = await create(client, transcript=[{"who": "caller", "text": words}])
    assert case["transcript"] == [{"who": "caller", "text": words}]
    status, answer, _ = await call(client, "GET", f"/api/cases/{case['reference']}")
    assert status == 200 and answer["case"]["transcript"][0]["text"] == words


async def test_a_card_number_in_a_transcript_comes_back_redacted(client: TestClient) -> None:
    case = await create(client, transcript=[{"who": "caller", "text": f"my card is {CARD} thanks"}])
    assert case["transcript"][0]["text"] == "my card is [card number removed] thanks"
    status, _, text = await call(client, "GET", f"/api/cases/{case['reference']}")
    assert status == 200
    assert CARD not in text and CARD.replace(" ", "") not in text


async def test_details_split_across_the_callers_turns_are_redacted(client: TestClient) -> None:
    """A card number read out in two halves with the bot's "sorry?" between,
    an e-mail address and a National Insurance number: none reaches the case."""
    case = await create(client, transcript=[
        {"who": "caller", "text": "my card is 4111 1111"}, {"who": "bot", "text": "Sorry, could you say that again?"},
        {"who": "caller", "text": "1111 1111"}, {"who": "caller", "text": "email jo.smith@example.com"},
        {"who": "caller", "text": "NI QQ 12 34 56 C"}])
    status, _, text = await call(client, "GET", f"/api/cases/{case['reference']}")
    assert status == 200
    for detail in ("4111", "1111 1111", "jo.smith", "example.com", "QQ 12"):
        assert detail not in text
    assert [turn["text"] for turn in case["transcript"]] == [
        "my card is [card number removed]", "Sorry, could you say that again?", "",
        "email [email address removed]", "NI [National Insurance number removed]"]


async def test_a_forty_digit_caller_is_masked_to_fit_its_column(client: TestClient, store: CaseStore) -> None:
    status, answer, _ = await call(client, "POST", "/api/cases", new_case(caller_number="1234567890" * 4))
    assert status == 201, answer
    masked = answer["case"]["caller_masked"]
    assert masked.endswith("890") and len(masked) <= 32
    assert store.get(answer["case"]["reference"]).caller_masked == masked


async def test_a_case_made_in_the_future_is_refused(client: TestClient) -> None:
    soon = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()
    later = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    assert (await call(client, "POST", "/api/cases", new_case("soon", created_at=soon)))[0] == 201  # a fast clock
    status, answer, _ = await call(client, "POST", "/api/cases", new_case("later", created_at=later))
    assert status == 422 and "created_at" in answer["error"]


async def test_the_caller_number_is_masked_in_every_answer(client: TestClient) -> None:
    texts: list[str] = []

    async def keep(method: str, path: str, body: Any = None) -> dict[str, Any]:
        _, answer, text = await call(client, method, path, body)
        texts.append(text)
        return answer

    case = (await keep("POST", "/api/cases", new_case()))["case"]
    ref = case["reference"]
    assert case["caller_masked"] == masking.mask(MOBILE)
    await keep("POST", "/api/cases", new_case())
    await keep("GET", f"/api/cases/{ref}")
    await keep("GET", "/api/cases")
    await keep("POST", f"/api/cases/{ref}/claim", {"staff": "alice"})
    await keep("POST", f"/api/cases/{ref}/claim", {"staff": "bob"})  # the 409 carries the case too
    await keep("POST", f"/api/cases/{ref}/notes", {"staff": "alice", "text": "called"})
    await keep("POST", f"/api/cases/{ref}/outcome", {"staff": "alice", "outcome": "resolved_at_desk"})
    assert len(texts) == 8
    for text in texts:
        assert MOBILE_DIGITS not in text and "07700" not in text


async def test_healthz_needs_no_token(client: TestClient) -> None:
    status, answer, _ = await call(client, "GET", "/healthz", token=None)
    assert status == 200 and answer == {"status": "ok", "database": "ok"}


# --- the text with the reference -------------------------------------------------


async def test_only_a_new_case_texts_its_reference(client: TestClient, twilio: FakeTwilio) -> None:
    case = await create(client)
    await call(client, "POST", "/api/cases", new_case())  # the retry of the same case
    await create(client, "chat-1", channel="chat")
    await api.finish_texts(client.app)
    [request] = twilio.requests
    assert request["data"]["To"] == MOBILE
    assert case["reference"] in request["data"]["Body"]


async def test_the_answer_does_not_wait_for_twilio(client: TestClient, twilio: FakeTwilio) -> None:
    released = asyncio.Event()
    loop = asyncio.get_running_loop()
    original = twilio.request

    def slow(*args: Any, **kwargs: Any) -> Any:
        asyncio.run_coroutine_threadsafe(released.wait(), loop).result(timeout=10)
        return original(*args, **kwargs)

    twilio.request = slow  # type: ignore[method-assign]
    await asyncio.wait_for(create(client), timeout=5)
    assert twilio.requests == []
    released.set()
    await api.finish_texts(client.app)
    assert len(twilio.requests) == 1


async def test_an_app_that_opens_its_own_store(database_url: str) -> None:
    settings = HandoffSettings(database_url=database_url, api_token=TOKEN)
    app = init_app(settings)
    assert isinstance(app, web.Application)
    async with TestClient(TestServer(app)) as own:
        case = await create(own)
        status, answer, _ = await call(own, "GET", f"/api/cases/{case['reference']}")
        assert status == 200 and answer["case"]["reference"] == case["reference"]


# --- who may do what through the API ------------------------------------------


@pytest.mark.parametrize("method, suffix, body", [
    ("GET", "", None), ("POST", "/claim", {"staff": "alice"}),
    ("POST", "/outcome", {"staff": "alice", "outcome": "resolved_at_desk"}),
    ("POST", "/notes", {"staff": "alice", "text": "called back"})])
async def test_the_bots_token_cannot_list_or_act_as_staff(client: TestClient, store: CaseStore, method: str,
                                                         suffix: str, body: Any) -> None:
    ref = (await create(client))["reference"]
    path = "/api/cases" if method == "GET" else f"/api/cases/{ref}{suffix}"
    status, answer, _ = await call(client, method, path, body, token=TOKEN)
    assert status == 403 and "staff pages" in answer["error"]
    case = store.get(ref)
    assert (case.status, case.claimed_by, tuple(case.notes)) == ("open", None, ())
    assert [row["action"] for row in store.audit(ref)] == ["create"]


async def test_without_an_integration_token_no_token_acts_as_staff(database_url: str, store: CaseStore) -> None:
    settings = HandoffSettings(database_url=database_url, api_token=TOKEN)
    async with TestClient(TestServer(init_app(settings, store=store))) as bare:
        ref = (await create(bare))["reference"]
        for token in (TOKEN, STAFF_SYSTEM):
            status, _, _ = await call(bare, "POST", f"/api/cases/{ref}/claim", {"staff": "alice"}, token=token)
            assert status in (401, 403)
        assert store.get(ref).status == "open"


async def test_every_read_through_the_api_is_audited(client: TestClient, store: CaseStore) -> None:
    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    ref = (await create(client))["reference"]
    assert (await call(client, "GET", f"/api/cases/{ref}"))[0] == 200
    assert (await call(client, "GET", "/api/cases?status=open"))[0] == 200
    rows = [(r["actor"], r["action"], r["reference"], r["detail"]) for r in store.accesses(since)]
    assert rows == [("api:bot", "api_read", ref, None), ("api:integration", "api_list", None, {"count": 1})]
    assert [row["action"] for row in store.audit(ref)] == ["create", "api_read"]


def test_the_integration_token_must_be_a_secret_of_its_own() -> None:
    from plumbing.settings import SettingsError

    with pytest.raises(SettingsError, match="HANDOFF_INTEGRATION_TOKEN"):
        HandoffSettings.from_env({"HANDOFF_API_TOKEN": TOKEN, "HANDOFF_INTEGRATION_TOKEN": TOKEN})
    assert HandoffSettings.from_env({}).integration_token is None
