"""Text normalisation shared by classification and keyword rules."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")


def slug(value: str) -> str:
    """`Kebayoran Baru` -> `kebayoran-baru`; used for ids derived from names."""
    return "-".join(_WORD.findall(fold(value)))


def fold(value: str) -> str:
    """Lower case, accents removed."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def tokens(text: str, replacements: dict[str, str] | None = None) -> list[str]:
    """Words of `text`, folded, with informal spellings replaced (gak -> tidak).

    A replacement may expand to several words (`tdk ada` style entries are not needed:
    replacements apply per word).
    """
    words = _WORD.findall(fold(text))
    # Elongated informal spelling: "bangeeet" -> "banget", "rusakkk" -> "rusak".
    words = [re.sub(r"(.)\1{2,}", r"\1", w) for w in words]
    if not replacements:
        return words
    out: list[str] = []
    for w in words:
        out.extend(replacements.get(w, w).split())
    return out
