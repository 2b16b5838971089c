"""Abuse limits (issue 12, finding 9): per-number limits on calls and texts,
and replies only to the countries SMS_REPLY_REGIONS names (UK by default)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import AsyncIterator

import pytest

from devtools.simulator import run_call
from plumbing.rate_limit import CallerLimit
from telephony_bridge.settings import Settings, SettingsError
from tests.bridge_harness import CALLER, TOKEN, Bridge, running_bridge, settings
from tests.conftest import free_port
from tests.telephony_bridge.test_bridge import post_signed, twilio_fields

pytestmark = pytest.mark.usefixtures("weekday_open")


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[Bridge]:
    config = settings(f"http://127.0.0.1:{free_port()}", tmp_path, calls_per_caller_per_hour=2,
                      texts_per_sender_per_hour=3)
    async with running_bridge(config) as bridge:
        yield bridge


def _messages(body: str) -> list[str]:
    return [" ".join(m.itertext()) for m in ET.fromstring(body).iter("Message")]


async def _text(bridge: Bridge, sender: str, body: str = "missed bin") -> tuple[int, list[str]]:
    status, xml = await post_signed(bridge, "/sms/incoming",
                                    {"MessageSid": "SM" + "2" * 32, "From": sender, "Body": body})
    return status, _messages(xml)


@pytest.mark.parametrize("sender", ["+12025550143", "+8613800138000", "+447700900", "anonymous", "", "+44"],
                         ids=["US", "China", "too short", "withheld", "none", "bare code"])
async def test_texts_from_outside_the_uk_or_withheld_get_no_reply(limited: Bridge, sender: str) -> None:
    status, messages = await _text(limited, sender)
    assert status == 200 and messages == []


async def test_a_uk_texter_is_answered_until_the_limit(limited: Bridge) -> None:
    answered = [(await _text(limited, CALLER))[1] != [] for _ in range(5)]
    assert answered == [True, True, True, False, False]
    assert (await _text(limited, "+447700900456"))[1] != []  # another number is counted apart


async def test_more_calls_than_the_limit_hear_why_and_are_ended(limited: Bridge) -> None:
    calls = [await run_call(limited.url, [], auth_token=TOKEN) for _ in range(3)]
    assert "you're through to" in calls[0].said[0] and "you're through to" in calls[1].said[0]
    third = " ".join(calls[2].said)
    assert "called us several times" in third and "999" in third and calls[2].dials == []
    assert calls[2].ended_by == "bridge"


async def test_withheld_callers_are_not_counted(limited: Bridge) -> None:
    for _ in range(4):
        status, body = await post_signed(limited, "/voice/incoming", twilio_fields(From="anonymous"))
        assert status == 200 and "called us several times" not in body


def test_the_limit_forgets_after_its_window_and_keeps_no_number() -> None:
    now = [0.0]
    limit = CallerLimit(2, 60, max_numbers=2, clock=lambda: now[0])
    assert [limit.allow(CALLER) for _ in range(3)] == [True, True, False]
    now[0] = 61
    assert limit.allow(CALLER)
    limit.allow("+447700900001")
    limit.allow("+447700900002")  # the table is full: the oldest number is forgotten
    assert all(CALLER not in repr(key) and b"7700900" not in key for key in limit._seen)
    assert len(limit._seen) == 2


def test_reply_regions_are_checked() -> None:
    base = {"TWILIO_AUTH_TOKEN": TOKEN}
    assert Settings.from_env({**base, "SMS_REPLY_REGIONS": "gb, ie"}).sms_reply_regions == {"GB", "IE"}
    assert Settings.from_env(base).sms_reply_regions == {"GB"}
    with pytest.raises(SettingsError, match="SMS_REPLY_REGIONS"):
        Settings.from_env({**base, "SMS_REPLY_REGIONS": "United Kingdom"})
