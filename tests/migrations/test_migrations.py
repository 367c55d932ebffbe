"""The schema is upgradable: the migrations build exactly the tables the hub defines (so a change
to a table without a migration fails here), a database of the release before migrations keeps
every row through `laporhub db upgrade`, and a process refuses a schema that is behind, naming the
command. On SQLite and on PostgreSQL."""

from __future__ import annotations

import ast
import sys
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from hub.cli import database
from hub.cli.main import main
from hub.core.errors import SchemaBehind
from hub.infra import logs
from hub.infra.store import Store, metadata
from hub.settings.environment import Settings
from hub.settings.runtime import Hub
from tests.harness import ROOT


def at_revision(url: str, revision: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        command.upgrade(database.alembic_config(conn), revision)
    engine.dispose()


def test_the_migrations_build_exactly_the_tables_the_hub_defines(database_url: str) -> None:
    """alembic's compare_metadata between head and the hub's metadata finds nothing: a column
    added to a table without a migration fails this test."""
    assert database.upgrade(database_url) == (None, database.head())
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert database.differences(conn) == []
        assert database.current(conn) == database.head()
    engine.dispose()


def test_a_change_to_a_table_without_its_migration_is_found(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    database.upgrade(url)
    column = sa.Column("forgotten", sa.String(10))
    metadata.tables["deliveries"].append_column(column)
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            found = database.differences(conn)
        engine.dispose()
    finally:
        metadata.tables["deliveries"]._columns.remove(column)
    assert [(d[0], d[3].name) for d in found] == [("add_column", "forgotten")]


def sample(column: sa.Column, n: int) -> Any:
    """A value of the column's type, distinct per row n."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return bool(n % 2)
    if isinstance(kind, sa.Integer):
        return 1000 + n
    if isinstance(kind, sa.Float):
        return 1.5 + n
    if isinstance(kind, sa.DateTime):
        return dt.datetime(2026, 11, 30, 8, n, tzinfo=dt.timezone.utc)
    if isinstance(kind, sa.JSON):
        return {"row": n, "kata": "jalan berlubang"}
    length = getattr(kind, "length", None) or 40
    return f"{column.name[:10]}-{n}"[:length]


def fill(conn: sa.engine.Connection, rows: int = 3) -> dict[str, list[dict[str, Any]]]:
    """Rows in every table the database has, foreign keys pointing at rows that exist."""
    reflected = sa.MetaData()
    reflected.reflect(conn)
    written: dict[str, list[dict[str, Any]]] = {}
    for table in reflected.sorted_tables:
        if table.name == "alembic_version":
            continue
        written[table.name] = []
        for n in range(rows):
            row = {}
            for column in table.columns:
                fk = next(iter(column.foreign_keys), None)
                if fk is not None:
                    row[column.name] = written[fk.column.table.name][n][fk.column.name]
                else:
                    row[column.name] = sample(column, n)
            conn.execute(table.insert().values(**row))
            written[table.name].append(row)
    return written


@pytest.mark.parametrize("versioned", [True, False], ids=["at its first revision", "made before migrations"])
def test_a_database_of_the_current_release_keeps_every_row_through_the_upgrade(database_url: str,
                                                                                 versioned: bool) -> None:
    at_revision(database_url, database.BASELINE)
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        written = fill(conn)
        if not versioned:  # as the hub made it before it had migrations: create_all, no version
            conn.execute(sa.text("DROP TABLE alembic_version"))
    assert len(written) >= 15

    assert database.upgrade(database_url) == (database.BASELINE if versioned else None, database.head())

    with engine.connect() as conn:
        assert database.differences(conn) == []
        for name, rows in written.items():
            table = metadata.tables[name]
            stored = [dict(r) for r in conn.execute(sa.select(table)).mappings()]
            assert len(stored) == len(rows), name
            for before in rows:
                match = [s for s in stored if all(_same(s[k], v) for k, v in before.items())]
                assert match, f"{name}: {before} lost"
        new = conn.execute(sa.select(metadata.tables["deliveries"].c.paused_seconds)).scalars().all()
        assert new == [0.0, 0.0, 0.0], "columns added by the upgrade have their defaults"
    engine.dispose()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a.replace(tzinfo=a.tzinfo or dt.timezone.utc) == b
    return a == b


def test_a_process_refuses_a_schema_that_is_behind_and_names_the_command(database_url: str) -> None:
    at_revision(database_url, database.BASELINE)
    settings = Settings(database_url=database_url, config_dir=ROOT / "config")
    with pytest.raises(SchemaBehind) as refused:
        Hub.create(settings, prepare=database.check)
    assert f"at revision {database.BASELINE}" in str(refused.value)
    assert "run `laporhub db upgrade`" in str(refused.value)
    database.upgrade(database_url)
    Hub.create(settings, prepare=database.check).store.engine.dispose()


def test_a_new_database_is_made_at_the_head_and_tables_made_without_migrations_are_recorded(tmp_path: Path) -> None:
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    Store(fresh, database.check).engine.dispose()
    made_by_tests = f"sqlite:///{tmp_path / 'tests.db'}"
    Store(made_by_tests).engine.dispose()  # create_all, as the embedded default and tests do
    Store(made_by_tests, database.check).engine.dispose()
    for url in (fresh, made_by_tests):
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert database.current(conn) == database.head()
        engine.dispose()


def test_db_upgrade_and_db_current_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str],
                                                        request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    at_revision(url, database.BASELINE)
    monkeypatch.setenv("LAPORHUB_DATABASE_URL", url)
    request.addfinalizer(lambda: logs.configure(stream=sys.__stderr__))  # not the captured stream, once closed
    assert main(["db", "current"]) == 1
    assert "run `laporhub db upgrade`" in capsys.readouterr().out
    assert main(["keys", "list"]) == 2
    assert "run `laporhub db upgrade`" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    assert f"upgraded from {database.BASELINE} to {database.head()}" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert "(already)" in capsys.readouterr().out


def test_the_schema_check_and_the_migrations_see_every_module_that_owns_a_table() -> None:
    owners = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "hub").rglob("*.py")
              if "sa.Table(" in p.read_text(encoding="utf-8") and "migrations" not in p.parts}
    env = ast.parse((ROOT / "hub" / "cli" / "database.py").read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(env) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(env) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {f"{n.module}.{a.name}" for n in ast.walk(env) if isinstance(n, ast.ImportFrom) and n.module
                 for a in n.names}
    assert owners <= imported, f"hub/cli/database.py does not import {sorted(owners - imported)}"
    assert "hub.cli.database" in (ROOT / "hub" / "migrations" / "env.py").read_text(encoding="utf-8")
