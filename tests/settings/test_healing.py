"""A process that starts while the database is away waits for it, within its patience."""

from __future__ import annotations

import time
from typing import Any
from pathlib import Path

import pytest
import sqlalchemy as sa

import hub.settings.runtime
from hub.infra.store import Store
from hub.settings.environment import Settings
from hub.settings.runtime import Hub


def refused() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("connect", {}, ConnectionRefusedError("connection refused"))


def test_a_process_started_while_the_database_is_down_waits_until_it_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tries: list[str] = []

    def store_after_two_refusals(url: str, *prepare: Any) -> Store:
        tries.append(url)
        if len(tries) <= 2:
            raise refused()
        return Store(url, *prepare)

    monkeypatch.setattr(hub.settings.runtime, "Store", store_after_two_refusals)
    started = Hub.create(Settings.from_env(database_url=f"sqlite:///{tmp_path / 'hub.db'}"))
    assert len(tries) == 3
    assert started.config.ruleset.version
    started.store.engine.dispose()


def test_a_database_that_never_answers_fails_the_start_once_the_patience_is_spent() -> None:
    began = time.monotonic()
    with pytest.raises(sa.exc.OperationalError):
        Hub.create(Settings.from_env(database_url="postgresql+psycopg://postgres@127.0.0.1:9/none",
                                     startup_patience=1.0))
    assert time.monotonic() - began < 15


def test_a_wrong_configuration_is_not_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def broken(url: str, *prepare: Any) -> Store:
        calls.append(url)
        raise ValueError("not a database URL")

    monkeypatch.setattr(hub.settings.runtime, "Store", broken)
    with pytest.raises(ValueError):
        Hub.create(Settings.from_env(database_url="sqlite:///x.db", startup_patience=30))
    assert len(calls) == 1
