"""plumbing.settings: the one production switch fails closed, the typed
readers name the setting they refuse, and every service takes its production
from the same switch."""

from __future__ import annotations

import pytest

from council import clock
from handoff.settings import HandoffSettings
from plumbing import settings
from plumbing.settings import SettingsError
from telephony_bridge.settings import Settings


@pytest.mark.parametrize("value, production", [
    (None, False), ("", False), ("development", False), ("  Development ", False),
    ("production", True), ("PRODUCTION", True), ("prod", True), ("staging", True), ("dev", True), ("yes", True),
])
def test_only_development_or_nothing_is_development(value: str | None, production: bool,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    env = {} if value is None else {"COUNCIL_ENV": value}
    assert settings.is_production(env) is production
    # The clock reads the same switch (the domain cannot import plumbing):
    # FAKE_NOW stops the clock on a developer's machine, never in production.
    monkeypatch.setenv("FAKE_NOW", "2001-02-03T04:05:06")
    if value is None:
        monkeypatch.delenv("COUNCIL_ENV", raising=False)
    else:
        monkeypatch.setenv("COUNCIL_ENV", value)
    assert (clock.now().year == 2001) is not production


def test_a_misspelt_switch_refuses_the_development_defaults() -> None:
    with pytest.raises(SettingsError, match="TWILIO_AUTH_TOKEN"):
        Settings.from_env({"COUNCIL_ENV": "prod", "PUBLIC_BASE_URL": "https://calls.example"})
    with pytest.raises(SettingsError, match="HANDOFF_API_TOKEN"):
        HandoffSettings.from_env({"COUNCIL_ENV": "Production"})


def test_no_development_token_passes_in_production_whichever_setting_carries_it() -> None:
    for token in settings.DEVELOPMENT_TOKENS:
        with pytest.raises(SettingsError, match="development token"):
            Settings.from_env({"COUNCIL_ENV": "production", "PUBLIC_BASE_URL": "https://calls.example",
                               "TWILIO_AUTH_TOKEN": token})
        with pytest.raises(SettingsError, match="development token"):
            HandoffSettings.from_env({"COUNCIL_ENV": "production", "HANDOFF_API_TOKEN": token})


def test_both_services_read_the_same_switch() -> None:
    env = {"COUNCIL_ENV": "production", "PUBLIC_BASE_URL": "https://calls.example", "TWILIO_AUTH_TOKEN": "real",
           "HANDOFF_API_TOKEN": "real"}
    assert Settings.from_env(env).production and HandoffSettings.from_env(env).production
    assert not Settings.from_env({}).production and not HandoffSettings.from_env({}).production


def test_the_old_per_service_switches_are_gone() -> None:
    """BRIDGE_ENV and HANDOFF_ENV no longer mean anything: one switch only."""
    assert not Settings.from_env({"BRIDGE_ENV": "production"}).production
    assert not HandoffSettings.from_env({"HANDOFF_ENV": "production"}).production


@pytest.mark.parametrize("read, raw, message", [
    (lambda env: settings.number(env, "X", 1.0, 0.0, 2.0), "soon", "not a number"),
    (lambda env: settings.number(env, "X", 1.0, 0.0, 2.0), "3", "between"),
    (lambda env: settings.whole(env, "X", 1, 0, 9), "1.5", "whole number"),
    (lambda env: settings.flag(env, "X", False), "maybe", "on or off"),
    (lambda env: settings.url(env, "X", "http://a"), "ftp://a", "http://"),
])
def test_readers_refuse_naming_the_setting(read, raw: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match=f"X=.*{message}"):
        read({"X": raw})


def test_readers_give_defaults_for_blank_and_values_when_set() -> None:
    assert settings.text({"X": "  "}, "X", "d") == "d" and settings.text({"X": " v "}, "X") == "v"
    assert settings.number({}, "X", 1.5, 0, 2) == 1.5 and settings.whole({"X": "7"}, "X", 1, 0, 9) == 7
    assert settings.flag({"X": "Yes"}, "X", False) is True and settings.url({"X": "https://a/"}, "X", "") == "https://a"
    assert settings.secret({}, "X", False, "dev-default", "why") == "dev-default"
