"""Documents' extracted texts, read from the change log: the one place a project file holds them.

The visible ``document`` table leaves its ``text`` column empty (schema 0007 on): a document's text
is the bulk of a project, and the log already holds it. Everything that shows, searches, exports
or dumps a document's text reads it here, as the value ``changelog.project_entity`` shows for the
field (the first write of a fixed field, when a text was written more than once).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Connection

from cmo_desk.domain.changelog import Change, project_entity
from cmo_desk.store.logformat import COLUMNS, change_from_columns, stored_id

#: Documents whose changes are read at once: a text is about 60,000 characters, so a step holds
#: a few megabytes however large the project.
STEP = 40


def document_texts(conn: Connection, ids: Iterable[str]) -> dict[str, str | None]:
    """Each document's text as the log shows it; None for a document with no text (or none in
    the log). Reads the documents' changes ``STEP`` documents per statement."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, str | None] = dict.fromkeys(wanted)
    for start in range(0, len(wanted), STEP):
        chunk = wanted[start:start + STEP]
        grouped: dict[str, list[Change]] = {}
        marks = ",".join("?" * len(chunk))
        for row in conn.exec_driver_sql(
                f"SELECT {COLUMNS} FROM changes WHERE entity_type = ? AND entity_id IN ({marks})",
                ("document", *(stored_id(i) for i in chunk))):
            change = change_from_columns(*row)
            grouped.setdefault(change.entity_id, []).append(change)
        for eid, changes in grouped.items():
            state = project_entity("document", eid, changes)
            if eid in out and state is not None:
                out[eid] = state.values.get("text")
    return out
