"""The store's schema: `laporhub db upgrade` and `laporhub db current`, and the check every
`laporhub` process makes before it starts. A new, empty database is created at the migrations'
head; a schema behind it is never changed behind the operator's back: the process refuses to
start and names the command to run."""

from __future__ import annotations

import argparse
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection

# Every module that owns a table: the metadata compared against the database must be complete.
from hub.admin import keys as _keys  # noqa: F401
from hub.aftercare import actions as _actions, inbound as _inbound  # noqa: F401
from hub.aftercare import citizen as _citizen, handoffs as _handoffs  # noqa: F401
from hub.aftercare import scheduler as _scheduler, status as _status, transfers as _transfers  # noqa: F401
from hub.core.errors import SchemaBehind
from hub.infra import keyring as _keyring  # noqa: F401
from hub.infra.store import Store, metadata
from hub.settings.environment import Settings
from hub.pipeline import attempts as _attempts  # noqa: F401
from hub.pipeline import deadletter as _deadletter, linking as _linking, notices as _notices, retry as _retry  # noqa: F401
from hub.settings import audit as _audit, live as _live, versions as _versions, workers as _workers  # noqa: F401

SCRIPT_LOCATION = "hub:migrations"
BASELINE = "0001"  # the schema as LaporHub made it before it had migrations
UPGRADE = "laporhub db upgrade"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    found = script().get_current_head()
    assert found is not None
    return found


def current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def differences(conn: Connection) -> list[Any]:
    """What the database lacks or has more of than the hub's tables (alembic's comparison)."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return compare_metadata(context, metadata)


def _hub_tables(conn: Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names()) & set(metadata.tables)


def check(conn: Connection) -> None:
    """Ready the schema for a process that is starting (runs under the store's schema lock).

    Empty database: create every table and record the head. At the head: nothing. Otherwise refuse,
    naming `laporhub db upgrade`. (Tables made without migrations that match the head exactly,
    as the embedded default and the tests make them, are recorded at the head.)"""
    at, wanted = current(conn), head()
    if at == wanted:
        return
    if at is None and not _hub_tables(conn):
        metadata.create_all(conn)
        MigrationContext.configure(conn).stamp(script(), wanted)
        return
    if at is None and not differences(conn):
        MigrationContext.configure(conn).stamp(script(), wanted)
        return
    raise SchemaBehind(at, wanted, describe(at, wanted))


def describe(at: str | None, wanted: str) -> str:
    try:
        known = at is None or script().get_revision(at) is not None
    except CommandError:
        known = False
    if not known:
        return (f"the database schema is at revision {at}, which this LaporHub ({wanted}) does not know: "
                "it was upgraded by a newer release; run that release")
    where = f"revision {at}" if at else "the schema LaporHub made before it had migrations"
    return f"the database schema is at {where}, this LaporHub needs {wanted}: run `{UPGRADE}`"


def upgrade(url: str) -> tuple[str | None, str]:
    """Bring the schema at `url` to the head; returns (before, after). A database made before
    migrations is first recorded at the baseline. Serialized with starting processes."""
    store = Store(url, prepare=lambda conn: None)
    try:
        with store.engine.begin() as conn:
            store.serialize(conn, "schema")
            before = current(conn)
            if before is None and _hub_tables(conn):
                MigrationContext.configure(conn).stamp(script(), BASELINE)
            command.upgrade(alembic_config(conn), "head")
            return before, current(conn) or ""
    finally:
        store.engine.dispose()


def cmd_db(args: argparse.Namespace) -> int:
    url = Settings.from_env(embedded=False).database_url
    if args.db_cmd == "upgrade":
        before, after = upgrade(url)
        print(f"schema at {after} (already)" if before == after else f"schema upgraded from {before or 'nothing'} to {after}")
        return 0
    store = Store(url, prepare=lambda conn: None)
    try:
        with store.engine.connect() as conn:
            at = current(conn)
    finally:
        store.engine.dispose()
    wanted = head()
    print(f"current: {at or 'none'}\nhead:    {wanted}")
    if at != wanted:
        print(describe(at, wanted))
        return 1
    return 0


def add_commands(sub: Any) -> None:
    db = sub.add_parser("db", help="the store's schema: upgrade, current").add_subparsers(dest="db_cmd", required=True)
    db.add_parser("upgrade", help="migrate the schema to this release's head (run before starting a new release)"
                  ).set_defaults(fn=cmd_db)
    db.add_parser("current", help="the schema's revision and this release's head; exit 1 when behind"
                  ).set_defaults(fn=cmd_db)
