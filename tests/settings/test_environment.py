"""Settings from the environment: typed, a bad value named, an empty variable unset, and no store
guessed for commands that need one."""

from __future__ import annotations

import pytest

from hub.core.errors import NotConfigured, SettingsError
from hub.settings.environment import EMBEDDED_DATABASE, Settings


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAPORHUB_DATABASE_URL", "")
    monkeypatch.setenv("LAPORHUB_WEBHOOK_ATTEMPTS", "")
    monkeypatch.setenv("LAPORHUB_BUS_PREFIX", "")
    settings = Settings.from_env()
    assert (settings.database_url, settings.webhook_attempts, settings.bus_prefix) == (EMBEDDED_DATABASE, 5, "laporhub")


def test_a_bad_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAPORHUB_WEBHOOK_TIMEOUT", "ten seconds")
    with pytest.raises(SettingsError) as bad:
        Settings.from_env()
    assert "LAPORHUB_WEBHOOK_TIMEOUT" in str(bad.value)


def test_values_are_typed_and_the_schedule_is_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAPORHUB_WEBHOOK_SCHEDULE", "5, 60,300")
    monkeypatch.setenv("LAPORHUB_STARTUP_PATIENCE", "7.5")
    settings = Settings.from_env()
    assert settings.webhook_schedule == (5.0, 60.0, 300.0) and settings.startup_patience == 7.5


def test_a_command_that_needs_the_store_is_not_given_one_in_the_current_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAPORHUB_DATABASE_URL", raising=False)
    with pytest.raises(NotConfigured) as refused:
        Settings.from_env(embedded=False)
    assert "LAPORHUB_DATABASE_URL is not set" in str(refused.value)
    assert Settings.from_env(embedded=False, database_url="sqlite:///x.db").database_url == "sqlite:///x.db"
