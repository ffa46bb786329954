"""Writing a document's pages to the search index in a few statements stores exactly what one
statement per page stored: the same rows of ``search_page`` and the same index, byte for byte."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection

from cmo_desk.store import page_index

SEARCH_PAGE_DDL = ("CREATE TABLE search_page (id INTEGER NOT NULL, document_id VARCHAR(36) "
                   "NOT NULL, page INTEGER NOT NULL, CONSTRAINT pk_search_page PRIMARY KEY (id))")
TABLES = ("search_page", "search_pages_data", "search_pages_idx", "search_pages_docsize",
          "search_pages_config")


def _reindex_page_by_page(conn: Connection, document_id: str, before: list[tuple[int, str]],
                          after: list[tuple[int, str]]) -> None:
    """The index written one statement per page, as it was."""
    if before == after:
        return
    rows = conn.execute(text("SELECT id, page FROM search_page WHERE document_id = :d"),
                        {"d": document_id}).all()
    old = dict(before)
    for rowid, page in rows:
        conn.execute(text("INSERT INTO search_pages (search_pages, rowid, body) "
                          "VALUES ('delete', :r, :b)"), {"r": rowid, "b": old[page]})
    conn.execute(text("DELETE FROM search_page WHERE document_id = :d"), {"d": document_id})
    for page, body in after:
        rowid = conn.execute(text("INSERT INTO search_page (document_id, page) VALUES (:d, :p)"),
                             {"d": document_id, "p": page}).lastrowid
        conn.execute(text("INSERT INTO search_pages (rowid, body) VALUES (:r, :b)"),
                     {"r": rowid, "b": body})


def _index_after(ops: list[tuple[int, list[str]]], reindex: Any) -> dict[str, list[Any]]:
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql(SEARCH_PAGE_DDL)
        conn.exec_driver_sql(page_index.SEARCH_TABLE_DDL)
        held: dict[str, list[tuple[int, str]]] = {}
        for doc, pages in ops:
            did = f"doc-{doc}"
            starts, body = [], ""
            for page in pages:
                starts.append(len(body))
                body += page
            after = page_index.page_bodies(body, starts)
            reindex(conn, did, held.get(did, []), after)
            held[did] = after
        return {table: conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1").all()
                for table in TABLES}


WORDS = ("needle", "trust", "émigré", "Malawi", "同伴教育", "naloxone", "سلام", "🙂", " ", "\n")
page = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.lists(page, max_size=5)), min_size=1,
                max_size=8))
def test_the_index_holds_the_same_bytes_as_written_page_by_page(
        ops: list[tuple[int, list[str]]]) -> None:
    assert _index_after(ops, page_index.reindex) == _index_after(ops, _reindex_page_by_page)


def test_a_document_of_many_pages_is_indexed_in_a_few_statements() -> None:
    engine = create_engine("sqlite://")
    statements: list[str] = []
    with engine.begin() as conn:
        conn.exec_driver_sql(SEARCH_PAGE_DDL)
        conn.exec_driver_sql(page_index.SEARCH_TABLE_DDL)
        event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
        pages = [(n, f"page {n} naloxone") for n in range(1, 301)]
        page_index.reindex(conn, "d", [], pages)
        page_index.reindex(conn, "d", pages, pages[::2])
        assert len(statements) <= 10, statements  # was one or two per page
        found = conn.exec_driver_sql(
            "SELECT p.page FROM search_pages JOIN search_page p ON p.id = search_pages.rowid "
            "WHERE search_pages MATCH 'naloxone' ORDER BY p.page").all()
        assert [r[0] for r in found] == list(range(1, 301, 2))
