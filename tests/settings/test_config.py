"""Loading the configuration: every problem is located by file and path before anything runs."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.core.errors import ConfigError
from hub.core.signing import secret_bytes
from hub.settings import files as config_mod

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
CITIES = ["jakarta-pusat", "jakarta-utara", "jakarta-barat", "jakarta-selatan", "jakarta-timur", "kepulauan-seribu"]


def raw(name: str) -> Any:
    """A shipped config file as written, before interpolation."""
    return yaml.safe_load((CONFIG_DIR / name).read_text(encoding="utf-8"))


def located(problems) -> set[tuple[str, str]]:
    return {(p.file, p.path) for p in problems}


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("LAPORHUB_CONFIG_DIR", raising=False)
    monkeypatch.delenv("LAPORHUB_TEST_UNSET_SECRET", raising=False)
    return monkeypatch


# --- the shipped configuration ---------------------------------------------------------------

def test_shipped_config_loads_without_any_problem(clean_env):
    cfg, problems = config_mod.load(CONFIG_DIR)
    assert problems == []
    assert cfg is not None and cfg.directory == CONFIG_DIR


def test_default_directory_is_the_shipped_config(clean_env):
    cfg, problems = config_mod.load()
    assert cfg.directory == config_mod.DEFAULT_DIR and problems == []


def test_config_directory_can_come_from_the_environment(clean_env, tmp_path):
    shutil.copytree(CONFIG_DIR, tmp_path / "cfg")
    clean_env.setenv("LAPORHUB_CONFIG_DIR", str(tmp_path / "cfg"))
    cfg, _ = config_mod.load()
    assert cfg.directory == tmp_path / "cfg"


def test_shipped_config_has_six_cities(hub_config):
    assert hub_config.areas.city_ids == CITIES


def test_every_template_is_expanded_for_every_city(hub_config):
    registry = hub_config.registry
    templates = raw("destinations.yaml")["templates"]
    assert len(templates) == 14
    assert len(registry.templates) == 14
    plain = len(raw("destinations.yaml")["destinations"])
    assert len(registry) == plain + 14 * 6
    for t in templates:
        for city in CITIES:
            d = registry.get(t["id"].format(city=city))
            assert d.kind == "city-office"
            assert d.parent == t["parent"] and d.parent in registry
            assert d.city == city
            assert hub_config.areas.city(city).name in d.name


def test_template_names_are_filled_with_the_city_name(hub_config):
    assert hub_config.registry.get("sudin-bina-marga-jakarta-selatan").name == "Suku Dinas Bina Marga Jakarta Selatan"


def test_operators_are_webhook_destinations_with_url_and_secret(hub_config):
    operators = [d for d in hub_config.registry if d.kind == "operator"]
    assert len(operators) >= 5
    assert {"pln-uid-jakarta-raya", "pam-jaya", "transjakarta", "mrt-jakarta", "kai-commuter"} <= {d.id for d in operators}
    for d in operators:
        assert d.adapter == "webhook", d.id
        assert d.options["url"].startswith(("http://", "https://")), d.id
        assert "${" not in d.options["url"] and "${" not in d.options["secret"], d.id
        assert d.options["secret"].startswith("whsec_"), d.id
        assert len(secret_bytes(d.options["secret"])) >= 16, d.id


def test_every_rule_refers_to_a_known_destination_or_template(hub_config):
    for rule in hub_config.ruleset.rules:
        for ref in rule.send_to:
            assert hub_config.registry.is_reference(ref), (rule.id, ref)


# --- schema errors ---------------------------------------------------------------------------

def broken_rules() -> dict[str, Any]:
    doc = raw("rules.yaml")
    doc["rules"][0].pop("send_to")
    doc["rules"][2]["when"]["colour"] = ["red"]
    doc["min_confidence"] = 3
    return doc


def test_schema_error_is_reported_with_file_and_path(clean_env):
    cfg, problems = config_mod.load(CONFIG_DIR, overrides={"rules": broken_rules()}, strict=False)
    assert cfg is None
    assert located(problems) == {("rules.yaml", "rules[0].send_to"), ("rules.yaml", "rules[2].when.colour"),
                                 ("rules.yaml", "min_confidence")}
    by_path = {p.path: p for p in problems}
    assert by_path["rules[0].send_to"].message == "is required"
    assert by_path["rules[2].when.colour"].message == "is not an allowed field"
    assert all(p.severity == "error" for p in problems)


def test_schema_error_raises_config_error_when_strict(clean_env):
    with pytest.raises(ConfigError) as exc:
        config_mod.load(CONFIG_DIR, overrides={"rules": broken_rules()})
    assert "rules.yaml:rules[0].send_to" in str(exc.value)
    assert ("rules.yaml", "rules[0].send_to") in located(exc.value.problems)


def test_schema_errors_in_several_files_are_all_reported(clean_env):
    areas = raw("areas.yaml")
    del areas["cities"][1]["kecamatan"]
    _, problems = config_mod.load(CONFIG_DIR, overrides={"rules": broken_rules(), "areas": areas}, strict=False)
    assert ("areas.yaml", "cities[1].kecamatan") in located(problems)
    assert ("rules.yaml", "rules[0].send_to") in located(problems)


def test_invalid_yaml_and_missing_files_are_named(clean_env, tmp_path):
    shutil.copytree(CONFIG_DIR, tmp_path / "cfg")
    (tmp_path / "cfg" / "rules.yaml").write_text("rules: [unclosed\n", encoding="utf-8")
    (tmp_path / "cfg" / "areas.yaml").unlink()
    cfg, problems = config_mod.load(tmp_path / "cfg", strict=False)
    assert cfg is None
    messages = {p.file: p.message for p in problems}
    assert messages["rules.yaml"].startswith("not valid YAML")
    assert messages["areas.yaml"].startswith("missing")


# --- cross-file checks -----------------------------------------------------------------------

def test_unknown_destination_in_a_rule_raises_config_error_naming_rules_yaml_and_path(clean_env):
    rules = raw("rules.yaml")
    rules["rules"].insert(1, {"id": "toll-roads", "when": {"category": ["roads"], "keywords": ["tol"]},
                              "send_to": ["jasa-marga"]})
    with pytest.raises(ConfigError) as exc:
        config_mod.load(CONFIG_DIR, overrides={"rules": rules})
    problems = exc.value.problems
    assert [(p.file, p.path) for p in problems] == [("rules.yaml", "rules[1].send_to[0]")]
    assert "jasa-marga" in problems[0].message
    assert "rules.yaml:rules[1].send_to[0]" in str(exc.value)


def test_non_strict_load_returns_config_and_problems(clean_env):
    rules = raw("rules.yaml")
    rules["rules"][0]["send_to"] = ["jasa-marga"]
    cfg, problems = config_mod.load(CONFIG_DIR, overrides={"rules": rules}, strict=False)
    assert cfg is not None
    assert located(problems) == {("rules.yaml", "rules[0].send_to[0]")}


def test_template_with_unknown_parent_is_reported(clean_env):
    dests = raw("destinations.yaml")
    dests["templates"][3]["parent"] = "dinas-tidak-ada"
    _, problems = config_mod.load(CONFIG_DIR, overrides={"destinations": dests}, strict=False)
    assert ("destinations.yaml", "templates[3].parent") in located(problems)


# --- environment interpolation ---------------------------------------------------------------

def test_interpolation_uses_the_variable_when_set_and_the_default_otherwise():
    env = {"PLN_URL": "https://pln.example/hook"}
    assert config_mod.interpolate("${PLN_URL:-http://localhost}", env) == "https://pln.example/hook"
    assert config_mod.interpolate("${PAM_URL:-http://localhost/pam}", env) == "http://localhost/pam"
    assert config_mod.interpolate("${PAM_URL:-}", env) == ""
    assert config_mod.interpolate("prefix-${PLN_URL}-suffix", env) == "prefix-https://pln.example/hook-suffix"


def test_interpolation_reaches_nested_values_and_leaves_non_strings_alone():
    doc = {"a": [{"b": "${X:-one}"}, 2, None], "c": True}
    assert config_mod.interpolate(doc, {}) == {"a": [{"b": "one"}, 2, None], "c": True}


def test_interpolation_reports_an_unset_variable_with_its_path():
    problems: list = []
    out = config_mod.interpolate({"options": {"secret": "${PLN_SECRET}"}}, {}, problems=problems,
                                 file="destinations.yaml")
    assert out == {"options": {"secret": ""}}
    assert [(p.file, p.path) for p in problems] == [("destinations.yaml", "options.secret")]
    assert "PLN_SECRET" in problems[0].message


def test_environment_overrides_a_webhook_url_at_load(clean_env):
    clean_env.setenv("PAM_JAYA_WEBHOOK_URL", "https://hooks.pamjaya.example/laporhub")
    cfg, problems = config_mod.load(CONFIG_DIR)
    assert problems == []
    assert cfg.registry.get("pam-jaya").options["url"] == "https://hooks.pamjaya.example/laporhub"


def test_unset_variable_without_default_is_a_problem_naming_the_variable(clean_env):
    dests = raw("destinations.yaml")
    i = next(i for i, d in enumerate(dests["destinations"]) if d["id"] == "pgn")
    dests["destinations"][i]["options"]["secret"] = "${LAPORHUB_TEST_UNSET_SECRET}"
    with pytest.raises(ConfigError) as exc:
        config_mod.load(CONFIG_DIR, overrides={"destinations": dests})
    unset = [p for p in exc.value.problems if "LAPORHUB_TEST_UNSET_SECRET" in p.message]
    assert [(p.file, p.path) for p in unset] == [("destinations.yaml", f"destinations[{i}].options.secret")]


def test_set_variable_without_default_is_used(clean_env):
    clean_env.setenv("LAPORHUB_TEST_UNSET_SECRET", "whsec_aGVsbG8taGVsbG8taGVsbG8taGVsbG8=")
    dests = copy.deepcopy(raw("destinations.yaml"))
    dests["destinations"][-1]["options"]["secret"] = "${LAPORHUB_TEST_UNSET_SECRET}"
    cfg, problems = config_mod.load(CONFIG_DIR, overrides={"destinations": dests})
    assert problems == []
    assert cfg.registry.get(dests["destinations"][-1]["id"]).options["secret"] == "whsec_aGVsbG8taGVsbG8taGVsbG8taGVsbG8="
