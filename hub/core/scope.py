"""Out of scope: matters that are not the province's business go to triage with the reason.

Pure: readings from the lexicon in, the matter (or None) out. The matters live in
`config/scope.yaml`. Only the clauses that carry the complaint count: a toll road mentioned as
fine ("jalan tol ga macet, yang macet jalan arteri") keeps the complaint in scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from hub.core.lexicon import Lexicon, Phrase, PhraseSet, Reading, Word, contains

FINE_AFTER = 2
"""A negated problem word this close after a term says the thing is fine (`jalan tol ga macet`)."""


@dataclass(frozen=True)
class Matter:
    id: str
    terms: PhraseSet
    with_: PhraseSet
    unless_located: bool
    reason: Mapping[str, str]


@dataclass(frozen=True)
class OutOfScope:
    matter: str
    term: str
    reason: str

    def as_evidence(self) -> dict[str, str]:
        return {"matter": self.matter, "term": self.term, "reason": self.reason}


class Scope:
    def __init__(self, matters: list[Matter], negators: frozenset[str], problems: frozenset[str] = frozenset()) -> None:
        self.matters = matters
        self._all = PhraseSet(p for m in matters for p in m.terms.phrases)  # one pass finds any matter's term
        self.negators = negators
        self.problems = problems - negators

    @classmethod
    def from_config(cls, doc: Mapping[str, Any] | None, lexicon: Lexicon) -> "Scope":
        def phrases(raw: Iterable[str] | None) -> tuple[Phrase, ...]:
            return tuple(p for p in (tuple(lexicon.words(r)) for r in raw or ()) if p)

        matters = [Matter(m["id"], PhraseSet(phrases(m["terms"])), PhraseSet(phrases(m.get("with"))),
                          bool(m.get("unless_located")), dict(m["reason"])) for m in (doc or {}).get("matters", [])]
        return cls(matters, lexicon.negators, lexicon.problems)

    def check(self, readings: Iterable[Reading], located_in_jakarta: bool) -> OutOfScope | None:
        """The first matter the complaint's main clauses name, or None when it is in scope."""
        readings = list(readings)
        if not self._named(readings, self._all):
            return None
        everything = [w for r in readings for w in r.words]
        for matter in self.matters:
            if matter.unless_located and located_in_jakarta:
                continue
            term = self._named(readings, matter.terms)
            if term and (not matter.with_ or contains(everything, matter.with_)):
                return OutOfScope(matter.id, term, matter.reason.get("en") or next(iter(matter.reason.values())))
        return None

    def _named(self, readings: list[Reading], terms: PhraseSet) -> str | None:
        for reading in readings:
            words = reading.words
            texts = reading.texts
            for i, w in enumerate(words):
                if w.absent or w.landmark or w.weight < 1.0:
                    continue
                term = terms.at(texts, i)
                if term and not self._said_fine(words, i + len(term), w):
                    return " ".join(term)
        return None

    def _said_fine(self, words: list[Word], after: int, first: Word) -> bool:
        for j in range(after, min(len(words), after + FINE_AFTER)):
            if words[j].text in self.negators and words[j].clause == first.clause:
                return j + 1 < len(words) and words[j + 1].text in self.problems
        return False
