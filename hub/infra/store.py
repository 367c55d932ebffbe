"""The store: complaints, deliveries, the append-only event log, and the outbox table (SQLAlchemy Core).

SQLite by default so the hub runs with no setup; PostgreSQL by URL. Every state change and the
messages it causes are written in one transaction (see `outbox.py`), so a crash never leaves a
complaint accepted but unannounced, or routed but undelivered.
"""

from __future__ import annotations

import json
import uuid
import zlib
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hub.core import privacy

metadata = sa.MetaData()

complaints = sa.Table(
    "complaints", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("external_ref", sa.String(200)),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("category", sa.String(64)),
    sa.Column("city", sa.String(64)),
    sa.Column("urgency", sa.String(16)),
    sa.Column("confidence", sa.Float),
    sa.Column("classification", sa.JSON),
    sa.Column("decision", sa.JSON),
    sa.Column("ruleset_version", sa.String(64)),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # Lifecycle (hub/core/lifecycle.py): open, in_progress, needs_info, resolved, closed.
    sa.Column("state", sa.String(32), nullable=False, default="open", server_default="open"),
    sa.Column("supervisor", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    # The reporter's choice (hub/core/privacy.py): public, confidential (Rahasia), anonymous (Anonim).
    sa.Column("privacy", sa.String(16), nullable=False, default="public", server_default="public"),
    sa.UniqueConstraint("channel", "external_ref", name="uq_complaints_channel_ref"),
)

deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("complaint_id", sa.String(64), sa.ForeignKey("complaints.id"), nullable=False, index=True),
    sa.Column("destination", sa.String(128), nullable=False, index=True),
    sa.Column("adapter", sa.String(64), nullable=False),
    sa.Column("rule_id", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),  # pending, delivered, dead
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
    # Lifecycle (hub/core/lifecycle.py), apart from the transport status above.
    sa.Column("state", sa.String(32), nullable=False, default="sent", server_default="sent"),
    sa.Column("state_at", sa.DateTime(timezone=True)),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
    sa.Column("clock_from", sa.DateTime(timezone=True)),  # SLA clock start; created_at when unset
    # The SLA clock stops while the destination waits for the citizen (needs_info): since when,
    # and the working seconds of earlier pauses (both reset with clock_from).
    sa.Column("paused_at", sa.DateTime(timezone=True)),
    sa.Column("paused_seconds", sa.Float, nullable=False, default=0.0, server_default="0"),
    sa.Column("sends", sa.Integer, nullable=False, default=1, server_default="1"),
    sa.Column("handoff", sa.JSON),  # why this destination got it after a rejection or transfer
    sa.Column("remote_ref", sa.String(200)),  # the destination's own id (e.g. Open311 request id)
    # The lease (hub/pipeline/leases.py): who is working this delivery now, and until when. Only
    # the holder may settle it; an expired lease (its worker died) can be taken over.
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_until", sa.DateTime(timezone=True), index=True),
    sa.UniqueConstraint("complaint_id", "destination", name="uq_deliveries_complaint_destination"),
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("complaint_id", sa.String(64), sa.ForeignKey("complaints.id"), nullable=False, index=True),
    sa.Column("delivery_id", sa.String(64)),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
)

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(128), nullable=False, unique=True),
    sa.Column("exchange", sa.String(128), nullable=False),
    sa.Column("routing_key", sa.String(256), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("headers", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), index=True),
)


def now() -> datetime:
    return datetime.now(timezone.utc)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


def delivery_id(complaint_id: str, destination: str) -> str:
    """Stable: the same complaint and destination always give the same delivery id."""
    return "d-" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"laporhub:{complaint_id}:{destination}"))


def aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _to_json(value: Any) -> str:
    """JSON columns take datetimes (and other plain values) as their string form."""
    return json.dumps(value, default=str)


def iso(value: datetime | None) -> str | None:
    value = aware(value)
    return value.isoformat().replace("+00:00", "Z") if value else None


def event_row(complaint_id: str, type_: str, data: Mapping[str, Any], actor: str = "hub",
              delivery_id_: str | None = None) -> dict[str, Any]:
    return {"complaint_id": complaint_id, "delivery_id": delivery_id_, "type": type_, "actor": actor,
            "at": now(), "data": dict(data)}


def delivery_row(complaint_id: str, destination: str, adapter: str, rule_id: str, reason: str) -> dict[str, Any]:
    at = now()
    return {"id": delivery_id(complaint_id, destination), "complaint_id": complaint_id,
            "destination": destination, "adapter": adapter, "rule_id": rule_id, "reason": reason,
            "status": "pending", "attempts": 0, "created_at": at, "updated_at": at}


def outbox_row(message_id: str, exchange: str, routing_key: str, body: Mapping[str, Any] | str,
               headers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, default=str)
    return {"message_id": message_id, "exchange": exchange, "routing_key": routing_key, "body": text,
            "headers": dict(headers or {}), "created_at": now()}


Prepare = Callable[[Connection], None]


def create_tables(conn: Connection) -> None:
    """The embedded default (and tests): make whatever tables are missing. Processes started by
    `laporhub` check the schema's migration head instead (hub/cli/database.py)."""
    metadata.create_all(conn)


class Store:
    def __init__(self, url: str, prepare: Prepare = create_tables) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine: Engine = sa.create_engine(
                url, json_serializer=_to_json, connect_args={"check_same_thread": False, "timeout": 30})

            @sa.event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
                cur = dbapi_conn.cursor()
                if ":memory:" not in url:
                    cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()
        else:
            self.engine = sa.create_engine(url, json_serializer=_to_json, pool_pre_ping=True)
        with self.engine.begin() as conn:
            self.serialize(conn, "schema")
            prepare(conn)

    def serialize(self, conn: Connection, what: str) -> None:
        """Hold a lock named `what` until the transaction ends, so processes starting at the same
        moment on an empty database do not both create its tables or seed its first version.
        (SQLite already lets one writer at a time.)"""
        if self.dialect == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(zlib.crc32(f"laporhub:{what}".encode()))))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def begin(self) -> Any:
        return self.engine.begin()

    # -- complaints -------------------------------------------------------------------------

    def insert_complaint(self, conn: Connection, complaint: Mapping[str, Any]) -> tuple[str, bool]:
        """Insert, or return the existing id for the same (channel, external_ref)."""
        ref = complaint.get("external_ref")
        if ref is not None:
            existing = conn.execute(sa.select(complaints.c.id).where(
                complaints.c.channel == complaint["channel"], complaints.c.external_ref == ref)).scalar()
            if existing:
                return existing, False
        cid = new_id("c")
        at = now()
        conn.execute(complaints.insert().values(
            id=cid, channel=complaint["channel"], external_ref=ref, body=dict(complaint),
            privacy=privacy.choice(complaint), status="received", received_at=at, updated_at=at))
        return cid, True

    def find_by_ref(self, channel: str, external_ref: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(complaints.c.id).where(
                complaints.c.channel == channel, complaints.c.external_ref == external_ref)).scalar()

    def complaint_row(self, conn: Connection, complaint_id: str, lock: bool = False) -> Mapping[str, Any] | None:
        q = sa.select(complaints).where(complaints.c.id == complaint_id)
        if lock and self.dialect == "postgresql":
            # NO KEY UPDATE: the key-share locks that inserting events and deliveries take on
            # their complaint must not conflict with it, or two settlements deadlock.
            q = q.with_for_update(key_share=True)
        row = conn.execute(q).mappings().first()
        return dict(row) if row else None

    def complaint_rows(self, conn: Connection, ids: list[str], lock: bool = False,
                       columns: tuple[str, ...] | None = None) -> dict[str, Mapping[str, Any]]:
        """Several complaints by id (all columns, or `columns` and the id), locked in id order (so
        concurrent batches cannot deadlock)."""
        chosen = [complaints.c.id, *(complaints.c[c] for c in columns)] if columns else [complaints]
        q = sa.select(*chosen).where(complaints.c.id.in_(ids)).order_by(complaints.c.id)
        if lock and self.dialect == "postgresql":
            q = q.with_for_update(key_share=True)
        return {r["id"]: dict(r) for r in conn.execute(q).mappings().all()}

    def set_routed(self, conn: Connection, complaint_id: str, classification: Mapping[str, Any],
                   decision: Mapping[str, Any]) -> None:
        self.set_routed_many(conn, [(complaint_id, classification, decision)])

    def set_routed_many(self, conn: Connection,
                        routed: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]]) -> None:
        """Record each complaint's classification and decision, in one statement for the batch."""
        if not routed:
            return
        at = now()
        conn.execute(
            complaints.update().where(complaints.c.id == sa.bindparam("b_id")).values(
                status="routed", category=sa.bindparam("b_category"), city=sa.bindparam("b_city"),
                urgency=sa.bindparam("b_urgency"), confidence=sa.bindparam("b_confidence"),
                classification=sa.bindparam("b_classification", type_=complaints.c.classification.type),
                decision=sa.bindparam("b_decision", type_=complaints.c.decision.type),
                ruleset_version=sa.bindparam("b_ruleset_version"), updated_at=at),
            [{"b_id": cid, "b_category": c["category"], "b_city": (c.get("area") or {}).get("city"),
              "b_urgency": c["urgency"], "b_confidence": c["confidence"], "b_classification": dict(c),
              "b_decision": dict(d), "b_ruleset_version": d["ruleset_version"]} for cid, c, d in routed])

    def complaint(self, complaint_id: str) -> dict[str, Any] | None:
        """The complaint with its deliveries and timeline, for the API and administrators."""
        with self.engine.connect() as conn:
            row = self.complaint_row(conn, complaint_id)
            if row is None:
                return None
            dels = conn.execute(sa.select(deliveries).where(deliveries.c.complaint_id == complaint_id)
                                .order_by(deliveries.c.created_at, deliveries.c.destination)).mappings().all()
            evs = conn.execute(sa.select(events).where(events.c.complaint_id == complaint_id)
                               .order_by(events.c.id)).mappings().all()
        return {
            "id": row["id"],
            "status": row["status"],
            "channel": row["channel"],
            "external_ref": row["external_ref"],
            "received_at": iso(row["received_at"]),
            "updated_at": iso(row["updated_at"]),
            "complaint": row["body"],
            "classification": row["classification"],
            "decision": row["decision"],
            "state": row["state"],
            "supervisor": bool(row["supervisor"]),
            "deliveries": [self._delivery_dict(d) for d in dels],
            "timeline": [
                {"type": e["type"], "at": iso(e["at"]), "actor": e["actor"],
                 "delivery_id": e["delivery_id"], **e["data"]}
                for e in evs
            ],
        }

    def recent_complaints(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(complaints.c.id, complaints.c.status, complaints.c.category,
                                          complaints.c.city, complaints.c.received_at)
                                .order_by(complaints.c.received_at.desc()).limit(limit)).mappings().all()
        return [{**dict(r), "received_at": iso(r["received_at"])} for r in rows]

    # -- deliveries -------------------------------------------------------------------------

    @staticmethod
    def _delivery_dict(d: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": d["id"], "complaint_id": d["complaint_id"], "destination": d["destination"],
            "adapter": d["adapter"], "rule_id": d["rule_id"], "reason": d["reason"],
            "status": d["status"], "attempts": d["attempts"], "last_error": d["last_error"],
            "created_at": iso(d["created_at"]), "delivered_at": iso(d["delivered_at"]),
            "state": d["state"], "state_at": iso(d["state_at"]),
            "acknowledged_at": iso(d["acknowledged_at"]), "remote_ref": d["remote_ref"],
        }

    def insert_delivery(self, conn: Connection, complaint_id: str, destination: str, adapter: str,
                        rule_id: str, reason: str) -> str:
        row = delivery_row(complaint_id, destination, adapter, rule_id, reason)
        conn.execute(deliveries.insert().values(**row))
        return row["id"]

    def delivery(self, delivery_id_: str, conn: Connection | None = None) -> dict[str, Any] | None:
        if conn is None:
            with self.engine.connect() as c:
                return self.delivery(delivery_id_, c)
        row = conn.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id_)).mappings().first()
        return self._delivery_dict(row) if row else None

    def deliveries_of(self, complaint_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(deliveries).where(deliveries.c.complaint_id == complaint_id)
                                .order_by(deliveries.c.destination)).mappings().all()
        return [self._delivery_dict(r) for r in rows]

    def update_delivery(self, conn: Connection, delivery_id_: str, **values: Any) -> None:
        conn.execute(deliveries.update().where(deliveries.c.id == delivery_id_)
                     .values(updated_at=now(), **values))

    def settle_complaint(self, conn: Connection, complaint_id: str) -> str:
        """Once no delivery is pending: `delivered`, or `delivery_failed` if any went dead.

        The complaint row is locked first: two deliveries of one complaint settling at once would
        otherwise each see the other still pending, and the complaint would stay `routed`."""
        self.complaint_row(conn, complaint_id, lock=True)
        statuses = set(conn.execute(sa.select(deliveries.c.status)
                                    .where(deliveries.c.complaint_id == complaint_id)).scalars())
        if not statuses or "pending" in statuses:
            return "routed"
        status = "delivery_failed" if "dead" in statuses else "delivered"
        conn.execute(complaints.update().where(complaints.c.id == complaint_id)
                     .values(status=status, updated_at=now()))
        return status

    # -- events -----------------------------------------------------------------------------

    def add_event(self, conn: Connection, complaint_id: str, type_: str, data: Mapping[str, Any],
                  actor: str = "hub", delivery_id_: str | None = None) -> None:
        conn.execute(events.insert().values(**event_row(complaint_id, type_, data, actor, delivery_id_)))

    def is_duplicate_key(self, exc: Exception) -> bool:
        return isinstance(exc, IntegrityError)

    def iter_table(self, table: sa.Table) -> Iterator[Mapping[str, Any]]:
        with self.engine.connect() as conn:
            yield from conn.execute(sa.select(table)).mappings()


