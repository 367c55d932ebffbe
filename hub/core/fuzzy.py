"""Typo tolerance: a word nobody knows is matched to the vocabulary word it was meant to be.

Bounded so it stays cheap: only words of `min_length` letters or more that are neither vocabulary
nor everyday words are looked at; candidates share the first letter and differ in length by at
most `max_distance`; the distance is optimal string alignment (rapidfuzz, C), so a swapped pair of
letters counts one edit (berlubnag -> berlubang). Answers are cached per word.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from rapidfuzz.distance import OSA
from rapidfuzz.process import extractOne

CACHE_LIMIT = 50_000
"""Distinct words remembered; past it the cache starts again (a bounded memory)."""


class TypoIndex:
    def __init__(self, vocabulary: Iterable[str], known: Iterable[str], min_length: int = 5,
                 max_distance: int = 1) -> None:
        self.min_length = min_length
        self.max_distance = max_distance
        self.vocabulary = {w for w in vocabulary if w.isalpha()}
        self.known = set(known) | self.vocabulary
        self._buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in sorted(self.vocabulary):
            if len(word) >= min_length - max_distance:  # bansoss (7) may mean bansos (6)
                self._buckets[(word[0], len(word))].append(word)
        self._cache: dict[str, str] = {}

    def correct(self, word: str) -> str:
        """The vocabulary word `word` most likely misspells, or `word` itself."""
        if self.max_distance <= 0 or len(word) < self.min_length or word in self.known or not word.isalpha():
            return word
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        candidates = [c for n in range(len(word) - self.max_distance, len(word) + self.max_distance + 1)
                      for c in self._buckets.get((word[0], n), ())]
        best = extractOne(word, candidates, scorer=OSA.distance, score_cutoff=self.max_distance) if candidates else None
        fixed = best[0] if best else word
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[word] = fixed
        return fixed
