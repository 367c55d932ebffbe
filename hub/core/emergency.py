"""The emergency detector: fire, smoke, sparks, electrocution, people trapped, hurt or drowning,
collapse, gas with ignition, water rising inside homes; and everyday rescues.

Pure: readings from the lexicon in, an `Alarm` out. The cues live in `config/emergency.yaml`.
Whatever the category turns out to be, an emergency makes the urgency `emergency` (so the rules
add the fire-rescue office and BPBD) and a rescue makes it `urgent` with the fire-rescue office
favoured. A negated cue ("bukan kebakaran", "ga ada api") is listed as cancelled, never counted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from hub.core.lexicon import Lexicon, Phrase, PhraseSet, Reading, Word, contains as _any, phrase_at as _at
from hub.core.text import bases


@dataclass(frozen=True)
class Cue:
    id: str
    level: str
    terms: tuple[Phrase, ...]
    with_: PhraseSet = PhraseSet(())
    requires: PhraseSet = PhraseSet(())
    except_: tuple[Phrase, ...] = ()
    unless: PhraseSet = PhraseSet(())
    bonus: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Alarm:
    """What the detector found: the level (emergency, rescue or None) and why."""

    level: str | None = None
    cues: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()
    bonus: Mapping[str, float] = field(default_factory=dict)

    def as_evidence(self) -> dict[str, Any]:
        return {"level": self.level, "cues": list(self.cues), "cancelled": list(self.cancelled)}


class Detector:
    """`config/emergency.yaml`, indexed by the first word of each term."""

    def __init__(self, cues: list[Cue]) -> None:
        self.cues = cues
        self._first: dict[str, list[tuple[Cue, Phrase]]] = defaultdict(list)
        for cue in cues:
            for term in cue.terms:
                self._first[term[0]].append((cue, term))

    @classmethod
    def from_config(cls, doc: Mapping[str, Any] | None, lexicon: Lexicon) -> "Detector":
        def phrases(raw: Iterable[str] | None) -> tuple[Phrase, ...]:
            return tuple(p for p in (tuple(lexicon.words(r)) for r in raw or ()) if p)

        cues = [Cue(c["id"], c["level"], phrases(c["terms"]), PhraseSet(phrases(c.get("with"))),
                    PhraseSet(phrases(c.get("requires"))), phrases(c.get("except")), PhraseSet(phrases(c.get("unless"))),
                    dict(c.get("bonus") or {}))
                for c in (doc or {}).get("cues", [])]
        return cls(cues)

    def detect(self, readings: Iterable[Reading]) -> Alarm:
        found: dict[str, str] = {}
        cancelled: dict[str, str] = {}
        everything = [w for r in readings for w in r.words]
        by_sentence: dict[tuple[int, int], list[Word]] = defaultdict(list)
        for n, r in enumerate(readings):
            for w in r.words:
                by_sentence[(n, w.sentence)].append(w)
        for (_, _), sentence in by_sentence.items():
            texts = [w.text for w in sentence]
            for i, word in enumerate(sentence):
                for base in bases(word.text):
                    for cue, term in self._first.get(base, ()):
                        if cue.id in found or not _at(texts, i, term):
                            continue
                        label = f"{cue.id}: '{' '.join(term)}'"
                        if self._excepted(sentence, texts, i, cue):
                            continue
                        if word.absent:
                            cancelled.setdefault(cue.id, label + " (negated)")
                            continue
                        if cue.with_ and not _any(sentence, cue.with_):
                            continue
                        if cue.requires and not _any(everything, cue.requires):
                            continue
                        found[cue.id] = label
        hits = [c for c in self.cues if c.id in found]
        level = ("emergency" if any(c.level == "emergency" for c in hits)
                 else "rescue" if hits else None)
        bonus: dict[str, float] = defaultdict(float)
        for cue in hits:
            for category, extra in cue.bonus.items():  # the strongest cue's, not their sum
                bonus[category] = max(bonus[category], extra) if extra > 0 else min(bonus[category], extra)
        return Alarm(level, tuple(found[c.id] for c in hits),
                     tuple(v for k, v in cancelled.items() if k not in found), dict(bonus))

    @staticmethod
    def _excepted(sentence: list[Word], texts: list[str], i: int, cue: Cue) -> bool:
        if cue.unless and _any(sentence, cue.unless, negation_counts=False):
            return True
        for phrase in cue.except_:
            for start in range(max(0, i - len(phrase) + 1), i + 1):
                if _at(texts, start, phrase):
                    return True
        return False
