"""The rule index only skips rules that cannot match, so decisions equal a walk over every rule."""

from __future__ import annotations

import random

from hub.core.areas import Area
from hub.core.classify import Classification
from hub.core.rules import RuleSet, decide, rule_matches

CATEGORIES = ["roads", "flood", "electricity", "water", "waste", "bus"]
AREAS = ["jakarta-selatan", "jakarta-selatan/cilandak", "jakarta-selatan/tebet", "jakarta-timur",
         "jakarta-timur/cakung", "jakarta-barat/"]
URGENCIES = ["normal", "urgent", "emergency"]


def random_ruleset(rng: random.Random, n: int) -> RuleSet:
    rules = []
    for i in range(n):
        when: dict[str, list[str]] = {}
        if rng.random() < 0.7:
            when["category"] = rng.sample(CATEGORIES, rng.randint(1, 2))
        if rng.random() < 0.5:
            when["area"] = rng.sample(AREAS, rng.randint(1, 2))
        if rng.random() < 0.3:
            when["urgency"] = rng.sample(URGENCIES, 1)
        rules.append({"id": f"r{i}", "when": when, "send_to": ["triage"], "stop": rng.random() < 0.3})
    return RuleSet.from_config({"version": "t", "triage": "triage", "rules": rules})


def random_classification(rng: random.Random) -> Classification:
    city, kec = rng.choice([("jakarta-selatan", "cilandak"), ("jakarta-selatan", "tebet"),
                            ("jakarta-timur", "cakung"), ("jakarta-barat", "cengkareng"), (None, None)])
    area = Area(city, kec, "address") if city else None
    return Classification(category=rng.choice(CATEGORIES), confidence=rng.choice([0.1, 0.9]), area=area,
                          urgency=rng.choice(URGENCIES), evidence={})


def test_candidates_are_every_rule_that_can_act_in_rule_set_order() -> None:
    rng = random.Random(4)
    for _ in range(50):
        rs = random_ruleset(rng, rng.randint(1, 60))
        for _ in range(20):
            c = random_classification(rng)
            unsure = c.confidence < rs.min_confidence
            walked = [r.id for r in rs.rules if not (unsure and "category" in r.when)
                      and rule_matches(r, {"channel": "jaki"}, c, [], {})]
            indexed = [r.id for r in rs.candidates(c, unsure) if rule_matches(r, {"channel": "jaki"}, c, [], {})]
            assert indexed == walked


def test_ten_thousand_rules_decide_like_their_first_match(hub_config, taxonomy) -> None:
    rules = [{"id": f"kec-{i}", "when": {"category": ["roads"], "area": [f"jakarta-utara/k{i}"]},
              "send_to": ["dinas-bina-marga"]} for i in range(10_000)]
    rules.append({"id": "roads", "when": {"category": ["roads"]}, "send_to": ["dinas-sda"]})
    rs = RuleSet.from_config({"version": "big", "triage": "triage", "rules": rules})
    c = Classification("roads", 0.9, Area("jakarta-utara", "k9876", "address"), "normal", {})
    d = decide({"text": "jalan rusak", "channel": "jaki"}, c, rs, hub_config.registry, taxonomy)
    assert d.matched_rules == ("kec-9876",) and d.destinations == ["dinas-bina-marga"]
