"""Alembic environment, configured in code: the store passes an open connection."""

from __future__ import annotations

from alembic import context

from cmo_desk.store.models import METADATA

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only used when generating revisions by hand
    from sqlalchemy import create_engine

    connection = create_engine(config.get_main_option("sqlalchemy.url") or "").connect()

driver = connection.connection.driver_connection
if connection.dialect.name == "sqlite" and driver is not None and not driver.in_transaction:
    # Python's sqlite3 opens a transaction only before INSERT/UPDATE/DELETE, so the CREATE and
    # DROP statements of an upgrade would each be saved at once: a power cut (or any failure)
    # halfway left a file that could no longer be opened. One explicit transaction makes the
    # whole upgrade happen, or none of it.
    connection.exec_driver_sql("BEGIN")

context.configure(
    connection=connection,
    target_metadata=METADATA,
    render_as_batch=True,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
