"""`laporhub classify train` and `laporhub recategorise`: the learned second opinion, from a shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hub.admin import corrections
from hub.cli.common import actor as _actor
from hub.cli.common import hub_of as _hub
from hub.core import model as model_mod
from hub.settings import files

DEV_SET = Path(__file__).resolve().parents[2] / "tests" / "data" / "jakarta_dev.yaml"


def cmd_train(args: argparse.Namespace) -> int:
    """Retrain the model from the development set plus every correction in the store."""
    hub = _hub(args)
    cfg = hub.config
    seed = corrections.seed_examples(Path(args.seed), include_held_out=args.all) if Path(args.seed).exists() else []
    learned = [] if args.no_store else corrections.corrections(hub.store, cfg.ruleset, cfg.registry)
    model = corrections.train(seed, learned, cfg.taxonomy.category_ids)
    out = Path(args.out) if args.out else files.model_path(cfg.directory)
    model_mod.save(model, out)
    print(f"trained on {model.trained_on} examples ({len(seed)} from {args.seed}, {len(learned)} corrections "
          f"from the store, each counted {corrections.CORRECTION_WEIGHT}x); {len(model.classes)} categories, "
          f"{len(model.vocabulary)} n-grams -> {out}", file=sys.stderr)
    return 0


def cmd_recategorise(args: argparse.Namespace) -> int:
    hub = _hub(args)
    done = corrections.recategorise(hub.store, args.complaint_id, args.category, args.reason, _actor(args),
                                    hub.config.taxonomy.category_ids)
    print(f"{done['complaint_id']}: {done['from']} -> {done['to']} (the next `laporhub classify train` learns it)")
    return 0


def add_train_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--seed", default=str(DEV_SET), help="development set YAML (default: tests/data/jakarta_dev.yaml)")
    s.add_argument("--all", action="store_true", help="train on the held-out fifth of the seed set too")
    s.add_argument("--no-store", action="store_true", help="ignore the corrections in the store")
    s.add_argument("--out", help=f"model file (default: $LAPORHUB_MODEL_PATH or <config>/{files.MODEL_FILE})")


def add_commands(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("recategorise", help="put a complaint in another category (a correction the model learns)")
    s.add_argument("complaint_id")
    s.add_argument("category")
    s.add_argument("--reason", required=True, help="why the category was wrong (kept in the audit)")
    s.set_defaults(fn=cmd_recategorise)
