"""An import packs each document's text, and cuts its pages for the search index, as its file
arrives, while the other files are still being read: the project then holds exactly the bytes
the write itself gave, the write packs and cuts nothing, and nothing made ahead is kept once the
import is over, written or not."""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

import pytest

import cmo_desk.services.importing as importing
from cmo_desk.domain import packed_text
from cmo_desk.domain.changelog import canonical_json
from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.packed_text import PACKED_MARK, packing_ahead
from cmo_desk.services.importing import import_paths
from cmo_desk.store import page_index
from cmo_desk.store.logformat import stored_id

from .conftest import make_pdf

PEER = "Peer workers carried naloxone to the night shelter and stayed with clients. "


def _packed(value: str) -> bytes:
    """What packing a text gave before any was packed ahead."""
    return PACKED_MARK + zlib.compress(value.encode("utf-8", "surrogatepass"), 6)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "texts"
    folder.mkdir()
    for n in range(3):
        (folder / f"report-{n}.pdf").write_bytes(make_pdf(
            [[f"Report {n} on peer outreach"] + [PEER] * 30, [PEER] * 25]))
    # UTF-16 surrogate pairs, CJK, a quote and a backslash: the log's JSON escapes some
    (folder / "notes.txt").write_text(("同伴教育 🙂 \"trust\" \\ " + PEER) * 40, encoding="utf-8")
    (folder / "short.txt").write_text("A short note, stored as plain text.", encoding="utf-8")
    return folder


def test_the_project_holds_the_bytes_packing_when_written_gave(project, tmp_path: Path) -> None:
    summary = import_paths(project, [_folder(tmp_path)])
    assert summary.documents_added == 5 and not summary.errors
    path = project.store.path
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT id, text FROM document").fetchall()
        values = dict(con.execute(
            "SELECT entity_id, value FROM changes WHERE entity_type = 'document' "
            "AND field = 'text'").fetchall())
    finally:
        con.close()
    assert len(rows) == 5
    long_texts = 0
    for did, stored in rows:
        text = project.store.get("document", did).text
        log_value = values[stored_id(did)]
        assert stored is None  # the log alone holds the text
        if len(text) >= packed_text.PACK_FROM:
            long_texts += 1
            assert log_value == _packed(canonical_json(text))
        else:
            assert log_value == canonical_json(text)
    assert long_texts == 4
    assert packed_text._ahead == {} and page_index._ahead == {}
    # every page is in the index, as cutting them when written indexed them
    pages = con_rows(path, "SELECT d.id, p.page FROM search_page p JOIN document d "
                           "ON d.id = p.document_id ORDER BY d.id, p.page")
    assert pages == sorted((d.id, n) for d in project.store.list("document")
                           for n, _ in page_index._page_bodies(d.text, list(d.page_starts)))
    assert len(pages) == 3 * 2 + 2
    assert {h.page for h in project.store.search("naloxone", limit=50)} == {1, 2}


def con_rows(path: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_write_packs_and_cuts_nothing_the_reading_did(
        project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packed_when: list[str] = []
    cut_when: list[str] = []
    phase = ["reading"]
    real_pack, real_write = packed_text._pack, importing._write_import
    real_cut = page_index._page_bodies

    def pack(value: str) -> bytes:
        packed_when.append(phase[0])
        return real_pack(value)

    def cut(body: str, starts: list[int]) -> list[tuple[int, str]]:
        cut_when.append(phase[0])
        return real_cut(body, starts)

    def write(*args, **kwargs):
        phase[0] = "writing"
        return real_write(*args, **kwargs)

    monkeypatch.setattr(packed_text, "_pack", pack)
    monkeypatch.setattr(page_index, "_page_bodies", cut)
    monkeypatch.setattr(importing, "_write_import", write)
    import_paths(project, [_folder(tmp_path)])
    # four long texts, each packed once: the log's value (its JSON); the table holds no copy
    assert packed_when == ["reading"] * 4
    assert cut_when == ["reading"] * 5  # every document's pages, short ones too


def test_a_dry_run_packs_nothing(project, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(packed_text, "_pack", lambda value: calls.append(value) or b"")
    summary = import_paths(project, [_folder(tmp_path)], dry_run=True)
    assert summary.dry_run and calls == []


def test_an_import_that_fails_keeps_nothing_packed(project, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _folder(tmp_path)
    real = importing._original_bytes

    def changed_meanwhile(path: Path, name: str, sha256: str) -> bytes:
        path.write_bytes(b"%PDF-1.4 replaced while the import ran")
        return real(path, name, sha256)

    monkeypatch.setattr(importing, "_original_bytes", changed_meanwhile)
    before = project.store.count("document")
    with pytest.raises(ImportFailed, match="changed or disappeared"):
        import_paths(project, [folder])
    assert project.store.count("document") == before
    assert packed_text._ahead == {} and page_index._ahead == {}


def test_packing_ahead_keeps_at_most_its_limit() -> None:
    texts = [f"{n} " + PEER * 40 for n in range(6)]
    with packing_ahead(limit=1) as ahead:
        for text in texts:
            ahead(text)
        assert list(packed_text._ahead) == texts[:1]  # the rest are packed when written
        for text in texts:
            assert packed_text.pack_text(text) == _packed(text)
    assert packed_text._ahead == {}


def test_a_text_packed_ahead_is_found_by_equality() -> None:
    text = "🙂\ud83d lone surrogate kept; " + PEER * 30
    with packing_ahead() as ahead:
        ahead(text)
        copy = "".join(list(text))  # an equal text, not the same object
        assert copy is not text
        assert packed_text.pack_text(copy) is packed_text._ahead[text]
        assert packed_text.pack_text(copy) == _packed(text)
        ahead("short")  # short texts stay plain
        assert packed_text.pack_text("short") == "short"
