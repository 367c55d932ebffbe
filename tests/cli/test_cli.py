"""The `laporhub` command: rules check, rules explain and classify, as an administrator runs them."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import yaml

from hub.cli.main import main

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
ROADS_SELATAN = {
    "channel": "jaki",
    "title": "Jalan berlubang",
    "text": "Jalan berlubang besar di depan pasar, sudah dua minggu tidak diperbaiki, bahaya buat motor.",
    "category": "roads",
    "location": {"kecamatan": "Cilandak", "kota": "Jakarta Selatan"},
}


@pytest.fixture(autouse=True)
def shipped_config_by_default(monkeypatch):
    monkeypatch.delenv("LAPORHUB_CONFIG_DIR", raising=False)


@pytest.fixture
def config_copy(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    return target


def edit_rules(config_dir: Path, edit) -> None:
    path = config_dir / "rules.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


# --- rules check -----------------------------------------------------------------------------

def test_rules_check_passes_on_the_shipped_config(capsys):
    assert main(["rules", "check"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("ok: ")
    assert "6 cities" in out
    assert err == ""


def test_rules_check_passes_on_an_unchanged_copy_given_with_config(config_copy, capsys):
    assert main(["--config", str(config_copy), "rules", "check"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_rules_check_fails_naming_file_and_path_of_an_unknown_destination(config_copy, capsys):
    edit_rules(config_copy, lambda doc: doc["rules"].insert(
        3, {"id": "toll-roads", "when": {"category": ["roads"], "keywords": ["tol"]}, "send_to": ["jasa-marga"]}))
    assert main(["--config", str(config_copy), "rules", "check"]) != 0
    out, err = capsys.readouterr()
    assert "rules.yaml:rules[3].send_to[0]" in err
    assert "jasa-marga" in err
    assert "ok:" not in out


def test_rules_check_fails_on_a_shadowed_rule(config_copy, capsys):
    # A Jakarta Selatan roads rule placed after the general roads rule can never match.
    def add_shadowed(doc):
        doc["rules"].append({"id": "roads-selatan", "when": {"category": ["roads"], "area": ["jakarta-selatan"]},
                             "send_to": ["dinas-bina-marga"]})
    edit_rules(config_copy, add_shadowed)
    n = len(yaml.safe_load((config_copy / "rules.yaml").read_text())["rules"]) - 1
    assert main(["--config", str(config_copy), "rules", "check"]) != 0
    err = capsys.readouterr().err
    assert f"rules.yaml:rules[{n}]" in err
    assert "shadowed" in err and "roads-selatan" in err


def test_rules_check_fails_on_a_schema_error_with_path(config_copy, capsys):
    edit_rules(config_copy, lambda doc: doc["rules"][0].pop("send_to"))
    assert main(["--config", str(config_copy), "rules", "check"]) != 0
    assert "rules.yaml:rules[0].send_to: is required" in capsys.readouterr().err


# --- rules explain ---------------------------------------------------------------------------

@pytest.fixture
def roads_complaint(tmp_path) -> Path:
    path = tmp_path / "complaint.json"
    path.write_text(json.dumps(ROADS_SELATAN), encoding="utf-8")
    return path


def test_rules_explain_prints_destination_and_reason(roads_complaint, capsys):
    assert main(["rules", "explain", str(roads_complaint)]) == 0
    out = capsys.readouterr().out
    assert "category:   roads" in out
    assert "jakarta-selatan / cilandak from address" in out
    assert "send to:    sudin-bina-marga-jakarta-selatan (Suku Dinas Bina Marga Jakarta Selatan)" in out
    assert "because rule roads:" in out


def test_rules_explain_json_gives_the_decision(roads_complaint, capsys):
    assert main(["rules", "explain", str(roads_complaint), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["classification"]["category"] == "roads"
    assert doc["classification"]["area"] == {"city": "jakarta-selatan", "kecamatan": "cilandak", "source": "address"}
    decision = doc["decision"]
    assert [t["destination"] for t in decision["targets"]] == ["sudin-bina-marga-jakarta-selatan"]
    assert decision["targets"][0]["rule_id"] == "roads"
    assert decision["targets"][0]["reason"]
    assert decision["matched_rules"] == ["roads"]
    assert decision["ruleset_version"] == yaml.safe_load((CONFIG_DIR / "rules.yaml").read_text())["version"]


def test_rules_explain_uses_the_given_config(roads_complaint, config_copy, capsys):
    edit_rules(config_copy, lambda doc: doc.__setitem__("version", "staging-42"))
    assert main(["--config", str(config_copy), "rules", "explain", str(roads_complaint), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["decision"]["ruleset_version"] == "staging-42"


def test_rules_explain_refuses_an_invalid_complaint_naming_the_field(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"channel": "jaki", "location": {"latitude": 200, "longitude": 106.8}}))
    assert main(["rules", "explain", str(path)]) != 0
    err = capsys.readouterr().err
    assert "text: is required" in err
    assert "location.latitude" in err


def test_rules_explain_reports_a_broken_config_instead_of_a_traceback(roads_complaint, config_copy, capsys):
    edit_rules(config_copy, lambda doc: doc["rules"][0].__setitem__("send_to", ["jasa-marga"]))
    assert main(["--config", str(config_copy), "rules", "explain", str(roads_complaint)]) != 0
    assert "rules.yaml:rules[0].send_to[0]" in capsys.readouterr().err


# --- classify --------------------------------------------------------------------------------

KEYS = {"category", "confidence", "area", "urgency", "evidence"}


def lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_classify_csv_prints_one_json_object_per_row(tmp_path, capsys):
    path = tmp_path / "batch.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", "text"])
        w.writerow(["r1", "Jalan berlubang", "Jalan rusak parah dan berlubang di depan sekolah"])
        w.writerow(["r2", "Sampah menumpuk", "Sampah tidak diangkut seminggu, bau sekali"])
        w.writerow(["", "Mati lampu", "Listrik padam sejak pagi, PLN belum datang"])
    assert main(["classify", str(path)]) == 0
    results = lines(capsys.readouterr().out)
    assert len(results) == 3
    for r in results:
        assert KEYS <= set(r)
        assert 0.0 <= r["confidence"] <= 1.0
        assert r["urgency"] in {"normal", "urgent", "emergency"}
        assert r["area"] is None  # CSV rows have no location
        assert "matches" in r["evidence"]
    assert [r.get("id") for r in results] == ["r1", "r2", None]
    assert [r["category"] for r in results] == ["roads", "waste", "electricity"]


def test_classify_json_lines_prints_one_json_object_per_line(tmp_path, capsys):
    path = tmp_path / "batch.jsonl"
    rows = [
        {**ROADS_SELATAN, "external_ref": "JAKI-1"},
        {"channel": "web", "text": "Kebakaran rumah di gang sempit, api besar, tolong segera!",
         "location": {"latitude": -6.1754, "longitude": 106.8272}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    assert main(["classify", str(path)]) == 0
    results = lines(capsys.readouterr().out)
    assert len(results) == 2
    assert all(KEYS <= set(r) for r in results)
    assert results[0]["id"] == "JAKI-1"
    assert results[0]["category"] == "roads"
    assert results[0]["area"] == {"city": "jakarta-selatan", "kecamatan": "cilandak", "source": "address"}
    assert results[1]["area"] == {"city": "jakarta-pusat", "kecamatan": "gambir", "kelurahan": "Gambir", "source": "coordinates"}
    assert results[1]["category"] == "fire-rescue"
    assert results[1]["urgency"] == "emergency"
    assert results[1]["evidence"]["urgency_terms"]


def test_classify_the_shipped_samples(capsys):
    samples = CONFIG_DIR / "samples" / "complaints.jsonl"
    n = sum(1 for line in samples.read_text(encoding="utf-8").splitlines() if line.strip())
    assert main(["classify", str(samples)]) == 0
    assert len(lines(capsys.readouterr().out)) == n


def test_classify_reports_the_line_of_invalid_json(tmp_path, capsys):
    path = tmp_path / "batch.jsonl"
    path.write_text('{"text": "lampu jalan mati"}\n{not json\n', encoding="utf-8")
    assert main(["classify", str(path)]) != 0
    assert f"{path}:2: not valid JSON" in capsys.readouterr().err


def test_classify_reports_a_missing_file(tmp_path, capsys):
    assert main(["classify", str(tmp_path / "nope.csv")]) != 0
    assert "nope.csv" in capsys.readouterr().err
