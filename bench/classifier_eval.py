"""Score the keyword classifier on the LAPOR! 2017 evaluation data.

Usage: python bench/classifier_eval.py [PATH_TO_CSV]

Prints figures only (per-group accuracy, balanced accuracy, a confusion summary): the rows are
personal data, so no title or text is ever printed.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub import config  # noqa: E402
from hub.core.classify import classify  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared" / "data" / "lapor2017-dev.csv"

# From the data README: a prediction is right when it is one of the ids accepted for the group.
ACCEPTED: dict[str, set[str]] = {
    "health": {"health"},
    "employment": {"employment"},
    "water": {"water"},
    "drainage-flooding": {"drainage-flooding"},
    "waste-environment": {"waste", "pollution", "parks-trees"},
    "energy": {"electricity", "gas"},
    "transport": {"traffic-parking", "bus", "rail"},
    "public-works": {"roads", "street-lighting", "drainage-flooding", "telecom-cables", "building-permits"},
    "housing": {"housing"},
    "public-order": {"public-order"},
    "education": {"education"},
    "civil-registration": {"civil-registration"},
    "social-welfare": {"social-welfare"},
    "licensing": {"building-permits"},
}


def evaluate(path: Path) -> float:
    """Classify every row; print per-group accuracy and confusions; return balanced accuracy."""
    cfg, _ = config.load()
    assert cfg is not None
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    confusions: dict[str, Counter[str]] = defaultdict(Counter)
    unscored: Counter[str] = Counter()
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            complaint = {"title": row["title"], "text": row["text"], "channel": "eval"}
            predicted = classify(complaint, cfg.taxonomy, cfg.areas).category
            group = row["group"]
            if group.startswith("_") or group not in ACCEPTED:
                unscored[predicted] += 1
                continue
            total[group] += 1
            if predicted in ACCEPTED[group]:
                right[group] += 1
            else:
                confusions[group][predicted] += 1

    print(f"{'group':<20} {'rows':>5} {'right':>6} {'accuracy':>9}  most common wrong predictions")
    shares = []
    for group in ACCEPTED:
        if not total[group]:
            continue
        share = right[group] / total[group]
        shares.append(share)
        wrong = ", ".join(f"{c} {n}" for c, n in confusions[group].most_common(4))
        print(f"{group:<20} {total[group]:>5} {right[group]:>6} {share:>9.3f}  {wrong}")
    balanced = sum(shares) / len(shares) if shares else 0.0
    scored = sum(total.values())
    print(f"\nscored rows: {scored}, plain accuracy: {sum(right.values()) / max(scored, 1):.3f}")
    print(f"balanced accuracy: {balanced:.3f} over {len(shares)} groups")
    print("unscored rows predicted as: " + ", ".join(f"{c} {n}" for c, n in unscored.most_common(6)))
    return balanced


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_CSV
    evaluate(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
