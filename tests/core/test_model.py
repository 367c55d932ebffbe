"""The learned second opinion: a linear model on character n-grams, blended with the vocabulary,
stored as plain arrays, optional (the hub runs without it) and never above an emergency."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hub.core import model as model_mod
from hub.core.classify import classify
from hub.settings import files

ROOT = Path(__file__).resolve().parents[2]

EXAMPLES = [
    ({"text": "kjmu gue blm cair semester ini"}, "education"),
    ({"text": "kjmu tahap dua kapan cair min"}, "education"),
    ({"text": "pencairan kjmu telat terus tiap semester"}, "education"),
    ({"text": "lampu pju di gang mati seminggu"}, "street-lighting"),
    ({"text": "pju depan rumah kedip kedip mati"}, "street-lighting"),
    ({"text": "lampu jalan pju mati total malam gelap"}, "street-lighting"),
    ({"text": "sampah numpuk di tps ga diangkut"}, "waste"),
    ({"text": "truk sampah ga dateng seminggu numpuk"}, "waste"),
    ({"text": "sampah di pinggir kali numpuk bau"}, "waste"),
]


@pytest.fixture(scope="module")
def trained() -> model_mod.Model:
    return model_mod.train(EXAMPLES * 2)


def test_the_model_gives_a_probability_per_category(trained):
    opinion = trained.opinion({"text": "kjmu adik saya belum cair"})
    assert max(opinion, key=opinion.get) == "education"
    assert sum(opinion.values()) == pytest.approx(1.0)


def test_a_saved_model_loads_without_unpickling_and_answers_the_same(trained, tmp_path):
    path = tmp_path / "m.npz"
    model_mod.save(trained, path)
    with np.load(path, allow_pickle=False) as data:  # nothing in it needs pickle
        assert set(data.files) >= {"classes", "grams", "coef"}
    again = model_mod.load(path, ["education", "street-lighting", "waste", "other"])
    complaint = {"text": "pju mati di gang sebelah"}
    assert again.opinion(complaint) == pytest.approx(trained.opinion(complaint))


def test_an_unusable_model_file_is_named_not_used(trained, tmp_path):
    with pytest.raises(model_mod.ModelUnavailable):
        model_mod.load(tmp_path / "missing.npz", ["waste"])
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(model_mod.ModelUnavailable):
        model_mod.load(bad, ["waste"])
    good = tmp_path / "good.npz"
    model_mod.save(trained, good)
    with pytest.raises(model_mod.ModelUnavailable, match="street-lighting"):
        model_mod.load(good, ["education", "waste"])  # a taxonomy without one of its categories


def test_the_hub_runs_with_a_broken_model_file_and_warns(tmp_path, monkeypatch):
    bad = tmp_path / "model.npz"
    bad.write_bytes(b"garbage")
    monkeypatch.setenv("LAPORHUB_MODEL_PATH", str(bad))
    cfg, problems = files.load(ROOT / "config", strict=True)
    assert cfg is not None and cfg.taxonomy.model is None
    assert any(p.severity == "warning" and "model not used" in p.message for p in problems)


def test_the_evidence_shows_both_opinions(hub_config, trained):
    taxonomy = dataclasses.replace(hub_config.taxonomy, model=trained)
    c = classify({"text": "kjmu gue belum cair padahal udah semester 3"}, taxonomy, hub_config.areas)
    assert c.category == "education"
    assert c.evidence["matches"]["education"]  # the vocabulary's words
    assert c.evidence["model"]["top"]["education"] > 0.3 and c.evidence["model"]["used"]


def test_the_model_tips_a_close_call_but_not_a_decisive_term(hub_config, trained):
    taxonomy = dataclasses.replace(hub_config.taxonomy, model=dataclasses.replace(trained, weight=2.0))
    c = classify({"text": "kjmu kjmu kjmu, tapi sebenarnya pkh ibu saya belum masuk"}, taxonomy, hub_config.areas)
    assert c.category == "social-welfare"  # pkh (decisive) outweighs what the model thinks of the rest


def test_the_model_never_overrides_an_emergency(hub_config):
    loud = model_mod.train([({"text": "lampu pju mati rumah kebakaran api asap"}, "street-lighting"),
                            ({"text": "sampah"}, "waste")] * 3)
    taxonomy = dataclasses.replace(hub_config.taxonomy, model=dataclasses.replace(loud, weight=100.0))
    c = classify({"text": "rumah tetangga kebakaran, api udah gede, asap item"}, taxonomy, hub_config.areas)
    assert (c.category, c.urgency) == ("fire-rescue", "emergency")
    assert c.evidence["model"]["used"] is False
