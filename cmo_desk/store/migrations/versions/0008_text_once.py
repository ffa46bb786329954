"""a document's text held once: in the change log, no longer also in the ``document`` table

The log holds every document's extracted text; the visible table kept a second, compressed copy.
Its ``text`` column is emptied (the schema is unchanged), and everything that shows a document's
text reads the log (store/document_text.py). The search index is made to hold the log's text
where the table's copy differed from it (a file altered by another program); the space freed is
given back by the compaction that follows an upgrade.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import json

from alembic import op

from cmo_desk.domain.packed_text import pack_text, unpack_text
from cmo_desk.store import page_index
from cmo_desk.store.document_text import STEP, document_texts

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _documents() -> list[tuple[str, bool, object]]:
    """(id, deleted, page starts) of every document."""
    return [(did, bool(deleted), json.loads(starts) if starts else None)
            for did, deleted, starts in op.get_bind().exec_driver_sql(
                "SELECT id, deleted, page_starts FROM document ORDER BY id")]


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        docs = [d for d in _documents() if not d[1]]
        for start in range(0, len(docs), STEP):  # a few texts in memory at a time
            chunk = docs[start:start + STEP]
            marks = ",".join("?" * len(chunk))
            held = {did: unpack_text(value) for did, value in conn.exec_driver_sql(
                f"SELECT id, text FROM document WHERE id IN ({marks})",
                tuple(d[0] for d in chunk))}
            logged = document_texts(conn, [d[0] for d in chunk])
            for did, _deleted, starts in chunk:
                if held.get(did) != logged.get(did):
                    # the index holds the table's words: make it hold the log's
                    page_index.reindex(conn, did, page_index.page_bodies(held.get(did), starts),
                                       page_index.page_bodies(logged.get(did), starts))
    op.execute("UPDATE document SET text = NULL WHERE text IS NOT NULL")


def downgrade() -> None:
    conn = op.get_bind()
    docs = _documents()
    for start in range(0, len(docs), STEP):
        chunk = [d[0] for d in docs[start:start + STEP]]
        for did, text in document_texts(conn, chunk).items():
            if text is not None:
                conn.exec_driver_sql("UPDATE document SET text = ? WHERE id = ?",
                                     (pack_text(text) if conn.dialect.name == "sqlite" else text,
                                      did))
