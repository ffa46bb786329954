"""duplicate decisions: a coordinator's accept/reject of a proposed duplicate, kept as data

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duplicate_decision",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("kept_id", sa.Text(), nullable=True),
        sa.Column("duplicate_id", sa.Text(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_decision")),
    )


def downgrade() -> None:
    op.drop_table("duplicate_decision")
