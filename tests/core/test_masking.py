"""Identifiers citizens type into complaints are masked before a destination's mailbox sees them."""

from __future__ import annotations

import pytest

from hub.core.masking import mask_email, mask_text


@pytest.mark.parametrize("text, masked", [
    ("NIK saya 3174012345678901 tolong", "NIK saya 3174**********01 tolong"),
    ("NIK 3174 0123 4567 8901", "NIK 3174**********01"),
    ("hubungi 0812-3456-7890", "hubungi 081*******90"),
    ("WA +6281234567890 ya", "WA +6281*******90 ya"),
    ("email budi.santoso@gmail.com", "email b***@gmail.com"),
    ("RT 003/RW 05 no. 12, tahun 2026, jam 14.30", "RT 003/RW 05 no. 12, tahun 2026, jam 14.30"),
])
def test_identifiers_in_text_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_an_address_keeps_its_domain() -> None:
    assert mask_email("lurah@jakarta.go.id") == "l***@jakarta.go.id"
