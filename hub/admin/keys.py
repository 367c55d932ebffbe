"""API keys: shown once, stored as a hash, each with a role and (for channels and destinations) a scope.

A key is `lhk_<id>_<secret>`. The id finds the row; only SHA-256 of the whole key is stored. The
secret is 32 random bytes, so a fast hash is enough (slow password hashes protect guessable
passwords, which these are not), and checking a key costs one indexed read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Mapping

import sqlalchemy as sa

from hub.core.errors import Conflict
from hub.infra.store import Store, iso, metadata, now
from hub.settings import audit

ROLES = {
    "channel": "submits complaints and reads what it submitted (scope: the channel id)",
    "destination": "reads and updates only complaints delivered to it (scope: the destination id)",
    "admin": "rules, destinations, keys, dead letters; reads everything",
    "auditor": "reads everything, changes nothing",
}
SCOPED = {"channel", "destination"}
PREFIX = "lhk_"


api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("scope", sa.String(128)),  # channel id or destination id
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("replaced_by", sa.String(32)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
)


class KeyError_(Conflict):
    """A key cannot be created, rotated or revoked as asked."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id and name, its role, and its scope (channel or destination id)."""

    key_id: str
    name: str
    role: str
    scope: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.name} ({self.key_id})"


@dataclass(frozen=True)
class IssuedKey:
    """A new key: `secret` is the only time the full key is visible."""

    id: str
    name: str
    role: str
    scope: str | None
    secret: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _check(role: str, scope: str | None) -> None:
    if role not in ROLES:
        raise KeyError_(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if role in SCOPED and not scope:
        raise KeyError_(f"a {role} key needs a scope: the {role} id it acts for")
    if role not in SCOPED and scope:
        raise KeyError_(f"an {role} key has no scope (it acts for the whole hub)")


def create(store: Store, name: str, role: str, scope: str | None = None, *, actor: str = "cli",
           reason: str = "created") -> IssuedKey:
    _check(role, scope)
    with store.begin() as conn:
        issued = _insert(conn, name, role, scope, actor)
        audit.record(conn, actor, "key.create", issued.id, reason, None, describe(conn, issued.id))
    return issued


def _insert(conn: sa.Connection, name: str, role: str, scope: str | None, actor: str) -> IssuedKey:
    key_id = secrets.token_hex(6)
    secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    conn.execute(api_keys.insert().values(id=key_id, name=name, role=role, scope=scope,
                                          key_hash=_hash(secret), created_by=actor, created_at=now()))
    return IssuedKey(key_id, name, role, scope, secret)


def rotate(store: Store, key_id: str, *, actor: str = "cli", reason: str = "rotated") -> IssuedKey:
    """A new key with the same name, role and scope; the old one stops working at once."""
    with store.begin() as conn:
        old = _live_row(conn, key_id)
        issued = _insert(conn, old["name"], old["role"], old["scope"], actor)
        conn.execute(api_keys.update().where(api_keys.c.id == key_id)
                     .values(revoked_at=now(), replaced_by=issued.id))
        audit.record(conn, actor, "key.rotate", key_id, reason, _public(old), describe(conn, issued.id))
    return issued


def revoke(store: Store, key_id: str, *, actor: str = "cli", reason: str = "revoked") -> dict[str, Any]:
    with store.begin() as conn:
        old = _live_row(conn, key_id)
        conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(revoked_at=now()))
        after = describe(conn, key_id)
        audit.record(conn, actor, "key.revoke", key_id, reason, _public(old), after)
    return after


def _live_row(conn: sa.Connection, key_id: str) -> Mapping[str, Any]:
    row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
    if row is None:
        raise KeyError_(f"no key {key_id!r}")
    if row["revoked_at"] is not None:
        raise KeyError_(f"key {key_id!r} is already revoked")
    return row


def _public(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "role": row["role"], "scope": row["scope"],
            "created_by": row["created_by"], "created_at": iso(row["created_at"]),
            "revoked_at": iso(row["revoked_at"]), "replaced_by": row["replaced_by"],
            "last_used_at": iso(row["last_used_at"])}


def describe(conn: sa.Connection, key_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
    if row is None:
        raise KeyError_(f"no key {key_id!r}")
    return _public(row)


def listing(store: Store, include_revoked: bool = False) -> list[dict[str, Any]]:
    q = sa.select(api_keys).order_by(api_keys.c.created_at)
    if not include_revoked:
        q = q.where(api_keys.c.revoked_at.is_(None))
    with store.engine.connect() as conn:
        return [_public(r) for r in conn.execute(q).mappings().all()]


def any_admin(store: Store) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(api_keys.c.id).where(
            api_keys.c.role == "admin", api_keys.c.revoked_at.is_(None)).limit(1)).first() is not None


def authenticate(store: Store, presented: str) -> Principal | None:
    """The principal for a presented key, or None if it is malformed, unknown or revoked."""
    if not presented.startswith(PREFIX):
        return None
    key_id = presented[len(PREFIX):].split("_", 1)[0]
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
    if row is None or row["revoked_at"] is not None or not hmac.compare_digest(row["key_hash"], _hash(presented)):
        return None
    return Principal(row["id"], row["name"], row["role"], row["scope"])
