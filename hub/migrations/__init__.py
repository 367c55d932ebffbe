"""Alembic migrations for the whole schema (`laporhub db upgrade`). The top layer: its env imports
every module that owns a table, so the one metadata it compares against is complete.

A change to a table comes with a revision in versions/: `tests/migrations` fails when the
metadata and the migrations differ (alembic's compare_metadata)."""
