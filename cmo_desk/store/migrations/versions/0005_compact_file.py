"""a compact file: page text held once, documents' text compressed, a narrower log index

The full-text index kept its own copy of every page; it becomes a contentless index (words
only) with a small table naming each indexed page. A document's text is stored compressed, in the
log and in the projection (the content ids are computed over the text as before, so ids, bundles
and merges with older files are unchanged). The log's index by record holds the id alone.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from cmo_desk.domain.packed_text import pack_text, unpack_text
from cmo_desk.store import page_index
from cmo_desk.store.logformat import PACKED_FIELDS

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_OLD_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE search_pages USING fts5("
    "document_id UNINDEXED, study_id UNINDEXED, page UNINDEXED, body, "
    "tokenize = 'unicode61 remove_diacritics 2')")


def _recode_texts(code: object) -> None:
    conn = op.get_bind()
    ids = [r[0] for r in conn.exec_driver_sql(
        "SELECT id FROM document WHERE text IS NOT NULL").all()]
    for did in ids:
        (value,) = conn.exec_driver_sql("SELECT text FROM document WHERE id = ?", (did,)).one()
        conn.exec_driver_sql("UPDATE document SET text = ? WHERE id = ?",
                             (code(unpack_text(value)), did))  # type: ignore[operator]


def _recode_log(code: object) -> None:
    conn = op.get_bind()
    for etype, field in sorted(PACKED_FIELDS):
        rowids = [r[0] for r in conn.exec_driver_sql(
            "SELECT rowid FROM changes WHERE entity_type = ? AND field = ?", (etype, field))]
        for rowid in rowids:  # one value at a time: a large project's texts never all in memory
            (value,) = conn.exec_driver_sql(
                "SELECT value FROM changes WHERE rowid = ?", (rowid,)).one()
            conn.exec_driver_sql("UPDATE changes SET value = ? WHERE rowid = ?",
                                 (code(unpack_text(value)), rowid))  # type: ignore[operator]


def _table_texts(ids: list[str]) -> dict[str, str | None]:
    """Documents' texts as this revision's ``document`` table holds them (0007 leaves it empty,
    after checking the index against the log)."""
    conn = op.get_bind()
    marks = ",".join("?" * len(ids))
    return {did: unpack_text(value) for did, value in conn.exec_driver_sql(
        f"SELECT id, text FROM document WHERE id IN ({marks})", tuple(ids))}


def upgrade() -> None:
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index("ix_changes_entity")
        batch_op.create_index("ix_changes_entity_id", ["entity_id"], unique=False)
    op.create_table(
        "search_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_page")),
    )
    with op.batch_alter_table("search_page", schema=None) as batch_op:
        batch_op.create_index("ix_search_page_document_id", ["document_id"], unique=False)
    if op.get_bind().dialect.name != "sqlite":
        return
    _recode_texts(pack_text)
    _recode_log(pack_text)
    op.execute("DROP TABLE IF EXISTS search_pages")
    op.execute(page_index.SEARCH_TABLE_DDL)
    page_index.rebuild(op.get_bind(), _table_texts)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recode_texts(lambda value: value)
        _recode_log(lambda value: value)
        op.execute("DROP TABLE IF EXISTS search_pages")
        op.execute(_OLD_SEARCH_DDL)
        conn = op.get_bind()
        rows = conn.exec_driver_sql(
            "SELECT id, study_id, text, page_starts FROM document WHERE NOT deleted").all()
        for did, sid, body, starts in rows:
            for page, words in page_index.page_bodies(
                    body, json.loads(starts) if starts else None):
                conn.exec_driver_sql(
                    "INSERT INTO search_pages (document_id, study_id, page, body) "
                    "VALUES (?, ?, ?, ?)", (did, sid, page, words))
    with op.batch_alter_table("search_page", schema=None) as batch_op:
        batch_op.drop_index("ix_search_page_document_id")
    op.drop_table("search_page")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index("ix_changes_entity_id")
        batch_op.create_index("ix_changes_entity", ["entity_type", "entity_id"], unique=False)
