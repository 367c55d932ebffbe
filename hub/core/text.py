"""Text normalisation shared by classification and keyword rules.

Citizens write the way they text: `jln rusakkk bgt`, `mati2`, `e-KTP`. Everything that matches
words (the classifier, rule keywords) goes through `tokens`, so a spelling handled here or in the
taxonomy's `normalise` list is handled everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")
_ELONGATED = re.compile(r"([a-z])\1{2,}")
"""Three or more of the same letter: `bangeeet`, `rusakkk`. Digits are left alone (1000)."""

_REDUPLICATED = re.compile(r"^([a-z]{3,})2$")
"""Reduplication written with a 2: `mati2` for `mati-mati`, `rusak2` for `rusak-rusak`."""

CLITICS = ("nyalah", "nya", "lah", "kah", "pun", "ku", "mu")
"""Endings Indonesian attaches to any word without changing what it is about (`sampahnya`)."""


def slug(value: str) -> str:
    """`Kebayoran Baru` -> `kebayoran-baru`; used for ids derived from names."""
    return "-".join(_WORD.findall(fold(value)))


def fold(value: str) -> str:
    """Lower case, accents removed."""
    if value.isascii():  # nearly every complaint: skip the Unicode decomposition
        return value.lower()
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=65536)
def informal(word: str) -> str:
    """Undo elongation and 2-reduplication, which are spelling, not meaning."""
    word = _ELONGATED.sub(r"\1", word)
    return _REDUPLICATED.sub(r"\1", word)


def tokens(text: str, replacements: dict[str, str] | None = None) -> list[str]:
    """Words of `text`, folded, with informal spellings replaced (gak -> tidak).

    A replacement may expand to several words (`bpjstk` -> `bpjs ketenagakerjaan`); replacements
    apply per word, after elongation is undone, so `gaaak` is replaced like `gak`.
    """
    words = [informal(w) for w in _WORD.findall(fold(text))]
    if not replacements:
        return words
    out: list[str] = []
    for w in words:
        out.extend(replacements.get(w, w).split())
    return out


@lru_cache(maxsize=65536)
def bases(word: str) -> tuple[str, ...]:
    """The word itself, then the word without a clitic (`jalannya` -> `jalan`).

    Only clitics are stripped: they never change the topic, while derivational affixes do
    (`jalan` road vs `berjalan` walking), so those are left to explicit `*` terms.
    """
    found = [word]
    for clitic in CLITICS:
        if word.endswith(clitic) and len(word) - len(clitic) >= 3:
            found.append(word[: -len(clitic)])
    return tuple(found)
