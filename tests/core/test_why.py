"""The explain page and `laporhub rules explain` show which words, negations and emergency cues
decided, so an administrator can fix the vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from hub.cli.main import main
from hub.core import why
from hub.http.app import create_app
from tests.core.routing_helpers import route
from tests.harness import key_headers, make_hub

ROOT = Path(__file__).resolve().parents[2]
TEXT = "gurunya baik2 aja, tp jalan depan sekolah rusak parah berlubnag, bukan kebakaran ya"


def test_the_lines_name_words_negations_cues_typos_and_cancelled_emergencies(hub_config):
    c, _ = route(hub_config, TEXT, title="sekolah")
    got = {(line["label"], line["text"]) for line in why.lines(c)}
    labels = {label for label, _ in got}
    assert {"words", "negated", "sentence", "typos", "not an emergency"} <= labels
    assert ("typos", "berlubnag -> berlubang") in got
    assert any(label == "words" and "berlubang" in text for label, text in got)


def test_emergency_cues_scope_and_place_are_shown(hub_config):
    c, _ = route(hub_config, "kabel pln di jl. daan mogot percikan api, atap warga mulai berasap")
    labels = {line["label"]: line["text"] for line in why.lines(c)}
    assert labels["emergency"].startswith("emergency: ")
    assert "Daan Mogot" in labels["place"]
    c, _ = route(hub_config, "jalan tol dalam kota berlubang parah")
    assert "toll operator" in {line["label"]: line["text"] for line in why.lines(c)}["out of scope"]


def test_rules_explain_prints_what_decided(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"channel": "jaki", "title": "sekolah", "text": TEXT,
                                "location": {"kota": "Jakarta Timur"}}), encoding="utf-8")
    assert main(["--config", str(ROOT / "config"), "rules", "explain", str(path)]) == 0
    out = capsys.readouterr().out
    assert "negated:" in out and "kebakaran" in out and "berlubnag -> berlubang" in out
    assert "sudin-bina-marga-jakarta-timur" in out


def test_the_explain_api_behind_the_console_page_returns_the_lines(tmp_path):
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'x.db'}", "lh-why")
    with TestClient(create_app(hub, relay=False)) as client:
        r = client.post("/v1/admin/explain", json={"complaint": {"channel": "web", "text": TEXT}},
                        headers=key_headers(hub, "auditor"))
    hub.store.engine.dispose()
    assert r.status_code == 200
    assert {"words", "negated", "typos"} <= {line["label"] for line in r.json()["why"]}
