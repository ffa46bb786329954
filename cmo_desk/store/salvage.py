"""Rescuing a damaged project's change log: every readable row, however much of the file is lost.

A project is its change log; the visible tables are rebuilt from it. So the rows that can still be
read from a damaged file, merged into its latest good backup, give back the work done since that
backup, even when the damaged file itself can no longer be opened.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmo_desk.store.files import connect_read_only, new_log_file
from cmo_desk.store.logformat import (
    COLUMNS as _COLUMNS,
    append_rows,
    compact_row,
    old_change_id,
    verified_change,
    verified_row,
)
#: Rows read per step; a step that fails is split down to single rows.
_STEP = 256
#: After this many steps in a row that find nothing, the end of the table is taken as reached.
_EMPTY_STEPS_TO_END = 64


@dataclass(frozen=True)
class SalvagedLog:
    """What could be read from a damaged file, and what could not."""

    changes: int
    blobs: int
    #: Rows that could not be read, or whose content no longer matches its id (their changes
    #: are lost unless the backup has them).
    unreadable_rows: int
    path: Path
    #: True when the change log could not be read at all (its first page is lost).
    log_lost: bool = False


def _read_rows(con: sqlite3.Connection, table: str,
               columns: str) -> tuple[list[tuple[Any, ...]], int, bool]:
    """Readable rows, the number of rows that could not be read, and whether the table could
    not be read at all."""
    rows: list[tuple[Any, ...]] = []
    bad = 0
    try:
        top = con.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0]
    except sqlite3.DatabaseError:
        top = None
        try:  # whether any row at all can be reached
            con.execute(f'SELECT rowid FROM "{table}" LIMIT 1').fetchall()
        except sqlite3.DatabaseError:
            return [], 0, True

    def read(lo: int, hi: int) -> int:
        nonlocal bad
        try:
            got = con.execute(f'SELECT {columns} FROM "{table}" WHERE rowid BETWEEN ? AND ?',
                              (lo, hi)).fetchall()
            rows.extend(got)
            return len(got)
        except sqlite3.DatabaseError:
            if top is None:
                return 0  # where the table ends is unknown: rows are not counted one by one
            if lo == hi:
                bad += 1
                return 0
            mid = (lo + hi) // 2
            return read(lo, mid) + read(mid + 1, hi)

    lo, empty = 1, 0
    while True:
        found = read(lo, lo + _STEP - 1)
        lo += _STEP
        empty = 0 if found else empty + 1
        if top is not None and lo > top:
            break
        if top is None and empty >= _EMPTY_STEPS_TO_END:
            break
    return rows, bad, False


def read_log(damaged: Path, dest: Path, schema_from: Path) -> SalvagedLog:
    """Write every readable change and document of ``damaged`` into a new file ``dest`` that
    merges like a project (its meta and schema taken from the good file ``schema_from``)."""
    try:
        con = connect_read_only(damaged)
    except (sqlite3.DatabaseError, Exception):  # noqa: BLE001 - unreadable header: nothing to read
        con = None
    changes: list[tuple[Any, ...]] = []
    blobs: list[tuple[Any, ...]] = []
    bad = 0
    lost = True
    if con is not None:
        try:
            changes, bad, lost = _read_log(con)
            blobs, bad_blobs, _ = _read_rows(con, "blobs", "sha256, size, data")
            bad += bad_blobs
        finally:
            con.close()
    out = new_log_file(dest, schema_from)
    try:
        # a change is kept only when it is whole: its id is the hash of its content. The rows
        # of a file of any layout are written in the layout of ``schema_from`` (a merge reads
        # either).
        sound = [row for row in (compact_row(*c) for c in changes)
                 if verified_change(*row) is not None]
        bad += len(changes) - len(sound)
        if _numbered(out):
            append_rows(out, sound, ignore=True)
        else:
            out.executemany(f"INSERT OR IGNORE INTO changes ({_COLUMNS}) VALUES "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [_unkeyed(r) for r in sound])
        # and a document's bytes only when their hash still matches
        whole = [b for b in blobs if isinstance(b[2], bytes)
                 and hashlib.sha256(b[2]).hexdigest() == b[0]]
        bad += len(blobs) - len(whole)
        out.executemany("INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES (?, ?, ?)",
                        whole)
        out.commit()
    finally:
        out.close()
    # every project's log holds at least its creation: no row at all means the log is lost
    return SalvagedLog(len(sound), len(whole), bad, dest, lost or not sound)


def _numbered(con: sqlite3.Connection) -> bool:
    found = con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'log_records'"
                        ).fetchone()[0]
    return bool(found)


def _unkeyed(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A sound row (as the view ``changes`` gives it) as a log before 0007 holds it."""
    content = verified_row(*row)
    assert content is not None
    value = row[4]
    if value.__class__ is bytes and len(value) == 16:
        value = json.dumps(content[4])
    return (old_change_id(content[0]), *row[1:4], value, *row[5:])


def _read_log(con: sqlite3.Connection) -> tuple[list[tuple[Any, ...]], int, bool]:
    """The readable rows of a log of any layout, as the view ``changes`` (or an older file's
    table) gives them; rows whose numbers can no longer be looked up count as unreadable."""
    if not _numbered(con):
        return _read_rows(con, "changes", _COLUMNS)
    raw, bad, lost = _read_rows(con, "log", "key, entity, field, value, wall, counter, site, "
                                                 "coder, parents, seen")
    names = dict(_read_rows(con, "log_names", "n, name")[0])
    ids = dict(_read_rows(con, "log_ids", "n, id")[0])
    records = {n: (t, i) for n, t, i in _read_rows(con, "log_records", "n, type, id")[0]}
    rows = []
    for key, entity, field, value, wall, counter, site, coder, parents, seen in raw:
        try:
            etype, eid = records[entity]
            rows.append((key, names[etype], eid, names[field], value, wall, counter, ids[site],
                         None if coder is None else ids[coder], parents, seen))
        except KeyError:
            bad += 1
    return rows, bad, lost


def _intact(row: tuple[Any, ...]) -> bool:
    """Whether a row of a log of any layout holds a change that matches its id."""
    return verified_change(*compact_row(*row)) is not None


def merge_into_copy(source: Path, log: Path, dest: Path) -> tuple[int, int]:
    """Write ``dest``: a copy of the good file ``source`` (upgraded if older) with every change
    and document of ``log`` merged in. Returns (changes, documents) that ``source`` lacked."""
    from cmo_desk.domain.atomic import replace_durably
    from cmo_desk.store.backups import copy_database
    from cmo_desk.store.merging import merge_file
    from cmo_desk.store.fileinfo import HEAD_REVISION, inspect_file
    from cmo_desk.store.opening import make_engine, run_migrations
    from cmo_desk.store.project_store import ProjectStore
    from cmo_desk.store.site import Site

    work = dest.with_name(dest.name + ".partial")
    try:
        copy_database(source, work)
        if inspect_file(work).get("revision") != HEAD_REVISION:
            engine = make_engine(work)
            with engine.begin() as conn:
                run_migrations(conn)
            engine.dispose()
        store = ProjectStore(work, make_engine(work), Site(site_id="salvage"), read_only=False)
        try:
            stats = merge_file(store, log)
        finally:
            store.close()
        replace_durably(work, dest)
    finally:
        for leftover in (work, Path(str(work) + "-wal"), Path(str(work) + "-shm")):
            leftover.unlink(missing_ok=True)
    return stats.new_changes, stats.new_blobs
