"""Loading the hub's configuration: YAML files in a directory, each checked against its schema."""

from __future__ import annotations

import importlib.resources
from datetime import date
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hub.core import policy as policy_mod
from hub.core import schemas
from hub.core.areas import Areas
from hub.core.classify import Taxonomy
from hub.core.emergency import Detector
from hub.core.gazetteer import Gazetteer
from hub.core import model as model_mod
from hub.core.scope import Scope
from hub.core.destinations import Registry, options_errors
from hub.core.errors import ConfigError, ConfigProblem
from hub.core.rules import RuleSet, check
from hub.core.duplicates import LinkPolicy

# The shipped defaults: config/ as package data (hub/defaults/config), so an installed hub finds
# them wherever it runs; LAPORHUB_CONFIG_DIR (or --config) points at a city's own directory.
DEFAULT_DIR = Path(str(importlib.resources.files("hub").joinpath("defaults", "config")))
FILES = {"taxonomy": "taxonomy.yaml", "areas": "areas.yaml",
         "destinations": "destinations.yaml", "rules": "rules.yaml",
         "lifecycle": "lifecycle.yaml"}
OPTIONAL = {"lexicon": "lexicon.yaml", "emergency": "emergency.yaml", "scope": "scope.yaml",
            "gazetteer": "gazetteer.yaml"}
"""How the classifier reads informal text (issue 12). Without them it matches the taxonomy alone:
a config directory made before them still loads, with a warning."""
MODEL_FILE = "classifier-model.npz"
"""The learned second opinion `laporhub classify train` writes; the hub runs without it."""
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class HubConfig:
    directory: Path
    taxonomy: Taxonomy
    areas: Areas
    registry: Registry
    ruleset: RuleSet
    documents: dict[str, Any]
    policy: "policy_mod.Policy | None" = None
    linking: LinkPolicy = field(default_factory=LinkPolicy)


def interpolate(value: Any, env: dict[str, str] | os._Environ[str] = os.environ, where: str = "",
                problems: list[ConfigProblem] | None = None, file: str = "") -> Any:
    """Replace ${VAR} and ${VAR:-default} in every string, recursively."""
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if env.get(name):  # an empty variable counts as unset (issue 11)
                return env[name]
            if default is not None:
                return default
            if problems is not None:
                problems.append(ConfigProblem(file, where, f"environment variable {name} is not set"))
            return ""
        return _VAR.sub(sub, value)
    if isinstance(value, dict):
        return {k: interpolate(v, env, f"{where}.{k}" if where else str(k), problems, file)
                for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, f"{where}[{i}]", problems, file) for i, v in enumerate(value)]
    return value


def read_documents(directory: Path, overrides: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """Parse and schema-check each file; problems carry the file and the path inside it."""
    docs: dict[str, Any] = {}
    problems: list[ConfigProblem] = []
    for key, filename in {**FILES, **OPTIONAL}.items():
        if overrides and key in overrides:
            raw = overrides[key]
        else:
            path = directory / filename
            if not path.exists():
                severity = "warning" if key in OPTIONAL else "error"
                problems.append(ConfigProblem(filename, "", f"missing (looked in {directory})", severity))
                continue
            try:
                raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                problems.append(ConfigProblem(filename, "", f"not valid YAML: {exc}"))
                continue
        doc = interpolate(raw, problems=problems, file=filename)
        found = schemas.errors(key, doc)
        problems.extend(ConfigProblem(filename, e.field, e.reason) for e in found)
        if not found:
            docs[key] = doc
    return docs, problems


def model_path(directory: Path) -> Path:
    """Where the learned model lives: $LAPORHUB_MODEL_PATH, else beside the configuration."""
    return Path(os.environ.get("LAPORHUB_MODEL_PATH") or Path(directory) / MODEL_FILE)


def classifier(docs: dict[str, Any], areas: Areas, directory: Path,
               problems: list[ConfigProblem]) -> Taxonomy:
    """The taxonomy with its lexicon, emergency cues, scope, gazetteer and (if trained) model."""
    taxonomy = Taxonomy.from_config(docs["taxonomy"], docs.get("lexicon"))
    if "emergency" in docs:
        taxonomy.detector = Detector.from_config(docs["emergency"], taxonomy.lexicon)
    if "scope" in docs:
        taxonomy.scope = Scope.from_config(docs["scope"], taxonomy.lexicon)
    if "gazetteer" in docs:
        cities = [(c.id, (c.name, *c.aliases)) for c in areas.cities]
        taxonomy.gazetteer = Gazetteer.from_config(docs["gazetteer"], cities)
    path = model_path(directory)
    try:
        taxonomy.model = model_mod.load(path, taxonomy.category_ids)
    except model_mod.ModelUnavailable as exc:
        if path.exists():
            problems.append(ConfigProblem(path.name, "", f"model not used: {exc}", "warning"))
    return taxonomy


def load(directory: str | Path | None = None, overrides: dict[str, Any] | None = None,
         strict: bool = True) -> tuple[HubConfig | None, list[ConfigProblem]]:
    """Load and cross-check everything; with `strict`, raise ConfigError on any error."""
    directory = Path(directory or os.environ.get("LAPORHUB_CONFIG_DIR") or DEFAULT_DIR)
    docs, problems = read_documents(directory, overrides)
    config = None
    if all(key in docs for key in FILES):
        areas = Areas.from_config(docs["areas"])
        taxonomy = classifier(docs, areas, directory, problems)
        registry = Registry.from_config(docs["destinations"], areas)
        ruleset = RuleSet.from_config(docs["rules"])
        problems.extend(check(ruleset, registry, taxonomy, areas.known, FILES["rules"]))
        for i, parent in enumerate(registry.templates.values()):
            if parent not in registry:
                problems.append(ConfigProblem(FILES["destinations"], f"templates[{i}].parent",
                                              f"unknown destination {parent!r}"))
        for dest in registry:
            for err in options_errors(dest.adapter, dest.options):
                problems.append(ConfigProblem(FILES["destinations"], f"{dest.id}.{err.field}", err.reason))
        policy = policy_mod.Policy.from_config(docs["lifecycle"])
        problems.extend(policy_mod.check(policy, registry, {r.id for r in ruleset.rules}, date.today()))
        linking = LinkPolicy.from_config(docs["lifecycle"].get("duplicates"))
        config = HubConfig(directory, taxonomy, areas, registry, ruleset, docs, policy, linking)
    errors = [p for p in problems if p.severity == "error"]
    if strict and errors:
        raise ConfigError(errors)
    return config, problems
