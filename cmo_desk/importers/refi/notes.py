"""REFI-QDA notes: CMO Desk's CMOC notes become CMOCs, notes a selection refers to become that
excerpt's memo, and the rest come back as memos."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import new_id
from cmo_desk.domain.records import Cmoc, CmocStatus
from cmo_desk.importers.refi.archive import QdpxArchive
from cmo_desk.importers.refi.model import (
    CMOC_NOTE_HEADER,
    CONSENSUS_NOTE_HEADER,
    KIND_SET_PREFIX,
    RefiMemo,
    RefiReader,
)
from cmo_desk.importers.refi.source_text import decode_source_text
from cmo_desk.importers.refi.xmltree import child_named, child_text, children_named, guid_attr

#: Must match the labels the exporter writes (a round-trip test holds them together).
_CMOC_LABELS: dict[str, str] = {
    "intervention": "intervention",
    "actor": "actor",
    "context": "context",
    "mechanism (resource)": "mechanism_resource",
    "mechanism (reasoning)": "mechanism_reasoning",
    "outcome": "outcome",
    "outcome direction": "outcome_direction",
    "outcome intended": "outcome_intended",
    "statement": "statement",
    "confidence": "confidence",
    "status": "status",
    "memo": "memo",
}
_CMOC_LABEL_RE = re.compile(r"^(" + "|".join(re.escape(k) for k in _CMOC_LABELS) + r"):\s?(.*)$", re.IGNORECASE)


@dataclass
class ProjectNotes:
    """A project's notes, read before its sources: CMOC notes decide what a selection's NoteRef
    means."""

    #: guid -> (name, text, creator)
    by_guid: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    cmoc: set[str] = field(default_factory=set)
    #: Consensus CMOCs come back as memos; their sets need no mention.
    consensus: set[str] = field(default_factory=set)
    #: Notes that found a place (CMOCs, excerpt memos, consensus CMOCs); the rest become memos.
    used: set[str] = field(default_factory=set)
    #: CMOC note guid -> ids of the excerpts that refer to it, and the study of the first.
    cmoc_excerpts: dict[str, list[str]] = field(default_factory=dict)
    cmoc_study: dict[str, str] = field(default_factory=dict)


def read_notes(root: ET.Element, archive: QdpxArchive) -> ProjectNotes:
    notes = ProjectNotes()
    notes_el = child_named(root, "Notes")
    for note in children_named(notes_el, "Note") if notes_el is not None else []:
        guid = guid_attr(note)
        text = child_text(note, "PlainTextContent")
        if text is None:
            member = archive.lookup(note.get("plainTextPath"))
            text = decode_source_text(archive.read(member))[0] if member else ""
        if guid and text.lstrip().startswith(CMOC_NOTE_HEADER):
            notes.cmoc.add(guid)
        elif guid and text.lstrip().startswith(CONSENSUS_NOTE_HEADER):
            notes.consensus.add(guid)
        description = child_text(note, "Description")
        if description and description.strip():
            text = description.strip() + ("\n\n" + text if text.strip() else "")
        if guid:
            notes.by_guid[guid] = (note.get("name") or "", text, guid_attr(note, "creatingUser"))
    notes.used = set(notes.cmoc)
    notes.cmoc_excerpts = {g: [] for g in notes.cmoc}
    return notes


def cmoc_codes_of_sets(reader: RefiReader, sets: list[ET.Element], notes: ProjectNotes) -> dict[str, list[str]]:
    """CMOC note guid -> ids of its codes, from the sets that group a CMOC note with its codes;
    other sets are listed as not imported."""
    cmoc_codes: dict[str, list[str]] = {}
    other_sets: list[str] = []
    for s in sets:
        set_name = (s.get("name") or "").strip()
        if set_name.casefold().startswith(KIND_SET_PREFIX):
            continue
        members = [g for g in (guid_attr(m, "targetGUID") for m in children_named(s, "MemberNote")) if g in notes.cmoc]
        note_refs = {guid_attr(m, "targetGUID") for m in children_named(s, "MemberNote")}
        if note_refs & notes.consensus:
            continue
        if members:
            codes = [reader.codes[g] for g in (guid_attr(m, "targetGUID") for m in children_named(s, "MemberCode"))
                     if g in reader.codes]
            for g in members:
                known = cmoc_codes.setdefault(g, [])
                known.extend(c for c in dict.fromkeys(codes) if c not in known)
        else:
            other_sets.append(set_name or "?")
    if other_sets:
        reader.skip(
            tr("{count} sets were not imported (CMO Desk has no sets): {names}.").format(
                count=len(other_sets), names=", ".join(sorted(other_sets))
            )
        )
    return cmoc_codes


def make_cmocs(reader: RefiReader, notes: ProjectNotes, cmoc_codes: dict[str, list[str]]) -> None:
    """CMOCs from CMO Desk's notes, with the excerpts that refer to them and their sets' codes."""
    for order, guid in enumerate(g for g in notes.by_guid if g in notes.cmoc):
        _, text, creator = notes.by_guid[guid]
        slots = parse_cmoc_note(text)
        status = slots.pop("status", None)
        if status not in {s.value for s in CmocStatus}:
            status = CmocStatus.DRAFT.value
        reader.refs[guid] = new_id()
        reader.result.cmocs.append(
            Cmoc(
                id=reader.refs[guid],
                study_id=notes.cmoc_study.get(guid),
                status=status,
                sort_order=order,
                owner_id=reader.coder(creator),
                code_ids=tuple(cmoc_codes.get(guid, [])),
                excerpt_ids=tuple(notes.cmoc_excerpts.get(guid, [])),
                **slots,
            )
        )


def add_memos(reader: RefiReader, notes: ProjectNotes) -> None:
    """Notes that found no place come back as memos."""
    for guid, (name, text, creator) in notes.by_guid.items():
        if guid not in notes.used:
            reader.result.memos.append(RefiMemo(id=new_id(), title=name, text=text, owner_id=reader.coder(creator)))


def parse_cmoc_note(text: str) -> dict[str, str]:
    """The slots of a note written by CMO Desk's REFI export (labelled lines, indented continuations)."""
    slots: dict[str, str] = {}
    current: str | None = None
    for line in text.replace("\r\n", "\n").split("\n")[1:]:
        match = _CMOC_LABEL_RE.match(line)
        if match:
            current = _CMOC_LABELS[match.group(1).casefold()]
            slots[current] = match.group(2)
        elif current is not None:
            slots[current] += "\n" + (line[2:] if line.startswith("  ") else line)
    return {k: v.strip() for k, v in slots.items() if v.strip()}
