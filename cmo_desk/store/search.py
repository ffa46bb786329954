"""Full-text search over the pages of a project's documents, and the snippets shown for a hit.

The index (an FTS5 table, filled by the projection) holds one row per page; a hit's snippet is cut
from the document's own text (read from the log), so what the user reads is what the file holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.textsearch import fts_query
from cmo_desk.store import page_index
from cmo_desk.store.document_text import document_texts
from cmo_desk.store.models import ENTITY_TABLES

#: The full-text index over document pages (page_index.py); a test compares it with the migrations'.
SEARCH_TABLE_DDL = page_index.SEARCH_TABLE_DDL


@dataclass(frozen=True)
class SearchHit:
    study_id: str
    study_label: str
    document_id: str
    page: int
    snippet: str


def search(conn: Connection, query: str, limit: int = 50) -> list[SearchHit]:
    """Pages whose text has every word of ``query`` (CJK words found inside longer runs)."""
    q = fts_query(query)
    if not q:
        return []
    sql = text(
        "SELECT p.document_id, d.study_id, p.page FROM search_pages "
        "JOIN search_page p ON p.id = search_pages.rowid "
        "JOIN document d ON d.id = p.document_id "
        "WHERE search_pages MATCH :q "
        "ORDER BY rank LIMIT :n"
    )
    doc_table = ENTITY_TABLES["document"]
    study_table = ENTITY_TABLES["study"]
    try:
        rows = conn.execute(sql, {"q": q, "n": limit}).all()
    except OperationalError as err:
        raise ValidationError(tr(
            "The search '{query}' could not be understood ({detail}). "
            "Use plain words.").format(query=query, detail=err.orig)) from None
    doc_ids = sorted({r[0] for r in rows})
    texts = document_texts(conn, doc_ids)
    docs = {
        d.id: (texts.get(d.id) or "", list(d.page_starts or [0]))
        for d in conn.execute(select(doc_table.c.id, doc_table.c.page_starts)
                              .where(doc_table.c.id.in_(doc_ids)))
    }
    labels = dict(conn.execute(select(study_table.c.id, study_table.c.label)).all())
    hits = []
    for did, sid, page in rows:
        body, starts = docs.get(did, ("", [0]))
        page = int(page)
        a = starts[page - 1] if 0 < page <= len(starts) else 0
        b = starts[page] if page < len(starts) else len(body)
        hits.append(SearchHit(sid, labels.get(sid) or "", did, page,
                              make_snippet(body[a:b], query)))
    return hits


def make_snippet(page_text: str, query: str, width: int = 90) -> str:
    """The page text around the first word of the query found in it, with the word in [ ]."""
    folded = page_text.casefold()
    best = -1
    word = ""
    for token in query.replace('"', " ").split():
        pos = folded.find(token.casefold())
        if pos >= 0 and (best < 0 or pos < best):
            best, word = pos, page_text[pos:pos + len(token)]
    flat = " ".join
    if best < 0:
        return flat(page_text[:width * 2].split())
    start = max(0, best - width)
    end = min(len(page_text), best + len(word) + width)
    before = flat(page_text[start:best].split())
    after = flat(page_text[best + len(word):end].split())
    return (("…" if start > 0 else "") + before + (" " if page_text[best - 1:best].isspace() else "")
            + f"[{word}]" + (" " if page_text[best + len(word):best + len(word) + 1].isspace() else "")
            + after + ("…" if end < len(page_text) else ""))
