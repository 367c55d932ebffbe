"""Routing rules: ordered, explainable decisions of where a classified complaint goes.

Pure: a rule set and a classified complaint in, a decision out. `check` finds the mistakes an
administrator can make in a rule set before it can misroute anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

from hub.core.areas import matches as area_matches
from hub.core.classify import Classification, Taxonomy
from hub.core.destinations import Registry
from hub.core.errors import ConfigProblem
from hub.core.text import tokens

CONDITIONS = ("category", "area", "urgency", "channel", "keywords")


@dataclass(frozen=True)
class Rule:
    id: str
    send_to: tuple[str, ...]
    when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    stop: bool = True
    description: str = ""

    def describe(self) -> str:
        if not self.when:
            return "matches every complaint"
        parts = [f"{k} in [{', '.join(v)}]" for k, v in self.when.items()]
        return " and ".join(parts)


@dataclass(frozen=True)
class RuleSet:
    version: str
    triage: str
    min_confidence: float
    rules: tuple[Rule, ...]

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> "RuleSet":
        return cls(
            version=str(doc["version"]),
            triage=doc["triage"],
            min_confidence=float(doc.get("min_confidence", 0.3)),
            rules=tuple(
                Rule(
                    id=r["id"],
                    send_to=tuple(r["send_to"]),
                    when={k: tuple(v) for k, v in (r.get("when") or {}).items()},
                    stop=r.get("stop", True),
                    description=r.get("description", ""),
                )
                for r in doc["rules"]
            ),
        )

    @cached_property
    def _index(self) -> dict[tuple[str, str], list[int]]:
        """Rule positions by (category, area ref), "*" where a rule does not ask; built once."""
        index: dict[tuple[str, str], list[int]] = {}
        for position, rule in enumerate(self.rules):
            areas = {city if not kec else f"{city}/{kec}"
                     for city, _, kec in (ref.partition("/") for ref in rule.when.get("area", ("*",)))}
            for category in rule.when.get("category", ("*",)):
                for area in areas:
                    index.setdefault((category, area), []).append(position)
        return index

    def candidates(self, c: Classification, unsure: bool) -> list[Rule]:
        """The rules that can match `c`, in rule-set order, so that decide() need not try all of
        them: a rule naming other categories or other areas is never a candidate."""
        categories = ("*",) if unsure else ("*", c.category)
        areas = ("*",) if c.area is None else ("*", c.area.city, f"{c.area.city}/{c.area.kecamatan}")
        positions = {p for cat in categories for area in areas for p in self._index.get((cat, area), ())}
        return [self.rules[p] for p in sorted(positions)]


@dataclass(frozen=True)
class Target:
    """One recipient of a decision, with the rule that chose it and why."""

    destination: str
    rule_id: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"destination": self.destination, "rule_id": self.rule_id, "reason": self.reason}


@dataclass(frozen=True)
class Decision:
    ruleset_version: str
    targets: tuple[Target, ...]
    matched_rules: tuple[str, ...]
    reason: str

    @property
    def destinations(self) -> list[str]:
        return [t.destination for t in self.targets]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ruleset_version": self.ruleset_version,
            "targets": [t.as_dict() for t in self.targets],
            "matched_rules": list(self.matched_rules),
            "reason": self.reason,
        }


def _phrase_in(phrase: str, words: list[str], normalise: Mapping[str, str]) -> bool:
    needle = tokens(phrase, dict(normalise))
    n = len(needle)
    return n > 0 and any(words[i:i + n] == needle for i in range(len(words) - n + 1))


def rule_matches(rule: Rule, complaint: Mapping[str, Any], c: Classification, words: list[str],
                 normalise: Mapping[str, str]) -> bool:
    w = rule.when
    if "category" in w and c.category not in w["category"]:
        return False
    if "urgency" in w and c.urgency not in w["urgency"]:
        return False
    if "channel" in w and complaint.get("channel") not in w["channel"]:
        return False
    if "area" in w and not area_matches(c.area, w["area"]):
        return False
    if "keywords" in w and not any(_phrase_in(k, words, normalise) for k in w["keywords"]):
        return False
    return True


def decide(complaint: Mapping[str, Any], c: Classification, ruleset: RuleSet, registry: Registry,
           taxonomy: Taxonomy) -> Decision:
    """Walk the rules in order; collect recipients until a matching rule stops; else triage.

    A complaint the classifier found to be outside the province's remit (and not an emergency)
    goes to triage with the reason, so a person can tell the citizen who does handle it.
    """
    out = c.evidence.get("out_of_scope")
    if out and c.urgency != "emergency":
        reason = f"not the province's business ({out['matter']}, '{out['term']}'): {out['reason']}"
        return Decision(ruleset.version, (Target(ruleset.triage, "out-of-scope", reason),), (), reason)
    unsure = c.confidence < ruleset.min_confidence
    words = taxonomy.words(f"{complaint.get('title') or ''} {complaint.get('text') or ''}")
    targets: dict[str, Target] = {}
    matched: list[str] = []
    # When the category is uncertain, only rules that do not depend on it may act
    # (an emergency is copied to BPBD whatever it turns out to be about).
    for rule in ruleset.candidates(c, unsure):
        if not rule_matches(rule, complaint, c, words, taxonomy.normalise):
            continue
        matched.append(rule.id)
        for ref in rule.send_to:
            res = registry.resolve(ref, c.area)
            reason = f"rule {rule.id}: {rule.describe()}"
            if res.note:
                reason += f"; {ref} -> {res.destination.id} ({res.note})"
            targets.setdefault(res.destination.id, Target(res.destination.id, rule.id, reason))
        if rule.stop:
            break
    if unsure:
        reason = (f"classified as {c.category} with confidence {c.confidence:.2f}, below "
                  f"{ruleset.min_confidence:.2f}: a person decides")
        triage = Target(ruleset.triage, "low-confidence", reason)
        return Decision(ruleset.version, (triage, *(t for t in targets.values() if t.destination != ruleset.triage)),
                        tuple(matched), reason)
    if not targets:
        reason = f"no rule matched category {c.category}: a person decides"
        return Decision(ruleset.version, (Target(ruleset.triage, "fallback", reason),), tuple(matched), reason)
    summary = "; ".join(f"{t.destination} by rule {t.rule_id}" for t in targets.values())
    return Decision(ruleset.version, tuple(targets.values()), tuple(matched), summary)


def _covers(earlier: Rule, later: Rule) -> bool:
    """Does every complaint matching `later` also match `earlier`?"""
    for cond in CONDITIONS:
        if cond not in earlier.when:
            continue
        if cond not in later.when:
            return False
        e, l_ = set(earlier.when[cond]), set(later.when[cond])
        if cond == "area":
            # A city covers its kecamatan refs.
            if not all(x in e or x.partition("/")[0] in e for x in l_):
                return False
        elif not l_ <= e:
            return False
    return True


def check(ruleset: RuleSet, registry: Registry, taxonomy: Taxonomy, areas_known: Any,
          file: str = "rules.yaml") -> list[ConfigProblem]:
    """Unknown destinations, categories, areas; categories no rule reaches; shadowed rules."""
    problems: list[ConfigProblem] = []
    if ruleset.triage not in registry:
        problems.append(ConfigProblem(file, "triage", f"unknown destination {ruleset.triage!r}"))
    seen_ids: set[str] = set()
    for i, rule in enumerate(ruleset.rules):
        at = f"rules[{i}]"
        if rule.id in seen_ids:
            problems.append(ConfigProblem(file, f"{at}.id", f"duplicate rule id {rule.id!r}"))
        seen_ids.add(rule.id)
        for j, ref in enumerate(rule.send_to):
            if not registry.is_reference(ref):
                problems.append(ConfigProblem(file, f"{at}.send_to[{j}]",
                                              f"unknown destination {ref!r} in rule {rule.id!r}"))
        for j, cat in enumerate(rule.when.get("category", ())):
            if cat not in taxonomy.category_ids:
                problems.append(ConfigProblem(file, f"{at}.when.category[{j}]",
                                              f"unknown category {cat!r} in rule {rule.id!r}"))
        for j, ref in enumerate(rule.when.get("area", ())):
            if not areas_known(ref):
                problems.append(ConfigProblem(file, f"{at}.when.area[{j}]",
                                              f"unknown area {ref!r} in rule {rule.id!r}"))
        for k, earlier in enumerate(ruleset.rules[:i]):
            if earlier.stop and _covers(earlier, rule):
                problems.append(ConfigProblem(
                    file, at, f"rule {rule.id!r} is shadowed by rules[{k}] {earlier.id!r}, "
                              "which matches everything it matches and stops", "error"))
                break
    stopping_catch_all = any(r.stop and "category" not in r.when for r in ruleset.rules)
    if not stopping_catch_all:
        reached = {c for r in ruleset.rules for c in r.when.get("category", ())}
        for cat in taxonomy.category_ids:
            if cat not in reached:
                problems.append(ConfigProblem(
                    file, "rules", f"no rule reaches category {cat!r}: add a rule for it (one that "
                                   f"sends it to {ruleset.triage!r} if a person should decide)"))
    return problems


def alternatives(complaint: Mapping[str, Any], c: Classification, ruleset: RuleSet, registry: Registry,
                 taxonomy: Taxonomy, exclude: set[str] | frozenset[str]) -> tuple[Target, ...]:
    """After a rejection or transfer: the first matching rule that still names someone not in
    `exclude` (those who refused it or hold it already), with only those destinations; else ()."""
    unsure = c.confidence < ruleset.min_confidence
    words = taxonomy.words(f"{complaint.get('title') or ''} {complaint.get('text') or ''}")
    for rule in ruleset.rules:
        if unsure and "category" in rule.when:
            continue
        if not rule_matches(rule, complaint, c, words, taxonomy.normalise):
            continue
        found: dict[str, Target] = {}
        for ref in rule.send_to:
            res = registry.resolve(ref, c.area)
            if res.destination.id in exclude:
                continue
            reason = f"rule {rule.id}: {rule.describe()}, after {', '.join(sorted(exclude))} had it"
            found.setdefault(res.destination.id, Target(res.destination.id, rule.id, reason))
        if found:
            return tuple(found.values())
    return ()
