"""What CMO Desk's own export carries beside ``project.qde`` (``cmodesk/records.json``): citation
fields, page boundaries and pages, programme theories, consensus CMOCs, form values and
assignments. A value of the wrong type is left out rather than guessed."""

from __future__ import annotations

import dataclasses
import json

from cmo_desk.domain.ids import new_id
from cmo_desk.domain.records import Assignment, Consensus, FormValue, Study, Theory
from cmo_desk.importers.refi.archive import QdpxArchive
from cmo_desk.importers.refi.model import EXTENSION_ENTRY, EXTENSION_FORMAT, RefiImport

#: Consensus fields the extension links by GUID rather than copies.
_CONSENSUS_LINKS = ("id", "deleted", "study_id", "reconciled_by", "source_ids", "code_ids", "excerpt_ids")


def read_extension(archive: QdpxArchive) -> dict | None:
    """``cmodesk/records.json`` of a file CMO Desk wrote, or None when absent or unreadable."""
    name = archive.by_key.get(EXTENSION_ENTRY.casefold())
    if name is None:
        return None
    try:
        data = json.loads(archive.read(name).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("format") != EXTENSION_FORMAT:
        return None
    return data


# --- values of the right type ----------------------------------------------------------------


def _strs(values: object) -> list[str]:
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []


def _ints(values: object) -> list[int] | None:
    if not isinstance(values, list) or not all(isinstance(v, int) for v in values):
        return None
    return list(values)


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _fits(key: str, value: object) -> bool:
    if key == "authors":
        return isinstance(value, list) and all(isinstance(a, str) for a in value)
    if key in ("year", "sort_order"):
        return isinstance(value, int) and not isinstance(value, bool)
    if key == "extra":
        return isinstance(value, dict)
    return isinstance(value, str)


def _typed(fields: dict) -> dict:
    """Only values of the type the record stores: a wrong one is left out, not guessed."""
    return {k: v for k, v in fields.items() if _fits(k, v)}


def _own_id(entry: dict) -> str:
    value = entry.get("id")
    return value if isinstance(value, str) and value else new_id()


class _Extension:
    """The extension's entries, and the ids of this import that its GUIDs stand for."""

    def __init__(self, ext: dict, refs: dict[str, str]) -> None:
        self.ext = ext
        self.refs = refs

    def ref(self, guid: object) -> str | None:
        return self.refs.get(guid) if isinstance(guid, str) else None

    def items(self, key: str) -> list[dict]:
        value = self.ext.get(key)
        return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []

    def by_ref(self, key: str) -> dict[str | None, dict]:
        """The entries of a GUID-keyed mapping, by the id its GUID became here."""
        return {self.ref(g): v for g, v in _mapping(self.ext.get(key)).items()
                if self.ref(g) and isinstance(v, dict)}


def apply_extension(result: RefiImport, ext: dict, refs: dict[str, str]) -> set[str]:
    """Put back what CMO Desk's export carried beside project.qde; returns the note GUIDs used.

    ``refs`` maps the file's GUIDs to the ids of records this import made. A value of the wrong
    type is left out rather than guessed.
    """
    extension = _Extension(ext, refs)
    if isinstance(ext.get("template"), dict):
        result.template = ext["template"]
    _restore_coders(result, extension)
    _restore_studies(result, extension)
    _restore_documents(result, extension)
    _restore_excerpt_pages(result, extension)
    _restore_theories(result, extension)
    _restore_cmoc_links(result, extension)
    used = _restore_consensus(result, extension)
    _restore_form_values(result, extension)
    _restore_assignments(result, extension)
    return used


def _restore_coders(result: RefiImport, extension: _Extension) -> None:
    coders = _mapping(extension.ext.get("coders"))
    result.coders = [
        dataclasses.replace(c, **{k: v for k, v in _mapping(coders.get(g)).items()
                                  if k in ("initials", "role", "color") and isinstance(v, str)})
        if (g := next((g for g, cid in extension.refs.items() if cid == c.id and g in coders), None)) else c
        for c in result.coders
    ]


def _restore_studies(result: RefiImport, extension: _Extension) -> None:
    """Citation fields back on the studies made from cases; the rest made anew."""
    ref, refs = extension.ref, extension.refs
    studies = {s.id: s for s in result.studies}
    study_fields = {f.name for f in dataclasses.fields(Study)} - {"id", "deleted"}
    for entry in extension.items("studies"):
        if not isinstance(entry.get("guid"), str):
            continue
        fields = _typed({k: v for k, v in _mapping(entry.get("fields")).items() if k in study_fields})
        sid = ref(entry["guid"])
        if sid is None:
            sid = _own_id(entry)
            refs[entry["guid"]] = sid
            studies.setdefault(sid, Study(id=sid))
        if sid not in studies:
            continue  # the GUID belongs to something else in the file
        try:
            studies[sid] = dataclasses.replace(studies[sid], **fields)
        except TypeError:
            continue
    for entry in extension.items("studies"):
        if (sid := ref(entry.get("guid"))) and ref(entry.get("merged_into")) and sid in studies:
            studies[sid] = dataclasses.replace(studies[sid], merged_into=ref(entry["merged_into"]))
    result.studies = list(studies.values())


def _restore_documents(result: RefiImport, extension: _Extension) -> None:
    """Page boundaries, and how each document's text was read."""
    by_doc = extension.by_ref("documents")
    result.documents = [
        dataclasses.replace(d, page_starts=_ints(by_doc[d.id].get("page_starts")),
                            extractor=_typed({"x": by_doc[d.id].get("extractor")}).get("x")
                            or d.extractor,
                            needs_ocr=by_doc[d.id].get("needs_ocr")
                            if isinstance(by_doc[d.id].get("needs_ocr"), bool) else d.needs_ocr,
                            warnings=_strs(by_doc[d.id].get("warnings")) or d.warnings)
        if d.id in by_doc else d
        for d in result.documents
    ]


def _restore_excerpt_pages(result: RefiImport, extension: _Extension) -> None:
    by_excerpt = {eid: v.get("page") for eid, v in extension.by_ref("excerpts").items()}
    result.excerpts = [
        dataclasses.replace(e, page=by_excerpt[e.id])
        if isinstance(by_excerpt.get(e.id), int) else e
        for e in result.excerpts
    ]


def _restore_theories(result: RefiImport, extension: _Extension) -> None:
    """Programme theories (all their GUIDs known first: a theory links to the one it revises)."""
    entries = [e for e in extension.items("theories") if isinstance(e.get("guid"), str)]
    for entry in entries:
        extension.refs[entry["guid"]] = _own_id(entry)
    for entry in entries:
        result.theories.append(Theory(
            id=extension.refs[entry["guid"]],
            **{k: entry.get(k) for k in ("label", "statement", "version", "status")
               if isinstance(entry.get(k), str)},
            previous_id=extension.ref(entry.get("previous")),
        ))


def _restore_cmoc_links(result: RefiImport, extension: _Extension) -> None:
    """The CMOCs' links to theories, their order, why they were set aside, and their study."""
    ref = extension.ref
    by_cmoc = extension.by_ref("cmocs")
    updated = []
    for c in result.cmocs:
        entry = by_cmoc.get(c.id)
        if entry is None:
            updated.append(c)
            continue
        pairs = entry.get("theories") if isinstance(entry.get("theories"), list) else []
        links = tuple(
            (ref(pair[0]), pair[1] if isinstance(pair[1], str) else None)
            for pair in pairs
            if isinstance(pair, list) and len(pair) == 2 and ref(pair[0])
        )
        extra: dict = {"theories": links}
        if isinstance(entry.get("sort_order"), int):
            extra["sort_order"] = entry["sort_order"]
        if isinstance(entry.get("set_aside_reason"), str):
            extra["set_aside_reason"] = entry["set_aside_reason"]
        if c.study_id is None and ref(entry.get("study")):
            extra["study_id"] = ref(entry["study"])
        updated.append(dataclasses.replace(c, **extra))
    result.cmocs = updated


def _restore_consensus(result: RefiImport, extension: _Extension) -> set[str]:
    """Consensus CMOCs with what they were built from; returns their notes (which are not memos)."""
    ref = extension.ref
    used: set[str] = set()
    consensus_fields = {f.name for f in dataclasses.fields(Consensus)}
    for entry in extension.items("consensus"):
        fields = _typed({k: v for k, v in _mapping(entry.get("fields")).items()
                         if k in consensus_fields and k not in _CONSENSUS_LINKS})
        result.consensus.append(Consensus(
            id=_own_id(entry),
            study_id=ref(entry.get("study")),
            reconciled_by=ref(entry.get("reconciled_by")),
            source_ids=tuple(x for x in map(ref, _strs(entry.get("sources"))) if x),
            code_ids=tuple(x for x in map(ref, _strs(entry.get("codes"))) if x),
            excerpt_ids=tuple(x for x in map(ref, _strs(entry.get("excerpts"))) if x),
            **fields,
        ))
        if isinstance(entry.get("note"), str):
            used.add(entry["note"])
    return used


def _restore_form_values(result: RefiImport, extension: _Extension) -> None:
    ref = extension.ref
    for entry in extension.items("form_values"):
        if ref(entry.get("study")) and isinstance(entry.get("key"), str):
            coder = entry.get("coder")
            if coder is not None and ref(coder) is None:
                continue  # a coder's value must never come back as the agreed one
            result.form_values.append(FormValue(
                id=new_id(), study_id=ref(entry["study"]),
                coder_id=ref(coder) if coder is not None else None,
                key=entry["key"], value=entry.get("value"),
            ))


def _restore_assignments(result: RefiImport, extension: _Extension) -> None:
    ref = extension.ref
    for entry in extension.items("assignments"):
        if ref(entry.get("study")) and ref(entry.get("coder")):
            result.assignments.append(Assignment(
                id=new_id(), study_id=ref(entry["study"]), coder_id=ref(entry["coder"]),
                status=entry.get("status") if isinstance(entry.get("status"), str) else None,
            ))
