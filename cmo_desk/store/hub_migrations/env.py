"""Alembic environment of the team hub (PostgreSQL), configured in code: the hub passes a connection."""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    version_table="alembic_version",
    version_table_schema="cmo_hub",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
