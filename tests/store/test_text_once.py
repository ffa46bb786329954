"""A document's extracted text is held once in a project file: in the change log. The visible
``document`` table leaves its ``text`` column empty, and everything that shows a document's text
(the desk's record, search, exports, the dump, the check) reads the log's shown value, the one
``changelog.project_entity`` decides when the text was written more than once."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from cmo_desk.__main__ import main
from cmo_desk.domain.changelog import project_entity
from cmo_desk.services.desk import study_document
from cmo_desk.domain.packed_text import unpack_text
from cmo_desk.store import backups, page_index
from cmo_desk.store.fileinfo import HEAD_REVISION
from cmo_desk.store.merging import merge_file
from cmo_desk.store.opening import COMPACT_PENDING
from cmo_desk.store.project_store import ProjectStore
from tests.logrows import downgrade

#: Page texts with emoji (two UTF-16 units each), CJK and combining marks; each word on one page.
FIRST = ["Peer workers 🙂 carried naloxone in Lilongwe. " * 40, "同伴教育 stipend émigré\u0301 " * 30]
SECOND = ["A re-extracted text: needle exchange " * 50]
LOCAL = ["Local copy reads bicycle outreach " * 40]
INCOMING = ["Incoming copy reads motorcycle outreach " * 40]


def _doc_values(study_id: str, pages: list[str]) -> dict[str, object]:
    starts, text = [], ""
    for page in pages:
        starts.append(len(text))
        text += page
    return {"study_id": study_id, "text": text, "page_starts": starts, "filename": "f.pdf"}


def _texts_in_table(path: Path) -> list[object]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("SELECT text FROM document")]
    finally:
        con.close()


def _shown(store: ProjectStore, did: str) -> str:
    state = project_entity("document", did, store.changes_for("document", did))
    assert state is not None
    return state.values["text"]


def _found(store: ProjectStore, word: str) -> set[str]:
    return {h.document_id for h in store.search(word, limit=500)}


def test_the_text_lives_in_the_log_and_every_reader_shows_the_shown_value(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, other = tmp_path / "p.cmo", tmp_path / "copy.cmo"
    with ProjectStore.create(path) as store:
        with store.unit_of_work(None) as uow:
            sid = uow.create("study", {"label": "S1"})
        store.backup(other)  # another coder's copy, made before the conflicting document
        with ProjectStore.open(other) as theirs:  # written first: its clock is earlier
            with theirs.unit_of_work(None) as uow:
                merged_id = uow.create("document", _doc_values(sid, INCOMING))
        time.sleep(0.01)
        with store.unit_of_work(None) as uow:
            plain = uow.create("document", _doc_values(sid, FIRST))
            twice = uow.create("document", _doc_values(sid, FIRST[:1]))
            # the same record, created here with a text of its own
            uow.create("document", _doc_values(sid, LOCAL), id=merged_id)
        with store.unit_of_work(None) as uow:  # a second write of an extracted text
            uow.resolve("document", twice, "text", "".join(SECOND))
        assert len([c for c in store.changes_for("document", twice) if c.field == "text"]) == 2
        assert _found(store, "bicycle") == {merged_id}
        stats = merge_file(store, other)
        assert stats.new_changes > 0
        texts = {did: _shown(store, did) for did in (plain, twice, merged_id)}
        # what project_entity decides: the first write of a fixed field
        assert texts == {plain: "".join(FIRST), twice: FIRST[0], merged_id: "".join(INCOMING)}
        # the desk's record, one by one and listed
        for did, text in texts.items():
            assert store.get("document", did).text == text
        shown = study_document(SimpleNamespace(store=store), sid)  # type: ignore[arg-type]
        assert shown is not None and shown.text == texts[shown.id]
        assert {d.id: d.text for d in store.list("document")} == texts
        assert {d.id: d.text for d in store.snapshot().documents} == texts
        assert all(d.text is None for d in store.snapshot(document_text=False).documents)
        # search: the shown text's words, and none of a text that is not shown
        assert _found(store, "motorcycle") == {merged_id}
        assert _found(store, "bicycle") == set()
        assert _found(store, "re-extracted") == set()
        assert _found(store, "naloxone") == {plain, twice}
        assert _found(store, "同伴教育") == {plain}
        (hit,) = store.search("motorcycle")
        assert "[motorcycle]" in hit.snippet
        assert store.dump()["document"] == json.loads(store.dump_json())["document"]
        assert {d["id"]: d["text"] for d in store.dump()["document"]} == texts
    # the visible table holds no text at all
    assert _texts_in_table(path) == [None, None, None]
    # the command line's dump, the export and the check read the log's text too
    assert main(["dump", str(path)]) == 0
    dumped = json.loads(capsys.readouterr().out)
    assert {d["id"]: d["text"] for d in dumped["document"]} == texts
    assert main(["export", str(path), "-o", str(tmp_path / "p.qdpx")]) == 0
    with zipfile.ZipFile(tmp_path / "p.qdpx") as z:
        sources = {z.read(n).decode("utf-8-sig") for n in z.namelist()
                   if n.startswith("sources/") and n.endswith(".txt")}
    assert sources == set(texts.values())
    assert backups.full_check(path) == []


def test_a_document_written_without_text_then_given_one_is_found(tmp_path: Path) -> None:
    with ProjectStore.create(tmp_path / "p.cmo") as store:
        with store.unit_of_work(None) as uow:
            sid = uow.create("study", {"label": "S1"})
            did = uow.create("document", {"study_id": sid, "filename": "scan.pdf"})
        with store.unit_of_work(None) as uow:
            uow.update("document", did, {"text": "recognised naloxone words",
                                         "page_starts": [0]})
        assert _found(store, "naloxone") == {did}
        with store.unit_of_work(None) as uow:
            uow.delete("document", did)
        assert _found(store, "naloxone") == set()
        with store.unit_of_work(None) as uow:
            uow.restore("document", did)
            uow.update("document", did, {"filename": "renamed.pdf"})
        assert _found(store, "naloxone") == {did}
        store.rebuild()
        assert _found(store, "naloxone") == {did}
    assert _texts_in_table(tmp_path / "p.cmo") == [None]


def test_an_upgraded_0006_file_keeps_every_documents_text(tmp_path: Path) -> None:
    path = tmp_path / "old.cmo"
    with ProjectStore.create(path) as store:
        with store.unit_of_work(None) as uow:
            sid = uow.create("study", {"label": "S1"})
            ids = [uow.create("document", _doc_values(sid, pages))
                   for pages in (FIRST, SECOND, LOCAL, ["🙂" * 3000], [""])]
        expected = {did: store.get("document", did).text for did in ids}
    downgrade(path, "0006")
    # as version 0.1 left it: every text also in the visible table
    con = sqlite3.connect(path)
    held = {did: unpack_text(t) for did, t in con.execute("SELECT id, text FROM document")}
    con.execute("INSERT INTO meta (key, value) VALUES ('filler', ?)", ("x" * 2_000_000,))
    con.commit()
    con.execute("DELETE FROM meta WHERE key = 'filler'")  # free pages an upgrade gives back
    con.commit()
    con.close()
    assert held == expected
    with ProjectStore.open(path) as store:
        assert {did: store.get("document", did).text for did in ids} == expected
        assert _found(store, "naloxone") == {ids[0]}
        assert _found(store, "同伴教育") == {ids[0]}
        assert _found(store, "needle") == {ids[1]}
        assert _found(store, "bicycle") == {ids[2]}
        assert store.meta_value(COMPACT_PENDING) is None
    assert _texts_in_table(path) == [None] * len(ids)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] \
            == HEAD_REVISION
        assert con.execute("PRAGMA freelist_count").fetchone()[0] == 0
    finally:
        con.close()
    assert backups.full_check(path) == []


def test_an_upgrade_whose_table_disagreed_with_the_log_indexes_the_logs_text(
        tmp_path: Path) -> None:
    """A 0006 file whose visible text was not the log's (altered by another program): after the
    upgrade the search finds the log's words and the table's are gone from the index."""
    path = tmp_path / "old.cmo"
    with ProjectStore.create(path) as store:
        with store.unit_of_work(None) as uow:
            sid = uow.create("study", {"label": "S1"})
            did = uow.create("document", _doc_values(sid, LOCAL))
    downgrade(path, "0006")
    altered = "Altered words about tractors"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # the table and its index as another program left them
        conn.exec_driver_sql("UPDATE document SET text = ?", (altered,))
        page_index.rebuild(conn, texts=lambda ids: dict.fromkeys(ids, altered))
    engine.dispose()
    with ProjectStore.open(path) as store:
        assert _found(store, "tractors") == set()
        assert _found(store, "bicycle") == {did}
        assert store.get("document", did).text == "".join(LOCAL)


def test_a_write_that_changes_which_text_is_shown_moves_the_search_to_it(
        tmp_path: Path) -> None:
    """A text written after the clock was set back (it ran years ahead) is the earlier write,
    so it becomes the text shown: the index drops the words it showed before."""
    with ProjectStore.create(tmp_path / "p.cmo") as store:
        now = store.clock.wall
        store.clock.wall = now + 10 * 365 * 24 * 3600 * 1000  # a laptop years ahead
        with store.unit_of_work(None) as uow:
            sid = uow.create("study", {"label": "S1"})
            did = uow.create("document", _doc_values(sid, LOCAL))
        assert _found(store, "bicycle") == {did}
        store.clock.wall, store.clock.counter = now, 0  # set back, as reset_clock_if_ahead does
        with store.unit_of_work(None) as uow:
            uow.resolve("document", did, "text", "".join(INCOMING))
            uow.update("document", did, {"filename": "again.pdf"})
        assert _shown(store, did) == "".join(INCOMING)
        assert store.get("document", did).text == "".join(INCOMING)
        assert _found(store, "bicycle") == set()
        assert _found(store, "motorcycle") == {did}
        assert backups.full_check(store.path) == []


# -- merges: whatever the two copies wrote, the search follows the text each document shows ----

#: Words that are no word's beginning of another: a page holds a word iff the search finds it.
VOCABULARY = ("needle", "trust", "émigré", "Malawi", "同伴教育", "naloxone", "stipend")
words = st.lists(st.sampled_from(VOCABULARY + ("🙂",)), min_size=1, max_size=5).map(" ".join)
step = st.tuples(st.sampled_from(("here", "there")),
                 st.sampled_from(("create", "create", "rewrite", "delete", "restore")),
                 st.integers(0, 3), words)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=10))
def test_after_a_merge_the_search_finds_the_words_of_each_shown_text(
        tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, str, int, str]]) -> None:
    folder = tmp_path_factory.mktemp("merge")
    ids = [str(uuid.UUID(int=n + 1)) for n in range(4)]
    with ProjectStore.create(folder / "here.cmo") as here:
        with here.unit_of_work(None) as uow:
            sid = uow.create("study", {"label": "S1"})
        here.backup(folder / "there.cmo")
        with ProjectStore.open(folder / "there.cmo") as there:
            stores = {"here": here, "there": there}
            for side, kind, n, text in steps:
                store, did = stores[side], ids[n]
                doc = store.get("document", did, include_deleted=True)
                with store.unit_of_work(None) as uow:
                    if kind == "create" and doc is None:
                        uow.create("document", {"study_id": sid, "text": text,
                                                "page_starts": [0]}, id=did)
                    elif kind == "rewrite" and doc is not None:
                        uow.resolve("document", did, "text", text)
                    elif kind == "delete" and doc is not None:
                        uow.delete("document", did)
                    elif kind == "restore" and doc is not None:
                        uow.restore("document", did)
        merge_file(here, folder / "there.cmo")
        shown = {}
        for did in ids:
            state = project_entity("document", did, here.changes_for("document", did))
            if state is not None:
                assert here.get("document", did, include_deleted=True).text \
                    == state.values["text"]
                if state.exists:
                    shown[did] = state.values["text"] or ""
        for rebuilt in (False, True):
            if rebuilt:
                here.rebuild()
            for word in VOCABULARY:
                assert _found(here, word) == {
                    did for did, text in shown.items() if word in text.split()}, (word, rebuilt)
    assert set(_texts_in_table(folder / "here.cmo")) <= {None}
