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


@dataclass(slots=True)
class Word:
    """One normalised word and how much it counts where it stands."""

    text: str
    clause: int
    sentence: int = 0
    weight: float = 1.0
    negated: bool = False   # in the scope of bukan/tidak/not: a term here does not count
    absent: bool = False    # in the scope of tidak ada: only emergency cues are cancelled
    landmark: bool = False  # right after depan/dekat/near...: where, not what
    kind: str = "normal"    # of its clause: normal, context, background or focus


@dataclass
class Reading:
    """The words of one text, and the cues that changed how they count."""

    words: list[Word]
    cues: list[str] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)
    _texts: list[str] | None = field(default=None, repr=False)

    @property
    def texts(self) -> list[str]:
        if self._texts is None or len(self._texts) != len(self.words):
            self._texts = [w.text for w in self.words]
        return self._texts

    def spans(self) -> Iterable[tuple[int, int]]:
        """(start, end) of each clause in `words`: terms never match across a clause border."""
        start = 0
        for i in range(1, len(self.words) + 1):
            if i == len(self.words) or self.words[i].clause != self.words[start].clause:
                yield start, i
                start = i


def phrase_at(words: list[str], i: int, phrase: Phrase) -> bool:
    """Does `phrase` start at words[i]? The last word may carry a clitic (apinya -> api)."""
    n = len(phrase)
    if i + n > len(words):
        return False
    for k in range(n - 1):
        if words[i + k] != phrase[k]:
            return False
    return phrase[-1] in bases(words[i + n - 1])


class PhraseSet:
    """Phrases indexed by their first word, so finding them costs one lookup per word."""

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        self.phrases = tuple(phrases)
        self._single = {p for p in self.phrases if len(p) == 1}
        self._first: dict[str, list[Phrase]] = {}
        for p in self.phrases:
            self._first.setdefault(p[0], []).append(p)

    def __bool__(self) -> bool:
        return bool(self.phrases)

    def at(self, words: list[str], i: int) -> Phrase | None:
        """The longest phrase starting at words[i], if any."""
        text = words[i]
        best: Phrase | None = None
        for p in self._first.get(text, ()):
            if (best is None or len(p) > len(best)) and phrase_at(words, i, p):
                best = p
        if best is None and len(text) > 3:  # a one-word phrase may carry a clitic (apinya)
            for base in bases(text)[1:]:
                if (base,) in self._single:
                    return (base,)
        return best

    def first(self, texts: list[str], words: list[Word] | None = None) -> tuple[int, Phrase] | None:
        """The first phrase in `texts`; with `words`, skipping negated positions."""
        for i in range(len(texts)):
            if words is not None and words[i].absent:
                continue
            p = self.at(texts, i)
            if p:
                return i, p
        return None


def contains(words: list[Word], phrases: PhraseSet, negation_counts: bool = True) -> bool:
    """Whether any phrase occurs in `words` (outside a negation, unless told otherwise)."""
    texts = [w.text for w in words]
    return phrases.first(texts, words if negation_counts else None) is not None


def _phrases(raw: Iterable[str], normalise: Mapping[str, str]) -> list[tuple[str, ...]]:
    out = []
    for phrase in raw:
        words = tuple(w for part in _WORD.findall(fold(phrase)) for w in normalise.get(informal(part), informal(part)).split())
        if words:
            out.append(words)
    return out


def _has(words: list[str], phrases: "PhraseSet") -> tuple[int, Phrase] | None:
    """Position and phrase of the first phrase found in `words`."""
    return phrases.first(words)


@dataclass
class Lexicon:
    """`config/lexicon.yaml`, ready to read texts with."""

    version: str
    normalise: dict[str, str]
    negators: frozenset[str]
    window: int
    noun_negators: frozenset[str]
    noun_window: int
    skip: frozenset[str]
    absence: frozenset[str]
    contrast: frozenset[str]
    contrast_at_start: frozenset[str]
    background: "PhraseSet"
    focus: "PhraseSet"
    landmarks: "PhraseSet"
    landmark_window: int
    weights: dict[str, float]
    problems: frozenset[str]
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
            window=int(neg.get("window", 1)),
            noun_negators=frozenset(neg.get("nouns") or ()),
            noun_window=int(neg.get("noun_window", 3)),
            skip=frozenset(neg.get("skip") or ()),
            absence=frozenset(neg.get("absence") or ()),
            contrast=frozenset(doc.get("contrast") or ()),
            contrast_at_start=frozenset(doc.get("contrast_at_start") or ()),
            background=PhraseSet(_phrases(doc.get("background") or (), norm)),
            focus=PhraseSet(_phrases(doc.get("focus") or (), norm)),
            landmarks=PhraseSet(_phrases(marks.get("words") or (), norm)),
            landmark_window=int(marks.get("window", 3)),
            weights={"background": 0.35, "focus": 1.3, "landmark": 0.3, "context": 1.0, **(doc.get("weights") or {})},
            problems=frozenset(w for p in _phrases(doc.get("problems") or (), norm) for w in p),
        )

    def with_vocabulary(self, words: Iterable[str], fuzzy: Mapping[str, Any] | None) -> "Lexicon":
        """Attach the typo index over the vocabulary's words (built once per configuration)."""
        fuzzy = fuzzy or {}
        known = set(fuzzy.get("known") or ()) | set(self.normalise) | set(self.negators) | self.skip
        self.typos = TypoIndex(words, known, int(fuzzy.get("min_length", 5)), int(fuzzy.get("max_distance", 1)))
        return self

    # -- reading ---------------------------------------------------------------------------------

    def words(self, text: str, corrections: dict[str, str] | None = None, folded: bool = False) -> list[str]:
        """Normalised words of `text`, typos corrected (no clause analysis)."""
        out: list[str] = []
        for raw in _WORD.findall(text if folded else fold(text)):
            word = informal(raw)
            if word not in self.normalise:  # asepnya: the clitic goes, the slang is read
                word = next((b for b in bases(word)[1:] if b in self.normalise), word)
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
        sentences: list[list[list[str]]] = []
        kinds: list[list[str]] = []
        for sentence in _SENTENCE.split(fold(text or "")):
            clauses: list[list[str]] = []
            for part in _CLAUSE.split(sentence):
                words = self.words(part, reading.corrections, folded=True)
                for i, w in enumerate(words):  # a contrast word inside a clause splits it
                    if i > 0 and w in self.contrast:
                        clauses.append(words[:i])
                        words = words[i:]
                        break
                if words:
                    clauses.append(words)
            if clauses:
                sentences.append(clauses)
                kinds.append(self._kinds(clauses, kinds, reading))
        has_problem = any(self._problem(c) for s in sentences for c in s)
        clause_id = 0
        for sentence_id, (clauses, ks) in enumerate(zip(sentences, kinds)):
            for words, kind in zip(clauses, ks):
                if kind == "normal" and has_problem and not self._problem(words):
                    kind = "context"
                reading.words.extend(self._flag(words, clause_id, sentence_id, kind, reading))
                clause_id += 1
        return reading

    def _kinds(self, clauses: list[list[str]], before: list[list[str]], reading: Reading) -> list[str]:
        """normal, background or focus for each clause of a sentence.

        What comes before a contrast word is background (the previous sentence too when the
        sentence opens with one); a clause saying something is fine makes itself and what came
        before it in the sentence background; a focus phrase makes the rest of its sentence focus.
        """
        kinds = ["normal"] * len(clauses)
        for j, words in enumerate(clauses):
            opener = words[0] in self.contrast or words[0] in self.contrast_at_start
            if opener and j > 0:
                kinds[:j] = ["background"] * j
                reading.cues.append(f"contrast: '{words[0]}' makes the words before it background")
            elif opener and words[0] in self.contrast and before:
                before[-1][:] = ["background"] * len(before[-1])
                reading.cues.append(f"contrast: '{words[0]}' makes the sentence before it background")
            found = _has(words, self.background)
            if found and not (found[0] > 0 and words[found[0] - 1] in self.negators):
                kinds[:j + 1] = ["background"] * (j + 1)
                reading.cues.append(f"background: '{' '.join(found[1])}' (something is fine)")
        for j, words in enumerate(clauses):
            focus = _has(words, self.focus)
            if focus:
                reading.cues.append(f"focus: '{' '.join(focus[1])}'")
                kinds = ["focus" if k != "background" or i >= j else k for i, k in enumerate(kinds)]
                break
        return kinds

    def _problem(self, words: list[str]) -> bool:
        """Does the clause say something is wrong (rusak, mati, mampet, tidak...)?"""
        return any(w in self.problems for w in words)

    def _flag(self, words: list[str], clause: int, sentence: int, kind: str, reading: Reading) -> list[Word]:
        weight = {"background": self.weights["background"], "focus": self.weights["focus"],
                  "context": self.weights["context"]}.get(kind, 1.0)
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
            if self.landmarks and w in self.landmarks._first:
                p = self.landmarks.at(words, i)
                if p:
                    landmark.update(self._window(words, i + len(p), self.landmark_window))
        out = []
        for i, w in enumerate(words):
            factor = self.weights["landmark"] if i in landmark else 1.0
            out.append(Word(w, clause, sentence, weight * factor, i in negated, i in absent or i in negated, i in landmark, kind))
        return out

    def _window(self, words: list[str], start: int, size: int) -> set[int]:
        """`size` words from `start`, not counting fillers (the, yang), ending before a word that
        says what is wrong: in "depan puskesmas mampet" the landmark is the puskesmas only."""
        out: set[int] = set()
        j = start
        while j < len(words) and size > 0 and words[j] not in self.problems and words[j] not in self.negators:
            out.add(j)
            size -= words[j] not in self.skip
            j += 1
        return out

    def _scope(self, words: list[str], at: int) -> tuple[set[int], bool]:
        """Word positions a negator at `at` covers, and whether it is an absence (tidak ada)."""
        scope: set[int] = set()
        used = 0
        absence = False
        window = self.noun_window if words[at] in self.noun_negators else self.window
        j = at + 1
        while j < len(words) and used < window:
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
