"""A store with two weeks of a city's life, for the console's pages and their tests: complaints
around real places, delivered, acknowledged, resolved, rejected and transferred across the
government / state-owned border, repeats linked to their originals, SLA breaches and a flood
incident. Built through the hub's own code (intake, routing, status updates, the scheduler) with
back-dated clocks; nothing is published to a broker."""

from __future__ import annotations

import random
from dataclasses import replace
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from hub.aftercare import scheduler, status
from hub.infra.store import complaints, deliveries
from hub.pipeline.intake import accept
from hub.pipeline.routing import route
from hub.settings.runtime import Hub

PLACES = [("Monas", -6.1754, 106.8272), ("Blok M", -6.2443, 106.7996), ("Tebet", -6.2262, 106.8583),
          ("Kota Tua", -6.1352, 106.8133), ("Kelapa Gading", -6.1575, 106.9087), ("Pluit", -6.1260, 106.7900),
          ("Pasar Minggu", -6.2840, 106.8440), ("Cawang", -6.2430, 106.8650), ("Rawamangun", -6.1950, 106.8900),
          ("Kebon Jeruk", -6.1930, 106.7700), ("Cengkareng", -6.1480, 106.7350), ("Jagakarsa", -6.3350, 106.8200),
          ("Duren Sawit", -6.2330, 106.9170), ("Tanjung Priok", -6.1100, 106.8810), ("Senen", -6.1745, 106.8445)]
TEXTS = {
    "roads": "Jalan berlubang besar dekat {p}, bahaya untuk motor malam hari",
    "electricity": "Listrik padam di sekitar {p} sejak pagi, belum ada petugas PLN",
    "water": "Air PAM tidak mengalir di sekitar {p} sudah dua hari",
    "waste": "Sampah menumpuk di pinggir jalan dekat {p}, tidak diangkut seminggu",
    "street-lighting": "Lampu jalan di sekitar {p} mati semua, gelap dan rawan",
    "drainage-flooding": "Saluran air mampet di dekat {p}, air meluap ke jalan",
    "bus": "Bus Transjakarta di halte dekat {p} telat lebih dari satu jam",
}
HANDOFFS = [  # (category, who passes it on, how, to whom)
    ("water", "pam-jaya", "rejected", None),  # "not our pipe": back to the rules / Sudin SDA
    ("electricity", "pln-uid-jakarta-raya", "transferred", "sudin-bina-marga-{city}"),
    ("roads", "sudin-bina-marga-{city}", "transferred", "pln-uid-jakarta-raya"),
    ("bus", "transjakarta", "transferred", "sudin-perhubungan-{city}"),
]


def _at(hub: Hub, cid: str, when: datetime) -> None:
    with hub.store.begin() as conn:
        conn.execute(complaints.update().where(complaints.c.id == cid).values(received_at=when, updated_at=when))


def _delivered(hub: Hub, cid: str, when: datetime) -> list[dict[str, Any]]:
    """Every pending delivery of the complaint counts as delivered a minute after `when`."""
    with hub.store.begin() as conn:
        conn.execute(deliveries.update().where(deliveries.c.complaint_id == cid, deliveries.c.status == "pending")
                     .values(status="delivered", attempts=1, delivered_at=when + timedelta(minutes=1),
                             created_at=when, clock_from=sa.func.coalesce(deliveries.c.clock_from, when)))
        return [dict(r) for r in conn.execute(sa.select(deliveries).where(deliveries.c.complaint_id == cid)).mappings()]


def _update(hub: Hub, cid: str, dest: str, state: str, at: datetime, **extra: Any) -> None:
    status.apply(hub, {"update_id": f"seed-{uuid.uuid4().hex[:10]}", "complaint_id": cid, "destination": dest,
                       "status": state, **extra}, now=at)


def seed(hub: Hub, now: datetime | None = None, days: int = 14, per_day: int = 9, rnd_seed: int = 13) -> dict[str, Any]:
    """Fill `hub`'s store; returns what was made (ids by kind) for the tests to check against."""
    now = now or datetime.now(timezone.utc)
    rnd = random.Random(rnd_seed)
    # The seed's texts come from a few templates per category, so near-identical text would link
    # most of them; here only the distance links (and the three repeats below).
    hub.config.linking = replace(hub.config.linking, text_similarity=0.99)
    made: dict[str, Any] = {"complaints": [], "handoffs": [], "duplicates": [], "incident": []}

    def submit(category: str, place: tuple[str, float, float], when: datetime, metres: float, **extra: Any) -> str:
        name, lat, lon = place
        dlat, dlon = rnd.uniform(-1, 1) * metres / 110_574, rnd.uniform(-1, 1) * metres / 110_000
        body = {"channel": "jaki", "external_ref": f"SEED-{uuid.uuid4().hex[:8]}", "category": category,
                "title": TEXTS[category].format(p=name).split(",")[0][:60],
                "text": TEXTS[category].format(p=name) + f" (laporan {rnd.randint(100, 999)})",
                "location": {"latitude": round(lat + dlat, 6), "longitude": round(lon + dlon, 6)}, **extra}
        cid = accept(hub.store, body, actor="seed").complaint_id
        _at(hub, cid, when)
        route(hub, cid)
        _delivered(hub, cid, when)
        made["complaints"].append(cid)
        return cid

    for day in range(days, 0, -1):
        for _ in range(per_day):
            when = now - timedelta(days=day, hours=rnd.uniform(-10, 10))
            category = rnd.choice(list(TEXTS))
            cid = submit(category, rnd.choice(PLACES), when, 600)
            dels = _delivered(hub, cid, when)
            roll = rnd.random()
            for d in dels:
                if roll < 0.55:
                    _update(hub, cid, d["destination"], "acknowledged", when + timedelta(hours=rnd.uniform(0.5, 30)))
                if roll < 0.35:
                    _update(hub, cid, d["destination"], "resolved", when + timedelta(hours=rnd.uniform(31, 70)),
                            resolution_note="Sudah ditangani petugas.")
    for i, (category, source, kind, target) in enumerate(HANDOFFS * 3):
        when = now - timedelta(days=rnd.uniform(2, days), hours=rnd.uniform(0, 6))
        place = PLACES[i % len(PLACES)]
        cid = submit(category, place, when, 300)
        view = hub.store.complaint(cid)
        city = view["classification"]["area"]["city"]
        dest = source.format(city=city)
        if dest not in {d["destination"] for d in view["deliveries"]}:
            continue  # linked to an earlier report, or routed elsewhere: no hand-off to make
        later = when + timedelta(hours=rnd.uniform(3, 40))
        extra = {"reason": "Bukan wewenang kami, ini saluran milik pihak lain."} if kind == "rejected" else \
            {"transfer_to": target.format(city=city), "reason": "Aset milik instansi lain."}
        _update(hub, cid, dest, kind, later, **extra)
        _delivered(hub, cid, later)
        made["handoffs"].append(cid)
    original = made["complaints"][-1]
    first = hub.store.complaint(original)
    loc = first["complaint"]["location"]
    for n in range(3):  # the same problem, reported again nearby
        body = {"channel": "jaki", "external_ref": f"SEED-DUP-{n}", "category": first["classification"]["category"],
                "text": f"Masih sama, {first['complaint']['text'][:40]}… (warga RT 0{n + 1})",
                "location": {"latitude": loc["latitude"] + (n + 1) * 5e-5, "longitude": loc["longitude"]}}
        cid = accept(hub.store, body, actor="seed").complaint_id
        _at(hub, cid, now - timedelta(hours=20 - n))
        route(hub, cid)
        made["duplicates"].append(cid)
    made["original"] = original
    for n in range(6):  # rain on Kampung Melayu: a flood incident
        when = now - timedelta(hours=5 - n * 0.3)
        made["incident"].append(submit("drainage-flooding", ("Kampung Melayu", -6.2240 + n * 0.002, 106.8670),
                                       when, 40))
    scheduler.tick(hub, now=now)
    return made
