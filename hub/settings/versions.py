"""Routing rules as versioned documents in the store: draft, validate, preview, publish, roll back.

Version 1 is seeded from config/rules.yaml. A draft is a full rules document; saving it names it
`r<id>` so every decision records exactly which version made it. Publishing appends a row to
`routing_publications` (the current version is the newest row), the audit record and a control
message in one transaction, so a publication is all or nothing and always announced. Rolling
back is publishing an earlier version again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Mapping

import sqlalchemy as sa
import yaml

from hub.core import schemas
from hub.core.documents import load_yaml
from hub.core.classify import classify
from hub.core.errors import ConfigProblem, NoSuchVersion, RoutingError
from hub.core.rules import RuleSet, check, decide
from hub.infra.store import Store, complaints, iso, metadata, now
from hub.settings import audit, control
from hub.settings.files import FILES, HubConfig

RULES_FILE = FILES["rules"]


routing_versions = sa.Table(
    "routing_versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("based_on", sa.Integer),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

routing_publications = sa.Table(
    "routing_publications", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("routing_versions.id"), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Published:
    version_id: int
    ruleset: RuleSet
    document: dict[str, Any]


def label(version_id: int) -> str:
    return f"r{version_id}"


def parse(text: str) -> tuple[Any, list[ConfigProblem]]:
    """YAML (or JSON) text to a document, or the line and column of the syntax error (aliases
    only within a small budget: this text comes from the admin API)."""
    try:
        return load_yaml(text), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return None, [ConfigProblem(RULES_FILE, where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]


def dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def validate(doc: Any, cfg: HubConfig) -> tuple[RuleSet | None, list[ConfigProblem]]:
    """The checks `laporhub rules check` makes on rules.yaml, against the hub's destinations,
    categories and areas: schema errors, unknown references, unreachable categories, shadowing."""
    problems = [ConfigProblem(RULES_FILE, e.field, e.reason) for e in schemas.errors("rules", doc)]
    if problems:
        return None, problems
    ruleset = RuleSet.from_config(doc)
    return ruleset, check(ruleset, cfg.registry, cfg.taxonomy, cfg.areas.known, RULES_FILE)


def errors_of(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    return [p for p in problems if p.severity == "error"]


# -- the store ---------------------------------------------------------------------------------

def seed(store: Store, document: Mapping[str, Any]) -> None:
    """Version 1 from config/ when the store has none; published by `seed`."""
    with store.begin() as conn:
        store.serialize(conn, "seed")
        if conn.execute(sa.select(routing_versions.c.id).limit(1)).first() is not None:
            return
        vid = _insert(conn, document, "seed", f"seeded from config/{RULES_FILE}", None)
        _publish_row(conn, vid, "seed", f"seeded from config/{RULES_FILE} (was version "
                                        f"{document.get('version')!r})")


def _insert(conn: sa.Connection, document: Mapping[str, Any], actor: str, note: str,
            based_on: int | None) -> int:
    at = now()
    vid = int(conn.execute(routing_versions.insert().values(
        document=dict(document), note=note, based_on=based_on, created_by=actor, created_at=at,
        updated_at=at)).inserted_primary_key[0])
    conn.execute(routing_versions.update().where(routing_versions.c.id == vid)
                 .values(document={**document, "version": label(vid)}))
    return vid


def _publish_row(conn: sa.Connection, vid: int, actor: str, reason: str) -> None:
    conn.execute(routing_publications.insert().values(version_id=vid, actor=actor, reason=reason, at=now()))


def current_id(store: Store, conn: sa.Connection | None = None) -> int | None:
    if conn is None:
        with store.engine.connect() as c:
            return current_id(store, c)
    return conn.execute(sa.select(routing_publications.c.version_id)
                        .order_by(routing_publications.c.id.desc()).limit(1)).scalar()


def current(store: Store) -> Published | None:
    with store.engine.connect() as conn:
        vid = current_id(store, conn)
        if vid is None:
            return None
        doc = conn.execute(sa.select(routing_versions.c.document)
                           .where(routing_versions.c.id == vid)).scalar_one()
    return Published(vid, RuleSet.from_config(doc), doc)


def get(store: Store, vid: int) -> dict[str, Any]:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(routing_versions).where(routing_versions.c.id == vid)).mappings().first()
        if row is None:
            raise NoSuchVersion(f"no routing version {vid}")
        pubs = _publications(conn, vid)
        live = current_id(store, conn)
    return _version(row, pubs, live, with_document=True)


def _publications(conn: sa.Connection, vid: int | None = None) -> list[dict[str, Any]]:
    q = sa.select(routing_publications).order_by(routing_publications.c.id.desc())
    if vid is not None:
        q = q.where(routing_publications.c.version_id == vid)
    return [{"version": r["version_id"], "label": label(r["version_id"]), "actor": r["actor"],
             "reason": r["reason"], "at": iso(r["at"])} for r in conn.execute(q).mappings()]


def _version(row: Mapping[str, Any], pubs: list[dict[str, Any]], live: int | None,
             with_document: bool = False) -> dict[str, Any]:
    status = "published" if row["id"] == live else ("retired" if pubs else "draft")
    out = {"id": row["id"], "label": label(row["id"]), "status": status, "note": row["note"],
           "based_on": row["based_on"], "created_by": row["created_by"],
           "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]),
           "rules": len(row["document"].get("rules", [])) if isinstance(row["document"], dict) else 0,
           "publications": pubs}
    if with_document:
        out["document"] = row["document"]
        out["yaml"] = dump(row["document"])
    return out


def listing(store: Store) -> dict[str, Any]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(routing_versions).order_by(routing_versions.c.id.desc())).mappings().all()
        pubs = _publications(conn)
        live = current_id(store, conn)
    by_version: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in pubs:
        by_version[p["version"]].append(p)
    return {"published": live, "published_label": label(live) if live else None,
            "versions": [_version(r, by_version[r["id"]], live) for r in rows], "history": pubs}


def save_draft(store: Store, document: Any, *, actor: str, note: str = "",
               based_on: int | None = None, draft_id: int | None = None) -> int:
    """A new draft, or a change to a draft never published. Invalid drafts may be saved;
    publishing refuses them."""
    if not isinstance(document, dict):
        raise RoutingError("a routing document is a mapping with version, triage and rules",
                           [ConfigProblem(RULES_FILE, "$", "is not a mapping")])
    with store.begin() as conn:
        if draft_id is None:
            based_on = based_on or current_id(store, conn)
            vid = _insert(conn, document, actor, note, based_on)
            audit.record(conn, actor, "routing.draft", label(vid), note or "draft saved", None,
                         {"version": vid, "based_on": based_on})
            return vid
        row = conn.execute(sa.select(routing_versions).where(routing_versions.c.id == draft_id)).mappings().first()
        if row is None:
            raise NoSuchVersion(f"no routing version {draft_id}")
        if _publications(conn, draft_id):
            raise RoutingError(f"{label(draft_id)} has been published; published versions never "
                               "change (save a new draft instead)")
        conn.execute(routing_versions.update().where(routing_versions.c.id == draft_id).values(
            document={**document, "version": label(draft_id)}, note=note or row["note"], updated_at=now()))
        audit.record(conn, actor, "routing.draft", label(draft_id), note or "draft changed",
                     row["document"], {**document, "version": label(draft_id)})
        return draft_id


def publish(store: Store, vid: int, cfg: HubConfig, *, actor: str, reason: str,
            rollback: bool = False) -> dict[str, Any]:
    """Make `vid` the routing every router uses. Refused without a reason or with errors."""
    if not reason or not reason.strip():
        raise RoutingError("a reason is required to publish or roll back",
                           [ConfigProblem(RULES_FILE, "reason", "is required")])
    doc = get(store, vid)["document"]
    _, problems = validate(doc, cfg)
    if errors_of(problems):
        raise RoutingError(f"{label(vid)} has {len(errors_of(problems))} errors; fix them first",
                           errors_of(problems))
    action = "routing.rollback" if rollback else "routing.publish"
    with store.begin() as conn:
        before_id = current_id(store, conn)
        if before_id == vid:
            raise RoutingError(f"{label(vid)} is already published")
        before = conn.execute(sa.select(routing_versions.c.document)
                              .where(routing_versions.c.id == before_id)).scalar() if before_id else None
        _publish_row(conn, vid, actor, reason)
        generation = audit.record(conn, actor, action, "routing", reason, before, doc)

        control.announce(store, conn, generation, "routing.rollback" if rollback else "routing.published",
                      routing_version=label(vid))
    return {"published": vid, "label": label(vid), "previous": before_id, "generation": generation}


# -- impact preview ----------------------------------------------------------------------------

def preview(store: Store, cfg: HubConfig, draft: RuleSet, limit: int = 1000,
            examples: int = 3) -> dict[str, Any]:
    """Re-run the last `limit` stored complaints under the published rules and under `draft`
    (same classification for both), and report those whose destinations would change."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(complaints.c.id, complaints.c.body)
                            .order_by(complaints.c.received_at.desc()).limit(limit)).mappings().all()
    by_rule_before: Counter[str] = Counter()
    by_rule_after: Counter[str] = Counter()
    changed_by_rule: Counter[str] = Counter()
    moves: dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    changed = 0
    for row in rows:
        complaint = row["body"]
        c = classify(complaint, cfg.taxonomy, cfg.areas)
        old = decide(complaint, c, cfg.ruleset, cfg.registry, cfg.taxonomy)
        new = decide(complaint, c, draft, cfg.registry, cfg.taxonomy)
        for t in old.targets:
            by_rule_before[t.rule_id] += 1
        for t in new.targets:
            by_rule_after[t.rule_id] += 1
        before, after = tuple(sorted(old.destinations)), tuple(sorted(new.destinations))
        if before == after:
            continue
        changed += 1
        for rid in {t.rule_id for t in new.targets} | {t.rule_id for t in old.targets}:
            changed_by_rule[rid] += 1
        moves[(before, after)].append({
            "id": row["id"], "category": c.category, "city": c.area.city if c.area else None,
            "title": complaint.get("title") or complaint.get("text", "")[:80],
            "reason_before": old.reason, "reason_after": new.reason})
    rules_seen = sorted(set(by_rule_before) | set(by_rule_after),
                        key=lambda r: -(changed_by_rule[r] * 10**6 + by_rule_after[r]))
    return {
        "examined": len(rows), "changed": changed, "draft": draft.version,
        "published": cfg.ruleset.version,
        "by_rule": [{"rule_id": r, "before": by_rule_before[r], "after": by_rule_after[r],
                     "changed": changed_by_rule[r]} for r in rules_seen],
        "moves": sorted(({"from": list(k[0]), "to": list(k[1]), "count": len(v),
                          "examples": v[:examples]} for k, v in moves.items()),
                        key=lambda m: -m["count"]),
    }
