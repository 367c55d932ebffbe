"""Classify and route a complaint written for a test, as the hub does with the shipped config."""

from __future__ import annotations

from typing import Any

from hub.core.classify import Classification, classify
from hub.core.rules import Decision, decide
from hub.settings.files import HubConfig


def route(cfg: HubConfig, text: str, title: str = "", **extra: Any) -> tuple[Classification, Decision]:
    complaint = {"title": title, "text": text, "channel": "jaki", **extra}
    c = classify(complaint, cfg.taxonomy, cfg.areas)
    return c, decide(complaint, c, cfg.ruleset, cfg.registry, cfg.taxonomy)
