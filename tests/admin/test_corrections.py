"""Corrections recorded in operation teach the model: an administrator re-categorising a complaint,
a destination transferring one with a reason. `laporhub classify train` retrains from the store."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog
from fastapi.testclient import TestClient

from hub.admin import corrections
from hub.aftercare.handoffs import hops
from hub.cli.main import main
from hub.core import model as model_mod
from hub.core.errors import ComplaintNotFound, InvalidMessage
from hub.http.app import create_app
from hub.infra.store import Store, complaints, events, now
from tests.harness import key_headers, make_hub

ROOT = Path(__file__).resolve().parents[2]


def add_complaint(store: Store, cid: str, text: str, category: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(complaints.insert().values(
            id=cid, channel="jaki", body={"text": text, "channel": "jaki"}, status="routed", category=category,
            classification={"category": category}, received_at=now(), updated_at=now()))


def add_transfer(store: Store, cid: str, to: list[str], reason: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(hops.insert().values(complaint_id=cid, from_destination="pln-uid-jakarta-raya", to_destinations=to,
                                          kind="transferred", category="electricity", reason=reason, actor="pln",
                                          held_seconds=60.0, at=now()))


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'hub.db'}")


def test_recategorising_is_recorded_as_an_event_and_in_the_audit(store, hub_config):
    add_complaint(store, "c1", "tiang lampu pju di gang mati", "electricity")
    done = corrections.recategorise(store, "c1", "street-lighting", "PJU is Bina Marga's", "admin:ani",
                                    hub_config.taxonomy.category_ids)
    assert (done["from"], done["to"]) == ("electricity", "street-lighting")
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(complaints.c.category).where(complaints.c.id == "c1")).scalar() == "street-lighting"
        event = conn.execute(sa.select(events).where(events.c.type == "recategorised")).mappings().one()
    assert event["data"]["reason"] == "PJU is Bina Marga's" and event["actor"] == "admin:ani"


def test_recategorising_names_what_is_wrong(store, hub_config):
    add_complaint(store, "c1", "x", "roads")
    with pytest.raises(InvalidMessage) as bad:
        corrections.recategorise(store, "c1", "nonsense", "why", "a", hub_config.taxonomy.category_ids)
    assert bad.value.errors[0].field == "category"
    with pytest.raises(InvalidMessage):
        corrections.recategorise(store, "c1", "roads", "  ", "a", hub_config.taxonomy.category_ids)
    with pytest.raises(ComplaintNotFound):
        corrections.recategorise(store, "nope", "roads", "why", "a", hub_config.taxonomy.category_ids)


def test_corrections_come_from_recategorisations_and_reasoned_transfers(store, hub_config):
    add_complaint(store, "t1", "air got item meluap ke jalan", "water")
    add_transfer(store, "t1", ["sudin-sda-jakarta-pusat"], "saluran, bukan pipa PAM")
    add_complaint(store, "t2", "kabel internet menjuntai", "electricity")
    add_transfer(store, "t2", ["telkom-indonesia"], "")  # no reason: not a lesson
    add_complaint(store, "r1", "pohon tumbang nimpa kabel", "electricity")
    add_transfer(store, "r1", ["pam-jaya"], "salah kirim")
    corrections.recategorise(store, "r1", "parks-trees", "the tree is the problem", "admin", hub_config.taxonomy.category_ids)
    found = {c["text"]: cat for c, cat in corrections.corrections(store, hub_config.ruleset, hub_config.registry)}
    assert found == {"air got item meluap ke jalan": "drainage-flooding", "pohon tumbang nimpa kabel": "parks-trees"}


@pytest.fixture()
def cli_logs():
    """The CLI points the logs at the captured stderr; later tests must not write to it once closed."""
    yield
    structlog.reset_defaults()


def test_classify_train_retrains_from_the_store(tmp_path, monkeypatch, capsys, cli_logs):
    db = tmp_path / "hub.db"
    monkeypatch.setenv("LAPORHUB_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("LAPORHUB_BROKER_URL", "memory://localhost/")
    store = Store(f"sqlite:///{db}")
    add_complaint(store, "c1", "tiang lampu pju mati", "electricity")
    out = tmp_path / "model.npz"
    assert main(["--config", str(ROOT / "config"), "recategorise", "c1", "street-lighting", "--reason", "PJU"]) == 0
    assert main(["--config", str(ROOT / "config"), "classify", "train", "--out", str(out)]) == 0
    assert "1 corrections" in capsys.readouterr().err
    model = model_mod.load(out, [c for c in ("street-lighting", "roads", "waste", "fire-rescue", "education",
                                             "social-welfare", "drainage-flooding", "water", "electricity", "gas",
                                             "bus", "rail", "telecom-cables", "traffic-parking", "public-order",
                                             "health", "civil-registration", "employment", "building-permits",
                                             "housing", "pollution", "parks-trees", "other")])
    assert model.corrections == 1 and model.trained_on > 280


def test_an_administrator_recategorises_over_http_and_bad_input_is_named(tmp_path):
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'a.db'}", "lh-recat")
    add_complaint(hub.store, "c9", "pju mati", "electricity")
    with TestClient(create_app(hub, relay=False)) as client:
        admin, auditor = key_headers(hub, "admin"), key_headers(hub, "auditor")
        url = "/v1/admin/complaints/c9/category"
        assert client.post(url, json={"category": "street-lighting", "reason": "PJU"}, headers=auditor).status_code == 403
        bad = client.post(url, json={"category": "nope", "reason": "PJU"}, headers=admin)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "category"
        assert client.post(url, json={"category": "roads"}, headers=admin).json()["errors"][0]["field"] == "reason"
        assert client.post("/v1/admin/complaints/none/category", json={"category": "roads", "reason": "x"},
                           headers=admin).status_code == 404
        ok = client.post(url, json={"category": "street-lighting", "reason": "PJU is Bina Marga's"}, headers=admin)
        assert ok.status_code == 200 and ok.json()["to"] == "street-lighting"
    hub.store.engine.dispose()
