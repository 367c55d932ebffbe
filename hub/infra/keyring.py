"""Secrets the hub makes for itself and keeps in the store, so every process of one deployment
uses the same one with nothing configured (an environment variable overrides each). The caller
hands in how to seal a new one (hub/settings/secrets.py: Fernet at rest) and unseals what it reads."""

from __future__ import annotations

import secrets
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hub.infra.store import Store, metadata, now

hub_secrets = sa.Table(
    "hub_secrets", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


def secret(store: Store, name: str, seal: Callable[[str], str] = str) -> str:
    """The secret called `name` as stored (sealed by `seal` when it was made), made on first use
    (the first process to insert it wins)."""
    for _ in range(2):
        with store.engine.connect() as conn:
            value = conn.execute(sa.select(hub_secrets.c.value).where(hub_secrets.c.name == name)).scalar()
        if value:
            return value
        try:
            with store.begin() as conn:
                conn.execute(hub_secrets.insert().values(name=name, value=seal(secrets.token_urlsafe(32)),
                                                         created_at=now()))
        except IntegrityError:
            pass
    raise RuntimeError(f"secret {name!r} could not be read or made")
