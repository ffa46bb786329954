"""The compact log layout (schema 0006): ids stored as their bytes, any other id exactly as its
text; every reader and writer of ``changes`` goes through store/logformat.py; copies, bundles
and damaged files of an older layout still merge, and upgrading keeps every change."""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.schema import CreateIndex, CreateTable

from cmo_desk.domain.changelog import make_change
from cmo_desk.store import logformat, queries, salvage, unit_of_work
from cmo_desk.store.logformat import (
    change_to_row,
    compact_row,
    id_text,
    ids_tuple,
    row_to_change,
    stored_change_id,
    stored_id,
    stored_ids,
    text_row,
    verified_change,
)
from cmo_desk.store.merging import merge_file, write_delta_bundle
from cmo_desk.store.models import CHANGES
from cmo_desk.store.project_store import HEAD_REVISION, ProjectStore
from tests.logrows import alter, downgrade

# -- ids -----------------------------------------------------------------------------------------


def _canonical_uuid(text: str) -> bool:
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


@given(any_id)
def test_an_id_is_stored_as_bytes_exactly_when_it_is_a_canonical_uuid(text: str) -> None:
    stored = stored_id(text)
    assert isinstance(stored, bytes) == _canonical_uuid(text)
    assert stored == text or len(stored) == 16
    assert id_text(stored) == text


@given(st.one_of(st.text(max_size=70), st.binary(min_size=32, max_size=32).map(bytes.hex),
                 st.binary(min_size=32, max_size=32).map(lambda b: b.hex().upper())))
def test_a_change_id_is_stored_as_bytes_exactly_when_it_is_64_lowercase_hex(text: str) -> None:
    stored = stored_change_id(text)
    is_hex = len(text) == 64 and all(c in "0123456789abcdef" for c in text)
    assert isinstance(stored, bytes) == is_hex
    assert logformat.change_id_text(stored) == text


@given(st.lists(st.one_of(st.binary(min_size=32, max_size=32).map(bytes.hex),
                          st.text(max_size=5)), max_size=4))
def test_parents_are_their_ids_bytes_or_json_when_any_is_not_an_id(ids: list[str]) -> None:
    stored = stored_ids(ids)
    assert ids_tuple(stored) == tuple(ids)
    assert isinstance(stored, bytes) == all(isinstance(stored_change_id(i), bytes) for i in ids)
    assert stored != b"" or not ids


def _log_table() -> sqlite3.Connection:
    """An empty ``changes`` table as a project file declares it."""
    engine = create_engine("sqlite://")
    con = sqlite3.connect(":memory:")
    table = CHANGES
    con.execute(str(CreateTable(table).compile(engine)))  # type: ignore[arg-type]
    for index in table.indexes:  # type: ignore[attr-defined]
        con.execute(str(CreateIndex(index).compile(engine)))
    return con


@given(entity_id=any_id, site_id=any_id, coder_id=st.one_of(st.none(), any_id),
       value=st.one_of(st.text(max_size=30), st.integers(), st.none(), st.booleans()),
       parents=st.lists(st.binary(min_size=32, max_size=32).map(bytes.hex), max_size=3),
       odd_parent=st.booleans())
def test_any_change_reads_back_exactly_from_a_real_table(
        entity_id: str, site_id: str, coder_id: str | None, value: Any, parents: list[str],
        odd_parent: bool) -> None:
    if odd_parent:
        parents = [*parents, "not an id"]
    change = make_change("study", entity_id, "label", value, 1_700_000_000_000, 3, site_id,
                         coder_id, parents)
    con = _log_table()
    con.execute(f"INSERT INTO changes ({logformat.COLUMNS}) VALUES ({','.join('?' * 11)})",
                tuple(change_to_row(change).values()))
    (row,) = con.execute(f"SELECT {logformat.COLUMNS} FROM changes").fetchall()
    assert logformat.change_from_columns(*row) == change
    assert verified_change(*row) == change
    # a text id is found by its text alone, a UUID by its bytes alone
    assert con.execute("SELECT count(*) FROM changes WHERE entity_id = ?",
                       (stored_id(entity_id),)).fetchone()[0] == 1
    if _canonical_uuid(entity_id):
        assert con.execute("SELECT count(*) FROM changes WHERE entity_id = ?",
                           (entity_id,)).fetchone()[0] == 0
    # a row of the older layout, turned into this one, is the same row
    assert compact_row(*text_row(*row)) == row


def test_an_id_stored_other_than_this_layout_stores_it_is_refused() -> None:
    u = str(uuid.UUID(int=12345))
    parent = "ab" * 32
    change = make_change("cmoc", u, "statement", "Peers", 5, 1, u, u, [parent])
    row = change_to_row(change)
    assert verified_change(*row.values()) == change
    for column, stored in (("change_id", change.change_id),      # hex kept as text
                           ("entity_id", u), ("site_id", u), ("coder_id", u),  # UUID as text
                           ("entity_id", bytes(15)),                 # bytes of another length
                           ("parents", json.dumps([parent])),       # ids as JSON text
                           ("parents", bytes(33)), ("seen", "[]"),
                           ("change_id", row["change_id"][:31])):
        assert verified_change(*{**row, column: stored}.values()) is None, column


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
    con.close()
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
    """rowid -> the row in the older layout's form (ids as text, the value as JSON text)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {r[0]: text_row(*r[1:]) for r in con.execute(
            f"SELECT rowid, {logformat.COLUMNS} FROM changes")}
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


@pytest.mark.parametrize("layout", ["0005", "0004"])
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
    assert con.execute("SELECT count(*) FROM changes WHERE typeof(change_id) = 'blob'"
                       ).fetchone()[0] == 0
    con.close()
    with ProjectStore.open(mine) as store:
        stats = merge_file(store, theirs)
        assert (stats.new_changes, stats.rejected) == (made, 0)
        assert store.dump_json() == expected
        assert merge_file(store, theirs).new_changes == 0
    con = sqlite3.connect(mine)
    assert con.execute("SELECT count(*) FROM changes WHERE typeof(change_id) != 'blob' "
                       "OR typeof(entity_id) != 'blob'").fetchone()[0] == 0
    con.close()


def test_an_altered_change_in_an_older_layout_copy_is_left_out(tmp_path: Path) -> None:
    mine, theirs = _pair(tmp_path, "mine", "theirs")
    made = _work(theirs, "theirs")
    downgrade(theirs, "0005")
    con = sqlite3.connect(theirs)
    alter(con, "UPDATE changes SET value = '\"Forged\"' WHERE field = 'title' AND rowid = "
               "(SELECT max(rowid) FROM changes WHERE field = 'title')")
    con.commit()
    con.close()
    with ProjectStore.open(mine) as store:
        stats = merge_file(store, theirs)
        assert stats.rejected >= 1 and stats.new_changes == made - stats.rejected
        assert "Forged" not in store.dump_json()


def test_a_delta_bundle_for_a_receiver_in_an_older_layout_holds_only_what_it_lacks(
        tmp_path: Path) -> None:
    mine, theirs = _pair(tmp_path, "mine", "theirs")
    made = _work(mine, "mine")
    downgrade(theirs, "0005")
    with ProjectStore.open(mine) as store:
        n, _blobs = write_delta_bundle(store, tmp_path / "delta.cmo.gz", theirs)
        expected = store.dump_json()
    assert n == made
    # the receiver upgrades, merges the delta and has what the sender has
    with ProjectStore.open(theirs, upgrade_backup_dir=tmp_path) as store:
        assert merge_file(store, tmp_path / "delta.cmo.gz").new_changes == made
        assert store.dump_json() == expected


def test_upgrading_keeps_every_change_in_its_place(tmp_path: Path) -> None:
    path = tmp_path / "review.cmo"
    _project(path)
    _work(path, "day one")
    _work(path, "day two")  # titles written again: changes with parents
    with ProjectStore.open(path) as store:
        dump = store.dump_json()
    downgrade(path, "0005")
    before = _text_log(path)
    con = sqlite3.connect(path)
    raw_before = con.execute("SELECT rowid, change_id, entity_id, parents FROM changes "
                             "ORDER BY rowid").fetchall()
    con.close()
    assert all(isinstance(r[1], str) for r in raw_before)
    with ProjectStore.open(path, upgrade_backup_dir=tmp_path) as store:
        assert store.dump_json() == dump
    assert _text_log(path) == before
    con = sqlite3.connect(path)
    after = con.execute("SELECT rowid, change_id, entity_id, parents FROM changes "
                        "ORDER BY rowid").fetchall()
    con.close()
    assert [r[0] for r in after] == [r[0] for r in raw_before]
    assert all(isinstance(r[1], bytes) and len(r[1]) == 32 for r in after)
    assert all(isinstance(r[2], bytes) and len(r[2]) == 16 for r in after)
    assert any(r[3] for r in after) and all(isinstance(r[3], bytes) for r in after)


def test_a_power_cut_during_the_upgrade_leaves_the_old_file_as_it_was(
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
    assert len(calls) == 2 * len(rows)  # it stopped at the very end
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0005"
    assert con.execute("SELECT rowid, * FROM changes ORDER BY rowid").fetchall() == rows
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    with ProjectStore.open(path, upgrade_backup_dir=tmp_path) as store:
        assert store.change_count() == len(rows)
        assert store.meta_value("format_version") is not None
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD_REVISION
    con.close()


def test_a_damaged_file_of_an_older_layout_is_salvaged_into_the_compact_one(
        tmp_path: Path) -> None:
    good, damaged = _pair(tmp_path, "good", "damaged")
    made = _work(damaged, "lost work")
    downgrade(damaged, "0005")
    log = salvage.read_log(damaged, tmp_path / "log.cmo", good)
    assert log.unreadable_rows == 0
    new, _docs = salvage.merge_into_copy(good, tmp_path / "log.cmo", tmp_path / "rescued.cmo")
    assert new == made
    with ProjectStore.open(tmp_path / "rescued.cmo", upgrade_backup_dir=tmp_path) as store:
        assert {s.title for s in store.list("study")} >= {"lost work Study 0 \U0001F642"}


# -- the queries the log answers use its indexes -------------------------------------------


def test_every_query_of_the_log_uses_an_index(tmp_path: Path) -> None:
    path = tmp_path / "review.cmo"
    _project(path)
    con = sqlite3.connect(path)
    con.execute("ATTACH DATABASE ? AS other", (str(path),))

    def plan(sql: str, *args: Any) -> str:
        return " | ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN " + sql, args))

    some = stored_id(str(uuid.UUID(int=1)))
    assert "USING INDEX ix_changes_entity_id" in plan(
        f"SELECT {logformat.COLUMNS} FROM changes WHERE entity_type = ? AND entity_id IN (?, ?)",
        "study", some, some)
    assert "USING INDEX sqlite_autoindex_changes_1" in plan(
        "SELECT * FROM changes WHERE change_id = ?", bytes(32))
    # the merge's set difference looks each incoming id up in the project's id index
    assert "USING COVERING INDEX sqlite_autoindex_changes_1" in plan(
        "SELECT 1 FROM other.changes o WHERE NOT EXISTS "
        "(SELECT 1 FROM main.changes m WHERE m.change_id = o.change_id)")
    assert "ix_changes_clock" in plan(
        "SELECT wall, counter FROM changes ORDER BY wall DESC, counter DESC LIMIT 1")
    con.close()


def test_row_to_change_reads_what_change_to_row_wrote() -> None:
    change = make_change("document", str(uuid.UUID(int=3)), "text", "\U0001F642" * 2000, 9, 0,
                         "salvage", None, ["cd" * 32, "ef" * 32], ["01" * 32])
    row = change_to_row(change)
    assert isinstance(row["value"], bytes) and row["parents"] == bytes.fromhex("cd" * 32 + "ef" * 32)
    assert row["site_id"] == "salvage" and row["coder_id"] is None

    class Row:
        pass

    r = Row()
    r.__dict__.update(row)
    assert row_to_change(r) == change


def test_a_copy_that_stores_an_id_as_text_has_that_record_left_out(tmp_path: Path) -> None:
    """A UUID written as text by another program would never be found by the lookups of the
    record it names: the record is held back, never stored where nothing finds it."""
    mine, theirs = _pair(tmp_path, "mine", "theirs")
    made = _work(theirs, "theirs")
    con = sqlite3.connect(theirs)
    new_study = con.execute("SELECT entity_id FROM changes WHERE entity_type = 'study' "
                            "ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    moved = alter(con, "UPDATE changes SET entity_id = ? WHERE entity_id = ?",
                  (id_text(new_study), new_study))
    con.commit()
    con.close()
    with ProjectStore.open(mine) as store:
        stats = merge_file(store, theirs)
        assert (stats.new_changes, stats.rejected) == (made - moved, moved)
        assert id_text(new_study) not in {s.id for s in store.list("study")}
    con = sqlite3.connect(mine)
    assert con.execute("SELECT count(*) FROM changes WHERE typeof(entity_id) != 'blob'"
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
        assert tuple(change_to_row(change).values())[:4] == compact[:4]
        assert make_change(change.entity_type, change.entity_id, change.field, change.value,
                           change.wall, change.counter, change.site_id, change.coder_id,
                           change.parents, change.seen).change_id == change.change_id
    assert verified_change(*row) is None or isinstance(row[0], bytes)
    assert salvage._intact(row) == (change is not None)


@given(st.integers(0, 10), junk, st.booleans())
def test_a_change_with_any_one_column_altered_is_refused(column: int, stored: Any,
                                                         with_parents: bool) -> None:
    u = str(uuid.UUID(int=99))
    change = make_change("cmoc", u, "statement", "Peers \U0001F642", 1_700_000_000_000, 2, u,
                         None, ["ab" * 32] if with_parents else [])
    row = list(change_to_row(change).values())
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
    alter(con, "UPDATE changes SET entity_id = ? WHERE rowid = (SELECT min(rowid) FROM changes "
               "WHERE entity_id = ?)", (id_text(eid), eid))
    con.commit()
    con.close()
    (problem,) = full_check(path, projection=False)
    assert "1" in problem and "cmoc" in problem


def test_a_copy_whose_log_breaks_the_layouts_rules_has_only_those_records_left_out(
        tmp_path: Path) -> None:
    """Another program's file may declare its log without NOT NULL: a change with no value is
    left out with its record, and the rest arrives."""
    mine, theirs = _pair(tmp_path, "mine", "theirs")
    made = _work(theirs, "theirs")
    con = sqlite3.connect(theirs)
    con.executescript(
        f"CREATE TABLE loose AS SELECT {logformat.COLUMNS} FROM changes ORDER BY rowid;"
        "DROP TABLE changes; ALTER TABLE loose RENAME TO changes;")
    last = con.execute("SELECT max(rowid) FROM changes").fetchone()[0]
    study = con.execute("SELECT entity_id FROM changes WHERE rowid = ?", (last,)).fetchone()[0]
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
