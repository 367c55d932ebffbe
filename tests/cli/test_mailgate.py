"""`laporhub mailgate`, as Postfix's pipe runs it: a reply on stdin reaches the hub signed, and
the exit code tells the mail server to deliver (0), bounce (67) or try again later (75)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.cli.main import main
from hub.cli.processes import ApiServer, workers
from tests.e2e.test_email_replies import reply
from tests.email_hub import INBOUND_SECRET, WASTE, email_hub
from tests.harness import key_headers, settled, wait_for
from tests.mailbox import free_port, smtp_server


def gate(monkeypatch: pytest.MonkeyPatch, url: str, raw: bytes) -> int:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    return main(["mailgate", "--url", url, "--timeout", "5"])


def test_the_mail_servers_pipe_posts_replies_signed(tmp_path: Path, bus_prefix: str,
                                                     monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setattr("hub.infra.logs.configure", lambda *_, **__: None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with smtp_server() as (box, smtp_url):
        hub = email_hub(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", bus_prefix, smtp_url, base)
        api = ApiServer(hub, port=port).start()
        try:
            with workers(hub):
                cid = requests.post(f"{base}/v1/complaints", json={**WASTE, "external_ref": "M-1"},
                                    headers=key_headers(hub, "channel", "jaki"), timeout=10).json()["id"]
                wait_for(lambda: settled(hub, cid))
                address = box.wait(1)[0]["Reply-To"]
                monkeypatch.setenv("LAPORHUB_INBOUND_EMAIL_SECRET", INBOUND_SECRET)
                assert gate(monkeypatch, base, reply(address, "Diproses, truk dijadwalkan besok.")) == 0
                assert hub.store.deliveries_of(cid)[0]["state"] == "in_progress"
                assert gate(monkeypatch, base, reply("balas@laporhub.jakarta.go.id", "Selesai")) == 67
                assert "cannot be matched to a delivery" in capsys.readouterr().err
                assert gate(monkeypatch, f"http://127.0.0.1:{free_port()}", reply(address, "Selesai")) == 75
                monkeypatch.setenv("LAPORHUB_INBOUND_EMAIL_SECRET", "whsec_d3Jvbmc=")
                assert gate(monkeypatch, base, reply(address, "Selesai")) == 75  # secrets out of step: retry later
                monkeypatch.delenv("LAPORHUB_INBOUND_EMAIL_SECRET")
                assert gate(monkeypatch, base, reply(address, "Selesai")) == 78
                assert hub.store.deliveries_of(cid)[0]["state"] == "in_progress"
        finally:
            api.stop()
            hub.store.engine.dispose()
