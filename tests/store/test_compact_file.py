"""A compact project file: the search index holds no copy of the page text, a document's text
is stored compressed in the projection and in the log, the numbered log names each record,
field and laptop once (by small numbers) and keeps each change's key rather than its whole id,
and upgrading an older file keeps every change byte for byte, in its place."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmo_desk.domain.changelog import canonical_json, make_change
from cmo_desk.domain import packed_text
from cmo_desk.domain.packed_text import MAX_UNPACKED
from cmo_desk.store import page_index, salvage
from cmo_desk.store.logformat import (
    CLOCK_KEY,
    COLUMNS,
    change_to_row,
    row_to_change,
    text_row,
    verified_change,
)
from tests.logrows import downgrade, is_numbered
from cmo_desk.store.merging import merge_file, write_bundle
from cmo_desk.domain.packed_text import PACK_FROM, PACKED_MARK, pack_text, unpack_text
from cmo_desk.store.project_store import ProjectStore

RELEASED = sorted((Path(__file__).parent / "released").glob("demo-schema-*.cmo"))
#: Words that are no word's beginning of another: a page holds a word iff the search finds it.
WORDS = ("needle", "trust", "émigré", "Malawi", "同伴教育", "naloxone", "stipend")


def _rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall()
    finally:
        con.close()


#: The names of the columns of the view ``changes`` (:data:`logformat.COLUMNS`), in order.
NAMES = tuple(c.strip() for c in COLUMNS.split(","))
#: The tables of a numbered log (read through the view ``changes``).
LOG_TABLES = ("log", "log_ids", "log_names", "log_records")


def _log(path: Path) -> list[tuple[Any, ...]]:
    """(place, *COLUMNS) of every change of a log of any layout, in order: a numbered log's
    place is ``seq``, an older one's the rowid of its table ``changes``."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        place = "seq" if is_numbered(con) else "rowid"
        return con.execute(f"SELECT {place}, {COLUMNS} FROM changes ORDER BY {place}").fetchall()
    finally:
        con.close()


def _tables(path: Path) -> list[str]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'search%' "
            "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version' ORDER BY name")]
    finally:
        con.close()


# -- the compressed text ------------------------------------------------------------------------

any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=3000)


@given(any_text)
def test_packed_text_reads_back_exactly(value: str) -> None:
    packed = pack_text(value)
    assert unpack_text(packed) == value
    if len(value) >= PACK_FROM:
        assert isinstance(packed, bytes) and packed.startswith(PACKED_MARK)
    else:
        assert packed == value  # short texts stay plain text, readable by any SQLite tool


def test_huge_and_odd_texts_read_back_exactly() -> None:
    for value in ("", "z1 looks like the mark", "🙂" * PACK_FROM, "\ud83d" * 5000,
                  "a\x00b" * 2000, "word " * 2_000_000):
        assert unpack_text(pack_text(value)) == value
    assert unpack_text(None) is None and pack_text(None) is None


def _document(store: ProjectStore, pages: list[str], study: str | None = None) -> str:
    starts, text = [], ""
    for page in pages:
        starts.append(len(text))
        text += page
    with store.unit_of_work(None) as uow:
        sid = study or uow.create("study", {"label": "S"})
        return uow.create("document", {"study_id": sid, "text": text, "page_starts": starts})


def test_a_long_document_text_is_stored_once_compressed_and_read_back(tmp_path: Path) -> None:
    text = ("Peer workers 🙂 carried naloxone; 同伴教育 in Lilongwe. " * 60)
    with ProjectStore.create(tmp_path / "p.cmo") as store:
        did = _document(store, [text, "short page"])
        assert store.get("document", did).text == text + "short page"
        dump = store.dump()
        store.rebuild()
        assert store.dump() == dump
    (raw,) = [r for r in _rows(tmp_path / "p.cmo", "document")]
    assert raw[[*_columns(tmp_path / "p.cmo", "document")].index("text") + 1] is None
    con = sqlite3.connect(f"file:{tmp_path / 'p.cmo'}?mode=ro", uri=True)
    try:
        (stored,) = [r[0] for r in con.execute(
            "SELECT value FROM changes WHERE entity_type = 'document' AND field = 'text'")]
    finally:
        con.close()
    assert isinstance(stored, bytes) and stored.startswith(PACKED_MARK)
    assert len(stored) < len((text + "short page").encode()) / 4


def _columns(path: Path, table: str) -> list[str]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[1] for r in con.execute(f"PRAGMA table_info('{table}')")]
    finally:
        con.close()


# -- the search index without its own copy of the text -----------------------------------------

def _expected(store: ProjectStore, word: str) -> set[tuple[str, int]]:
    found = set()
    for doc in store.list("document"):
        starts = [*doc.page_starts, len(doc.text)]
        for n in range(len(doc.page_starts)):
            if word in doc.text[starts[n]:starts[n + 1]].split():
                found.add((doc.id, n + 1))
    return found


def _found(store: ProjectStore, word: str) -> set[tuple[str, int]]:
    return {(h.document_id, h.page) for h in store.search(word, limit=500)}


page_text = st.lists(st.sampled_from(WORDS + ("🙂", "\u0301", "  ")), max_size=6).map(" ".join)
operation = st.one_of(
    st.tuples(st.just("add"), st.lists(page_text, min_size=1, max_size=3)),
    st.tuples(st.just("delete"), st.integers(0, 5)),
    st.tuples(st.just("restore"), st.integers(0, 5)),
    st.tuples(st.just("move"), st.integers(0, 5)),
    st.tuples(st.just("rebuild"), st.none()),
)


@pytest.fixture(scope="module")
def search_project(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with ProjectStore.create(tmp_path_factory.mktemp("search") / "p.cmo") as store:
        with store.unit_of_work(None) as uow:
            uow.create("study", {"label": "Other"})
        yield store


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(operation, min_size=1, max_size=8))
def test_search_finds_exactly_the_live_pages_that_hold_a_word(
        search_project: ProjectStore, ops: list[tuple[str, Any]]) -> None:
    # One project for every example: what the search must find holds in any state it reaches.
    store = search_project
    other_study = store.list("study", label="Other")[0].id
    docs: list[str] = []
    for kind, arg in ops:
        if kind == "add":
            docs.append(_document(store, arg))
        elif kind == "rebuild":
            store.rebuild()
        elif docs:
            did = docs[arg % len(docs)]
            with store.unit_of_work(None) as uow:
                if kind == "delete":
                    uow.delete("document", did)
                elif kind == "restore":
                    uow.restore("document", did)
                elif store.get("document", did) is not None:
                    uow.update("document", did, {"study_id": other_study})
        for word in WORDS:
            assert _found(store, word) == _expected(store, word), (kind, word)
    for hit in store.search("needle", limit=500):  # a moved document shows its new study
        assert hit.study_id == store.get("document", hit.document_id).study_id


def _as_text(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A (place, *columns) row of a log of any layout as the layout before 0006 held it: the
    whole change id and every id as text, id lists as JSON, the value as canonical JSON text."""
    return (row[0], *text_row(*row[1:]))


# -- the log keeps long texts packed; ids, merges, bundles and salvage see the text ------------

#: What the log can hold: any Unicode text (a lone surrogate is no character, and the log's
#: content id cannot be computed over one; emoji, which UTF-16 writes as two, are fine).
log_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000)


@given(st.one_of(log_text, st.just("🙂" * 3000), st.just("")))
@settings(max_examples=100)
def test_a_stored_log_value_reads_back_and_keeps_its_id(text: str) -> None:
    for etype, field in (("document", "text"), ("excerpt", "quote")):
        change = make_change(etype, "d-1", field, text, 5, 1, "site", None, (), ())
        row = dict(zip(NAMES, change_to_row(change)))
        if etype == "document" and len(canonical_json(text)) >= PACK_FROM:
            assert isinstance(row["value"], bytes)
        else:
            assert row["value"] == canonical_json(text)
        assert row_to_change(SimpleNamespace(**row)) == change
        assert row_to_change(SimpleNamespace(**row)).change_id == change.change_id
        assert verified_change(*row.values()) == change


def test_a_packed_value_that_would_unpack_to_too_much_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import zlib

    assert MAX_UNPACKED <= 512 * 1024 * 1024  # a 4 GB laptop survives the largest allowed
    monkeypatch.setattr(packed_text, "MAX_UNPACKED", 1024 * 1024)  # the same check, smaller
    bomb = PACKED_MARK + zlib.compress(b'"' + b"a" * (1024 * 1024 + 10) + b'"', 9)
    assert len(bomb) < 10_000
    with pytest.raises(ValueError):
        unpack_text(bomb)
    with pytest.raises(ValueError):
        unpack_text(PACKED_MARK + b"not zlib at all")
    change = make_change("document", "d", "text", "x" * 2000, 5, 1, "s", None, (), ())
    row = dict(zip(NAMES, change_to_row(change)))
    assert verified_change(*row.values())
    assert not verified_change(*{**row, "value": bomb}.values())
    assert not verified_change(*{**row, "value": bytes(row["value"])[:-3]}.values())


def test_long_texts_travel_through_merges_bundles_and_salvage(tmp_path: Path) -> None:
    mine, theirs = tmp_path / "mine.cmo", tmp_path / "theirs.cmo"
    long_text = "Outreach 🙂 同伴教育 workers " * 400
    with ProjectStore.create(mine) as store:
        first = _document(store, [long_text, "second page"])
    shutil.copy(mine, theirs)
    with ProjectStore.open(theirs) as store:
        second = _document(store, ["Their 🙂 notes " * 300])
        write_bundle(store, tmp_path / "theirs.bundle")
    old = tmp_path / "old.cmo"  # a colleague still on the previous layout
    shutil.copy(theirs, old)
    downgrade(old, "0004")
    assert not any(isinstance(r[5], bytes) for r in _rows(old, "changes"))
    for source in (theirs, tmp_path / "theirs.bundle", old):
        target = tmp_path / f"into-{source.stem}.cmo"
        shutil.copy(mine, target)
        with ProjectStore.open(target) as store:
            stats = merge_file(store, source)
            assert (stats.rejected, stats.new_changes > 0) == (0, True), source
            assert store.get("document", first).text == long_text + "second page"
            assert store.get("document", second).text == "Their 🙂 notes " * 300
            assert _found(store, "notes") == {(second, 1)}
            dump = store.dump_json()
            store.rebuild()
            assert store.dump_json() == dump
        rows = _log(target)
        assert all(verified_change(*r[1:]) for r in rows)
        assert all(salvage._intact(r[1:]) for r in rows)
        # the long texts that arrived, from any layout, are kept packed in the log
        texts = [r[5] for r in rows if (r[2], r[4]) == ("document", "text")]
        assert len(texts) == 2 and all(isinstance(t, bytes) and t.startswith(PACKED_MARK)
                                       for t in texts)


# -- upgrading older files ---------------------------------------------------------------------

@pytest.mark.parametrize("released", RELEASED, ids=lambda p: p.stem)
def test_upgrade_keeps_every_change_and_record_byte_for_byte(
        released: Path, tmp_path: Path) -> None:
    path = tmp_path / "review.cmo"
    shutil.copy(released, path)
    tables = _tables(path)
    before = {t: _rows(path, t) for t in tables}
    text_at = _columns(path, "document").index("text") + 1
    with ProjectStore.open(path, upgrade_backup_dir=tmp_path) as store:
        # every document's text, as the log holds it, is the text the older table held
        assert {d.id: d.text for d in store.list("document", include_deleted=True)} == {
            r[1]: r[text_at] for r in before["document"]}
        words = {}
        for doc in store.list("document"):
            for page, body in page_index.page_bodies(doc.text, doc.page_starts):
                words[(doc.id, page)] = max(body.split(), key=len)
        for (did, page), word in words.items():
            assert (did, page) in _found(store, f'"{word}"'), word
    assert words  # the released files hold documents
    # every change is the same change, with the same whole id, in the same place (seq is the
    # old rowid), and still matches its id; a long document text is the same text, packed;
    # every id is stored as its bytes, each change by its key
    after = _log(path)
    assert [_as_text(r) for r in after] == before["changes"]
    assert any(isinstance(r[5], bytes) and r[5].startswith(PACKED_MARK) for r in after)
    assert all(type(r[1]) is int and isinstance(r[3], bytes) for r in after)
    assert all(verified_change(*r[1:]) for r in after)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert con.execute("SELECT count(*) FROM log").fetchone()[0] == len(after)
        kinds = dict(con.execute("SELECT name, type FROM sqlite_master WHERE name IN "
                                 "('changes', 'log', 'log_ids', 'log_names', 'log_records')"))
    finally:
        con.close()
    assert kinds == {"changes": "view", **{t: "table" for t in LOG_TABLES}}
    assert set(_tables(path)) >= {*tables, *LOG_TABLES} - {"changes"}
    for table in (t for t in tables if t != "changes"):
        after = _rows(path, table)
        held = before[table]
        if table == "document":  # its text is held by the log alone
            assert all(r[text_at] is None for r in after)
            after = [(*r[:text_at], *r[text_at + 1:]) for r in after]
            held = [(*r[:text_at], *r[text_at + 1:]) for r in held]
        if table == "meta":  # one row more: the latest clock of the log, kept from now on
            (clock,) = [r for r in after if r[1] == CLOCK_KEY]
            top = max((r[6], r[7]) for r in _log(path))
            assert clock[2] == f"{top[0]} {top[1]}"
            after = [r for r in after if r[1] != CLOCK_KEY]
        # columns a later revision added come last; the old ones are unchanged
        width = len(held[0]) if held else 0
        assert [r[:width] for r in after] == held, table
    with ProjectStore.open(path) as store:  # the projection is what the log says
        dump = store.dump_json()
        store.rebuild()
        assert store.dump_json() == dump


def test_an_interrupted_upgrade_leaves_the_old_file_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "review.cmo"
    shutil.copy(RELEASED[-1], path)
    changes = _rows(path, "changes")

    def power_cut(conn: Any, texts: Any = None) -> int:
        raise OSError("the power went off")

    monkeypatch.setattr(page_index, "rebuild", power_cut)
    with pytest.raises(OSError):
        ProjectStore.open(path, upgrade_backup_dir=tmp_path)
    monkeypatch.undo()
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0002"
    con.close()
    assert _rows(path, "changes") == changes
    with ProjectStore.open(path, upgrade_backup_dir=tmp_path) as store:
        assert store.change_count() == len(changes)
        assert store.search("peer")


def test_upgrading_gives_back_the_space_of_the_text_copies(tmp_path: Path) -> None:
    path = tmp_path / "big.cmo"
    import random

    rng = random.Random(5)
    vocabulary = [f"{w}{n}" for w in WORDS for n in range(300)]
    with ProjectStore.create(path) as store:
        for _ in range(4):
            _document(store, [" ".join(rng.choices(vocabulary, k=900)) for _ in range(30)])
        text_bytes = sum(len(d.text.encode()) for d in store.list("document"))
        dump = store.dump_json()
    downgrade(path, "0004")
    old_size = path.stat().st_size
    with ProjectStore.open(path, upgrade_backup_dir=tmp_path) as store:
        assert store.dump_json() == dump
        assert _found(store, '"needle7"') == _expected(store, "needle7")
    con = sqlite3.connect(path)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    con.close()
    assert "search_pages_content" not in names and "ix_changes_entity" not in names
    # nothing of an older log stays behind: its table, its indexes, a half-made copy
    assert not names & {"ix_changes_entity_id", "ix_changes_clock", "changes_0006"}
    assert {"log", "ix_log_entity_key"} <= names
    # the index's copy and most of the projection's copy of the text are gone
    assert old_size - path.stat().st_size > 1.5 * text_bytes


# -- the page size -------------------------------------------------------------------------------

def _page_size(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[16:18], "big")


def _journal_is_wal(path: Path) -> bool:
    return path.read_bytes()[18:20] == b"\x02\x02"


def test_new_and_upgraded_projects_have_the_larger_pages(tmp_path: Path) -> None:
    from cmo_desk.store.opening import PAGE_SIZE

    new = tmp_path / "new.cmo"
    ProjectStore.create(new, title="Peer work").close()
    assert _page_size(new) == PAGE_SIZE == 16384
    assert _journal_is_wal(new)

    older = tmp_path / "older.cmo"
    shutil.copy(RELEASED[-1], older)
    assert _page_size(older) == 4096
    with ProjectStore.open(older, upgrade_backup_dir=tmp_path) as store:
        assert store.change_count() == len(_rows(RELEASED[-1], "changes"))
    assert _page_size(older) == PAGE_SIZE
    assert _journal_is_wal(older)  # back in the journal mode every save relies on


def test_compaction_that_cannot_run_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    from cmo_desk.store.opening import compact_file

    path = tmp_path / "review.cmo"
    shutil.copy(RELEASED[-1], path)
    with ProjectStore.open(path, upgrade_backup_dir=tmp_path) as store:
        dump = store.dump_json()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA page_size=4096")
    con.execute("VACUUM")
    con.execute("PRAGMA journal_mode=WAL")
    reader = sqlite3.connect(path)  # another program reading: VACUUM cannot run
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM changes").fetchone()
    try:
        compact_file(path)
    finally:
        reader.close()
        con.close()
    assert _page_size(path) == 4096 and _journal_is_wal(path)
    with ProjectStore.open(path) as store:
        assert store.dump_json() == dump
    compact_file(path)  # with nobody else reading it runs
    assert _page_size(path) == 16384 and _journal_is_wal(path)
    with ProjectStore.open(path) as store:
        assert store.dump_json() == dump
