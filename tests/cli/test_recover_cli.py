"""`laporhub recover` counts first and re-sends only with --yes; `laporhub attempts` prints the log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.cli.main import main
from tests.email_hub import WASTE, email_hub
from tests.harness import running, settled, wait_for
from tests.mailbox import free_port


def test_recover_from_the_shell(tmp_path: Path, bus_prefix: str, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("hub.infra.logs.configure", lambda *_, **__: None)  # keep structlog off capsys's stream
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = email_hub(tmp_path, db, bus_prefix, f"smtp://127.0.0.1:{free_port()}", "http://hub.test")
    try:
        with running(hub) as client:
            cid = client.post("/v1/complaints", json={**WASTE, "external_ref": "CLI-1"}).json()["id"]
            [d] = wait_for(lambda: settled(hub, cid))["deliveries"]
        assert d["status"] == "dead"
        for name, value in (("LAPORHUB_DATABASE_URL", db), ("LAPORHUB_CONFIG_DIR", str(tmp_path / "config")),
                            ("LAPORHUB_BUS_PREFIX", bus_prefix), ("LAPORHUB_SMTP_URL", "smtp://127.0.0.1:1")):
            monkeypatch.setenv(name, value)
        assert main(["recover", "kelurahan-cilandak-timur", "--since", "2026-01-01T00:00:00+07:00"]) == 0
        out: Any = capsys.readouterr()
        assert d["id"] in out.out and "1 failed deliveries of kelurahan-cilandak-timur" in out.err
        assert hub.store.delivery(d["id"])["status"] == "dead"  # counted, not sent
        assert main(["recover", "kelurahan-cilandak-timur", "--since", "2026-01-01T00:00:00+07:00", "--yes",
                     "--reason", "mail server back"]) == 0
        assert '"resent": 1' in capsys.readouterr().out
        assert hub.store.delivery(d["id"])["status"] == "pending"
        assert main(["attempts", "kelurahan-cilandak-timur"]) == 0
        assert "ConnectionRefusedError" in capsys.readouterr().out
        assert main(["recover", "kelurahan-cilandak-timur", "--since", "yesterday"]) == 2
    finally:
        hub.store.engine.dispose()
