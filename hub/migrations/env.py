"""Alembic's environment: the connection `laporhub db` hands over (or a URL), and the hub's
metadata with every table (hub/cli/database.py imports every module that owns one)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from hub.cli.database import metadata  # imports every module that owns a table

config = context.config


def run(connection: sa.engine.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True,
                      render_as_batch=connection.dialect.name == "sqlite")  # SQLite alters by copy
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url"), poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        run(conn)
    engine.dispose()
