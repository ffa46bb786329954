"""The numbered log layout (schema 0007): the table ``log`` keeps each change's key (its id's
first 8 bytes) and small numbers for its record, field, laptop and coder, named once per file in
side tables; ids stored as their bytes, any other id exactly as its text; every reader reads the
view ``changes`` and every writer goes through store/logformat.py; copies, bundles and damaged
files of an older layout (0006's whole ids in each row, or the text ids before it) still merge,
and upgrading keeps every change in its place."""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.schema import CreateTable

from cmo_desk.domain.changelog import canonical_json, make_change
from cmo_desk.store import logformat, queries, salvage, unit_of_work
from cmo_desk.store.logformat import (
    change_to_row,
    compact_row,
    id_text,
    ids_tuple,
    old_change_id,
    row_to_change,
    stored_change_id,
    stored_id,
    stored_ids,
    stored_value,
    text_row,
    value_json,
    verified_change,
)
from cmo_desk.store.merging import merge_file, write_delta_bundle
from cmo_desk.store.models import META
from cmo_desk.store.project_store import HEAD_REVISION, ProjectStore
from tests.logrows import alter, downgrade, is_numbered, name_number, record_number, upgrade

#: The names of the columns of :data:`logformat.COLUMNS`, in order.
NAMES = tuple(c.strip() for c in logformat.COLUMNS.split(","))

# -- ids -----------------------------------------------------------------------------------------


def _canonical_uuid(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _near_uuids(u: uuid.UUID) -> list[str]:
    s = str(u)
    return [s, s.upper(), "{" + s + "}", s.replace("-", ""), s[:-1], s + " ", " " + s[1:],
            s[:8] + " " + s[9:], s[:8] + "-" + s[9:].replace("-", "", 1) + "0", "urn:uuid:" + s,
            s.replace(s[0], "\u0660", 1)]


any_id = st.one_of(
    st.text(max_size=40),
    st.uuids().flatmap(lambda u: st.sampled_from(_near_uuids(u))),
    st.sampled_from(["123", "0", "-1", "1e3", "site", "salvage", "\U0001F642" * 9, ""]),
)


def _key(change_id: str) -> int:
    """A change id's key as the numbered log keeps it: its first 8 bytes, signed."""
    return int.from_bytes(bytes.fromhex(change_id)[:8], "big", signed=True)


@given(any_id)
def test_an_id_is_stored_as_bytes_exactly_when_it_is_a_canonical_uuid(text: str) -> None:
    stored = stored_id(text)
    assert isinstance(stored, bytes) == _canonical_uuid(text)
    assert stored == text or len(stored) == 16
    assert id_text(stored) == text


@given(st.one_of(st.text(max_size=70), st.binary(min_size=32, max_size=32).map(bytes.hex),
                 st.binary(min_size=32, max_size=32).map(lambda b: b.hex().upper())))
def test_a_change_id_is_kept_as_its_key_exactly_when_it_is_64_lowercase_hex(text: str) -> None:
    key = stored_change_id(text)
    is_hex = len(text) == 64 and all(c in "0123456789abcdef" for c in text)
    assert (type(key) is int) == is_hex
    if is_hex:
        assert key == _key(text) and -2**63 <= key < 2**63  # fits SQLite's INTEGER
        # the layout before (0006) kept the whole id as its 32 bytes
        assert old_change_id(text) == bytes.fromhex(text)
        assert logformat.change_id_text(old_change_id(text)) == text
    else:
        assert key == text and old_change_id(text) == text


@given(st.lists(st.one_of(st.binary(min_size=32, max_size=32).map(bytes.hex),
                          st.text(max_size=5)), max_size=4))
def test_parents_are_their_ids_bytes_or_json_when_any_is_not_an_id(ids: list[str]) -> None:
    stored = stored_ids(ids)
    assert ids_tuple(stored) == tuple(ids)
    assert isinstance(stored, bytes) == all(type(stored_change_id(i)) is int for i in ids)
    assert stored != b"" or not ids


any_value = st.one_of(
    st.text(max_size=30), st.integers(), st.none(), st.booleans(),
    st.uuids().map(str), st.uuids().flatmap(lambda u: st.sampled_from(_near_uuids(u))),
    st.lists(st.uuids().map(str), max_size=2))


@given(any_value)
def test_a_value_is_stored_as_16_bytes_exactly_when_it_is_one_canonical_uuid(value: Any) -> None:
    text = canonical_json(value)
    stored = stored_value("cmoc", "study_id", text)
    assert isinstance(stored, bytes) == _canonical_uuid(value)
    assert stored == text or stored == uuid.UUID(value).bytes
    assert value_json(stored) == text


def _log_file() -> sqlite3.Connection:
    """An empty log, as a project file declares it (its tables, its view, and ``meta``)."""
    con = sqlite3.connect(":memory:")
    con.execute(str(CreateTable(META).compile(create_engine("sqlite://"))))
    for ddl in logformat.LOG_DDL:
        con.execute(ddl)
    return con


@given(entity_id=any_id, site_id=any_id, coder_id=st.one_of(st.none(), any_id),
       value=any_value,
       parents=st.lists(st.binary(min_size=32, max_size=32).map(bytes.hex), max_size=3),
       odd_parent=st.booleans(),
       where=st.sampled_from([("study", "label"), ("cmoc", "study_id"), ("document", "text")]))
def test_any_change_reads_back_exactly_from_a_real_log(
        entity_id: str, site_id: str, coder_id: str | None, value: Any, parents: list[str],
        odd_parent: bool, where: tuple[str, str]) -> None:
    if odd_parent:
        parents = [*parents, "not an id"]
    # (a document text that is one UUID: see the test after the next)
    assume(where != ("document", "text") or not _canonical_uuid(value))
    change = make_change(where[0], entity_id, where[1], value, 1_700_000_000_000, 3, site_id,
                         coder_id, parents)
    con = _log_file()
    assert logformat.append_rows(con, [change_to_row(change)]) == 1
    (row,) = con.execute(f"SELECT {logformat.COLUMNS} FROM changes").fetchall()
    assert row == change_to_row(change)  # the view gives back what was written
    assert type(row[0]) is int and row[0] == _key(change.change_id)
    assert logformat.change_from_columns(*row) == change
    assert logformat.change_from_columns(*row).change_id == change.change_id
    assert verified_change(*row) == change
    # a text id is found by its text alone, a UUID by its bytes alone
    assert con.execute("SELECT count(*) FROM changes WHERE entity_id = ?",
                       (stored_id(entity_id),)).fetchone()[0] == 1
    if _canonical_uuid(entity_id):
        assert con.execute("SELECT count(*) FROM changes WHERE entity_id = ?",
                           (entity_id,)).fetchone()[0] == 0
    for (stored,) in con.execute("SELECT id FROM log_ids UNION ALL SELECT id FROM log_records"):
        assert isinstance(stored, bytes) == _canonical_uuid(id_text(stored))
    # a value that is one UUID is kept as its 16 bytes, any other as its text (or packed)
    (kind, size) = con.execute("SELECT typeof(value), length(value) FROM log").fetchone()
    assert (kind, size) == ("blob", 16) if _canonical_uuid(value) else (kind, size) != ("blob", 16)
    # the latest clock is kept with the log
    assert logformat.latest_clock(con) == (change.wall, change.counter)
    # a row of any older layout, turned into this one, is the same row
    assert compact_row(*text_row(*row)) == row
    assert compact_row(*logformat.old_row(*row)) == row
    # a change is held once: writing it again fails, or is passed over when asked
    with pytest.raises(sqlite3.IntegrityError):
        logformat.append_rows(con, [row])
    assert logformat.append_rows(con, [row], ignore=True) == 0
    assert con.execute("SELECT count(*) FROM log").fetchone()[0] == 1


def test_the_side_tables_name_each_record_name_and_id_once() -> None:
    """Numbers are given once per file: a record, a type or field name, a laptop or a coder
    written again is pointed to by the number it was given, and every row reads back."""
    con = _log_file()
    site, coder = str(uuid.UUID(int=1)), "ana"
    changes = [make_change(etype, str(uuid.UUID(int=10 + n % 3)), field, f"v{n}", 100 + n, 0,
                           site, coder if n % 2 else None, [])
               for n in range(12) for etype, field in (("study", "label"), ("study", "title"))]
    logformat.append_rows(con, [change_to_row(c) for c in changes[:5]])
    logformat.append_rows(con, [change_to_row(c) for c in changes[5:]])
    assert con.execute("SELECT count(*) FROM log").fetchone()[0] == len(changes)
    assert sorted(r[0] for r in con.execute("SELECT name FROM log_names")) == [
        "label", "study", "title"]
    assert con.execute("SELECT count(*) FROM log_ids").fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM log_records").fetchone()[0] == 3
    rows = con.execute(f"SELECT seq, {logformat.COLUMNS} FROM changes ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == list(range(1, len(changes) + 1))  # in the order written
    assert [verified_change(*r[1:]) for r in rows] == changes
    assert logformat.latest_clock(con) == (100 + 11, 0)


def test_an_id_stored_other_than_this_layout_stores_it_is_refused() -> None:
    u = str(uuid.UUID(int=12345))
    parent = "ab" * 32
    change = make_change("cmoc", u, "statement", "Peers", 5, 1, u, u, [parent])
    row = dict(zip(NAMES, change_to_row(change)))
    assert verified_change(*row.values()) == change
    key = row["change_id"]
    whole = bytes.fromhex(change.change_id)
    for column, stored in (("change_id", change.change_id),      # the whole id, as hex text
                           ("change_id", whole),                 # ... as 0006 kept it
                           ("change_id", whole[:8]),             # the key's bytes
                           ("change_id", str(key)), ("change_id", float(key)),
                           ("change_id", key ^ 1), ("change_id", key + 2**64),
                           ("change_id", int.from_bytes(whole[:8], "little", signed=True)),
                           ("change_id", True),
                           ("entity_id", u), ("site_id", u), ("coder_id", u),  # UUID as text
                           ("entity_id", bytes(15)),                 # bytes of another length
                           ("parents", json.dumps([parent])),       # ids as JSON text
                           ("parents", bytes(33)), ("seen", "[]")):
        assert verified_change(*{**row, column: stored}.values()) is None, (column, stored)


def test_a_uuid_value_stored_as_text_is_refused() -> None:
    """A value that is one UUID is stored as its 16 bytes; a row that stores it as its JSON
    text is not stored as this layout stores it (``verified_change``'s promise)."""
    u = str(uuid.UUID(int=4321))
    change = make_change("cmoc", u, "study_id", u, 5, 1, u, None, [])
    row = list(change_to_row(change))
    assert row[4] == uuid.UUID(u).bytes and verified_change(*row) == change
    row[4] = canonical_json(u)
    assert verified_change(*row) is None


def test_a_document_text_that_is_one_uuid_is_stored_alike_however_it_arrives() -> None:
    """One change, one stored form: written by this version, upgraded or merged from an older
    layout, a row holds the same bytes."""
    u = str(uuid.UUID(int=77))
    change = make_change("document", u, "text", u, 5, 1, u, None, [])
    row = change_to_row(change)
    assert compact_row(*text_row(*row)) == row
    assert compact_row(*logformat.old_row(*row)) == row


# -- a project whose record ids are not all UUIDs ---------------------------------------------

ODD_IDS = ["123", str(uuid.UUID(int=7)).upper(), "{" + str(uuid.UUID(int=8)) + "}", "\U0001F642",
           str(uuid.UUID(int=9)), uuid.UUID(int=10).bytes.decode("latin-1"),
           uuid.UUID(int=9).hex]


def _odd_project(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A project with one study per id of ODD_IDS (label -> id)."""
    ids = iter(ODD_IDS)
    with ProjectStore.create(path) as store:
        with monkeypatch.context() as m:
            m.setattr(unit_of_work, "new_id", lambda: next(ids))
            with store.unit_of_work(None) as uow:
                for n in range(len(ODD_IDS)):
                    uow.create("study", {"label": f"Study {n}"})
        return {s.label: s.id for s in store.list("study")}


def test_records_with_any_id_read_back_and_never_mix(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "odd.cmo"
    made = _odd_project(path, monkeypatch)
    assert sorted(made.values()) == sorted(ODD_IDS)
    with ProjectStore.open(path) as store:
        with store.unit_of_work(None) as uow:
            for label, sid in made.items():
                uow.update("study", sid, {"title": f"Title of {label}"})
        with store.engine.connect() as conn:
            for label, sid in made.items():
                changes = queries.changes_for(conn, "study", sid)
                assert {c.entity_id for c in changes} == {sid}
                assert {c.value for c in changes if c.field == "title"} == {f"Title of {label}"}
        dump = store.dump_json()
        store.rebuild()
        assert store.dump_json() == dump
    con = sqlite3.connect(path)
    kinds = dict(con.execute("SELECT entity_id, typeof(entity_id) FROM changes "
                             "WHERE entity_type = 'study'").fetchall())
    numbered = dict(con.execute("SELECT r.id, typeof(r.id) FROM log_records r JOIN log_names t "
                                "ON t.n = r.type WHERE t.name = 'study'").fetchall())
    con.close()
    assert kinds == numbered and len(numbered) == len(ODD_IDS)  # each record numbered once
    assert kinds[stored_id(str(uuid.UUID(int=9)))] == "blob"
    assert all(kinds[odd] == "text" for odd in ODD_IDS if not _canonical_uuid(odd))


def test_records_with_any_id_merge_and_merge_once(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "odd.cmo"
    made = _odd_project(path, monkeypatch)
    copy = tmp_path / "copy.cmo"
    shutil.copy(path, copy)
    with ProjectStore.open(copy) as store:
        with store.unit_of_work(None) as uow:
            for sid in made.values():
                uow.update("study", sid, {"title": "from the copy"})
        theirs = store.dump_json()
    with ProjectStore.open(path) as store:
        stats = merge_file(store, copy)
        assert stats.new_changes == len(made) and stats.rejected == 0
        assert store.dump_json() == theirs
        assert merge_file(store, copy).new_changes == 0


# -- older layouts ---------------------------------------------------------------------------


def _pair(folder: Path, first: str, second: str) -> tuple[Path, Path]:
    """A project and a copy of it, as two laptops hold it."""
    one, two = folder / f"{first}.cmo", folder / f"{second}.cmo"
    _project(one)
    shutil.copy(one, two)
    return one, two


def _text_log(path: Path) -> dict[Any, tuple[Any, ...]]:
    """place -> the row in the hub's text form (the whole id, ids as text, the value as JSON
    text), for a log of any layout: a numbered log's place is ``seq``, an older one's rowid."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        place = "seq" if is_numbered(con) else "rowid"
        return {r[0]: text_row(*r[1:]) for r in con.execute(
            f"SELECT {place}, {logformat.COLUMNS} FROM changes")}
    finally:
        con.close()


def _project(path: Path) -> None:
    with ProjectStore.create(path, title="Layouts") as store:
        with store.unit_of_work(None) as uow:
            for n in range(5):
                sid = uow.create("study", {"label": f"Study {n} \U0001F642"})
                uow.create("cmoc", {"study_id": sid, "statement": f"Peers {n}"})
            sid = uow.create("study", {"label": "With a text"})
            uow.create("document", {"study_id": sid, "filename": "a.pdf",
                                    "text": "peer trust " * 400, "page_starts": [0]})


def _work(path: Path, label: str) -> int:
    """Some edits in ``path``; returns how many changes they wrote."""
    with ProjectStore.open(path) as store:
        before = store.change_count()
        with store.unit_of_work(None) as uow:
            for study in store.list("study"):
                uow.update("study", study.id, {"title": f"{label} {study.label}"})
            uow.create("study", {"label": f"New in {label}"})
        return store.change_count() - before


def _assert_numbered_as_written(path: Path) -> None:
    """The file's log is numbered, every row of it is seen through the view, is sound, and is
    stored exactly as this version writes that change; the latest clock is kept."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert is_numbered(con)
        rows = con.execute(f"SELECT {logformat.COLUMNS} FROM changes ORDER BY seq").fetchall()
        assert len(rows) == con.execute("SELECT count(*) FROM log").fetchone()[0]
        assert con.execute("SELECT count(*) FROM log WHERE typeof(key) != 'integer'"
                           ).fetchone()[0] == 0
        for row in rows:
            change = verified_change(*row)
            assert change is not None and change_to_row(change) == row
        top = con.execute("SELECT max(wall * 1000000 + counter) FROM log").fetchone()[0]
        assert logformat.latest_clock(con) == (top // 1000000, top % 1000000)
    finally:
        con.close()


@pytest.mark.parametrize("layout", ["0006", "0005", "0004"])
def test_a_copy_in_an_older_layout_merges_like_the_same_copy_upgraded(
        tmp_path: Path, layout: str) -> None:
    mine, theirs = _pair(tmp_path, "mine", "theirs")
    made = _work(theirs, "theirs")
    _work(mine, "mine")
    upgraded = tmp_path / "upgraded.cmo"
    shutil.copy(mine, upgraded)
    with ProjectStore.open(upgraded) as store:
        assert merge_file(store, theirs).new_changes == made
        expected = store.dump_json()
    downgrade(theirs, layout)
    con = sqlite3.connect(theirs)
    assert not is_numbered(con)
    blobs = con.execute("SELECT count(*) FROM changes WHERE typeof(change_id) = 'blob' "
                        "AND length(change_id) = 32").fetchone()[0]
    assert blobs == (con.execute("SELECT count(*) FROM changes").fetchone()[0]
                     if layout == "0006" else 0)
    con.close()
    with ProjectStore.open(mine) as store:
        stats = merge_file(store, theirs)
        assert (stats.new_changes, stats.rejected) == (made, 0)
        assert store.dump_json() == expected
        assert merge_file(store, theirs).new_changes == 0
    # the same log as the upgraded copy's merge gave, each change stored as this version does
    assert sorted(_text_log(mine).values()) == sorted(_text_log(upgraded).values())
    _assert_numbered_as_written(mine)
    con = sqlite3.connect(mine)
    assert con.execute("SELECT count(*) FROM changes WHERE typeof(entity_id) != 'blob'"
                       ).fetchone()[0] == 0
    con.close()


def _forge_last_title(con: sqlite3.Connection) -> int:
    """Alter the value of the log's last title change, in a log of any layout."""
    if is_numbered(con):
        return alter(con, "UPDATE log SET value = '\"Forged\"' WHERE seq = (SELECT max(seq) "
                          "FROM log WHERE field = ?)", (name_number(con, "title"),))
    return alter(con, "UPDATE changes SET value = '\"Forged\"' WHERE field = 'title' AND rowid = "
                      "(SELECT max(rowid) FROM changes WHERE field = 'title')")


@pytest.mark.parametrize("layout", ["0007", "0006", "0005"])
def test_an_altered_change_in_a_copy_of_any_layout_is_left_out(tmp_path: Path,
                                                               layout: str) -> None:
    mine, theirs = _pair(tmp_path, "mine", "theirs")
    made = _work(theirs, "theirs")
    if layout != HEAD_REVISION:
        downgrade(theirs, layout)
    con = sqlite3.connect(theirs)
    _forge_last_title(con)
    con.commit()
    con.close()
    with ProjectStore.open(mine) as store:
        stats = merge_file(store, theirs)
        assert stats.rejected >= 1 and stats.new_changes == made - stats.rejected
        assert "Forged" not in store.dump_json()


@pytest.mark.parametrize("layout", ["0006", "0005"])
def test_a_delta_bundle_for_a_receiver_in_an_older_layout_holds_only_what_it_lacks(
        tmp_path: Path, layout: str) -> None:
    mine, theirs = _pair(tmp_path, "mine", "theirs")
    made = _work(mine, "mine")
    downgrade(theirs, layout)
    with ProjectStore.open(mine) as store:
        n, _blobs = write_delta_bundle(store, tmp_path / "delta.cmo.gz", theirs)
        expected = store.dump_json()
    assert n == made
    # the receiver upgrades, merges the delta and has what the sender has
    with ProjectStore.open(theirs, upgrade_backup_dir=tmp_path) as store:
        assert merge_file(store, tmp_path / "delta.cmo.gz").new_changes == made
        assert store.dump_json() == expected
    _assert_numbered_as_written(theirs)


@pytest.mark.parametrize("layout", ["0006", "0005"])
def test_upgrading_keeps_every_change_in_its_place(tmp_path: Path, layout: str) -> None:
    path = tmp_path / "review.cmo"
    _project(path)
    _work(path, "day one")
    _work(path, "day two")  # titles written again: changes with parents
    with ProjectStore.open(path) as store:
        dump = store.dump_json()
    downgrade(path, layout)
    before = _text_log(path)
    con = sqlite3.connect(path)
    raw_before = con.execute("SELECT rowid, change_id FROM changes ORDER BY rowid").fetchall()
    con.close()
    assert all(isinstance(r[1], bytes if layout == "0006" else str) for r in raw_before)
    with ProjectStore.open(path, upgrade_backup_dir=tmp_path) as store:
        assert store.dump_json() == dump
    # every change: the same content and whole id, at the same place (seq == the old rowid)
    assert _text_log(path) == before
    con = sqlite3.connect(path)
    after = con.execute("SELECT seq, change_id, entity_id, value, parents FROM changes "
                        "ORDER BY seq").fetchall()
    held = con.execute("SELECT seq, key FROM log ORDER BY seq").fetchall()
    con.close()
    assert [r[0] for r in after] == [r[0] for r in raw_before] == [r[0] for r in held]
    assert [r[1] for r in after] == [r[1] for r in held] == [
        _key(before[r[0]][0]) for r in raw_before]
    assert all(isinstance(r[2], bytes) and len(r[2]) == 16 for r in after)
    assert any(r[4] for r in after) and all(isinstance(r[4], bytes) for r in after)
    # a value that is one UUID (a CMOC's study) is now its 16 bytes
    uuids = {seq for seq, row in before.items() if _canonical_uuid(json.loads(row[4]))}
    assert uuids and uuids == {r[0] for r in after if isinstance(r[3], bytes)
                               and len(r[3]) == 16}
    _assert_numbered_as_written(path)


def test_each_step_of_an_upgrade_writes_its_own_layout(tmp_path: Path) -> None:
    """A file upgraded from 0005 to 0006 only (as the version whose head 0006 was did) holds
    0006's layout: whole change ids as their 32 bytes, which 0007 then keys."""
    path = tmp_path / "review.cmo"
    _project(path)
    _work(path, "day one")
    downgrade(path, "0005")
    before = _text_log(path)
    upgrade(path, "0006")
    con = sqlite3.connect(path)
    ids = con.execute("SELECT rowid, change_id FROM changes ORDER BY rowid").fetchall()
    con.close()
    assert [(rowid, cid) for rowid, cid in ids] == [
        (rowid, bytes.fromhex(before[rowid][0])) for rowid in sorted(before)]
    assert _text_log(path) == before
    upgrade(path, HEAD_REVISION)
    assert _text_log(path) == before
    _assert_numbered_as_written(path)


@pytest.mark.parametrize("layout", ["0006", "0005"])
def test_a_power_cut_at_the_end_of_the_upgrade_leaves_the_old_file_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str) -> None:
    path = tmp_path / "review.cmo"
    _project(path)
    downgrade(path, layout)
    con = sqlite3.connect(path)
    rows = con.execute("SELECT rowid, * FROM changes ORDER BY rowid").fetchall()
    con.close()
    calls = []
    real = logformat.append_from

    def power_cut(*args: Any, **kwargs: Any) -> Any:  # once the numbered log is all written
        written = real(*args, **kwargs)
        calls.append(written)
        raise OSError("the power went off")

    monkeypatch.setattr(logformat, "append_from", power_cut)
    with pytest.raises(Exception):
        ProjectStore.open(path, upgrade_backup_dir=tmp_path)
    monkeypatch.undo()
    assert calls == [len(rows)]  # it stopped at the very end
    _assert_left_as_it_was(path, layout, rows)


def test_a_power_cut_during_the_compact_step_of_an_upgrade_leaves_the_old_file_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "review.cmo"
    _project(path)
    downgrade(path, "0005")
    con = sqlite3.connect(path)
    rows = con.execute("SELECT rowid, * FROM changes ORDER BY rowid").fetchall()
    con.close()
    calls = []
    real = logformat.compact_ids

    def power_cut(stored: Any) -> Any:  # the last row's parents, once every other is written
        calls.append(1)
        if len(calls) == 2 * len(rows):
            raise OSError("the power went off")
        return real(stored)

    monkeypatch.setattr(logformat, "compact_ids", power_cut)
    with pytest.raises(Exception):
        ProjectStore.open(path, upgrade_backup_dir=tmp_path)
    monkeypatch.undo()
    assert len(calls) == 2 * len(rows)  # it stopped at the end of the step to 0006
    _assert_left_as_it_was(path, "0005", rows)


def _assert_left_as_it_was(path: Path, layout: str, rows: list[Any]) -> None:
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == layout
    assert con.execute("SELECT rowid, * FROM changes ORDER BY rowid").fetchall() == rows
    assert not is_numbered(con)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    with ProjectStore.open(path, upgrade_backup_dir=path.parent) as store:
        assert store.change_count() == len(rows)
        assert store.meta_value("format_version") is not None
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD_REVISION
    con.close()
    _assert_numbered_as_written(path)


@pytest.mark.parametrize("layout", ["0007", "0006", "0005"])
def test_a_damaged_file_of_any_layout_is_salvaged_into_the_numbered_one(
        tmp_path: Path, layout: str) -> None:
    good, damaged = _pair(tmp_path, "good", "damaged")
    made = _work(damaged, "lost work")
    if layout != HEAD_REVISION:
        downgrade(damaged, layout)
    log = salvage.read_log(damaged, tmp_path / "log.cmo", good)
    assert log.unreadable_rows == 0
    _assert_numbered_as_written(tmp_path / "log.cmo")
    new, _docs = salvage.merge_into_copy(good, tmp_path / "log.cmo", tmp_path / "rescued.cmo")
    assert new == made
    with ProjectStore.open(tmp_path / "rescued.cmo", upgrade_backup_dir=tmp_path) as store:
        assert {s.title for s in store.list("study")} >= {"lost work Study 0 \U0001F642"}


def test_a_damaged_log_whose_numbers_point_nowhere_is_salvaged_without_those_rows(
        tmp_path: Path) -> None:
    """A side table's row lost: the changes that name it by number can no longer be read and
    are counted as unreadable; every other change is saved."""
    good, damaged = _pair(tmp_path, "good", "damaged")
    made = _work(damaged, "lost work")
    titles = []
    for path in (good, damaged):
        con = sqlite3.connect(path)
        titles.append(con.execute("SELECT count(*) FROM log WHERE field = ?",
                                  (name_number(con, "title"),)).fetchone()[0])
        con.close()
    con = sqlite3.connect(damaged)
    alter(con, "DELETE FROM log_names WHERE name = 'title'")
    con.commit()
    con.close()
    log = salvage.read_log(damaged, tmp_path / "log.cmo", good)
    assert log.unreadable_rows == titles[1] > titles[0]
    new, _docs = salvage.merge_into_copy(good, tmp_path / "log.cmo", tmp_path / "rescued.cmo")
    assert new == made - (titles[1] - titles[0])  # the titles written since, and only those
    with ProjectStore.open(tmp_path / "rescued.cmo", upgrade_backup_dir=tmp_path) as store:
        assert "New in lost work" in {s.label for s in store.list("study")}


# -- the queries the log answers use its indexes -------------------------------------------


def _plan(con: sqlite3.Connection, sql: str, *args: Any) -> list[str]:
    return [r[3] for r in con.execute("EXPLAIN QUERY PLAN " + sql, args)]


def _no_full_scan(plan: list[str], *tables: str) -> None:
    """None of ``tables`` (by alias) is read whole."""
    for step in plan:
        for alias in tables:
            assert not (step == f"SCAN {alias}" or step.startswith(f"SCAN {alias} ")), plan


def test_every_query_of_the_log_uses_an_index(tmp_path: Path) -> None:
    """Read through the view, each query the store makes finds its rows through the log's
    index on (record, key) and the side tables' unique indexes, never by reading the log (or a
    side table) whole."""
    path = tmp_path / "review.cmo"
    _project(path)
    con = sqlite3.connect(path)
    con.execute("ATTACH DATABASE ? AS other", (str(path),))
    some = stored_id(str(uuid.UUID(int=1)))
    view_tables = ("c", "r", "t", "f", "s", "k")  # the view's aliases (logformat.LOG_DDL)

    # a record's changes (the projection, a unit of work, the cross-checks)
    for sql, args in (
            (f"SELECT {logformat.COLUMNS} FROM changes WHERE entity_type = ? "
             "AND entity_id IN (?, ?)", ("study", some, some)),
            (f"SELECT seq, {logformat.COLUMNS} FROM changes WHERE entity_type = ? "
             "AND entity_id = ? AND seq > ?", ("study", some, 0)),
            (f"SELECT {logformat.COLUMNS} FROM changes WHERE entity_type = ? AND field = ? "
             "AND entity_id IN (?, ?)", ("cmoc", "exists", some, some)),
            # a change of a known record by its key (a conflict's values)
            ("SELECT * FROM changes WHERE change_id = ? AND entity_type = ? AND entity_id = ?",
             (1, "study", some)),
            ("SELECT * FROM changes WHERE change_id IN (?, ?) AND entity_type = ? "
             "AND entity_id = ?", (1, 2, "study", some))):
        plan = _plan(con, sql, *args)
        assert any("ix_log_entity_key" in step for step in plan), plan
        assert any("sqlite_autoindex_log_records_1" in step for step in plan), plan
        _no_full_scan(plan, *view_tables)
    # what was written after a mark (the hub's sync, the views' refresh) is found by its place
    for sql in (f"SELECT seq, {logformat.COLUMNS} FROM changes WHERE seq > ? ORDER BY seq "
                "LIMIT 10", "SELECT entity_type, entity_id FROM changes WHERE seq > ?"):
        plan = _plan(con, sql, 5)
        assert any(step.startswith("SEARCH c USING INTEGER PRIMARY KEY") for step in plan), plan
        _no_full_scan(plan, *view_tables)
    # the records of a type the log knows (a merge's check of what it holds)
    plan = _plan(con, "SELECT r.id FROM log_records r JOIN log_names t ON t.n = r.type "
                      "WHERE t.name = ? AND r.id IN (?, ?)", "study", some, some)
    _no_full_scan(plan, "r", "t")
    # the merge's set difference looks each incoming change up in the project's index
    plan = _plan(con, f"SELECT 1 FROM other.changes o WHERE {logformat.lacking_sql('o')}")
    assert any("USING COVERING INDEX ix_log_entity_key" in step for step in plan), plan
    _no_full_scan(plan, "lc", "lr", "lt")
    # a delta bundle's, in a receiver's numbered log
    plan = _plan(con, f"SELECT 1 FROM main.changes o WHERE {logformat.lacking_sql('o', 'other')}")
    assert any("USING COVERING INDEX ix_log_entity_key" in step for step in plan), plan
    _no_full_scan(plan, "lc", "lr", "lt")
    # the latest clock is one row of meta, and the log's place its largest key
    assert any("sqlite_autoindex_meta_1" in step for step in _plan(
        con, "SELECT value FROM meta WHERE key = ?", logformat.CLOCK_KEY))
    _no_full_scan(_plan(con, "SELECT coalesce(max(seq), 0) FROM log"), "log")
    con.close()


def test_every_write_keeps_the_latest_clock(tmp_path: Path) -> None:
    """The latest clock is read from ``meta`` (the log has no index on its clock): every way of
    writing to the log keeps it, so it is always the largest clock the log holds."""
    mine, theirs = _pair(tmp_path, "mine", "theirs")
    _assert_numbered_as_written(mine)
    _work(mine, "mine")
    _assert_numbered_as_written(mine)
    _work(theirs, "theirs")
    with ProjectStore.open(mine) as store:
        merge_file(store, theirs)
    _assert_numbered_as_written(mine)


def test_row_to_change_reads_what_change_to_row_wrote() -> None:
    change = make_change("document", str(uuid.UUID(int=3)), "text", "\U0001F642" * 2000, 9, 0,
                         "salvage", None, ["cd" * 32, "ef" * 32], ["01" * 32])
    row = dict(zip(NAMES, change_to_row(change)))
    assert row["change_id"] == _key(change.change_id)
    assert isinstance(row["value"], bytes) and row["parents"] == bytes.fromhex("cd" * 32 + "ef" * 32)
    assert row["site_id"] == "salvage" and row["coder_id"] is None

    class Row:
        pass

    r = Row()
    r.__dict__.update(row)
    assert row_to_change(r) == change
    assert row_to_change(r).change_id == change.change_id  # computed again from the content


def _text_id_record(con: sqlite3.Connection, etype: str, eid: bytes, rows: str = "all") -> int:
    """Make the log name a record by its id's text rather than its 16 bytes, as another program
    might: for ``rows`` "all" of its changes (the record's number renamed), or only its first
    (that change pointed to a new number); returns how many changes now do."""
    n = record_number(con, etype, eid)
    if rows == "all":
        alter(con, "UPDATE log_records SET id = ? WHERE n = ?", (id_text(eid), n))
        return int(con.execute("SELECT count(*) FROM log WHERE entity = ?", (n,)).fetchone()[0])
    alter(con, "INSERT INTO log_records (type, id) SELECT type, ? FROM log_records WHERE n = ?",
          (id_text(eid), n))
    return alter(con, "UPDATE log SET entity = ? WHERE seq = (SELECT min(seq) FROM log "
                      "WHERE entity = ?)", (con.execute("SELECT max(n) FROM log_records"
                                                        ).fetchone()[0], n))


def test_a_copy_that_stores_an_id_as_text_has_that_record_left_out(tmp_path: Path) -> None:
    """A UUID written as text by another program would never be found by the lookups of the
    record it names: the record is held back, never stored where nothing finds it."""
    mine, theirs = _pair(tmp_path, "mine", "theirs")
    made = _work(theirs, "theirs")
    con = sqlite3.connect(theirs)
    new_study = con.execute("SELECT entity_id FROM changes WHERE entity_type = 'study' "
                            "ORDER BY seq DESC LIMIT 1").fetchone()[0]
    moved = _text_id_record(con, "study", new_study)
    con.commit()
    con.close()
    with ProjectStore.open(mine) as store:
        stats = merge_file(store, theirs)
        assert (stats.new_changes, stats.rejected) == (made - moved, moved)
        assert id_text(new_study) not in {s.id for s in store.list("study")}
    con = sqlite3.connect(mine)
    assert con.execute("SELECT count(*) FROM changes WHERE typeof(entity_id) != 'blob'"
                       ).fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM log_records WHERE typeof(id) != 'blob'"
                       ).fetchone()[0] == 0
    con.close()


def test_a_copy_that_stores_a_laptop_id_as_text_has_its_changes_left_out(tmp_path: Path) -> None:
    mine, theirs = _pair(tmp_path, "mine", "theirs")
    made = _work(theirs, "theirs")
    con = sqlite3.connect(theirs)
    site = con.execute("SELECT site_id FROM changes ORDER BY seq DESC LIMIT 1").fetchone()[0]
    assert isinstance(site, bytes)
    alter(con, "UPDATE log_ids SET id = ? WHERE id = ?", (id_text(site), site))
    con.commit()
    con.close()
    with ProjectStore.open(mine) as store:
        stats = merge_file(store, theirs)
        # every change theirs wrote is that laptop's: none arrives, none is stored with it
        assert (stats.new_changes, stats.rejected) == (0, made)
    con = sqlite3.connect(mine)
    assert con.execute("SELECT count(*) FROM log_ids WHERE typeof(id) != 'blob'"
                       ).fetchone()[0] == 0
    con.close()


junk = st.one_of(st.none(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False),
                 st.text(max_size=70), st.binary(max_size=70),
                 st.binary(min_size=16, max_size=16), st.binary(min_size=32, max_size=32),
                 st.sampled_from(["[]", "[\"x\"]", "{}", json.dumps(["ab" * 32]), "", "null"]))


@given(st.tuples(*[junk] * 11))
def test_any_row_whatever_its_columns_hold_is_judged_without_an_error(row: tuple) -> None:
    """Rows of untrusted files, of any layout: converting and checking them never fails, and
    only a row that is a change stored as this layout stores it is taken."""
    compact = compact_row(*row)
    assert compact_row(*compact) == compact  # converting twice changes nothing more
    change = verified_change(*compact)
    if change is not None:
        assert change_to_row(change)[:4] == compact[:4]
        assert make_change(change.entity_type, change.entity_id, change.field, change.value,
                           change.wall, change.counter, change.site_id, change.coder_id,
                           change.parents, change.seen).change_id == change.change_id
    assert verified_change(*row) is None or type(row[0]) is int
    assert salvage._intact(row) == (change is not None)
    try:
        text = text_row(*row)
    except ValueError:
        assert change is None
    else:
        assert change is not None and text[0] == change.change_id


@given(st.integers(0, 10), junk, st.booleans(), st.booleans())
def test_a_change_with_any_one_column_altered_is_refused(column: int, stored: Any,
                                                         with_parents: bool,
                                                         uuid_value: bool) -> None:
    u = str(uuid.UUID(int=99))
    change = make_change("cmoc", u, "study_id" if uuid_value else "statement",
                         u if uuid_value else "Peers \U0001F642", 1_700_000_000_000, 2, u,
                         None, ["ab" * 32] if with_parents else [])
    row = list(change_to_row(change))
    assert verified_change(*row) == change
    if stored == row[column] and type(stored) is type(row[column]):
        return
    row[column] = stored
    assert verified_change(*row) is None


def test_the_check_of_a_project_finds_an_id_stored_as_text(tmp_path: Path) -> None:
    from cmo_desk.store.backups import full_check

    path = tmp_path / "review.cmo"
    _project(path)
    assert full_check(path, projection=False) == []
    con = sqlite3.connect(path)
    eid = con.execute("SELECT entity_id FROM changes WHERE entity_type = 'cmoc'").fetchone()[0]
    assert _text_id_record(con, "cmoc", eid, rows="first") == 1
    con.commit()
    con.close()
    (problem,) = full_check(path, projection=False)
    assert "1" in problem and "cmoc" in problem


@pytest.mark.parametrize("projection", [True, False])
def test_the_check_of_a_project_finds_changes_whose_numbers_point_nowhere(
        tmp_path: Path, projection: bool) -> None:
    """A log row naming a field (or record, or laptop) the side tables no longer hold is not
    seen through the view: the check still finds it, as the log's own table holds it."""
    from cmo_desk.store.backups import full_check

    path = tmp_path / "review.cmo"
    _project(path)
    assert full_check(path, projection=projection) == []
    con = sqlite3.connect(path)
    alter(con, "DELETE FROM log_names WHERE name = 'statement'")
    con.commit()
    con.close()
    assert full_check(path, projection=projection) != []


@pytest.mark.parametrize("layout", [HEAD_REVISION, "0007", "0006"])
def test_a_copy_whose_log_breaks_the_layouts_rules_has_only_those_records_left_out(
        tmp_path: Path, layout: str) -> None:
    """Another program's file may declare its log without NOT NULL: a change with no value is
    left out with its record, and the rest arrives."""
    mine, theirs = _pair(tmp_path, "mine", "theirs")
    made = _work(theirs, "theirs")
    if layout != HEAD_REVISION:
        downgrade(theirs, layout)
    con = sqlite3.connect(theirs)
    if logformat.is_numbered(layout):
        view = next(ddl for ddl in logformat.LOG_DDL if ddl.startswith("CREATE VIEW"))
        con.executescript(
            "DROP VIEW changes; CREATE TABLE loose AS SELECT * FROM log ORDER BY seq;"
            f"DROP TABLE log; ALTER TABLE loose RENAME TO log; {view};")
        last = con.execute("SELECT max(seq) FROM log").fetchone()[0]
        study = con.execute("SELECT entity_id FROM changes WHERE seq = ?", (last,)).fetchone()[0]
        in_record = con.execute("SELECT count(*) FROM changes WHERE entity_id = ?",
                                (study,)).fetchone()[0]
        alter(con, "UPDATE log SET value = NULL WHERE seq = ?", (last,))
    else:
        con.executescript(
            f"CREATE TABLE loose AS SELECT {logformat.COLUMNS} FROM changes ORDER BY rowid;"
            "DROP TABLE changes; ALTER TABLE loose RENAME TO changes;")
        last = con.execute("SELECT max(rowid) FROM changes").fetchone()[0]
        study = con.execute("SELECT entity_id FROM changes WHERE rowid = ?",
                            (last,)).fetchone()[0]
        in_record = con.execute("SELECT count(*) FROM changes WHERE entity_id = ?",
                                (study,)).fetchone()[0]
        alter(con, "UPDATE changes SET value = NULL WHERE rowid = ?", (last,))
    con.commit()
    con.close()
    with ProjectStore.open(mine) as store:
        stats = merge_file(store, theirs)
        assert (stats.new_changes, stats.rejected) == (made - in_record, in_record)
        assert id_text(study) not in {s.id for s in store.list("study")}
        assert {s.title for s in store.list("study")} >= {"theirs Study 0 \U0001F642"}


def test_numbers_never_leave_a_file(tmp_path: Path) -> None:
    """Each file numbers names, ids and records in its own order: a copy that numbered them
    otherwise merges to the same project, and the merge writes this file's numbers."""
    mine, theirs = _pair(tmp_path, "mine", "theirs")
    made = _work(theirs, "theirs")
    upgraded = tmp_path / "same.cmo"
    shutil.copy(mine, upgraded)
    with ProjectStore.open(upgraded) as store:
        merge_file(store, theirs)
        expected = store.dump_json()
    con = sqlite3.connect(theirs)
    before = _text_log(theirs)
    con.executescript(  # every number of theirs moved: none is what mine gave the same thing
        "UPDATE log_names SET n = n + 1000; UPDATE log_ids SET n = n + 2000;"
        "UPDATE log_records SET n = n + 3000, type = type + 1000;"
        "UPDATE log SET entity = entity + 3000, field = field + 1000, site = site + 2000, "
        "coder = coder + 2000;")
    con.close()
    assert _text_log(theirs) == before
    with ProjectStore.open(mine) as store:
        stats = merge_file(store, theirs)
        assert (stats.new_changes, stats.rejected) == (made, 0)
        assert store.dump_json() == expected
        assert merge_file(store, theirs).new_changes == 0
    con = sqlite3.connect(mine)
    assert con.execute("SELECT max(n) FROM log_names").fetchone()[0] < 1000
    assert con.execute("SELECT max(n) FROM log_ids").fetchone()[0] < 1000
    assert con.execute("SELECT max(n) FROM log_records").fetchone()[0] < 1000
    con.close()
    _assert_numbered_as_written(mine)
