"""Replies by e-mail: the reply's own words are kept, what it quotes is dropped, and a first word
that is a status moves the complaint (Indonesian and English, as officials write them)."""

from __future__ import annotations

import pytest

from hub.core import replies

GMAIL_ID = """Selesai. Pipa sudah diganti tadi pagi.

Salam,
Budi (Kelurahan Cilandak Timur)

Pada Sen, 7 Des 2026 pukul 10.00 LaporHub <laporhub@jakarta.go.id> menulis:
> Aduan baru: Air PAM mati
> Lokasi: Jl. Melati 3
"""

OUTLOOK_ID = """bukan wewenang kami, saluran ini milik PAM Jaya

Dari: LaporHub <laporhub@jakarta.go.id>
Dikirim: Senin, 07 Desember 2026 10.00
Kepada: kelurahan@jakarta.go.id
Subjek: [LaporHub] Aduan baru: Air PAM mati

Aduan baru: Air PAM mati
"""

GMAIL_EN = """Resolved - replaced the lamp post this morning

On Mon, Dec 7, 2026 at 10:00 AM LaporHub <laporhub@jakarta.go.id> wrote:
> New complaint: street light out
"""

PHONE = """diproses, tim menuju lokasi
Dikirim dari iPhone saya
"""

NOTE = """Kami cek besok pagi bersama RT setempat.

> Aduan baru: Sampah menumpuk
> Lokasi: Jl. Kenanga
"""


@pytest.mark.parametrize("body, status, rest", [
    (GMAIL_ID, "resolved", "Pipa sudah diganti tadi pagi."),
    (OUTLOOK_ID, "rejected", "saluran ini milik PAM Jaya"),
    (GMAIL_EN, "resolved", "replaced the lamp post this morning"),
    (PHONE, "in_progress", "tim menuju lokasi"),
    (NOTE, None, "Kami cek besok pagi bersama RT setempat."),
])
def test_a_reply_is_its_own_words_and_its_leading_status(body: str, status: str | None, rest: str) -> None:
    reply = replies.read(body)
    assert reply.status == status
    assert reply.rest == rest
    assert "Aduan baru" not in reply.text and "New complaint" not in reply.text


@pytest.mark.parametrize("text, status", [
    ("Sudah selesai, terima kasih", "resolved"), ("SELESAI", "resolved"), ("beres pak", "resolved"),
    ("Sedang diproses", "in_progress"), ("in progress: crew on site", "in_progress"),
    ("Diterima, akan kami tindak lanjuti", "acknowledged"),
    ("Bukan wewenang. Silakan ke Sudin SDA", "rejected"), ("not ours - try PLN", "rejected"),
    ("selesaikan dulu yang lain", None),  # a longer word is not the status word
    ("Mohon foto tambahan", None),
])
def test_status_words(text: str, status: str | None) -> None:
    assert replies.leading_status(text)[0] == status


def test_a_reply_that_only_quotes_says_nothing() -> None:
    assert replies.read("On Mon, Dec 7, 2026 at 10:00 AM LaporHub <x@y.id> wrote:\n> old\n").text == ""
