"""Shared fixtures. Tests marked `rabbitmq` or `postgres` use the machine's real services; under
CI=true they fail (not skip) when a service does not answer."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlparse

import pytest
import yaml

from hub.core.areas import Areas
from hub.core.classify import Taxonomy
from hub.settings import files as config_mod
from hub.settings.files import HubConfig

ROOT = Path(__file__).resolve().parent.parent
AMQP_URL = os.environ.get("LAPORHUB_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
PG_URL = os.environ.get("LAPORHUB_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, port: int) -> None:
    if _answers(url, port):
        return
    message = f"{name} does not answer at {url}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: tests that need it must run)")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _one_report_per_problem(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Duplicate linking is on in config/lifecycle.yaml, and most tests post the same sample text
    again and again to see it delivered; only tests marked `linking` (the ones about it) link."""
    if request.node.get_closest_marker("linking") is None:
        from hub.core.duplicates import LinkPolicy

        monkeypatch.setattr(LinkPolicy, "from_config", classmethod(lambda cls, doc: cls(enabled=False)))


@pytest.fixture(scope="session")
def hub_config() -> HubConfig:
    cfg, _ = config_mod.load(ROOT / "config")
    assert cfg is not None
    return cfg


@pytest.fixture(scope="session")
def taxonomy(hub_config: HubConfig) -> Taxonomy:
    """The shipped vocabulary with its lexicon, emergency cues, scope and gazetteer."""
    return hub_config.taxonomy


@pytest.fixture(scope="session")
def areas() -> Areas:
    return Areas.from_config(yaml.safe_load((ROOT / "config" / "areas.yaml").read_text()))


@pytest.fixture
def amqp_url() -> str:
    require_service("RabbitMQ", AMQP_URL, 5672)
    return AMQP_URL


@pytest.fixture
def bus_prefix() -> str:
    """A prefix of its own per test, so tests never see each other's queues on a shared broker."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema-less database per test: tables created by the store, dropped afterwards."""
    require_service("PostgreSQL", PG_URL, 5432)
    import sqlalchemy as sa

    name = f"laporhub_test_{uuid.uuid4().hex[:10]}"
    # pre-ping: the fault suite restarts PostgreSQL between creating and dropping the database
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on the machine's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def rabbitmq_hub(amqp_url: str, database_url: str, bus_prefix: str) -> Iterator[Any]:
    """A hub on the real RabbitMQ (own prefix, removed afterwards) and each store."""
    from tests.harness import delete_topology, make_hub

    hub = make_hub(amqp_url, database_url, bus_prefix)
    yield hub
    delete_topology(hub, amqp_url)
    hub.store.engine.dispose()


@pytest.fixture
def memory_hub(tmp_path: Path, bus_prefix: str) -> Iterator[Any]:
    """A hub on the in-process bus (`memory://`) and a SQLite file of its own: for unit tests that
    call a stage's functions directly, with no broker and no worker threads."""
    from tests.harness import make_hub

    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'hub.db'}", bus_prefix)
    yield hub
    hub.store.engine.dispose()


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def either_bus_hub(request: pytest.FixtureRequest, tmp_path: Path, bus_prefix: str) -> Iterator[Any]:
    """A hub on the in-process bus, and one on the real RabbitMQ (own prefix, removed afterwards)."""
    from tests.harness import delete_topology, make_hub

    url = "memory://localhost/" if request.param == "memory" else request.getfixturevalue("amqp_url")
    hub = make_hub(url, f"sqlite:///{tmp_path / 'hub.db'}", bus_prefix)
    yield hub
    if url.startswith("amqp"):
        delete_topology(hub, url)
    hub.store.engine.dispose()


@pytest.fixture(params=["embedded", pytest.param("services", marks=[pytest.mark.rabbitmq, pytest.mark.postgres])])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(broker URL, database URL): the embedded default, and the machine's RabbitMQ and PostgreSQL."""
    if request.param == "embedded":
        return "memory://localhost/", f"sqlite:///{tmp_path / 'hub.db'}"
    return request.getfixturevalue("amqp_url"), request.getfixturevalue("postgres_url")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fault suite's counts, also when output is captured (as in `.ci/run`)."""
    import json
    import sys

    harness = sys.modules.get("tests.faults.fault_harness")
    if harness is None or not harness.REPORT:
        return
    terminalreporter.section("fault suite counts")
    for counts in harness.REPORT:
        terminalreporter.write_line(json.dumps(counts, ensure_ascii=False))


# Issue 11: the suite runs with the shipped dev webhook secrets and posts to receivers on loopback.
os.environ.setdefault("LAPORHUB_ALLOW_DEV_SECRETS", "1")
os.environ.setdefault("LAPORHUB_ALLOW_PRIVATE_TARGETS", "127.0.0.0/8")
