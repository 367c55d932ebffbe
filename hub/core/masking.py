"""Masking of personal identifiers in free text: NIK (16-digit national id), phone numbers and
e-mail addresses, as citizens often type them into the complaint itself. Pure.

Minimal on purpose: the e-mail adapter and the destination portal need it now; the privacy
module (issue on personal data) is meant to replace it with the hub-wide policy.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\b")
_NIK = re.compile(r"(?<!\d)(\d{4})[ .-]?(?:\d{2}[ .-]?){5}(\d{2})(?!\d)")  # 16 digits, maybe grouped
_PHONE = re.compile(r"(?<![\w+])((?:\+62|62|0)8\d)[\d \-.]{6,13}(\d{2})(?!\d)")


def mask_email(address: str) -> str:
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", address)


def mask_text(text: str) -> str:
    """`3174012345678901` -> `3174**********01`; `0812-3456-7890` -> `081*******90`;
    `budi@mail.com` -> `b***@mail.com`."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _NIK.sub(lambda m: f"{m.group(1)}{'*' * 10}{m.group(2)}", text)
    return _PHONE.sub(lambda m: f"{m.group(1)}{'*' * 7}{m.group(2)}", text)
