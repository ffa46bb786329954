"""How one change of the log is stored as a row of the ``changes`` table, and read back.

The one home of the row format: everything that turns a :class:`Change` into a row, or a row into
a :class:`Change`, goes through here. A value is its canonical JSON text; a document's extracted
text, the bulk of a project, is stored packed (domain/packed_text.py). Every reader of the
``value`` column unpacks it with :func:`value_json`; the content id is always computed over the
canonical JSON itself, so ids, bundles and merges with older files are unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from cmo_desk.domain.changelog import Change, canonical_json
from cmo_desk.domain.packed_text import pack_text, unpack_text

#: (record type, field) whose values are stored packed when long.
PACKED_FIELDS = frozenset({("document", "text")})


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


def row_to_change(row: Any) -> Change:
    """A :class:`Change` from a row of ``changes`` (a row object with the column names)."""
    return Change(
        row.change_id,
        row.entity_type,
        row.entity_id,
        row.field,
        json.loads(value_json(row.value)),
        row.wall,
        row.counter,
        row.site_id,
        row.coder_id,
        tuple(json.loads(row.parents)),
        tuple(json.loads(row.seen)),
    )


def change_to_row(c: Change) -> dict[str, Any]:
    """The column values of a row of ``changes`` holding ``c``."""
    return {
        "change_id": c.change_id,
        "entity_type": c.entity_type,
        "entity_id": c.entity_id,
        "field": c.field,
        "value": stored_value(c.entity_type, c.field, canonical_json(c.value)),
        "wall": c.wall,
        "counter": c.counter,
        "site_id": c.site_id,
        "coder_id": c.coder_id,
        "parents": json.dumps(list(c.parents)),
        "seen": json.dumps(list(c.seen)),
    }
