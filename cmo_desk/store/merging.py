"""Merging another copy of the project: the union of two change logs, then re-projection.

Union is commutative, associative and idempotent, and the projection is a pure function of the
log, so merge order and repetition cannot matter. The other file is only read.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

from cmo_desk.domain.atomic import replace_durably
from cmo_desk.domain.errors import ProjectError, WrongProjectError
from cmo_desk.store.files import attach_name, connect_read_only
from cmo_desk.store.models import ROW_CLASSES
from cmo_desk.store.project_store import (
    FORMAT_VERSION,
    HEAD_REVISION,
    MergeStats,
    ProjectStore,
    check_compatible,
    inspect_file,
    reproject_many,
)

#: Page cache during a merge, in KiB as SQLite takes it (negative): 192 MiB, freed afterwards.
MERGE_CACHE_KIB = -196608

_COLUMNS = "change_id, entity_type, entity_id, field, value, wall, counter, site_id, coder_id, " \
    "parents, seen"


def check_mergeable(store: ProjectStore, other: Path) -> dict[str, str]:
    other = Path(other)
    if other.resolve() == store.path.resolve():
        raise ProjectError(f"{other.name} is the project itself; choose another coder's copy.")
    meta = inspect_file(other)
    check_compatible(meta, other)
    if meta["project_id"] != store.project_id:
        raise WrongProjectError(
            f"{other.name} belongs to a different project (id {meta['project_id'][:8]}…, this "
            f"project is {store.project_id[:8]}…). Nothing was merged. Merge only copies of "
            "this project.")
    return meta


def merge_file(store: ProjectStore, other: Path, dry_run: bool = False) -> MergeStats:
    """Bring every change (and document bytes) of ``other`` into ``store`` in one transaction."""
    other_meta = check_mergeable(store, other)
    before = store.conflict_count()
    with store.engine.connect() as conn:
        conn.exec_driver_sql("ATTACH DATABASE ? AS other", (attach_name(other),))
        # The merge commits with the store's synchronous=FULL: once it says "done", a power
        # cut cannot undo it.
        # The log's indexes take random-key inserts: a bigger page cache for the merge only.
        cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar())
        conn.exec_driver_sql(f"PRAGMA cache_size={MERGE_CACHE_KIB}")
        conn.commit()
        try:
            has_blobs = bool(conn.exec_driver_sql(
                "SELECT count(*) FROM other.sqlite_master WHERE name='blobs'").scalar())
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.incoming")
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE incoming AS SELECT {_COLUMNS} FROM other.changes o "
                "WHERE NOT EXISTS (SELECT 1 FROM main.changes m WHERE m.change_id = o.change_id)")
            new_changes = int(conn.exec_driver_sql("SELECT count(*) FROM incoming").scalar())
            arrived: dict[tuple[str | None, str], int] = {}
            for coder, etype, n in conn.exec_driver_sql(
                "SELECT coder_id, entity_type, count(DISTINCT entity_id) FROM incoming "
                "GROUP BY coder_id, entity_type"
            ).all():
                arrived[(coder, etype)] = int(n)
            top = conn.exec_driver_sql(
                "SELECT wall, counter FROM incoming ORDER BY wall DESC, counter DESC LIMIT 1"
            ).first()
            far_future = 0
            if top:
                far_future = int(conn.execute(
                    text("SELECT count(*) FROM incoming WHERE wall > :lim"),
                    {"lim": store.clock._now() + 24 * 3600 * 1000}).scalar() or 0)
            new_blobs = 0
            if has_blobs:
                new_blobs = int(conn.exec_driver_sql(
                    "SELECT count(*) FROM other.blobs o WHERE NOT EXISTS "
                    "(SELECT 1 FROM main.blobs m WHERE m.sha256 = o.sha256)").scalar())
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.touched")
            conn.exec_driver_sql(
                "CREATE TEMP TABLE touched AS SELECT DISTINCT entity_type, entity_id "
                "FROM temp.incoming ORDER BY entity_type, entity_id")
            touched = int(conn.exec_driver_sql("SELECT count(*) FROM temp.touched").scalar())
            if dry_run or (not new_changes and not new_blobs):
                conn.exec_driver_sql("DROP TABLE IF EXISTS temp.incoming")
                conn.commit()
                return MergeStats(new_changes, new_blobs, arrived, touched, before, before,
                                  far_future, dry_run)
            # Decided before the new changes land, while "ours" still means only ours.
            copyable = _plan_copy(conn, other_meta)
            conn.exec_driver_sql(f"INSERT INTO main.changes ({_COLUMNS}) "
                                 f"SELECT {_COLUMNS} FROM incoming")
            if has_blobs:
                conn.exec_driver_sql(
                    "INSERT INTO main.blobs (sha256, size, data) SELECT sha256, size, data "
                    "FROM other.blobs o WHERE NOT EXISTS "
                    "(SELECT 1 FROM main.blobs m WHERE m.sha256 = o.sha256)")
            if copyable:
                _copy_projections(conn)
                rest = conn.exec_driver_sql(
                    "SELECT entity_type, entity_id FROM temp.touched t WHERE NOT EXISTS "
                    "(SELECT 1 FROM temp.copyset c WHERE c.entity_type = t.entity_type "
                    "AND c.entity_id = t.entity_id)").all()
                conn.exec_driver_sql("DROP TABLE IF EXISTS temp.copyset")
            else:
                rest = conn.exec_driver_sql("SELECT entity_type, entity_id FROM temp.touched").all()
            reproject_many(conn, [(t, i) for t, i in rest])
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.incoming")
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.touched")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.exec_driver_sql("DETACH DATABASE other")
            conn.exec_driver_sql(f"PRAGMA cache_size={cache}")
    if top:
        store.clock.observe(int(top[0]), int(top[1]))
    return MergeStats(new_changes, new_blobs, arrived, touched, before,
                      store.conflict_count(), far_future, False)


def _plan_copy(conn: Connection, other_meta: dict[str, str]) -> bool:
    """Choose the records whose projected rows can be taken from the other file as they are.

    For a record with no change here that the other file lacks, the merged change set *is* the
    other file's set, and projection is a pure function of the set, so its rows there are exactly
    what re-projecting here would give. This avoids re-projecting in Python what a coder's copy
    already projected. Only a file of the same schema revision with its visible tables (not a
    bundle) is used this way; every other record is re-projected from the log.
    """
    if other_meta.get("revision") != HEAD_REVISION:
        return False
    names = {r[0] for r in conn.exec_driver_sql(
        "SELECT name FROM other.sqlite_master WHERE type IN ('table')").all()}
    if not set(ROW_CLASSES) <= names or "conflicts" not in names:
        return False
    conn.exec_driver_sql("DROP TABLE IF EXISTS temp.copyset")
    conn.exec_driver_sql(
        "CREATE TEMP TABLE copyset (entity_type TEXT, entity_id TEXT, "
        "PRIMARY KEY (entity_type, entity_id))")
    conn.exec_driver_sql(
        "INSERT INTO temp.copyset SELECT t.entity_type, t.entity_id FROM temp.touched t "
        "WHERE NOT EXISTS (SELECT 1 FROM main.changes m WHERE m.entity_type = t.entity_type "
        "AND m.entity_id = t.entity_id AND NOT EXISTS "
        "(SELECT 1 FROM other.changes o WHERE o.change_id = m.change_id))")
    return True


def _copy_projections(conn: Connection) -> None:
    """Copy the planned records' rows, conflicts and search pages from the other file."""
    for etype, row_cls in ROW_CLASSES.items():
        table = row_cls.__table__.name
        cols = ", ".join(f'"{c}"' for c in row_cls.__table__.columns.keys())
        # Only records the other file really has a row for (a damaged copy falls back).
        conn.exec_driver_sql(
            f"DELETE FROM temp.copyset WHERE entity_type = ? AND entity_id NOT IN "
            f"(SELECT id FROM other.\"{table}\")", (etype,))
        ids = "(SELECT entity_id FROM temp.copyset WHERE entity_type = ?)"
        n = conn.exec_driver_sql(
            "SELECT count(*) FROM temp.copyset WHERE entity_type = ?", (etype,)).scalar()
        if not n:
            continue
        conn.exec_driver_sql(f"DELETE FROM main.\"{table}\" WHERE id IN {ids}", (etype,))
        conn.exec_driver_sql(
            f"INSERT INTO main.\"{table}\" ({cols}) SELECT {cols} FROM other.\"{table}\" "
            f"WHERE id IN {ids}", (etype,))
        conn.exec_driver_sql(
            f"DELETE FROM main.conflicts WHERE entity_type = ? AND entity_id IN {ids}",
            (etype, etype))
        conn.exec_driver_sql(
            "INSERT INTO main.conflicts (entity_type, entity_id, field, kind, heads, ancestors) "
            "SELECT entity_type, entity_id, field, kind, heads, ancestors FROM other.conflicts "
            f"WHERE entity_type = ? AND entity_id IN {ids}", (etype, etype))
        if etype == "document" and conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"DELETE FROM main.search_pages WHERE document_id IN {ids}",
                                 (etype,))
            conn.exec_driver_sql(
                "INSERT INTO main.search_pages (document_id, study_id, page, body) "
                "SELECT document_id, study_id, page, body FROM other.search_pages "
                f"WHERE document_id IN {ids}", (etype,))


def write_bundle(store: ProjectStore, dest: Path) -> int:
    """A small file with the change log but no document bytes; it merges like the full file."""
    dest = Path(dest)
    if dest.exists():
        raise ProjectError(f"{dest} already exists. Choose another name.")
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = connect_read_only(store.path)
    try:
        schema = [
            r[0] for r in src.execute(
                "SELECT sql FROM sqlite_master WHERE type IN ('table','index') AND sql IS NOT NULL "
                "AND name IN ('meta','changes','blobs','alembic_version','ix_changes_entity',"
                "'ix_changes_clock')")
        ]
        src.close()
        out = sqlite3.connect(tmp)
        try:
            for sql in schema:
                out.execute(sql)
            out.execute("ATTACH DATABASE ? AS src", (str(store.path.resolve()),))
            out.execute("INSERT INTO meta SELECT * FROM src.meta")
            out.execute("INSERT INTO alembic_version SELECT * FROM src.alembic_version")
            out.execute(f"INSERT INTO changes ({_COLUMNS}) SELECT {_COLUMNS} FROM src.changes")
            n = out.execute("SELECT count(*) FROM changes").fetchone()[0]
            out.commit()
            out.execute("DETACH DATABASE src")
        finally:
            out.close()
        replace_durably(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        try:
            src.close()
        except sqlite3.Error:
            pass
    return int(n)


def bundle_format() -> str:
    return json.dumps({"format_version": FORMAT_VERSION})
