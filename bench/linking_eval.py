"""Precision and recall of duplicate linking on the labelled set (bench/linking_set.py builds it).

    python bench/linking_eval.py [--distance 50] [--similarity 0.7]

The stream is replayed in time order through `hub.core.duplicates.find_original`, as the router does:
each report is compared with the open originals seen so far (a report linked to another is not an
original). A link is correct when the original it names belongs to the same labelled problem.
- precision = correct links / links made
- recall    = correct links / reports that had an earlier report of their problem in the window
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.core.boundaries import jakarta  # noqa: E402
from hub.core.duplicates import LinkPolicy, Report, find_original  # noqa: E402

SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "linking_set.jsonl"


def load(path: Path = SET) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def as_report(row: dict) -> Report:
    centre = jakarta().centre(row["kecamatan"]) if row.get("kecamatan") else None
    return Report(id=row["id"], category=row["category"], received_at=datetime.fromisoformat(row["received_at"]),
                  text=row["text"], lon=row.get("lon"), lat=row.get("lat"), kecamatan=row.get("kecamatan"),
                  centre=centre)


def evaluate(rows: list[dict], policy: LinkPolicy = LinkPolicy()) -> dict:
    problem = {r["id"]: r["problem"] for r in rows}
    first_seen: dict[str, datetime] = {}
    originals: list[Report] = []
    made = correct = expected = 0
    by_method: Counter[str] = Counter()
    wrong: list[tuple[str, str, str]] = []
    for row in rows:
        new = as_report(row)
        start = first_seen.get(row["problem"])
        if start is not None and new.received_at - start <= policy.window:
            expected += 1
        first_seen.setdefault(row["problem"], new.received_at)
        link = find_original(new, originals, policy)
        if link is None:
            originals.append(new)
            continue
        made += 1
        by_method[link.method] += 1
        if problem[link.original] == row["problem"]:
            correct += 1
        else:
            wrong.append((row["id"], link.original, link.method))
    return {"reports": len(rows), "problems": len(set(problem.values())), "duplicates": expected,
            "links": made, "correct": correct, "by_method": dict(by_method), "wrong": wrong,
            "precision": correct / made if made else 1.0, "recall": correct / expected if expected else 1.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distance", type=float, default=LinkPolicy.distance_m)
    parser.add_argument("--similarity", type=float, default=LinkPolicy.text_similarity)
    args = parser.parse_args()
    policy = LinkPolicy(distance_m=args.distance, text_similarity=args.similarity)
    r = evaluate(load(), policy)
    print(f"{r['reports']} reports, {r['problems']} problems, {r['duplicates']} true duplicates; "
          f"{r['links']} links ({r['by_method']}), {r['correct']} correct")
    print(f"precision {r['precision']:.3f}  recall {r['recall']:.3f}  "
          f"(distance {policy.distance_m:g} m, text Jaccard >= {policy.text_similarity:g})")
    for new, original, method in r["wrong"]:
        print(f"  wrong: {new} -> {original} by {method}")


if __name__ == "__main__":
    main()
