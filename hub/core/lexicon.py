"""Reading informal Jakarta text: slang, clauses, negation, contrast, landmarks and typos.

`read` turns a title or a story into `Reading`: normalised words, each with the weight of the
clause it is in and flags for negation and landmarks, so that the vocabulary is matched on what
the complaint is about. Everything it does is driven by `config/lexicon.yaml` and is reported as
`cues`, so an administrator can see why a term did or did not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from hub.core.fuzzy import TypoIndex
from hub.core.text import bases, fold, informal

Phrase = tuple[str, ...]

_SENTENCE = re.compile(r"[.!?\n]+")
_CLAUSE = re.compile(r"[,;:()\[\]]+|\s-\s")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Word:
    """One normalised word and how much it counts where it stands."""

    text: str
    clause: int
    sentence: int = 0
    weight: float = 1.0
    negated: bool = False   # in the scope of bukan/tidak/not: a term here does not count
    absent: bool = False    # in the scope of tidak ada: only emergency cues are cancelled
    landmark: bool = False  # right after depan/dekat/near...: where, not what


@dataclass
class Reading:
    """The words of one text, and the cues that changed how they count."""

    words: list[Word]
    cues: list[str] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        return [w.text for w in self.words]

    def spans(self) -> Iterable[tuple[int, int]]:
        """(start, end) of each clause in `words`: terms never match across a clause border."""
        start = 0
        for i in range(1, len(self.words) + 1):
            if i == len(self.words) or self.words[i].clause != self.words[start].clause:
                yield start, i
                start = i


def phrase_at(words: list[Word], i: int, phrase: Phrase) -> bool:
    """Does `phrase` start at words[i]? The last word may carry a clitic (apinya -> api)."""
    n = len(phrase)
    if i + n > len(words):
        return False
    for k in range(n - 1):
        if words[i + k].text != phrase[k]:
            return False
    return phrase[-1] in bases(words[i + n - 1].text)


def contains(words: list[Word], phrases: Iterable[Phrase], negation_counts: bool = True) -> bool:
    """Whether any phrase occurs in `words` (outside a negation, unless told otherwise)."""
    return any(phrase_at(words, i, p) and not (negation_counts and words[i].absent)
               for p in phrases for i in range(len(words)))


def _phrases(raw: Iterable[str], normalise: Mapping[str, str]) -> list[tuple[str, ...]]:
    out = []
    for phrase in raw:
        words = tuple(w for part in _WORD.findall(fold(phrase)) for w in normalise.get(informal(part), informal(part)).split())
        if words:
            out.append(words)
    return out


def _has(words: list[str], phrases: list[tuple[str, ...]]) -> tuple[int, tuple[str, ...]] | None:
    """Position and phrase of the first phrase found in `words`."""
    for i in range(len(words)):
        for p in phrases:
            if tuple(words[i:i + len(p)]) == p:
                return i, p
    return None


@dataclass
class Lexicon:
    """`config/lexicon.yaml`, ready to read texts with."""

    version: str
    normalise: dict[str, str]
    negators: frozenset[str]
    window: int
    skip: frozenset[str]
    absence: frozenset[str]
    contrast: frozenset[str]
    contrast_at_start: frozenset[str]
    background: list[tuple[str, ...]]
    focus: list[tuple[str, ...]]
    landmarks: list[tuple[str, ...]]
    landmark_window: int
    weights: dict[str, float]
    typos: TypoIndex | None = None

    @classmethod
    def from_config(cls, doc: Mapping[str, Any] | None, base: Mapping[str, str] | None = None) -> "Lexicon":
        """`base` (the taxonomy's spellings of its own terms) wins over the lexicon's slang."""
        doc = doc or EMPTY
        norm = {k.lower(): v.lower() for k, v in (doc.get("normalise") or {}).items()}
        norm.update(base or {})
        neg = doc.get("negation") or {}
        marks = doc.get("landmarks") or {}
        return cls(
            version=str(doc.get("version", "none")),
            normalise=norm,
            negators=frozenset(doc.get("negators") or ()),
            window=int(neg.get("window", 3)),
            skip=frozenset(neg.get("skip") or ()),
            absence=frozenset(neg.get("absence") or ()),
            contrast=frozenset(doc.get("contrast") or ()),
            contrast_at_start=frozenset(doc.get("contrast_at_start") or ()),
            background=_phrases(doc.get("background") or (), norm),
            focus=_phrases(doc.get("focus") or (), norm),
            landmarks=_phrases(marks.get("words") or (), norm),
            landmark_window=int(marks.get("window", 3)),
            weights={"background": 0.35, "focus": 1.3, "landmark": 0.3, **(doc.get("weights") or {})},
        )

    def with_vocabulary(self, words: Iterable[str], fuzzy: Mapping[str, Any] | None) -> "Lexicon":
        """Attach the typo index over the vocabulary's words (built once per configuration)."""
        fuzzy = fuzzy or {}
        known = set(fuzzy.get("known") or ()) | set(self.normalise) | set(self.negators) | self.skip
        self.typos = TypoIndex(words, known, int(fuzzy.get("min_length", 5)), int(fuzzy.get("max_distance", 1)))
        return self

    # -- reading ---------------------------------------------------------------------------------

    def words(self, text: str, corrections: dict[str, str] | None = None) -> list[str]:
        """Normalised words of `text`, typos corrected (no clause analysis)."""
        out: list[str] = []
        for raw in _WORD.findall(fold(text)):
            word = informal(raw)
            if word not in self.normalise and self.typos is not None:
                fixed = self.typos.correct(word)
                if fixed != word:
                    if corrections is not None:
                        corrections[raw] = fixed
                    word = fixed
            out.extend(self.normalise.get(word, word).split())
        return out

    def read(self, text: str) -> Reading:
        """Words with clause weights, negation and landmark flags; the cues that applied."""
        reading = Reading(words=[])
        clause_id = 0
        for sentence_id, sentence in enumerate(_SENTENCE.split(fold(text or ""))):
            clauses: list[list[str]] = []
            kinds: list[str] = []
            for part in _CLAUSE.split(sentence):
                words = self.words(part, reading.corrections)
                if not words:
                    continue
                # a contrast word inside the clause splits it: what came before is background
                for i, w in enumerate(words):
                    if i > 0 and w in self.contrast:
                        clauses.append(words[:i])
                        kinds.append("normal")
                        self._background_before(kinds, reading, w)
                        words = words[i:]
                        break
                if words[0] in self.contrast or words[0] in self.contrast_at_start:
                    self._background_before(kinds, reading, words[0])
                clauses.append(words)
                kinds.append("normal")
            for words, kind in zip(clauses, kinds):
                kind = self._kind(words, kind, reading)
                reading.words.extend(self._flag(words, clause_id, sentence_id, kind, reading))
                clause_id += 1
        return reading

    def _background_before(self, kinds: list[str], reading: Reading, marker: str) -> None:
        if kinds and "background" not in kinds[-1]:
            reading.cues.append(f"contrast: '{marker}' makes the words before it background")
        for i in range(len(kinds)):
            kinds[i] = "background-contrast"

    def _kind(self, words: list[str], kind: str, reading: Reading) -> str:
        focus = _has(words, self.focus)
        if focus:
            reading.cues.append(f"focus: '{' '.join(focus[1])}'")
            return "focus"
        if kind.startswith("background"):
            return "background"
        found = _has(words, self.background)
        if found and not (found[0] > 0 and words[found[0] - 1] in self.negators):
            reading.cues.append(f"background: '{' '.join(found[1])}' (something is fine)")
            return "background"
        return "normal"

    def _flag(self, words: list[str], clause: int, sentence: int, kind: str, reading: Reading) -> list[Word]:
        weight = {"background": self.weights["background"], "focus": self.weights["focus"]}.get(kind, 1.0)
        negated: set[int] = set()
        absent: set[int] = set()
        landmark: set[int] = set()
        for i, w in enumerate(words):
            if w in self.negators:
                scope, is_absence = self._scope(words, i)
                (absent if is_absence else negated).update(scope)
                if scope:
                    covered = " ".join(words[j] for j in sorted(scope))
                    reading.cues.append(f"{'absence' if is_absence else 'negation'}: '{w}' covers '{covered}'")
            for p in self.landmarks:
                if tuple(words[i:i + len(p)]) == p:
                    landmark.update(range(i + len(p), min(len(words), i + len(p) + self.landmark_window)))
        out = []
        for i, w in enumerate(words):
            factor = self.weights["landmark"] if i in landmark else 1.0
            out.append(Word(w, clause, sentence, weight * factor, i in negated, i in absent or i in negated, i in landmark))
        return out

    def _scope(self, words: list[str], at: int) -> tuple[set[int], bool]:
        """Word positions a negator at `at` covers, and whether it is an absence (tidak ada)."""
        scope: set[int] = set()
        used = 0
        absence = False
        j = at + 1
        while j < len(words) and used < self.window:
            w = words[j]
            if w in self.negators or w in self.contrast:
                break
            if w in self.absence and not scope:
                absence = True
            if w not in self.skip:
                used += 1
            scope.add(j)
            j += 1
        return scope, absence


EMPTY: dict[str, Any] = {"version": "none", "normalise": {}, "negators": [], "negation": {"window": 3},
                         "contrast": [], "background": [], "focus": [], "landmarks": {"window": 3, "words": []},
                         "weights": {"background": 1.0, "focus": 1.0, "landmark": 1.0},
                         "fuzzy": {"min_length": 5, "max_distance": 0}}
"""No lexicon: words are read as written, every clause counts the same."""
