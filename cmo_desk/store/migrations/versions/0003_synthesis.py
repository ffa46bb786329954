"""synthesis: review-level CMOCs, their links to study CMOCs, and programme theory versions

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TYPES = ("review_cmoc", "review_link", "theory_version")


def _base(name: str, *columns: sa.Column[Any]) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    _base(
        "review_cmoc",
        sa.Column("theory_id", sa.String(length=36), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("context", sa.Text(), nullable=True),
        sa.Column("mechanism_resource", sa.Text(), nullable=True),
        sa.Column("mechanism_reasoning", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("outcome_direction", sa.Text(), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Text(), nullable=True),
        sa.Column("assessment", sa.JSON(), nullable=True),
        sa.Column("confidence_basis", sa.Text(), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=True),
    )
    with op.batch_alter_table("review_cmoc", schema=None) as batch_op:
        batch_op.create_index("ix_review_cmoc_theory_id", ["theory_id"], unique=False)
    _base(
        "review_link",
        sa.Column("review_cmoc_id", sa.String(length=36), nullable=True),
        sa.Column("source_id", sa.Text(), nullable=True),
        sa.Column("source_kind", sa.Text(), nullable=True),
        sa.Column("relation", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    with op.batch_alter_table("review_link", schema=None) as batch_op:
        batch_op.create_index("ix_review_link_review_cmoc_id", ["review_cmoc_id"], unique=False)
        batch_op.create_index("ix_review_link_source_id", ["source_id"], unique=False)
    _base(
        "theory_version",
        sa.Column("theory_id", sa.String(length=36), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("members", sa.JSON(), nullable=True),
        sa.Column("added", sa.JSON(), nullable=True),
        sa.Column("changed", sa.JSON(), nullable=True),
        sa.Column("dropped", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("recorded_at", sa.Text(), nullable=True),
    )
    with op.batch_alter_table("theory_version", schema=None) as batch_op:
        batch_op.create_index("ix_theory_version_theory_id", ["theory_id"], unique=False)

    # An older version keeps log rows of record types it does not know (merged in from a newer
    # colleague's file): now that their tables exist, project them so nothing stays hidden.
    from cmo_desk.store.projection import reproject_many

    conn = op.get_bind()
    marks = ",".join("?" * len(_TYPES))
    found = conn.exec_driver_sql(
        f"SELECT DISTINCT entity_type, entity_id FROM changes WHERE entity_type IN ({marks})",
        _TYPES).all()
    if found:
        reproject_many(conn, [(t, i) for t, i in found], compact=False)  # ids still text


def downgrade() -> None:
    for name in reversed(_TYPES):
        op.drop_table(name)
