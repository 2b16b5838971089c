"""Texting the case reference: real cases from a real store; only Twilio's
cloud is faked, by an HTTP client that records the request it would send."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Iterator

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response

from council.catalogue import default_catalogue
from council.hours import describe
from handoff import notify
from handoff.cases import Case, NewCase
from handoff.settings import HandoffSettings
from handoff.store import CaseStore

MOBILE = "07700 900123"
MOBILE_E164 = "+447700900123"
MOBILE_DIGITS = "7700900123"
LANDLINE = "01632 960101"
SID = "AC" + "0" * 32
FROM = "+441632960999"
TRANSCRIPT = [{"who": "caller", "text": "I need to speak to someone about my council tax"}]


class FakeTwilio(HttpClient):
    """Twilio's REST API as far as this service uses it: records each
    request and answers with `status` and `payload`."""

    def __init__(self, status: int = 201, payload: dict[str, Any] | None = None, fail: Exception | None = None):
        super().__init__(logging.getLogger("tests.fake_twilio"), is_async=False)
        self.status, self.fail = status, fail
        self.payload = payload or {"sid": "SM" + "1" * 32, "account_sid": SID, "status": "queued"}
        self.requests: list[dict[str, Any]] = []

    def request(self, method: str, uri: str, params: Any = None, data: Any = None, headers: Any = None,
                auth: Any = None, timeout: Any = None, allow_redirects: bool = False) -> Response:
        self.requests.append({"method": method, "uri": uri, "data": dict(data or {}), "auth": auth})
        if self.fail is not None:
            raise self.fail
        return Response(self.status, json.dumps(self.payload))


def settings(tmp_path: Path, *, twilio: bool = True) -> HandoffSettings:
    credentials = {"twilio_account_sid": SID, "twilio_auth_token": "secret-token",
                   "twilio_from_number": FROM} if twilio else {}
    return HandoffSettings(database_url=f"sqlite:///{tmp_path / 'council.db'}", api_token="t", **credentials)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    case_store = CaseStore(f"sqlite:///{tmp_path / 'council.db'}")
    yield case_store
    case_store.close()


def make_case(store: CaseStore, channel: str = "voice", number: str | None = MOBILE, **fields: Any) -> Case:
    case, _ = store.create_case(NewCase(conversation_id=f"conv-{channel}-{number}", reason="person_requested",
                                        channel=channel, transcript=TRANSCRIPT, caller_number=number, **fields))
    return case


def expected_body(case: Case) -> str:
    catalogue = default_catalogue()
    centre = catalogue.centres[case.centre]
    hours = describe(catalogue.schedules[centre.hours])
    return (f"Lancaster and Lancashire councils: your reference is {case.reference}. "
            f"{centre.name[0].upper()}{centre.name[1:]} will pick it up; open {hours}.")


async def test_sent_through_twilio_with_to_from_and_body(tmp_path: Path, store: CaseStore) -> None:
    case = make_case(store, service="council_tax")
    twilio = FakeTwilio()
    assert await notify.text_reference(settings(tmp_path), case, MOBILE, http_client=twilio) == "sent"
    [request] = twilio.requests
    assert request["method"] == "POST"
    assert request["uri"].endswith(f"/Accounts/{SID}/Messages.json")
    assert request["data"]["To"] == MOBILE_E164
    assert request["data"]["From"] == FROM
    assert request["data"]["Body"] == expected_body(case)
    assert "Lancaster Town Hall will pick it up; open Monday to" in request["data"]["Body"]


async def test_body_names_the_cable_street_office_for_council_housing(tmp_path: Path, store: CaseStore) -> None:
    case = make_case(store, channel="sms", service="council_housing")
    twilio = FakeTwilio()
    assert await notify.text_reference(settings(tmp_path), case, MOBILE_E164, http_client=twilio) == "sent"
    body = twilio.requests[0]["data"]["Body"]
    assert body == expected_body(case)
    assert "The Cable Street housing office will pick it up" in body


async def test_logged_without_credentials_and_never_the_full_number(
        tmp_path: Path, store: CaseStore, caplog: pytest.LogCaptureFixture) -> None:
    case = make_case(store)
    twilio = FakeTwilio()
    caplog.set_level(logging.DEBUG)
    result = await notify.text_reference(settings(tmp_path, twilio=False), case, MOBILE, http_client=twilio)
    assert result == "logged"
    assert twilio.requests == []
    [record] = [r for r in caplog.records if r.name == "handoff.notify"]
    assert case.reference in record.getMessage()
    assert record.caller == "+44*******123"  # type: ignore[attr-defined]
    assert MOBILE_DIGITS not in caplog.text and "900123" not in caplog.text


@pytest.mark.parametrize("channel, number", [
    ("chat", MOBILE), ("voice", LANDLINE), ("sms", "+441632960101"), ("voice", None), ("voice", "anonymous"),
])
async def test_skipped_for_chat_and_numbers_that_cannot_take_a_text(
        tmp_path: Path, store: CaseStore, channel: str, number: str | None) -> None:
    case = make_case(store, channel=channel, number=None)
    twilio = FakeTwilio()
    assert await notify.text_reference(settings(tmp_path), case, number, http_client=twilio) == "skipped"
    assert twilio.requests == []


async def test_a_twilio_error_is_logged_not_raised(
        tmp_path: Path, store: CaseStore, caplog: pytest.LogCaptureFixture) -> None:
    case = make_case(store)
    # Twilio's own error message quotes the number; it must not reach the log.
    twilio = FakeTwilio(400, {"code": 21211, "status": 400, "more_info": "https://www.twilio.com/docs/errors/21211",
                              "message": f"The 'To' number {MOBILE_E164} is not a valid phone number."})
    caplog.set_level(logging.DEBUG)
    assert await notify.text_reference(settings(tmp_path), case, MOBILE, http_client=twilio) == "failed"
    assert len(twilio.requests) == 1
    record = next(r for r in caplog.records if r.name == "handoff.notify")
    assert record.levelno == logging.WARNING
    assert case.reference in record.getMessage() and "21211" in record.getMessage()
    assert MOBILE_DIGITS not in caplog.text


async def test_an_unreachable_twilio_is_logged_not_raised(
        tmp_path: Path, store: CaseStore, caplog: pytest.LogCaptureFixture) -> None:
    case = make_case(store)
    twilio = FakeTwilio(fail=ConnectionError(f"cannot reach api.twilio.com sending to {MOBILE_E164}"))
    caplog.set_level(logging.DEBUG)
    assert await notify.text_reference(settings(tmp_path), case, MOBILE, http_client=twilio) == "failed"
    assert "ConnectionError" in caplog.text
    assert MOBILE_DIGITS not in caplog.text
