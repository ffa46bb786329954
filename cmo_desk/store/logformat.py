"""How one change of the log is stored, and read back.

The one home of the log's layout: everything that turns a :class:`Change` into a row, or a row
into a :class:`Change`, goes through here, and so does every id given to a query of the log.

The numbered layout (schema 0007 on): the table ``log`` holds one row per change, and three
side tables name what its rows point to by small numbers, each kept once per file:

- ``log_names``: record types and field names;
- ``log_ids``: laptop (site) and coder ids;
- ``log_records``: each record's type and id.

A row holds its change id's first 8 bytes as a signed whole number (``key``: within one record a
key names one change; the whole id is computed again from the content when asked for), the
numbers of its record, field, laptop and coder, its value, its clock, and its parents and the
heads it had seen as their ids' bytes one after the other. Ids are stored as before: a canonical
lowercase UUID (``str(uuid.UUID(s)) == s``) as its 16 bytes, any other id as its text. A value is
its canonical JSON text, except a document's extracted text (packed, domain/packed_text.py) and
a value that is one canonical UUID (its 16 bytes).

The view ``changes`` reads the log as rows of :data:`COLUMNS` (``change_id`` holding the key,
``seq`` the row's place): every reader reads it. Rows are written only by :func:`append_from`
(and :func:`append_rows`), which number what a file has not numbered yet; numbers are local to a
file and never leave it.

Older layouts (before 0007) kept the whole id and named everything in each row.
:func:`compact_row` turns a row of any layout into the form the view gives (and leaves such a
row as it is), so files of every revision merge and salvage alike. The content id is always
computed over the canonical change, so ids, bundles and merges with older files are unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from cmo_desk.domain.changelog import (
    Change,
    ChangeTuple,
    canonical_json,
    change_key,
    change_of,
    id_tuple,
    row_content,
    unkeyed_change,
)
from cmo_desk.domain.packed_text import pack_text, unpack_text

#: (record type, field) whose values are stored packed when long.
PACKED_FIELDS = frozenset({("document", "text")})

#: The columns of the view ``changes``, in the order every reader and writer uses
#: (``change_id`` holds the key of a numbered log).
COLUMNS = ("change_id, entity_type, entity_id, field, value, wall, counter, site_id, coder_id, "
           "parents, seen")
#: The first schema revision whose log is in the compact layout.
COMPACT_LOG_REVISION = "0006"
#: The first schema revision whose log is numbered (the table ``log``, read through ``changes``).
NUMBERED_LOG_REVISION = "0007"

#: The log's tables and the view that reads them, as every file holding a log has them.
LOG_DDL = (
    "CREATE TABLE log_names (n INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE log_ids (n INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE)",
    "CREATE TABLE log_records (n INTEGER PRIMARY KEY, type INTEGER NOT NULL, "
    "id BLOB NOT NULL, UNIQUE (id, type))",
    "CREATE TABLE log (seq INTEGER PRIMARY KEY, key INTEGER NOT NULL, entity INTEGER NOT NULL, "
    "field INTEGER NOT NULL, value BLOB NOT NULL, wall INTEGER NOT NULL, "
    "counter INTEGER NOT NULL, site INTEGER NOT NULL, coder INTEGER, parents BLOB NOT NULL, "
    "seen BLOB NOT NULL)",
    "CREATE UNIQUE INDEX ix_log_entity_key ON log (entity, key)",
    "CREATE VIEW changes AS SELECT c.seq AS seq, c.key AS change_id, t.name AS entity_type, "
    "r.id AS entity_id, f.name AS field, c.value AS value, c.wall AS wall, "
    "c.counter AS counter, s.id AS site_id, k.id AS coder_id, c.parents AS parents, "
    "c.seen AS seen FROM log c JOIN log_records r ON r.n = c.entity "
    "JOIN log_names t ON t.n = r.type JOIN log_names f ON f.n = c.field "
    "JOIN log_ids s ON s.n = c.site LEFT JOIN log_ids k ON k.n = c.coder",
)
#: The table that holds the log's rows (count and mark it; read it through ``changes``).
LOG_TABLE = "log"
#: The names of what :data:`LOG_DDL` makes.
LOG_PARTS = ("log_names", "log_ids", "log_records", "log", "ix_log_entity_key", "changes")
#: The meta row holding the latest clock the log holds (``wall counter``), kept by every write.
CLOCK_KEY = "log_clock"

_ID_BYTES = 32
_UUID_BYTES = 16


def is_compact(revision: str | None) -> bool:
    """Whether a file of this schema revision keeps its log in the compact layout (numbered or
    not)."""
    return bool(revision) and str(revision) >= COMPACT_LOG_REVISION


def is_numbered(revision: str | None) -> bool:
    """Whether a file of this schema revision keeps its log numbered (read through the view)."""
    return bool(revision) and str(revision) >= NUMBERED_LOG_REVISION


# -- ids: text -> stored -------------------------------------------------------------------------

def _hex_bytes(text: str) -> bytes | None:
    """The 32 bytes of a change id written as 64 lowercase hex digits; None for anything else."""
    if len(text) != 2 * _ID_BYTES:
        return None
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return None
    return raw if raw.hex() == text else None  # no capitals, no blanks


def _uuid_bytes(text: str) -> bytes | None:
    """The 16 bytes of a canonical lowercase UUID (``str(uuid.UUID(text)) == text``); None for
    any other text."""
    if len(text) != 36 or text[8] != "-" or text[13] != "-" or text[18] != "-" \
            or text[23] != "-":
        return None
    digits = text[:8] + text[9:13] + text[14:18] + text[19:23] + text[24:]
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        return None
    return raw if len(raw) == _UUID_BYTES and raw.hex() == digits else None


def stored_change_id(change_id: str) -> int | str:
    """The key a numbered log holds for a change id (for query parameters too); an id that is
    not 64 hex digits, which no log holds, is given back as it is."""
    raw = _hex_bytes(change_id) if change_id.__class__ is str else None
    return change_id if raw is None else change_key(change_id)


def old_change_id(change_id: str) -> bytes | str:
    """A change id as a compact log before 0007 held it: its 32 bytes."""
    raw = _hex_bytes(change_id) if change_id.__class__ is str else None
    return change_id if raw is None else raw


def stored_id(record_id: str | None) -> bytes | str | None:
    """A record, laptop or coder id as ``changes`` holds it (for query parameters too)."""
    if record_id.__class__ is not str:
        return record_id
    raw = _uuid_bytes(record_id)
    return record_id if raw is None else raw


def legacy_change_id_sql(column: str) -> str:
    """SQL for the text a file of a layout before 0006 holds for the change id in ``column``
    (the ids of a project's own log are always 32 bytes)."""
    return f"lower(hex({column}))"


def stored_ids(change_ids: Sequence[str]) -> bytes | str:
    """A list of change ids (parents, seen) as ``changes`` holds it."""
    parts = []
    for cid in change_ids:
        raw = _hex_bytes(cid) if cid.__class__ is str else None
        if raw is None:
            return json.dumps(list(change_ids))
        parts.append(raw)
    return b"".join(parts)


# -- ids: stored -> text -------------------------------------------------------------------------

@lru_cache(maxsize=1 << 16)
def _uuid_text(raw: bytes) -> str:
    if len(raw) != _UUID_BYTES:
        raise ValueError(f"a stored id of {len(raw)} bytes")
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def change_id_text(stored: Any) -> str:
    """The text of a change id as a log before 0007 stored it (ValueError for bytes of the
    wrong length)."""
    if stored.__class__ is bytes:
        if len(stored) != _ID_BYTES:
            raise ValueError(f"a stored change id of {len(stored)} bytes")
        return str(stored.hex())
    return stored  # type: ignore[no-any-return]


def id_text(stored: Any) -> Any:
    """The text of a stored record, laptop or coder id (None stays None)."""
    if stored.__class__ is bytes:
        return _uuid_text(stored)
    return stored


def ids_tuple(stored: Any) -> tuple[str, ...]:
    """The change ids of a stored ``parents`` or ``seen`` (ValueError when unreadable)."""
    if stored.__class__ is bytes:
        if len(stored) % _ID_BYTES:
            raise ValueError(f"a stored id list of {len(stored)} bytes")
        return tuple(stored[i:i + _ID_BYTES].hex() for i in range(0, len(stored), _ID_BYTES))
    if stored == "[]":
        return ()
    items = json.loads(stored)
    if not isinstance(items, list):
        raise ValueError("a stored id list that is not a list")
    return tuple(items)


# -- values --------------------------------------------------------------------------------------

def stored_value(entity_type: str, field: str, value_json: str) -> str | bytes:
    """What the ``value`` column holds for a value's canonical JSON text."""
    if (entity_type, field) in PACKED_FIELDS:
        packed = pack_text(value_json)
        assert packed is not None
        if packed.__class__ is bytes and len(packed) == _UUID_BYTES:
            return value_json  # (never: a packed text is longer) 16 bytes read as an id
        if packed.__class__ is bytes:
            return packed
    stored: str | bytes = _uuid_value(value_json)
    return stored


def _uuid_value(value_json: Any) -> Any:
    """A value that is one canonical UUID as its 16 bytes; any other value as it is."""
    if value_json.__class__ is str and len(value_json) == 38 and value_json[0] == '"' \
            and value_json[-1] == '"':
        raw = _uuid_bytes(value_json[1:-1])
        if raw is not None:
            return raw
    return value_json


def value_json(stored: str | bytes) -> str:
    """The canonical JSON text of a stored value (ValueError when it cannot be read)."""
    if stored.__class__ is bytes and len(stored) == _UUID_BYTES:
        return f'"{_uuid_text(stored)}"'
    text = unpack_text(stored)
    if text is None:
        raise ValueError("a change has no value")
    return text


# -- rows ----------------------------------------------------------------------------------------

def change_from_columns(change_id: Any, entity_type: Any, entity_id: Any, field: Any,
                        value: Any, wall: Any, counter: Any, site_id: Any, coder_id: Any,
                        parents: Any, seen: Any) -> Change:
    """A :class:`Change` from the columns of a row of this project's own log (in the order of
    :data:`COLUMNS`), read as they are, without checking the id: a numbered log's key leaves
    the id to be computed when asked for; an older layout's stored id is taken as it is."""
    value = json.loads(value if value.__class__ is str else value_json(value))
    parents = ids_tuple(parents) if parents else ()
    seen = ids_tuple(seen) if seen else ()
    if change_id.__class__ is int:
        return unkeyed_change(entity_type, id_text(entity_id), field, value, wall, counter,
                              id_text(site_id), id_text(coder_id), parents, seen)
    return Change(change_id_text(change_id), entity_type, id_text(entity_id), field, value,
                  wall, counter, id_text(site_id), id_text(coder_id), parents, seen)


def row_to_change(row: Any) -> Change:
    """A :class:`Change` from a row of ``changes`` (a row object with the column names)."""
    return change_from_columns(row.change_id, row.entity_type, row.entity_id, row.field,
                               row.value, row.wall, row.counter, row.site_id, row.coder_id,
                               row.parents, row.seen)


def change_to_row(c: Change) -> tuple[Any, ...]:
    """The row (of :data:`COLUMNS`) that holds ``c``, for :func:`append_rows`."""
    return (change_key(c.change_id), c.entity_type, stored_id(c.entity_id), c.field,
            stored_value(c.entity_type, c.field, canonical_json(c.value)), c.wall, c.counter,
            stored_id(c.site_id), stored_id(c.coder_id), stored_ids(c.parents),
            stored_ids(c.seen))


def compact_ids(stored: Any) -> Any:
    if stored.__class__ is not str:
        return stored
    if stored == "[]":
        return b""
    items = id_tuple(stored)
    if items is None:
        return stored
    packed = stored_ids(items)
    return packed if packed.__class__ is bytes else stored


def _key_of(change_id: Any) -> Any:
    """The key of a change id stored as any layout stored it (kept as it is when it is none)."""
    if change_id.__class__ is bytes and len(change_id) == _ID_BYTES:
        return int.from_bytes(change_id[:8], "big", signed=True)
    if change_id.__class__ is str:
        return stored_change_id(change_id)
    return change_id


#: What the upgrade to the numbered layout does to a stored change id and a stored value.
compact_row_key = _key_of


def compact_value(stored: Any) -> Any:
    return _uuid_value(stored)


def old_row(change_id: Any, entity_type: Any, entity_id: Any, field: Any, value: Any,
            wall: Any, counter: Any, site_id: Any, coder_id: Any, parents: Any,
            seen: Any) -> tuple[Any, ...]:
    """A row of the numbered log as the compact layout before it (0006) stored it: the whole
    change id as its 32 bytes, every value as its JSON text (long texts packed)."""
    change = change_from_columns(change_id, entity_type, entity_id, field, value, wall, counter,
                                 site_id, coder_id, parents, seen)
    if value.__class__ is bytes and len(value) == _UUID_BYTES:
        value = value_json(value)
    return (old_change_id(change.change_id), entity_type, entity_id, field, value, wall,
            counter, site_id, coder_id, parents, seen)


def compact_row(change_id: Any, entity_type: Any, entity_id: Any, field: Any, value: Any,
                wall: Any, counter: Any, site_id: Any, coder_id: Any, parents: Any,
                seen: Any) -> tuple[Any, ...]:
    """A row of a log of any layout (older files, damaged files, the hub) as the view
    ``changes`` gives it; such a row is returned as it is. Never fails: what cannot be converted
    is kept as it was, for :func:`verified_change` to judge."""
    if (entity_type, field) in PACKED_FIELDS and value.__class__ is str:
        value = pack_text(value)
    return (_key_of(change_id), entity_type, stored_id(entity_id), field, _uuid_value(value),
            wall, counter, stored_id(site_id), stored_id(coder_id), compact_ids(parents),
            compact_ids(seen))


def compact_rows(rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    return [compact_row(*r) for r in rows]


def _checked_id(stored: Any) -> Any:
    """The text of a stored id from an untrusted row; ValueError when it is not stored as the
    compact layout stores it (bytes of another length, a canonical UUID kept as text)."""
    if stored.__class__ is bytes:
        return _uuid_text(stored)
    if stored.__class__ is str and _uuid_bytes(stored) is not None:
        raise ValueError("a canonical id stored as text")
    return stored


def _checked_ids(stored: Any) -> Any:
    """The JSON text of a stored id list from an untrusted row (ValueError as above)."""
    if stored.__class__ is bytes:
        if not stored:
            return "[]"
        return json.dumps(list(ids_tuple(stored)))
    if stored.__class__ is str and compact_ids(stored).__class__ is bytes:
        raise ValueError("an id list stored as text")
    return stored


def verified_change(change_id: Any, entity_type: Any, entity_id: Any, field: Any, value: Any,
                    wall: Any, counter: Any, site_id: Any, coder_id: Any, parents: Any,
                    seen: Any) -> Change | None:
    """The change an untrusted row (as the view ``changes`` gives it) holds, if it is what its
    key says and is stored exactly as this layout stores it; None otherwise (see
    ``change_from_row``)."""
    content = verified_row(change_id, entity_type, entity_id, field, value, wall, counter,
                           site_id, coder_id, parents, seen)
    return None if content is None else change_of(content)


def verified_row(change_id: Any, entity_type: Any, entity_id: Any, field: Any, value: Any,
                 wall: Any, counter: Any, site_id: Any, coder_id: Any, parents: Any,
                 seen: Any) -> ChangeTuple | None:
    """:func:`verified_change` as a change tuple (``changelog.row_content``), which holds the
    whole change id."""
    if change_id.__class__ is not int:
        return None  # a numbered log keys each change by its id's first 8 bytes
    try:
        if value.__class__ is bytes and len(value) == _UUID_BYTES:
            value = value_json(value)
        elif value.__class__ is str and _uuid_value(value) is not value:
            return None  # a value that is one UUID is stored as its bytes
        # the usual row (16-byte ids, no parents) without a call per column
        return row_content(
            change_id, entity_type,
            _uuid_text(entity_id) if entity_id.__class__ is bytes else _checked_id(entity_id),
            field, value, wall, counter,
            _uuid_text(site_id) if site_id.__class__ is bytes else _checked_id(site_id),
            _uuid_text(coder_id) if coder_id.__class__ is bytes else _checked_id(coder_id),
            "[]" if parents == b"" else _checked_ids(parents),
            "[]" if seen == b"" else _checked_ids(seen))
    except ValueError:
        return None


def text_row(change_id: Any, entity_type: Any, entity_id: Any, field: Any, value: Any,
             wall: Any, counter: Any, site_id: Any, coder_id: Any, parents: Any,
             seen: Any) -> tuple[Any, ...]:
    """A row of a log of any layout with the whole change id and every id as its text, id
    lists as JSON, the value as its JSON text: the PostgreSQL hub's layout. ValueError when the
    row is unreadable or not what its id says."""
    content = verified_row(*compact_row(change_id, entity_type, entity_id, field, value, wall,
                                        counter, site_id, coder_id, parents, seen))
    if content is None:
        raise ValueError("a change that does not match its id")
    return hub_row(content)


def hub_row(content: ChangeTuple) -> tuple[Any, ...]:
    """A checked change tuple in the PostgreSQL hub's layout (see :func:`text_row`)."""
    cid, etype, eid, field, value, wall, counter, site, coder, parents, seen = content
    return (cid, etype, eid, field, canonical_json(value), wall, counter, site, coder,
            json.dumps(list(parents)), json.dumps(list(seen)))


def _verified_any_layout(*row: Any) -> Change | None:
    return verified_change(*compact_row(*row))


def row_checker(revision: str | None) -> Any:
    """What checks a row of a log of this schema revision: :func:`verified_change` for the
    numbered layout (which also refuses an id stored other than as it stores it), the same
    after :func:`compact_row` for an older one."""
    return verified_change if is_numbered(revision) else _verified_any_layout


# -- writing -------------------------------------------------------------------------------------

def _run(con: Any, sql: str, params: Any = ()) -> Any:
    """A statement on a plain sqlite3 connection or a SQLAlchemy one."""
    run = getattr(con, "exec_driver_sql", None)
    return run(sql, params) if run is not None else con.execute(sql, params)


def lacking_sql(alias: str, db: str = "main") -> str:
    """SQL that is true for a row ``alias`` (of :data:`COLUMNS`, keyed) whose change the log
    of ``db`` does not hold."""
    return (f"NOT EXISTS (SELECT 1 FROM {db}.log_names lt JOIN {db}.log_records lr "
            f"ON lr.type = lt.n AND lr.id = {alias}.entity_id JOIN {db}.log lc "
            f"ON lc.entity = lr.n AND lc.key = {alias}.change_id "
            f"WHERE lt.name = {alias}.entity_type)")


def known_records(con: Any, etype: str, ids: Sequence[Any], db: str = "main") -> set[Any]:
    """Those of ``ids`` (stored ids of records of type ``etype``) the log of ``db`` has changes
    of."""
    out: set[Any] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out.update(r[0] for r in _run(
            con, f"SELECT r.id FROM {db}.log_records r JOIN {db}.log_names t ON t.n = r.type "
                 f"WHERE t.name = ? AND r.id IN ({','.join('?' * len(chunk))}) "
                 f"AND EXISTS (SELECT 1 FROM {db}.log c WHERE c.entity = r.n)",
            (etype, *chunk)))
    return out


def append_from(con: Any, source: str, db: str = "main", ignore: bool = False,
                order: str = "", keep_seq: bool = False) -> int:
    """Write the changes that ``source`` (a table, view or parenthesised SELECT giving
    :data:`COLUMNS`, keyed) holds into the log of ``db``, in the order ``order`` (an ORDER BY
    term over ``s``) gives: what the file has not numbered yet is numbered first, and the latest
    clock written is kept in ``meta``. ``ignore``: a change the log holds already is passed over
    (otherwise it fails). ``keep_seq``: ``source`` also has a column ``seq``, each row's place
    (an upgrade keeps every row's). Returns how many changes were written."""
    _run(con, f"INSERT OR IGNORE INTO {db}.log_names (name) SELECT entity_type FROM {source} "
              f"UNION SELECT field FROM {source}")
    _run(con, f"INSERT OR IGNORE INTO {db}.log_ids (id) SELECT site_id FROM {source} UNION "
              f"SELECT coder_id FROM {source} WHERE coder_id IS NOT NULL")
    _run(con, f"INSERT OR IGNORE INTO {db}.log_records (type, id) SELECT DISTINCT t.n, "
              f"s.entity_id FROM {source} s JOIN {db}.log_names t ON t.name = s.entity_type")
    written = _run(
        con, f"INSERT {'OR IGNORE ' if ignore else ''}INTO {db}.log ({'seq, ' if keep_seq else ''}"
             "key, entity, field, value, wall, counter, site, coder, parents, seen) SELECT "
             f"{'s.seq, ' if keep_seq else ''}s.change_id, r.n, f.n, s.value, "
             f"s.wall, s.counter, i.n, k.n, s.parents, s.seen FROM {source} s "
             f"JOIN {db}.log_names t ON t.name = s.entity_type "
             f"JOIN {db}.log_records r ON r.id = s.entity_id AND r.type = t.n "
             f"JOIN {db}.log_names f ON f.name = s.field "
             f"JOIN {db}.log_ids i ON i.id = s.site_id "
             f"LEFT JOIN {db}.log_ids k ON k.id = s.coder_id"
             + (f" ORDER BY {order}" if order else "")).rowcount
    top = _run(con, f"SELECT wall, counter FROM {source} "
                    "ORDER BY wall DESC, counter DESC LIMIT 1").fetchone()
    if top is not None:
        held = _run(con, f"SELECT value FROM {db}.meta WHERE key = ?", (CLOCK_KEY,)).fetchone()
        if held is None or tuple(int(x) for x in held[0].split()) < (top[0], top[1]):
            _run(con, f"INSERT OR REPLACE INTO {db}.meta (key, value) VALUES (?, ?)",
                 (CLOCK_KEY, f"{int(top[0])} {int(top[1])}"))
    return int(written)


def append_rows(con: Any, rows: Iterable[Sequence[Any]], db: str = "main",
                ignore: bool = False) -> int:
    """:func:`append_from` for rows given here (of :data:`COLUMNS`, keyed), in their order."""
    _run(con, f"CREATE TEMP TABLE IF NOT EXISTS log_in ({COLUMNS})")
    _run(con, "DELETE FROM temp.log_in")
    rows = list(rows)
    if not rows:
        return 0
    sql = f"INSERT INTO temp.log_in VALUES ({', '.join('?' * 11)})"
    run_many = getattr(con, "exec_driver_sql", None)
    if run_many is not None:
        run_many(sql, rows)
    else:
        con.executemany(sql, rows)
    return append_from(con, "temp.log_in", db, ignore, order="s.rowid")


def count_sql(con: Any) -> str:
    """The statement that counts the changes of the log of the file ``con`` has open, of any
    layout (a numbered log is counted without reading its view)."""
    numbered = _run(con, "SELECT count(*) FROM sqlite_master WHERE name = ?",
                    (LOG_TABLE,)).fetchone()[0]
    return f"SELECT count(*) FROM {LOG_TABLE if numbered else 'changes'}"


def latest_clock(con: Any) -> tuple[int, int] | None:
    """The latest clock the project's log holds (None for an empty log)."""
    held = _run(con, "SELECT value FROM meta WHERE key = ?", (CLOCK_KEY,)).fetchone()
    if held is not None:
        wall, counter = held[0].split()
        return int(wall), int(counter)
    row = _run(con, "SELECT wall, counter FROM log ORDER BY wall DESC, counter DESC "
                    "LIMIT 1").fetchone()
    return None if row is None else (int(row[0]), int(row[1]))
