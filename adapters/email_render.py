"""What an e-mailed delivery says, in Indonesian (or English): a multipart plain-text + HTML
message with what, where (and a map link), category, urgency, the deadlines in WIB, masked
identifiers and one signed link per action. Pure: the adapter in `email.py` sends it."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from hub.core.actions import ACTIONS, Links
from hub.core import privacy
from hub.core.policy import Policy

WIB = ZoneInfo("Asia/Jakarta")
_DAYS = {"id": ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"],
         "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]}
_MONTHS = {"id": ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
                  "Oktober", "November", "Desember"],
           "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December"]}

WORDS: dict[str, dict[str, str]] = {
    "id": {
        "subject_new": "Aduan baru", "subject_again": "Aduan dikirim ulang",
        "intro": "LaporHub meneruskan aduan warga berikut kepada {name}.",
        "what": "Aduan", "where": "Lokasi", "map": "Lihat di peta", "category": "Kategori",
        "urgency": "Tingkat urgensi", "ack_by": "Batas tanggapan", "resolve_by": "Batas penyelesaian",
        "reference": "Nomor aduan", "channel": "Kanal", "attachments": "Lampiran",
        "reporter": "Pelapor", "handoff": "Diteruskan dari {source}: {reason}",
        "actions": "Tindak lanjut (tanpa akun, cukup klik):",
        "acknowledge": "Terima aduan", "progress": "Laporkan perkembangan", "resolve": "Tandai selesai",
        "not_ours": "Bukan wewenang kami",
        "reply": "Atau balas e-mail ini. Kata pertama balasan dapat berupa status: \"diterima\", "
                 "\"diproses\", \"selesai\" atau \"bukan wewenang\" (diikuti alasannya). Balasan lain "
                 "dicatat sebagai catatan perkembangan.",
        "links_expire": "Tautan berlaku sampai {until} dan masing-masing hanya dapat dipakai sekali.",
        "masked": "Data pribadi (NIK, nomor telepon, e-mail) disamarkan.",
        "privacy": "Privasi pelapor",
        "confidential": "Rahasia: identitas pelapor dan isi aduan tidak untuk dipublikasikan",
        "anonymous": "Anonim: identitas pelapor tidak diketahui",
        "footer": "E-mail ini dikirim otomatis oleh LaporHub, hub aduan warga Provinsi DKI Jakarta.",
        "unknown": "tidak diketahui",
        "normal": "biasa", "urgent": "mendesak", "emergency": "darurat",
    },
    "en": {
        "subject_new": "New complaint", "subject_again": "Complaint sent again",
        "intro": "LaporHub forwards the following citizen complaint to {name}.",
        "what": "Complaint", "where": "Location", "map": "View on map", "category": "Category",
        "urgency": "Urgency", "ack_by": "Acknowledge by", "resolve_by": "Resolve by",
        "reference": "Complaint number", "channel": "Channel", "attachments": "Attachments",
        "reporter": "Reporter", "handoff": "Passed on by {source}: {reason}",
        "actions": "Act on it (no account needed, one click):",
        "acknowledge": "Acknowledge", "progress": "Report progress", "resolve": "Mark resolved",
        "not_ours": "Not ours",
        "reply": "Or reply to this e-mail. The reply's first word may be a status: \"received\", "
                 "\"in progress\", \"resolved\" or \"not ours\" (followed by the reason). Any other "
                 "reply is recorded as a progress note.",
        "links_expire": "The links work until {until}, each once.",
        "masked": "Personal data (NIK, phone numbers, e-mail) is masked.",
        "privacy": "Reporter's privacy",
        "confidential": "Confidential: the reporter and the complaint are not to be made public",
        "anonymous": "Anonymous: the reporter is not known",
        "footer": "This e-mail was sent automatically by LaporHub, the Jakarta citizen complaint hub.",
        "unknown": "unknown",
        "normal": "normal", "urgent": "urgent", "emergency": "emergency",
    },
}


def wib(value: datetime, language: str) -> str:
    """`Senin, 7 Desember 2026 pukul 14.00 WIB` / `Monday 7 December 2026, 14:00 WIB`."""
    t = value.astimezone(WIB)
    day, month = _DAYS[language][t.weekday()], _MONTHS[language][t.month - 1]
    if language == "id":
        return f"{day}, {t.day} {month} {t.year} pukul {t:%H.%M} WIB"
    return f"{day} {t.day} {month} {t.year}, {t:%H:%M} WIB"


def map_url(location: Mapping[str, Any]) -> str | None:
    lat, lon = location.get("latitude"), location.get("longitude")
    if lat is None or lon is None:
        return None
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    links: dict[str, str]


class Renderer:
    """Builds the message for one destination; `policy` (for deadlines) and category names are
    optional: without them those lines are left out, never guessed."""

    def __init__(self, links: Links, policy: Policy | None = None,
                 category_names: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.links = links
        self.policy = policy
        self.category_names = category_names or {}

    def facts(self, delivery: Mapping[str, Any], language: str) -> list[tuple[str, str, str | None]]:
        """(label, value, link) rows, the same in the text and the HTML part."""
        w = WORDS[language]
        c, cls = delivery["complaint"], delivery["classification"]
        loc = c.get("location") or {}
        place = ", ".join(str(x) for x in (loc.get("address"), loc.get("kelurahan"), loc.get("kecamatan"),
                                           loc.get("kota")) if x) or w["unknown"]
        rows: list[tuple[str, str, str | None]] = [(w["where"], privacy.mask_text(place), map_url(loc))]
        name = (self.category_names.get(cls["category"]) or {}).get(language)
        rows.append((w["category"], f"{name} ({cls['category']})" if name else cls["category"], None))
        rows.append((w["urgency"], w.get(cls["urgency"], cls["urgency"]), None))
        for label, when in self.deadlines(delivery):
            rows.append((w[label], wib(when, language), None))
        ref = delivery["complaint_id"] + (f" / {c['external_ref']}" if c.get("external_ref") else "")
        rows.append((w["reference"], ref, None))
        rows.append((w["channel"], c["channel"], None))
        # The delivery carries only what privacy allows this destination (hub.core.privacy:
        # the reporter fields it declares, none for Anonim); the e-mail shows exactly that, as a
        # webhook would receive it, and says when the reporter asked for confidentiality.
        reporter = c.get("reporter") or {}
        contact = ", ".join(str(reporter[k]) for k in privacy.REPORTER_FIELDS if reporter.get(k))
        if contact:
            rows.append((w["reporter"], contact, None))
        chosen = c.get("privacy")
        if chosen in (privacy.CONFIDENTIAL, privacy.ANONYMOUS):
            rows.append((w["privacy"], w[chosen], None))
        return rows

    def deadlines(self, delivery: Mapping[str, Any]) -> list[tuple[str, datetime]]:
        if self.policy is None:
            return []
        target = self.policy.target(delivery["destination"], delivery["routing"]["rule_id"])
        start = _parse(delivery["created_at"])
        out = []
        if target.acknowledge_hours:
            out.append(("ack_by", self.policy.due(start, target.acknowledge_hours)))
        if target.resolve_hours:
            out.append(("resolve_by", self.policy.due(start, target.resolve_hours)))
        return out

    def action_links(self, delivery: Mapping[str, Any]) -> dict[str, str]:
        send = int((delivery.get("handoff") or {}).get("send") or 1)
        return {a: self.links.url(self.links.token(delivery["delivery_id"], delivery["complaint_id"],
                                                   delivery["destination"], a, send)) for a in ACTIONS}

    def render(self, delivery: Mapping[str, Any], destination_name: str, language: str = "id") -> Rendered:
        language = language if language in WORDS else "id"
        w = WORDS[language]
        c = delivery["complaint"]
        title = privacy.mask_text(c.get("title") or c["text"][:60])
        again = bool((delivery.get("handoff") or {}).get("send"))
        subject = f"[LaporHub] {w['subject_again' if again else 'subject_new']}: {title}"
        links = self.action_links(delivery)
        until = wib(datetime.fromtimestamp(self.links.valid_until(), WIB), language)
        facts = self.facts(delivery, language)
        handoff = delivery.get("handoff") or {}
        moved = (w["handoff"].format(source=handoff["from"], reason=handoff.get("reason") or "-")
                 if handoff.get("from") else None)
        text = privacy.mask_text(c["text"])
        attachments = [a for a in c.get("attachments") or [] if a.startswith(("http://", "https://"))]

        lines = [w["intro"].format(name=destination_name), "", f"{w['what']}: {title}", text, ""]
        if moved:
            lines += [moved, ""]
        for label, value, link in facts:
            lines.append(f"{label}: {value}" + (f"\n  {w['map']}: {link}" if link else ""))
        if attachments:
            lines += [f"{w['attachments']}:", *[f"  {a}" for a in attachments]]
        lines += ["", w["actions"], *[f"- {w[a]}: {u}" for a, u in links.items()], "",
                  w["links_expire"].format(until=until), w["reply"], "", w["masked"], "-- ", w["footer"]]

        e = html.escape
        rows = "".join(
            f"<tr><th align='left' style='padding:4px 12px 4px 0;color:#555'>{e(label)}</th><td>{e(value)}"
            + (f" &middot; <a href='{e(link)}'>{e(w['map'])}</a>" if link else "") + "</td></tr>"
            for label, value, link in facts)
        buttons = "".join(
            f"<a href='{e(u)}' style='display:inline-block;margin:4px 8px 4px 0;padding:10px 16px;"
            f"background:{'#b42318' if a == 'not_ours' else '#1d4ed8'};color:#fff;text-decoration:none;"
            f"border-radius:6px' data-action='{a}'>{e(w[a])}</a>" for a, u in links.items())
        body = (f"<html><body style='font-family:sans-serif;max-width:640px'>"
                f"<p>{e(w['intro'].format(name=destination_name))}</p>"
                f"<h2 style='margin-bottom:4px'>{e(title)}</h2><p style='white-space:pre-wrap'>{e(text)}</p>"
                + (f"<p><em>{e(moved)}</em></p>" if moved else "")
                + f"<table>{rows}</table>"
                + ("<p>" + e(w["attachments"]) + ": " + ", ".join(
                    f"<a href='{e(a)}'>{e(a.rsplit('/', 1)[-1] or a)}</a>" for a in attachments) + "</p>"
                   if attachments else "")
                + f"<p><strong>{e(w['actions'])}</strong><br>{buttons}</p>"
                f"<p style='color:#555;font-size:90%'>{e(w['links_expire'].format(until=until))}<br>"
                f"{e(w['reply'])}</p><p style='color:#777;font-size:85%'>{e(w['masked'])}<br>{e(w['footer'])}</p>"
                "</body></html>")
        return Rendered(subject, "\n".join(lines) + "\n", body, links)


def message(rendered: Rendered, *, sender: str, to: list[str], cc: list[str], reply_to: str | None,
            message_id: str, delivery: Mapping[str, Any], language: str) -> EmailMessage:
    """The MIME message: text/plain first, text/html as the alternative clients prefer."""
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    if reply_to:
        msg["Reply-To"] = reply_to
    domain = sender.rsplit("@", 1)[-1].strip(">") or "laporhub"
    msg["Message-ID"] = make_msgid(idstring=message_id, domain=domain)
    msg["Date"] = format_datetime(datetime.now(WIB))
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-LaporHub-Delivery-Id"] = delivery["delivery_id"]
    msg["X-LaporHub-Complaint-Id"] = delivery["complaint_id"]
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    msg["Content-Language"] = language  # after the content: set_content clears Content-* headers
    return msg
