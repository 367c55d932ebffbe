"""Build the labelled duplicate-linking set: a stream of synthetic reports around real places.

    python bench/linking_set.py            # writes tests/data/linking_set.jsonl (seeded, repeatable)

How it is built (every row carries its `problem` label, the ground truth):
- 70 problems, each at a real Jakarta landmark moved up to 300 m, of one of seven place-bound
  categories, starting at a random time in a 10-day span.
- Each problem is reported by 1 to 6 citizens over the following 48 hours. Each reporter's GPS
  fix is 2-35 m off the true spot (smartphone accuracy); 15% give no coordinates, only the
  kecamatan (from the real boundaries); each writes their own wording, picked from several
  Indonesian phrasings with slang, except 12% who forward an earlier reporter's text verbatim
  (a WhatsApp forward), and 6% who forward it with a typo and different spacing. Own wording
  ends with a detail only that reporter adds (a neighbour's name, an RT number).
- Hard negatives, labelled as separate problems: a second problem of the same category 55-150 m
  from an existing one (the next pothole down the road), one at the very same spot in another
  category, the same spot and category again 9-12 days later (outside the window), and short
  generic texts ("jalan rusak") without coordinates in the same kecamatan.
The texts are written for this set; no real complaint is copied.
"""

from __future__ import annotations

import json
import math
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.core.boundaries import jakarta  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "linking_set.jsonl"

LANDMARKS = {
    "Monas": (-6.1754, 106.8272), "Bundaran HI": (-6.1950, 106.8230), "Blok M": (-6.2443, 106.7996),
    "Stasiun Tebet": (-6.2262, 106.8583), "Kota Tua": (-6.1352, 106.8133), "Ragunan": (-6.3125, 106.8202),
    "Stasiun Manggarai": (-6.2100, 106.8500), "Pasar Senen": (-6.1745, 106.8445),
    "Stasiun Jatinegara": (-6.2150, 106.8705), "Mall Kelapa Gading": (-6.1575, 106.9087),
    "Pluit": (-6.1260, 106.7900), "Pasar Minggu": (-6.2840, 106.8440), "Lebak Bulus": (-6.2895, 106.7745),
    "Kampung Melayu": (-6.2240, 106.8670), "Grogol": (-6.1660, 106.7900), "Kemang": (-6.2610, 106.8135),
    "Cawang": (-6.2430, 106.8650), "Terminal Pulo Gadung": (-6.1840, 106.9090),
    "Rawamangun": (-6.1950, 106.8900), "Kebon Jeruk": (-6.1930, 106.7700), "Cempaka Putih": (-6.1780, 106.8700),
    "Pondok Indah": (-6.2660, 106.7840), "Jagakarsa": (-6.3350, 106.8200), "Cengkareng": (-6.1480, 106.7350),
    "Halim": (-6.2655, 106.8909), "Cipayung": (-6.3200, 106.9000), "Duren Sawit": (-6.2330, 106.9170),
}

WORDING = {
    "roads": ["Jalan berlubang besar di dekat {p}, sudah dua minggu tidak diperbaiki dan bahaya untuk motor.",
              "jln bolong gede bgt deket {p}, udh lama gak ditambal, motor sering jatuh malem2",
              "Ada lubang dalam di aspal sekitar {p}. Mohon segera diperbaiki sebelum ada korban.",
              "Aspal rusak parah dan berlubang di ruas jalan dekat {p}, mobil harus zig-zag menghindar."],
    "drainage-flooding": ["Saluran air di sekitar {p} mampet, tiap hujan air meluap ke jalan setinggi betis.",
                          "got depan {p} buntu penuh sampah, air ga bisa ngalir, banjir terus",
                          "Genangan air tidak surut sejak kemarin di dekat {p}, drainase tersumbat lumpur.",
                          "Banjir lagi di sekitar {p}, selokan meluap dan bau, tolong dikeruk."],
    "waste": ["Sampah menumpuk di pinggir jalan dekat {p} sudah seminggu tidak diangkut, bau sekali.",
              "tumpukan sampah deket {p} gak diangkut2, bau busuk sampe ke rumah",
              "Truk sampah tidak datang, TPS dekat {p} penuh dan sampah berserakan ke jalan.",
              "Ada pembuangan sampah liar di lahan kosong sekitar {p}, mohon ditertibkan."],
    "street-lighting": ["Lampu jalan di sekitar {p} mati semua sejak seminggu, gelap dan rawan begal.",
                        "PJU deket {p} padam udh lama, jalanan gelap gulita malem2",
                        "Penerangan jalan umum dekat {p} tidak menyala, mohon diperbaiki demi keamanan.",
                        "Tiang lampu jalan di dekat {p} mati dan kabelnya terlihat terkelupas."],
    "parks-trees": ["Pohon besar di dekat {p} condong ke jalan dan hampir tumbang, mohon dipangkas.",
                    "dahan pohon deket {p} patah nyangkut di kabel, bahaya kalo jatoh",
                    "Ranting pohon di trotoar sekitar {p} menutupi jalan, pejalan kaki terganggu.",
                    "Pohon tumbang setelah hujan angin di dekat {p}, menutup sebagian jalan."],
    "water": ["Air PAM tidak mengalir sejak kemarin di sekitar {p}, warga harus beli air galon.",
              "air pam mati total deket {p} dari pagi, keluarnya cuma angin doang",
              "Pipa air bocor di pinggir jalan dekat {p}, air terbuang dan jalan jadi licin.",
              "Tekanan air PAM sangat kecil di rumah sekitar {p}, hanya menetes sejak tiga hari."],
    "electricity": ["Listrik padam di sekitar {p} sejak jam tiga pagi, belum ada petugas PLN datang.",
                    "mati lampu lagi deket {p}, udh 6 jam blm nyala, kulkas pada rusak",
                    "Kabel listrik PLN putus dan menjuntai di dekat {p}, berbahaya bagi warga.",
                    "Gardu listrik dekat {p} berbunyi keras dan berasap, listrik sering padam."],
}
GENERIC = {"roads": "Jalan rusak.", "drainage-flooding": "Banjir.", "waste": "Sampah numpuk.",
           "street-lighting": "Lampu mati.", "parks-trees": "Pohon tumbang.", "water": "Air mati.",
           "electricity": "Listrik padam."}
DETAILS = ["Tepatnya depan warung kopi Pak {n}.", "Lokasinya masuk gang {n}, RT {rt}.", "Dekat rumah Bu {n} RT {rt}/RW {rw}.",
           "Patokannya sebelah masjid Al-{n}.", "Persis di seberang toko {n}.", "Sudah lapor ke pak RT {rt} tapi belum ada hasil.",
           "Saya warga RW {rw}, mohon dicek.", "Foto terlampir, kejadian jam {rt} tadi."]
NAMES = ["Udin", "Siti", "Haji Naim", "Jaya", "Ikhlas", "Barokah", "Sinar", "Makmur", "Asep", "Rina", "Taqwa", "Sejahtera"]
START = datetime(2026, 3, 2, tzinfo=timezone.utc)


def offset(lat: float, lon: float, metres: float, rnd: random.Random) -> tuple[float, float]:
    bearing = rnd.uniform(0, 2 * math.pi)
    dlat = metres * math.cos(bearing) / 110_574.0
    dlon = metres * math.sin(bearing) / (111_320.0 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def own_words(category: str, place: str, rnd: random.Random) -> str:
    """One citizen's own report: a phrasing of the problem plus a detail only they would add."""
    detail = rnd.choice(DETAILS).format(n=rnd.choice(NAMES), rt=rnd.randint(1, 12), rw=rnd.randint(1, 9))
    return rnd.choice(WORDING[category]).format(p=place) + " " + detail


def typo(text: str, rnd: random.Random) -> str:
    i = rnd.randrange(5, len(text) - 5)
    return (text[:i] + text[i + 1:]).replace(", ", " ,  ")


def build(seed: int = 13) -> list[dict]:
    rnd = random.Random(seed)
    city = jakarta()
    rows: list[dict] = []
    problems: list[dict] = []

    def problem(lat: float, lon: float, category: str, start: datetime, place: str, kind: str) -> dict:
        p = {"id": f"P{len(problems) + 1:03d}", "lat": lat, "lon": lon, "category": category,
             "start": start, "place": place, "kind": kind}
        located = city.locate(lon, lat)
        p["kecamatan"] = located.kode_kecamatan if located else None
        problems.append(p)
        return p

    def report(p: dict, at: datetime, text: str, exact: bool) -> None:
        row = {"id": f"R{len(rows) + 1:04d}", "problem": p["id"], "kind": p["kind"], "category": p["category"],
               "received_at": at.isoformat(), "text": text, "kecamatan": p["kecamatan"]}
        if exact:
            row["lat"], row["lon"] = offset(p["lat"], p["lon"], rnd.uniform(2, 35), rnd)
        rows.append(row)

    names = list(LANDMARKS)
    for _ in range(70):
        place = rnd.choice(names)
        lat, lon = offset(*LANDMARKS[place], rnd.uniform(0, 300), rnd)
        category = rnd.choice(list(WORDING))
        p = problem(lat, lon, category, START + timedelta(hours=rnd.uniform(0, 240)), place, "problem")
        reporters = rnd.choices([1, 2, 3, 4, 5, 6], weights=[35, 20, 15, 12, 10, 8])[0]
        texts: list[str] = []
        for n in range(reporters):
            at = p["start"] + timedelta(hours=0 if n == 0 else rnd.uniform(0.1, 48))
            roll = rnd.random()
            if texts and roll < 0.12:
                text = rnd.choice(texts)
            elif texts and roll < 0.18:
                text = typo(rnd.choice(texts), rnd)
            else:
                text = own_words(category, place, rnd)
            texts.append(text)
            report(p, at, text, exact=rnd.random() >= 0.15)
    originals = [p for p in problems]
    for p in rnd.sample(originals, 15):  # the next pothole down the road
        lat, lon = offset(p["lat"], p["lon"], rnd.uniform(55, 150), rnd)
        q = problem(lat, lon, p["category"], p["start"] + timedelta(hours=rnd.uniform(1, 30)), p["place"], "neighbour")
        report(q, q["start"], own_words(q["category"], q["place"], rnd), exact=True)
    for p in rnd.sample(originals, 10):  # same spot, another category
        other = rnd.choice([c for c in WORDING if c != p["category"]])
        q = problem(p["lat"], p["lon"], other, p["start"] + timedelta(hours=rnd.uniform(1, 30)), p["place"], "other-category")
        report(q, q["start"], own_words(other, q["place"], rnd), exact=True)
    for p in rnd.sample(originals, 8):  # the same problem again, after the window
        q = problem(p["lat"], p["lon"], p["category"], p["start"] + timedelta(days=rnd.uniform(9, 12)), p["place"], "recurrence")
        report(q, q["start"], own_words(q["category"], q["place"], rnd), exact=True)
    for p in rnd.sample(originals, 10):  # short, generic, no coordinates
        q = problem(p["lat"], p["lon"], p["category"], p["start"] + timedelta(hours=rnd.uniform(1, 30)), p["place"], "generic")
        report(q, q["start"], GENERIC[q["category"]], exact=False)
    rows.sort(key=lambda r: (r["received_at"], r["id"]))
    return rows


def main() -> None:
    rows = build()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} reports of {len({r['problem'] for r in rows})} problems -> {OUT}")


if __name__ == "__main__":
    main()
