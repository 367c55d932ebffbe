"""A worker's metrics port answers /readyz (what compose's health checks ask) and /metrics."""

from __future__ import annotations

from pathlib import Path

import requests

from hub.pipeline import backlog
from tests.harness import make_hub


def test_a_worker_port_answers_readyz_metrics_and_names_an_unreachable_store(tmp_path: Path) -> None:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'hub.db'}")
    server = backlog.serve(hub, 0, host="127.0.0.1")
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert requests.get(f"{base}/readyz", timeout=5).json() == {"status": "ok", "checks": {"store": "ok", "broker": "ok"}}
        assert "laporhub_outbox_backlog" in requests.get(f"{base}/metrics", timeout=5).text
        assert requests.get(f"{base}/nothing", timeout=5).status_code == 404
        hub.store.engine.dispose()
        (tmp_path / "hub.db").unlink()
        (tmp_path / "hub.db").mkdir()  # the store's file is gone and cannot be made again
        answer = requests.get(f"{base}/readyz", timeout=5)
        assert answer.status_code == 503 and "store unreachable" in answer.json()["checks"]["store"]
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    finally:
        server.shutdown()
