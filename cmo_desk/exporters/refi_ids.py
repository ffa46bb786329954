"""GUIDs of a REFI-QDA export.

Records keep their own UUIDs; objects CMO Desk does not store (role codes, kind sets, CMOC notes,
representations) get ``uuid5`` of a fixed namespace and the record id, so two exports of the same
project carry the same GUIDs.
"""

from __future__ import annotations

import re
import uuid

#: Fixed namespace for the GUIDs of objects derived from records. Never change it: other programs
#: recognise re-imported objects by GUID.
REFI_NAMESPACE = uuid.UUID("3d0f5a52-8d0b-4c43-9a0e-2b6f7c1e5d91")
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def derived_guid(kind: str, *parts: str) -> str:
    """The GUID of an object made for the export, the same in every export of the project."""
    return str(uuid.uuid5(REFI_NAMESPACE, kind + "\x1f" + "\x1f".join(parts))).upper()


def record_guid(record_id: str) -> str:
    """A record's id as a REFI GUID (ids are UUIDs already; anything else is hashed stably)."""
    if _GUID_RE.match(record_id):
        return record_id.upper()
    return derived_guid("record", record_id)
