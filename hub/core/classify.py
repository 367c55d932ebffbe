"""Classification: category, confidence, area and urgency of a complaint, with the evidence.

Plain functions over plain data. The vocabulary lives in `config/taxonomy.yaml`, where an
administrator can read and edit it; nothing here is trained or hidden. The score of a category
is the sum of the weights of its terms found in the complaint (title words count more), minus
its negative terms, plus a bonus for the category the citizen chose. Every number in the result
can be traced back to terms listed in the evidence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from hub.core.areas import Area, Areas
from hub.core.text import bases, tokens

TITLE_WEIGHT = 1.5
"""Words in the title say more about the topic than words in the story."""

CITIZEN_WEIGHT = 2.0
"""What the citizen chose counts, but clear text (one decisive term) outweighs a wrong pick."""

MIN_SCORE = 1.0
"""Below this the evidence is too thin to name a category: weight-0.5 support terms such as
`jalan` (every address has one) may tip a close call but never decide alone."""

SMOOTHING = 1.0
"""Keeps one stray word from giving full confidence."""


@dataclass(frozen=True)
class Term:
    """A word or phrase; `prefix` makes its last word match any word starting with it."""

    text: str
    words: tuple[str, ...]
    prefix: bool
    weight: float

    @classmethod
    def parse(cls, raw: str | Mapping[str, Any], normalise: Mapping[str, str]) -> "Term":
        text = raw if isinstance(raw, str) else raw["term"]
        prefix = text.endswith("*")
        words = tuple(tokens(text.rstrip("*"), dict(normalise)))
        default = 1.0 if len(words) == 1 else 2.0
        weight = float(default if isinstance(raw, str) else raw["weight"])
        return cls(text, words, prefix, weight)

    def matches_at(self, words: list[str], i: int) -> bool:
        """Whether the term starts at `words[i]`; a word may carry a clitic (`jalannya`)."""
        n = len(self.words)
        if i + n > len(words):
            return False
        for k in range(n - 1):
            if self.words[k] not in bases(words[i + k]):
                return False
        last = words[i + n - 1]
        return last.startswith(self.words[-1]) if self.prefix else self.words[-1] in bases(last)


class TermIndex:
    """Finds which terms occur in a token list without trying every term at every position."""

    def __init__(self, terms: Iterable[tuple[str, Term]]) -> None:
        self._exact: dict[str, list[tuple[str, Term]]] = defaultdict(list)
        self._prefix: list[tuple[str, str, Term]] = []
        for owner, term in terms:
            if not term.words:
                continue
            if len(term.words) == 1 and term.prefix:
                self._prefix.append((term.words[0], owner, term))
            else:
                self._exact[term.words[0]].append((owner, term))

    def find(self, words: list[str]) -> list[tuple[str, Term]]:
        """Distinct (owner, term) pairs present in `words`."""
        found: dict[tuple[str, str], tuple[str, Term]] = {}
        for i, w in enumerate(words):
            for base in bases(w):
                for owner, term in self._exact.get(base, ()):
                    if term.matches_at(words, i):
                        found[(owner, term.text)] = (owner, term)
            for stem, owner, term in self._prefix:
                if w.startswith(stem):
                    found[(owner, term.text)] = (owner, term)
        return list(found.values())


def _terms(by_language: Mapping[str, list[Any]] | None, normalise: Mapping[str, str]) -> list[Term]:
    """All terms of a `{language: [term, ...]}` block; languages only help people read it."""
    return [Term.parse(raw, normalise) for raws in (by_language or {}).values() for raw in raws]


@dataclass
class Taxonomy:
    """The vocabulary from `config/taxonomy.yaml`, indexed for matching."""

    version: str
    category_ids: list[str]
    names: dict[str, dict[str, str]]
    normalise: dict[str, str]
    fallback: str
    index: TermIndex = field(repr=False)
    negative: TermIndex = field(repr=False)
    urgency: TermIndex = field(repr=False)

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> "Taxonomy":
        norm = {k.lower(): v.lower() for k, v in (doc.get("normalise") or {}).items()}
        cats = doc["categories"]
        positive = [(c["id"], t) for c in cats for t in _terms(c["terms"], norm)]
        negative = [(c["id"], t) for c in cats for t in _terms(c.get("negative"), norm)]
        urgency = [(level, t) for level in ("emergency", "urgent")
                   for t in _terms(doc["urgency"][level], norm)]
        return cls(
            version=str(doc["version"]),
            category_ids=[c["id"] for c in cats],
            names={c["id"]: dict(c["name"]) for c in cats},
            normalise=norm,
            fallback=doc.get("fallback_category", "other"),
            index=TermIndex(positive),
            negative=TermIndex(negative),
            urgency=TermIndex(urgency),
        )

    def words(self, text: str) -> list[str]:
        """Tokens of `text` after this taxonomy's informal spellings are normalised."""
        return tokens(text, self.normalise)


@dataclass(frozen=True)
class Classification:
    category: str
    confidence: float
    area: Area | None
    urgency: str
    evidence: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "confidence": self.confidence,
            "area": self.area.as_dict() if self.area else None,
            "urgency": self.urgency,
            "evidence": self.evidence,
        }


def score(complaint: Mapping[str, Any], taxonomy: Taxonomy) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Score every category by the weight of its terms found in the title and text.

    Each term counts once per complaint (at the title's weight if it is in the title), so a
    long story repeating one word does not drown a short, clear title. Negative terms are
    listed in the evidence with a leading `-`, so an administrator sees why a score dropped.
    """
    scores: dict[str, float] = defaultdict(float)
    matched: dict[str, list[str]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for part, factor in (("title", TITLE_WEIGHT), ("text", 1.0)):
        words = taxonomy.words(complaint.get(part) or "")
        for sign, index in ((1.0, taxonomy.index), (-1.0, taxonomy.negative)):
            for cat, term in index.find(words):
                label = term.text if sign > 0 else "-" + term.text
                if (cat, label) in seen:
                    continue
                seen.add((cat, label))
                scores[cat] += sign * term.weight * factor
                matched[cat].append(label)
    return dict(scores), dict(matched)


def urgency_of(complaint: Mapping[str, Any], taxonomy: Taxonomy) -> tuple[str, list[str]]:
    """The highest urgency level any urgency term points to, and the terms found."""
    words = taxonomy.words(f"{complaint.get('title') or ''} {complaint.get('text') or ''}")
    found = taxonomy.urgency.find(words)
    levels = {level for level, _ in found}
    level = "emergency" if "emergency" in levels else "urgent" if "urgent" in levels else "normal"
    return level, sorted({term.text for _, term in found})


def decide(scores: Mapping[str, float], taxonomy: Taxonomy) -> tuple[str, float]:
    """Best category and a confidence: its share of all positive evidence.

    Ties go to the category listed first in the taxonomy, so results never depend on dict
    order. Too little evidence gives the fallback category with confidence 0, which the rules
    send to a person rather than guess.
    """
    positive = {c: s for c, s in scores.items() if s > 0}
    if not positive:
        return taxonomy.fallback, 0.0
    category, best = min(positive.items(), key=lambda kv: (-kv[1], taxonomy.category_ids.index(kv[0])))
    if best < MIN_SCORE:
        return taxonomy.fallback, 0.0
    return category, best / (sum(positive.values()) + SMOOTHING)


def classify(complaint: Mapping[str, Any], taxonomy: Taxonomy, areas: Areas) -> Classification:
    """Category (weighing the citizen's choice against the text), confidence, area, urgency."""
    scores, matched = score(complaint, taxonomy)
    chosen = complaint.get("category")
    citizen = chosen if chosen in taxonomy.category_ids else None
    if citizen:
        scores[citizen] = scores.get(citizen, 0.0) + CITIZEN_WEIGHT
    category, confidence = decide(scores, taxonomy)
    urgency, urgency_terms = urgency_of(complaint, taxonomy)
    top = sorted(((c, s) for c, s in scores.items() if s > 0), key=lambda kv: -kv[1])[:5]
    evidence = {
        "matches": matched,
        "urgency_terms": urgency_terms,
        "citizen_category": chosen,
        "scores": {c: round(s, 2) for c, s in top},
    }
    return Classification(
        category=category,
        confidence=round(min(max(confidence, 0.0), 1.0), 3),
        area=areas.locate(complaint.get("location")),
        urgency=urgency,
        evidence=evidence,
    )
