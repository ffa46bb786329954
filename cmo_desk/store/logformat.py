"""How one change of the log is stored as a row of the ``changes`` table, and read back.

The one home of the row format: everything that turns a :class:`Change` into a row, or a row into
a :class:`Change`, goes through here, and so does every id given to a query of ``changes``.

The compact layout (schema 0006 on):

- ``change_id``: the 32 bytes its 64 hex digits spell;
- ``entity_id``, ``site_id``, ``coder_id``: the 16 bytes of a canonical lowercase UUID
  (``str(uuid.UUID(s)) == s``); any other id is kept as its text. A text and a blob are never
  equal in SQLite, so a text id can never be mistaken for a blob one, and an id that is a
  canonical UUID is only ever stored as its 16 bytes (a row that stores one as text is refused
  by :func:`verified_change`, so no lookup can miss it);
- ``parents``, ``seen``: the ids' bytes one after the other (empty when none); a list holding
  any id that is not 64 lowercase hex digits is kept as its JSON text;
- ``value``: a value's canonical JSON text; a document's extracted text, the bulk of a project,
  is stored packed (domain/packed_text.py).

Older layouts stored every id as text and the id lists as JSON. :func:`compact_row` turns a row
of any layout into the compact one (and leaves a compact row as it is), so files of every
revision merge and salvage alike. The content id is always computed over the canonical change,
so ids, bundles and merges with older files are unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy.types import UserDefinedType

from cmo_desk.domain.changelog import (
    Change,
    ChangeTuple,
    canonical_json,
    change_of,
    id_tuple,
    row_content,
)
from cmo_desk.domain.packed_text import pack_text, unpack_text

#: (record type, field) whose values are stored packed when long.
PACKED_FIELDS = frozenset({("document", "text")})

#: The columns of ``changes``, in the order every reader and writer uses.
COLUMNS = ("change_id, entity_type, entity_id, field, value, wall, counter, site_id, coder_id, "
           "parents, seen")
#: The first schema revision whose log is in the compact layout.
COMPACT_LOG_REVISION = "0006"

_ID_BYTES = 32
_UUID_BYTES = 16


class LogId(UserDefinedType[Any]):
    """A column holding an id in its stored form (bytes, or text): declared BLOB, so SQLite
    converts nothing, and passed through unchanged both ways."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "BLOB"


def is_compact(revision: str | None) -> bool:
    """Whether a file of this schema revision keeps its log in the compact layout."""
    return bool(revision) and str(revision) >= COMPACT_LOG_REVISION


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


def stored_change_id(change_id: str) -> bytes | str:
    """A change id as ``changes.change_id`` holds it (for query parameters too)."""
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
    """The text of a stored change id (ValueError for bytes of the wrong length)."""
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
        return packed
    return value_json


def value_json(stored: str | bytes) -> str:
    """The canonical JSON text of a stored value (ValueError when it cannot be read)."""
    text = unpack_text(stored)
    if text is None:
        raise ValueError("a change has no value")
    return text


# -- rows ----------------------------------------------------------------------------------------

def change_from_columns(change_id: Any, entity_type: Any, entity_id: Any, field: Any,
                        value: Any, wall: Any, counter: Any, site_id: Any, coder_id: Any,
                        parents: Any, seen: Any) -> Change:
    """A :class:`Change` from the columns of a row of this project's own log (in the order of
    :data:`COLUMNS`), read as they are, without checking the id."""
    return Change(
        change_id_text(change_id), entity_type, id_text(entity_id), field,
        json.loads(value if value.__class__ is str else value_json(value)),
        wall, counter, id_text(site_id), id_text(coder_id),
        ids_tuple(parents) if parents else (), ids_tuple(seen) if seen else ())


def row_to_change(row: Any) -> Change:
    """A :class:`Change` from a row of ``changes`` (a row object with the column names)."""
    return change_from_columns(row.change_id, row.entity_type, row.entity_id, row.field,
                               row.value, row.wall, row.counter, row.site_id, row.coder_id,
                               row.parents, row.seen)


def change_to_row(c: Change) -> dict[str, Any]:
    """The column values of a row of ``changes`` holding ``c``."""
    return {
        "change_id": stored_change_id(c.change_id),
        "entity_type": c.entity_type,
        "entity_id": stored_id(c.entity_id),
        "field": c.field,
        "value": stored_value(c.entity_type, c.field, canonical_json(c.value)),
        "wall": c.wall,
        "counter": c.counter,
        "site_id": stored_id(c.site_id),
        "coder_id": stored_id(c.coder_id),
        "parents": stored_ids(c.parents),
        "seen": stored_ids(c.seen),
    }


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


def compact_row(change_id: Any, entity_type: Any, entity_id: Any, field: Any, value: Any,
                wall: Any, counter: Any, site_id: Any, coder_id: Any, parents: Any,
                seen: Any) -> tuple[Any, ...]:
    """A row of ``changes`` of any layout (older files, damaged files, the hub) in the compact
    layout; a compact row is returned as it is. Never fails: what cannot be converted is kept
    as it was, for :func:`verified_change` to judge."""
    if (entity_type, field) in PACKED_FIELDS and value.__class__ is str:
        value = pack_text(value)
    return (stored_change_id(change_id), entity_type, stored_id(entity_id), field, value, wall,
            counter, stored_id(site_id), stored_id(coder_id), compact_ids(parents),
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
    """The change an untrusted row in the compact layout holds, if it is what its id says and
    is stored exactly as this layout stores it; None otherwise (see ``change_from_row``)."""
    content = verified_row(change_id, entity_type, entity_id, field, value, wall, counter,
                           site_id, coder_id, parents, seen)
    return None if content is None else change_of(content)


def verified_row(change_id: Any, entity_type: Any, entity_id: Any, field: Any, value: Any,
                 wall: Any, counter: Any, site_id: Any, coder_id: Any, parents: Any,
                 seen: Any) -> ChangeTuple | None:
    """:func:`verified_change` as a change tuple (``changelog.row_content``)."""
    if change_id.__class__ is not bytes or len(change_id) != _ID_BYTES:
        return None  # a change id is 64 hex digits, stored as its 32 bytes
    try:
        # the usual row (16-byte ids, no parents) without a call per column
        return row_content(
            change_id.hex(), entity_type,
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
    """A stored row of any layout with every id as its text and id lists as JSON, the value
    as its JSON text: the PostgreSQL hub's layout (ValueError when unreadable)."""
    return (change_id_text(change_id), entity_type, id_text(entity_id), field,
            value_json(value), wall, counter, id_text(site_id), id_text(coder_id),
            json.dumps(list(ids_tuple(parents))) if parents else "[]",
            json.dumps(list(ids_tuple(seen))) if seen else "[]")


def _verified_any_layout(*row: Any) -> Change | None:
    return verified_change(*compact_row(*row))


def row_checker(revision: str | None) -> Any:
    """What checks a row of a log of this schema revision: :func:`verified_change` for the
    compact layout (which also refuses an id stored other than as it stores it), the same after
    :func:`compact_row` for an older one."""
    return verified_change if is_compact(revision) else _verified_any_layout
