"""Masking a citizen's identifiers in free text before it leaves for someone else's eyes.

A minimal masker for the "+1 report" an original's destinations receive when another citizen
reports the same problem: the text goes to an operator who has no business with that citizen's
NIK, phone number or e-mail address. (A fuller privacy module is being written for issue 11;
when it lands, this should defer to it.)
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
# NIK: 16 digits, sometimes grouped with spaces, dots or dashes.
_NIK = re.compile(r"(?<!\d)(?:\d[ .-]?){15}\d(?!\d)")
# Indonesian mobile and fixed numbers: +62 / 62 / 0, then 8-13 digits, spaces or dashes between.
_PHONE = re.compile(r"(?<![\w+])(?:\+62|62|0)[ -]?(?:\(?\d{2,4}\)?[ -]?){2,4}\d{2,4}(?!\d)")


def _keep_last(match: re.Match[str], keep: int) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "*" * (len(digits) - keep) + digits[-keep:]


def mask(text: str) -> str:
    """`3174012345678901` -> `************8901`; `0812-3456-7890` -> `*********890`;
    `budi.santoso@mail.com` -> `b***@mail.com`."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _NIK.sub(lambda m: _keep_last(m, 4), text)
    return _PHONE.sub(lambda m: _keep_last(m, 3) if len(re.sub(r"\D", "", m.group(0))) >= 9 else m.group(0), text)


__all__ = ["mask"]
