"""How one change of the log is stored as a row of the ``changes`` table, and read back.

The one home of the row format: everything that turns a :class:`Change` into a row, or a row into
a :class:`Change`, goes through here.
"""

from __future__ import annotations

import json
from typing import Any

from cmo_desk.domain.changelog import Change, canonical_json


def row_to_change(row: Any) -> Change:
    """A :class:`Change` from a row of ``changes`` (a row object with the column names)."""
    return Change(
        row.change_id,
        row.entity_type,
        row.entity_id,
        row.field,
        json.loads(row.value),
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
        "value": canonical_json(c.value),
        "wall": c.wall,
        "counter": c.counter,
        "site_id": c.site_id,
        "coder_id": c.coder_id,
        "parents": json.dumps(list(c.parents)),
        "seen": json.dumps(list(c.seen)),
    }
