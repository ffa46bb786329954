"""The full-text index over document pages, which holds no copy of the page text.

``search_pages`` is a contentless FTS5 table: it keeps only the words' positions, not the text
(the text lives once, in the log: ``document_text``). The small ``search_page`` table says which
document page each index row is. A contentless index forgets what it indexed, so removing a page
means handing it the very words that were indexed: they are recomputed with :func:`page_bodies`,
the same function that indexed them, from the text the document showed when it was indexed (the
projection is told it when a write changes which text a document shows). Whoever changes how pages are cut or how ``index_text`` folds text must rebuild
the index (:func:`rebuild`) in a migration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from cmo_desk.domain.ahead import kept_ahead
from cmo_desk.domain.textsearch import index_text
from cmo_desk.store.document_text import STEP, document_texts
from cmo_desk.store.models import DOCUMENT

#: The index (CJK text is indexed one character per token); migration 0005 creates the same.
SEARCH_TABLE_DDL = (
    "CREATE VIRTUAL TABLE search_pages USING fts5("
    "body, content='', tokenize = 'unicode61 remove_diacritics 2')")


#: Most characters of page bodies kept ahead of their writing at once (beyond, they are made
#: when written).
AHEAD_LIMIT = 32 * 1024 * 1024

#: Documents' texts -> (their page starts, their page bodies), made ahead (:func:`bodies_ahead`).
_ahead: dict[str, tuple[list[int], list[tuple[int, str]]]] = {}


def page_bodies(body: str | None, page_starts: Any) -> list[tuple[int, str]]:
    """(page number, indexed words) of each non-blank page of a document's text."""
    if not body:
        return []
    starts = list(page_starts or [0])
    if _ahead:
        made = _ahead.get(body)
        if made is not None and made[0] == starts:
            return list(made[1])
    return _page_bodies(body, starts)


def _page_bodies(body: str, starts: list[int]) -> list[tuple[int, str]]:
    if not starts or starts[0] != 0:
        starts = [0, *starts]
    bounds = [*starts[1:], len(body)]
    return [(i + 1, index_text(body[a:b]))
            for i, (a, b) in enumerate(zip(starts, bounds)) if body[a:b].strip()]


@contextmanager
def bodies_ahead(limit: int = AHEAD_LIMIT) -> Iterator[Callable[[str, Any], None]]:
    """A function that makes a document's page bodies now, from its text and page starts, so
    that :func:`page_bodies` later gives them at once, while the ``with`` block lasts; at most
    ``limit`` characters of them are kept (documents given beyond are indexed as usual)."""
    with kept_ahead(_ahead, limit) as keep:
        def ahead(body: str, page_starts: Any) -> None:
            if body:
                keep(body, lambda: _bodies_made(body, page_starts))

        yield ahead


def _bodies_made(body: str, page_starts: Any
                 ) -> tuple[tuple[list[int], list[tuple[int, str]]], int]:
    starts = list(page_starts or [0])
    bodies = _page_bodies(body, starts)
    return (starts, bodies), sum(len(words) for _page, words in bodies)


def clear(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO search_pages (search_pages) VALUES ('delete-all')")
        conn.exec_driver_sql("DELETE FROM search_page")


def reindex(conn: Connection, document_id: str, before: list[tuple[int, str]],
            after: list[tuple[int, str]]) -> None:
    """Make the index hold ``after`` for one document that it held as ``before``. A handful of
    statements per document, each given all its pages at once (an import writes hundreds)."""
    if conn.dialect.name != "sqlite" or before == after:
        return
    rows = conn.exec_driver_sql("SELECT id, page FROM search_page WHERE document_id = ?",
                                (document_id,)).all()
    old = dict(before)
    if rows and any(page not in old for _id, page in rows):
        # The index does not match the document's row (it cannot, unless written by hand):
        # the words to remove are unknown, so the whole index is built again.
        rebuild(conn)
        return
    if rows:
        conn.exec_driver_sql("INSERT INTO search_pages (search_pages, rowid, body) "
                             "VALUES ('delete', ?, ?)", [(rowid, old[page]) for rowid, page in rows])
        conn.exec_driver_sql("DELETE FROM search_page WHERE document_id = ?", (document_id,))
    if not after:
        return
    conn.exec_driver_sql("INSERT INTO search_page (document_id, page) VALUES (?, ?)",
                         [(document_id, page) for page, _body in after])
    rowid_of = {page: rowid for rowid, page in conn.exec_driver_sql(
        "SELECT id, page FROM search_page WHERE document_id = ?", (document_id,))}
    conn.exec_driver_sql("INSERT INTO search_pages (rowid, body) VALUES (?, ?)",
                         [(rowid_of[page], body) for page, body in after])


def rebuild(conn: Connection,
            texts: Callable[[list[str]], Mapping[str, str | None]] | None = None) -> int:
    """Index every live document's pages again; returns the pages. The texts are the log's
    (``document_text``) unless ``texts`` reads them, given ids (an upgrade from a layout that
    kept them in the ``document`` table)."""
    clear(conn)
    read = texts or (lambda ids: document_texts(conn, ids))
    table = DOCUMENT
    rows = conn.execute(select(table.c.id, table.c.page_starts)
                        .where(table.c.deleted.is_(False)).order_by(table.c.id)).all()
    n = 0
    for start in range(0, len(rows), STEP):  # a large project's texts are never all in memory
        chunk = rows[start:start + STEP]
        found = read([did for did, _starts in chunk])
        for did, starts in chunk:
            pages = page_bodies(found.get(did), starts)
            reindex(conn, did, [], pages)
            n += len(pages)
    return n
