"""Alembic's environment: the connection `laporhub db` hands over (or a URL), and the hub's
metadata with every table. Every module that owns a table is imported here."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

import hub.admin.keys  # noqa: F401 - api_keys
import hub.aftercare.citizen  # noqa: F401 - feedback, reopenings
import hub.aftercare.handoffs  # noqa: F401
import hub.aftercare.scheduler  # noqa: F401 - escalations
import hub.aftercare.status  # noqa: F401 - status updates, webhook ids
import hub.pipeline.deadletter  # noqa: F401 - dead letters
import hub.pipeline.notices  # noqa: F401
import hub.pipeline.retry  # noqa: F401 - delivery retries, endpoint health
import hub.settings.audit  # noqa: F401 - admin changes
import hub.settings.live  # noqa: F401 - destination settings
import hub.settings.versions  # noqa: F401 - routing versions and publications
import hub.settings.workers  # noqa: F401
from hub.infra.store import metadata

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
