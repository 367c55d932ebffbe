"""Corrections the hub records in operation, and the learned model trained from them.

Two kinds of correction teach the classifier: an administrator re-categorising a complaint
(event `recategorised`, recorded here with the audit trail) and a destination transferring a
complaint with a reason (a `transferred` hop, recorded by hub/aftercare/reroute.py), whose new
destination names the category the rules would have needed. `train` fits the model on the
project's development set plus those corrections; `laporhub classify train` calls it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
import yaml

from hub.aftercare.handoffs import hops
from hub.core import model as model_mod
from hub.core.destinations import Registry
from hub.core.errors import ComplaintNotFound, FieldError, InvalidMessage
from hub.core.rules import RuleSet
from hub.infra.store import Store, complaints, event_row, events, now
from hub.settings import audit

CORRECTION_WEIGHT = 3
"""A correction counts as this many examples: it is what the hub got wrong in Jakarta itself."""

Example = tuple[Mapping[str, Any], str]


def recategorise(store: Store, complaint_id: str, category: str, reason: str, actor: str,
                 category_ids: Iterable[str]) -> dict[str, Any]:
    """Record that a person put a complaint in another category (the next training learns it).

    The complaint's deliveries are not re-sent: a destination that should not have it rejects or
    transfers it, as every destination can.
    """
    if category not in set(category_ids):
        raise InvalidMessage("unknown category", [FieldError("category", f"{category!r} is not a taxonomy category")])
    if not reason.strip():
        raise InvalidMessage("a reason is required", [FieldError("reason", "say why the category was wrong")])
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(complaints.c.category, complaints.c.classification)
                           .where(complaints.c.id == complaint_id)).mappings().first()
        if row is None:
            raise ComplaintNotFound(complaint_id)
        before = row["category"]
        classification = dict(row["classification"] or {})
        classification["category"] = category
        conn.execute(complaints.update().where(complaints.c.id == complaint_id)
                     .values(category=category, classification=classification, updated_at=now()))
        data = {"from": before, "to": category, "reason": reason}
        conn.execute(events.insert().values(**event_row(complaint_id, "recategorised", data, actor)))
        audit.record(conn, actor, "complaint.recategorise", complaint_id, reason, {"category": before}, {"category": category})
    return {"complaint_id": complaint_id, **data}


def destination_categories(ruleset: RuleSet, registry: Registry) -> dict[str, str]:
    """Destination (or template) id -> the category whose rule sends there; the first rule wins."""
    found: dict[str, str] = {}
    for rule in ruleset.rules:
        cats = rule.when.get("category", ())
        if len(cats) != 1 or "urgency" in rule.when:
            continue
        for ref in rule.send_to:
            if ref != ruleset.triage:
                found.setdefault(ref, cats[0])
    return found


def _category_of(destination: str, mapping: Mapping[str, str], registry: Registry) -> str | None:
    if destination in mapping:
        return mapping[destination]
    for template in registry.templates:
        head = template.split("{", 1)[0]
        if head and destination.startswith(head) and template in mapping:
            return mapping[template]
    return None


def corrections(store: Store, ruleset: RuleSet, registry: Registry) -> list[Example]:
    """(complaint, corrected category) for every re-categorisation and reasoned transfer."""
    mapping = destination_categories(ruleset, registry)
    found: dict[str, str] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(sa.select(hops.c.complaint_id, hops.c.to_destinations, hops.c.reason)
                                .where(hops.c.kind == "transferred").order_by(hops.c.id)).mappings():
            if not (row["reason"] or "").strip():
                continue
            cats = {_category_of(d, mapping, registry) for d in row["to_destinations"] or ()} - {None}
            if len(cats) == 1:
                found[row["complaint_id"]] = cats.pop()
        for row in conn.execute(sa.select(events.c.complaint_id, events.c.data)
                                .where(events.c.type == "recategorised").order_by(events.c.id)).mappings():
            found[row["complaint_id"]] = row["data"]["to"]  # a person's word wins over a transfer
        if not found:
            return []
        bodies = dict(conn.execute(sa.select(complaints.c.id, complaints.c.body)
                                   .where(complaints.c.id.in_(list(found)))).all())
    return [(bodies[cid], cat) for cid, cat in found.items() if cid in bodies]


def seed_examples(path: Path, include_held_out: bool = False) -> list[Example]:
    """The development set's complaints and categories (its held-out fifth left out by default,
    so that bench/classifier_eval.py can still measure on complaints the model never saw)."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    return [({"title": c.get("title") or "", "text": c["text"]}, c["category"]) for c in cases
            if include_held_out or int(c["id"].lstrip("j")) % 5 != 0]


def train(seed: list[Example], learned: list[Example], category_ids: Iterable[str]) -> model_mod.Model:
    """Fit the model on the seed set plus the corrections (each counted CORRECTION_WEIGHT times)."""
    known = set(category_ids)
    rows = [ex for ex in seed if ex[1] in known] + [ex for ex in learned if ex[1] in known] * CORRECTION_WEIGHT
    return model_mod.train(rows, corrections=len(learned))
