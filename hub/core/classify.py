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
from hub.core.emergency import Alarm, Detector
from hub.core.gazetteer import Gazetteer
from hub.core.lexicon import Lexicon, Reading
from hub.core.scope import Scope
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
        self._prefix: dict[str, list[tuple[str, str, Term]]] = defaultdict(list)  # by the stem's first 3 letters
        self.words: set[str] = set()
        for owner, term in terms:
            if not term.words:
                continue
            self.words.update(term.words)
            if len(term.words) == 1 and term.prefix:
                self._prefix[term.words[0][:3]].append((term.words[0], owner, term))
            else:
                self._exact[term.words[0]].append((owner, term))

    def find_at(self, words: list[str]) -> list[tuple[str, Term, int]]:
        """Every (owner, term, position) where a term starts in `words`."""
        found: list[tuple[str, Term, int]] = []
        for i, w in enumerate(words):
            for base in bases(w):
                for owner, term in self._exact.get(base, ()):
                    if term.matches_at(words, i):
                        found.append((owner, term, i))
            for stem, owner, term in self._prefix.get(w[:3], ()):
                if w.startswith(stem):
                    found.append((owner, term, i))
        return found

    def find(self, words: list[str]) -> list[tuple[str, Term]]:
        """Distinct (owner, term) pairs present in `words`."""
        return list({(o, t.text): (o, t) for o, t, _ in self.find_at(words)}.values())


def _terms(by_language: Mapping[str, list[Any]] | None, normalise: Mapping[str, str]) -> list[Term]:
    """All terms of a `{language: [term, ...]}` block; languages only help people read it."""
    return [Term.parse(raw, normalise) for raws in (by_language or {}).values() for raw in raws]


@dataclass
class Taxonomy:
    """The vocabulary from `config/taxonomy.yaml`, indexed for matching, with what reads the text
    before it (the lexicon) and what reads beside it (emergency cues, scope, places, the model)."""

    version: str
    category_ids: list[str]
    names: dict[str, dict[str, str]]
    normalise: dict[str, str]
    fallback: str
    index: TermIndex = field(repr=False)
    negative: TermIndex = field(repr=False)
    urgency: TermIndex = field(repr=False)
    lexicon: Lexicon = field(repr=False, default_factory=lambda: Lexicon.from_config(None))
    detector: Detector | None = field(repr=False, default=None)
    scope: Scope | None = field(repr=False, default=None)
    gazetteer: Gazetteer | None = field(repr=False, default=None)
    model: Any = field(repr=False, default=None)

    @classmethod
    def from_config(cls, doc: Mapping[str, Any], lexicon: Mapping[str, Any] | None = None) -> "Taxonomy":
        """The taxonomy's own `normalise` spells its terms; the lexicon adds how people write."""
        base = {k.lower(): v.lower() for k, v in (doc.get("normalise") or {}).items()}
        lex = Lexicon.from_config(lexicon, base=base)
        norm = lex.normalise
        cats = doc["categories"]
        positive = [(c["id"], t) for c in cats for t in _terms(c["terms"], norm)]
        negative = [(c["id"], t) for c in cats for t in _terms(c.get("negative"), norm)]
        urgency = [(level, t) for level in ("emergency", "urgent")
                   for t in _terms(doc["urgency"][level], norm)]
        index = TermIndex(positive)
        lex.with_vocabulary(index.words, (lexicon or {}).get("fuzzy"))
        return cls(
            version=str(doc["version"]),
            category_ids=[c["id"] for c in cats],
            names={c["id"]: dict(c["name"]) for c in cats},
            normalise=norm,
            fallback=doc.get("fallback_category", "other"),
            index=index,
            negative=TermIndex(negative),
            urgency=TermIndex(urgency),
            lexicon=lex,
        )

    def words(self, text: str) -> list[str]:
        """Normalised words of `text` (slang, spellings and typos), as rule keywords see them."""
        return self.lexicon.words(text)


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


@dataclass
class Scored:
    """Category scores of one complaint and everything that explains them."""

    scores: dict[str, float]
    matched: dict[str, list[str]]
    negated: list[str]
    readings: list[Reading]
    cues: list[str]
    corrections: dict[str, str]


def score(complaint: Mapping[str, Any], taxonomy: Taxonomy) -> Scored:
    """Score every category by the weight of its terms found in the title and text.

    Each term counts once per complaint, at the best place it occurs: title words count
    TITLE_WEIGHT, a clause that says something is fine (or comes before `tapi`) counts less, a
    term right after `depan`/`dekat` names a landmark and counts less, a negated term (`bukan
    sampah`) does not count. When every match is discounted, the strongest is scaled back to
    full weight, so discounts only ever shift the balance between categories. Negative terms
    are listed with a leading `-`, discounts as `term ×0.35`.
    """
    best: dict[tuple[str, str], tuple[float, float, str]] = {}  # (cat, label) -> (weight, factor, label)
    negated: list[str] = []
    in_text: dict[tuple[str, str], float] = {}  # how the story counts a term: the title follows it
    readings = []
    for part, part_factor in (("text", 1.0), ("title", TITLE_WEIGHT)):
        reading = taxonomy.lexicon.read(complaint.get(part) or "")
        readings.append(reading)
        texts = reading.texts
        for start, end in reading.spans():
            words = texts[start:end]
            for sign, index in ((1.0, taxonomy.index), (-1.0, taxonomy.negative)):
                for cat, term, i in index.find_at(words):
                    word = reading.words[start + i]
                    label = term.text if sign > 0 else "-" + term.text
                    key = (cat, label)
                    if sign > 0 and word.negated and term.words[0] not in taxonomy.lexicon.negators:
                        negated.append(f"{term.text} ({cat})")
                        if part == "text":
                            in_text.setdefault(key, 0.0)
                        continue
                    factor = word.weight if sign > 0 else 1.0
                    if part == "text":
                        in_text[key] = max(in_text.get(key, 0.0), factor)
                    elif key in in_text:  # "sekolah" in the title, "depan sekolah" in the story
                        factor = min(factor, in_text[key])
                    if factor <= 0:
                        continue
                    if key not in best or best[key][0] < term.weight * part_factor * factor:
                        best[key] = (term.weight * part_factor * factor, factor, label)
    readings.reverse()  # title, text
    strongest = max((f for (c, l), (_, f, _) in best.items() if not l.startswith("-")), default=1.0)
    rescale = 1.0 / strongest if 0 < strongest < 1.0 else 1.0
    scores: dict[str, float] = defaultdict(float)
    matched: dict[str, list[str]] = defaultdict(list)
    for (cat, label), (weight, factor, _) in best.items():
        if label.startswith("-"):
            scores[cat] -= weight
            matched[cat].append(label)
            continue
        scores[cat] += weight * rescale
        matched[cat].append(label if factor * rescale >= 0.999 else f"{label} ×{factor * rescale:.2f}")
    cues = [c for r in readings for c in r.cues]
    corrections = {k: v for r in readings for k, v in r.corrections.items()}
    return Scored(dict(scores), dict(matched), sorted(set(negated)), readings, cues, corrections)


def urgency_of(readings: list[Reading], taxonomy: Taxonomy, alarm: Alarm) -> tuple[str, list[str]]:
    """The detector's level first; else the highest level any urgency term names, outside a
    negation and a background clause ("dulu pernah banjir"); a title word the story negates
    ("banjir" / "ga banjir kok") does not count either."""
    found: dict[tuple[str, str], bool] = {}  # (level, term) -> counts
    for reading in reversed(readings):  # the text, then the title
        for level, term, i in taxonomy.urgency.find_at(reading.texts):
            word = reading.words[i]
            counts = not word.absent and word.kind != "background"
            found[(level, term.text)] = found.get((level, term.text), counts) if reading is readings[0] else (
                found.get((level, term.text), False) or counts)
    levels = {level for (level, _), counts in found.items() if counts}
    if alarm.level == "emergency" or "emergency" in levels:
        level = "emergency"
    elif alarm.level == "rescue" or "urgent" in levels:
        level = "urgent"
    else:
        level = "normal"
    return level, sorted({text for (_, text), counts in found.items() if counts})


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


def locate(complaint: Mapping[str, Any], taxonomy: Taxonomy, areas: Areas) -> tuple[Area | None, str | None]:
    """Location fields first (address parts, coordinates); else places named in them or the text."""
    area = areas.locate(complaint.get("location"))
    if area is not None or taxonomy.gazetteer is None:
        return area, None
    return taxonomy.gazetteer.locate(complaint.get("location"), complaint.get("title") or "", complaint.get("text") or "")


def classify(complaint: Mapping[str, Any], taxonomy: Taxonomy, areas: Areas) -> Classification:
    """Category (weighing the citizen's choice, emergency cues and the model against the text),
    confidence, area, urgency, and whether it is the province's business at all."""
    scored = score(complaint, taxonomy)
    scores = dict(scored.scores)
    alarm = taxonomy.detector.detect(scored.readings) if taxonomy.detector else Alarm()
    for category, extra in alarm.bonus.items():
        scores[category] = scores.get(category, 0.0) + extra
    chosen = complaint.get("category")
    citizen = chosen if chosen in taxonomy.category_ids else None
    if citizen:
        scores[citizen] = scores.get(citizen, 0.0) + CITIZEN_WEIGHT
    opinion = taxonomy.model.opinion(complaint) if taxonomy.model is not None else None
    if opinion and alarm.level is None:  # the model never overrides an emergency or a rescue
        scores = blend(scores, opinion, taxonomy.model.weight)
    category, confidence = decide(scores, taxonomy)
    urgency, urgency_terms = urgency_of(scored.readings, taxonomy, alarm)
    area, place = locate(complaint, taxonomy, areas)
    out = None
    if taxonomy.scope is not None and urgency != "emergency":
        located = area is not None and area.source != "text"
        out = taxonomy.scope.check(scored.readings, located)
    top = sorted(((c, s) for c, s in scores.items() if s > 0), key=lambda kv: -kv[1])[:5]
    evidence: dict[str, Any] = {
        "matches": scored.matched,
        "urgency_terms": urgency_terms,
        "citizen_category": chosen,
        "scores": {c: round(s, 2) for c, s in top},
    }
    if scored.negated:
        evidence["negated"] = scored.negated
    if scored.cues:
        evidence["cues"] = scored.cues
    if scored.corrections:
        evidence["corrections"] = scored.corrections
    if alarm.cues or alarm.cancelled:
        evidence["emergency"] = alarm.as_evidence()
    if place:
        evidence["place"] = place
    if out:
        evidence["out_of_scope"] = out.as_evidence()
    if opinion:
        evidence["model"] = taxonomy.model.as_evidence(opinion, used=alarm.level is None)
    return Classification(
        category=category,
        confidence=round(min(max(confidence, 0.0), 1.0), 3),
        area=area,
        urgency=urgency,
        evidence=evidence,
    )


def blend(scores: Mapping[str, float], opinion: Mapping[str, float], weight: float) -> dict[str, float]:
    """The vocabulary's scores plus `weight` points spread by the model's probabilities.

    The vocabulary stays the base: the model can tip a close call or fill a silence, never
    outvote a decisive term, and it never touches urgency (an emergency stays one).
    """
    out = dict(scores)
    for category, p in opinion.items():
        if p >= 0.05:
            out[category] = out.get(category, 0.0) + weight * p
    return out
