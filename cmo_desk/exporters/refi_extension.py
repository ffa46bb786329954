"""What REFI-QDA 1.0 has no place for, written as ``cmodesk/records.json`` inside a ``.qdpx``.

Other programs ignore the entry; CMO Desk reads it back, so a project exported and imported again
loses nothing. ``foreign_notes`` names what the other programs will not show.
"""

from __future__ import annotations

from cmo_desk.domain.i18n import tr
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.exporters.refi_ids import derived_guid, record_guid

#: Zip entry with what REFI has no place for; other programs ignore files they do not know.
EXTENSION_ENTRY = "cmodesk/records.json"
EXTENSION_FORMAT = "cmo-desk-refi-extension"
EXTENSION_VERSION = 1
_STUDY_FIELDS: tuple[str, ...] = (
    "label", "authors", "year", "title", "journal", "volume", "issue", "pages", "doi", "pmid",
    "url", "abstract", "reference_type", "extra",
)
_CONSENSUS_FIELDS: tuple[str, ...] = (
    "intervention", "actor", "context", "mechanism_resource", "mechanism_reasoning", "outcome",
    "outcome_direction", "outcome_intended", "statement", "confidence", "resolution", "note",
    "sort_order",
)


def build_extension(snapshot: ProjectSnapshot) -> dict[str, object]:
    """What REFI has no place for, keyed by the GUIDs used in ``project.qde``."""

    def guid(record_id: str | None) -> str | None:
        return record_guid(record_id) if record_id else None

    return {
        "format": EXTENSION_FORMAT,
        "version": EXTENSION_VERSION,
        "template": snapshot.project.template,
        "coders": {
            record_guid(c.id): {"initials": c.initials, "role": c.role, "color": c.color}
            for c in snapshot.coders
        },
        "studies": [
            {"guid": record_guid(s.id), "id": s.id, "merged_into": guid(s.merged_into),
             "created_by": guid(s.created_by),
             "fields": {f: getattr(s, f) for f in _STUDY_FIELDS if getattr(s, f) is not None}}
            for s in snapshot.studies
        ],
        "documents": {
            record_guid(d.id): {"page_starts": d.page_starts, "extractor": d.extractor,
                                "warnings": d.warnings, "needs_ocr": d.needs_ocr}
            for d in snapshot.documents
        },
        "excerpts": {
            record_guid(e.id): {"page": e.page} for e in snapshot.excerpts if e.page is not None
        },
        "theories": [
            {"guid": record_guid(t.id), "id": t.id, "label": t.label, "statement": t.statement,
             "version": t.version, "status": t.status, "previous": guid(t.previous_id)}
            for t in snapshot.theories
        ],
        "cmocs": {
            derived_guid("cmoc-note", c.id): {
                "id": c.id,
                "study": guid(c.study_id),
                "sort_order": c.sort_order,
                "set_aside_reason": c.set_aside_reason,
                "theories": [[record_guid(t), relation] for t, relation in c.theories],
            }
            for c in snapshot.cmocs
        },
        "consensus": [
            {"guid": record_guid(c.id), "id": c.id, "study": guid(c.study_id),
             "reconciled_by": guid(c.reconciled_by),
             "fields": {f: getattr(c, f) for f in _CONSENSUS_FIELDS if getattr(c, f) is not None},
             "sources": [derived_guid("cmoc-note", x) for x in c.source_ids],
             "codes": [record_guid(x) for x in c.code_ids],
             "excerpts": [record_guid(x) for x in c.excerpt_ids],
             "note": derived_guid("consensus-note", c.id)}
            for c in snapshot.consensus
        ],
        "form_values": [
            {"study": guid(f.study_id), "coder": guid(f.coder_id), "key": f.key, "value": f.value}
            for f in snapshot.form_values if f.key
        ],
        "assignments": [
            {"study": guid(a.study_id), "coder": guid(a.coder_id), "status": a.status}
            for a in snapshot.assignments
        ],
    }


def foreign_notes(snapshot: ProjectSnapshot) -> list[str]:
    """Lines naming what NVivo, ATLAS.ti, MAXQDA or QualCoder will not show from this file."""
    paged = sum(1 for d in snapshot.documents if d.page_starts and len(d.page_starts) > 1)
    links = sum(len(c.theories) for c in snapshot.cmocs)
    parts = [
        (paged, tr("page boundaries of {count} documents")),
        (len(snapshot.theories), tr("{count} programme theories")),
        (links, tr("{count} links between CMOCs and programme theories")),
        (len(snapshot.consensus), tr("which CMOCs and excerpts {count} consensus CMOCs came from")),
        (len(snapshot.form_values), tr("{count} form values per coder (cases show the agreed ones)")),
        (len(snapshot.assignments), tr("{count} study assignments")),
    ]
    shown = [text.format(count=n) for n, text in parts if n]
    if not shown:
        return []
    return [tr("Other programs will not show: {what}. CMO Desk reads them back from the file.").format(
        what="; ".join(shown))]
