"""REFI-QDA 1.0 export: a project as ``.qdpx`` (NVivo, ATLAS.ti, MAXQDA, QualCoder) or its codebook
as ``.qdc``.

How CMO Desk's records map onto the standard, chosen so that the other programs *show* them:

- Each document is a ``TextSource`` whose plain text is ``sources/<guid>.txt``. When the original
  PDF was kept it is a ``PDFSource`` instead, with the same text as its ``Representation``: the
  codings hang on the text, because PDF selections in REFI are page rectangles, which CMO Desk
  does not have.
- Every excerpt is a ``PlainTextSelection`` (offsets in code points, as the standard's section
  10.2 says and Python string indices are; the export report counts the passages NVivo, ATLAS.ti
  or MAXQDA may count otherwise) with one ``Coding`` per code; its coder is the selection's and
  codings' ``creatingUser``; its memo is the selection's ``Description`` (ATLAS.ti shows it as the
  quotation comment).
- An excerpt's role (context / mechanism / outcome / intervention) is a coding with a code under a
  non-codable parent named "CMO role". Codes are what every one of these programs lists, counts,
  filters and colours; a selection's description is shown by few and queried by none.
- A code's kind is membership of a code set named "CMO kind: Context" (and so on): code sets are
  ATLAS.ti code groups and MAXQDA code sets, visible without changing the code tree.
- A code's definition is its ``Description``; inclusion and exclusion notes follow it as lines
  starting "Include:" and "Exclude:", so coders in the other program read them beside the
  definition.
- Each CMOC is a ``Note`` holding its slots as labelled lines, referenced (``NoteRef``) from each of
  its excerpts' selections, and a ``Set`` of its codes, its sources and that note. REFI 1.0 sets
  cannot hold selections, hence the note. Consensus CMOCs get the same note and set (without the
  references from selections, so they never read as an excerpt's memo).
- Each study with documents is a ``Case`` referring to its sources, so a study with a main report
  and an appendix stays one unit.

- Each study's citation (authors, year, title, journal, DOI) and its characteristics and
  appraisal are ``VariableValue``s of its case: REFI's place for attributes of a case (NVivo case
  classifications, MAXQDA document variables, ATLAS.ti document groups).
- What REFI has no place for travels in ``cmodesk/records.json`` (``refi_extension``), which other
  programs ignore: page boundaries of each text, excerpt pages, programme theories and CMOC–theory
  links, consensus CMOCs with the CMOCs and excerpts they came from, every coder's form values,
  assignments, coders' initials and the form template. CMO Desk reads it back, so a project
  exported and imported again loses nothing. ``foreign_notes`` lists what other programs will not
  show.

GUIDs (``refi_ids``) are the records' own UUIDs; objects CMO Desk does not store (role codes,
kind sets, CMOC notes, representations) get ``uuid5`` of a fixed namespace and the record id, so
two exports of the same project carry the same GUIDs. Dates are left out and zip entries carry a
fixed timestamp, so the same project exports to the same bytes.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from lxml import etree

import cmo_desk
from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.records import Cmoc, Code, Consensus, Document, Excerpt, Role, Study
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.exporters import atomic_target
from cmo_desk.exporters.refi_extension import (
    EXTENSION_ENTRY,
    EXTENSION_FORMAT,
    EXTENSION_VERSION,
    build_extension,
    foreign_notes,
)
from cmo_desk.exporters.refi_ids import REFI_NAMESPACE, derived_guid, record_guid

__all__ = [
    "CMOC_NOTE_HEADER", "CMOC_NOTE_LABELS", "CONSENSUS_NOTE_HEADER", "CONSENSUS_NOTE_LABELS",
    "EXTENSION_ENTRY", "EXTENSION_FORMAT", "EXTENSION_VERSION", "REFI_NAMESPACE",
    "build_codebook_xml", "build_extension", "build_project_xml", "cmoc_note_text", "cmoc_title",
    "code_description", "derived_guid", "foreign_notes", "record_guid", "write_qdc", "write_qdpx",
]

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
PROJECT_SCHEMA_URL = "http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd"
CODEBOOK_SCHEMA_URL = "http://schema.qdasoftware.org/versions/Codebook/v1.0/Codebook.xsd"

ORIGIN = f"CMO Desk {cmo_desk.__version__}"
ROLE_GROUP_NAME = "CMO role"
KIND_SET_PREFIX = "CMO kind: "
CMOC_NOTE_HEADER = "CMOC (CMO Desk)"
#: Slot labels of a CMOC note, in order. The importer parses these exact words back.
CMOC_NOTE_LABELS: tuple[tuple[str, str], ...] = (
    ("intervention", "Intervention"),
    ("actor", "Actor"),
    ("context", "Context"),
    ("mechanism_resource", "Mechanism (resource)"),
    ("mechanism_reasoning", "Mechanism (reasoning)"),
    ("outcome", "Outcome"),
    ("outcome_direction", "Outcome direction"),
    ("outcome_intended", "Outcome intended"),
    ("statement", "Statement"),
    ("confidence", "Confidence"),
    ("status", "Status"),
    ("memo", "Memo"),
)
CONSENSUS_NOTE_HEADER = "Consensus CMOC (CMO Desk)"
CONSENSUS_NOTE_LABELS: tuple[tuple[str, str], ...] = (
    *(pair for pair in CMOC_NOTE_LABELS if pair[0] not in ("status", "memo")),
    ("resolution", "Resolution"),
    ("note", "Note"),
)
_ROLE_LABELS: tuple[tuple[str, str], ...] = (
    (Role.CONTEXT.value, "Context"),
    (Role.MECHANISM.value, "Mechanism"),
    (Role.OUTCOME.value, "Outcome"),
    (Role.INTERVENTION.value, "Intervention"),
)
_KIND_LABELS = dict(_ROLE_LABELS)

_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: Characters XML 1.0 cannot carry at all (pypdfium2 leaves U+FFFE at rejoined hyphens).
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_COLOR_RE = re.compile(r"^#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")
#: Characters some programs count differently from the standard's one code point each: NVivo
#: counts a character outside the Basic Multilingual Plane as two UTF-16 units, ATLAS.ti and
#: MAXQDA a CRLF as one character (importers/refi/positions.py has the evidence).
_COUNTED_DIFFERENTLY_RE = re.compile("\r\n|[\U00010000-\U0010ffff]")
PDF_MEDIA_TYPE = "application/pdf"
#: Citation fields written as case variables, (field, variable name, REFI type).
_CITATION_VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("authors", "Authors", "Text"),
    ("year", "Year", "Integer"),
    ("title", "Title", "Text"),
    ("journal", "Journal", "Text"),
    ("doi", "DOI", "Text"),
)
def _xml_text(value: str | None) -> str:
    return _XML_ILLEGAL_RE.sub("\ufffd", value or "")


def _text_bytes(text: str | None) -> bytes:
    """A document's text as the UTF-8 file of a source. Readers drop a byte order mark at the
    start of the file, so a text that begins with U+FEFF gets one more: the positions count it."""
    text = text or ""
    return (b"\xef\xbb\xbf" if text.startswith("\ufeff") else b"") + text.encode("utf-8", "replace")


def _short(text: str | None, limit: int = 60) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _color(value: str | None) -> str | None:
    if not value or not _COLOR_RE.match(value.strip()):
        return None
    value = value.strip().upper()
    if len(value) == 4:  # #RGB: some programs read only #RRGGBB
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value


def code_description(code: Code) -> str:
    """Definition, then inclusion and exclusion notes as labelled lines."""
    parts = [code.definition.strip()] if code.definition and code.definition.strip() else []
    extra = []
    if code.include_notes and code.include_notes.strip():
        extra.append("Include: " + " ".join(code.include_notes.split()))
    if code.exclude_notes and code.exclude_notes.strip():
        extra.append("Exclude: " + " ".join(code.exclude_notes.split()))
    if extra:
        parts.append("\n".join(extra))
    return "\n\n".join(parts)


def cmoc_note_text(cmoc: Cmoc | Consensus, header: str = CMOC_NOTE_HEADER) -> str:
    lines = [header]
    labels = CMOC_NOTE_LABELS if isinstance(cmoc, Cmoc) else CONSENSUS_NOTE_LABELS
    for field, label in labels:
        value = getattr(cmoc, field, None)
        if value is None or str(value).strip() == "":
            continue
        # Continuation lines are indented so a value can never start a new label.
        lines.append(f"{label}: " + str(value).strip().replace("\n", "\n  "))
    return "\n".join(lines)


def cmoc_title(cmoc: Cmoc | Consensus) -> str:
    for text in (cmoc.statement, cmoc.outcome, cmoc.mechanism_reasoning, cmoc.context):
        if text and text.strip():
            return "CMOC: " + _short(text, 80)
    return "CMOC " + cmoc.id[:8]


class _Tree:
    """The codes to export: live, not merged away, parents before children, cycles broken."""

    def __init__(self, codes: Iterable[Code]) -> None:
        self.by_id = {c.id: c for c in codes}
        self.target: dict[str, str] = {}
        for code in self.by_id.values():
            self.target[code.id] = self._final(code.id)
        self.exported = {cid for cid, final in self.target.items() if final == cid}
        self.children: dict[str | None, list[Code]] = {}
        for cid in self.exported:
            code = self.by_id[cid]
            parent = self._parent(code)
            self.children.setdefault(parent, []).append(code)
        for siblings in self.children.values():
            siblings.sort(key=lambda c: (c.sort_order is None, c.sort_order or 0, (c.name or "").casefold(), c.id))

    def _final(self, code_id: str) -> str:
        seen = set()
        current = code_id
        while current in self.by_id and self.by_id[current].merged_into and current not in seen:
            seen.add(current)
            nxt = self.by_id[current].merged_into
            if nxt not in self.by_id:
                break
            current = nxt  # type: ignore[assignment]
        return current

    def _parent(self, code: Code) -> str | None:
        parent = self.target.get(code.parent_id or "", None)
        if parent is None or parent == code.id:
            return None
        # A parent chain that loops back makes the code a top-level code.
        seen = {code.id}
        walk: str | None = parent
        while walk is not None:
            if walk in seen:
                return None
            seen.add(walk)
            p = self.by_id[walk].parent_id
            walk = self.target.get(p or "", None)
        return parent

    def resolve(self, code_id: str) -> str | None:
        final = self.target.get(code_id)
        return final if final in self.exported else None

    def walk(self) -> Iterable[tuple[Code, str | None]]:
        stack: list[tuple[Code, str | None]] = [(c, None) for c in reversed(self.children.get(None, []))]
        while stack:
            code, parent = stack.pop()
            yield code, parent
            stack.extend((c, code.id) for c in reversed(self.children.get(code.id, [])))


def _code_elements(ns: str, tree: _Tree, parent_el: etree._Element, parent_id: str | None) -> None:
    for code in tree.children.get(parent_id, []):
        el = etree.SubElement(parent_el, f"{{{ns}}}Code")
        el.set("guid", record_guid(code.id))
        el.set("name", _xml_text(code.name) or tr("(unnamed code)"))
        el.set("isCodable", "true")
        color = _color(code.color)
        if color:
            el.set("color", color)
        description = code_description(code)
        if description:
            etree.SubElement(el, f"{{{ns}}}Description").text = _xml_text(description)
        _code_elements(ns, tree, el, code.id)


def _kind_sets(ns: str, tree: _Tree, member_tag: str, member_attr: str) -> list[etree._Element]:
    sets = []
    for kind, label in _ROLE_LABELS:
        members = [c for c, _ in tree.walk() if (c.kind or "") == kind]
        if not members:
            continue
        el = etree.Element(f"{{{ns}}}Set")
        el.set("guid", derived_guid("code-kind", kind))
        el.set("name", KIND_SET_PREFIX + label)
        etree.SubElement(el, f"{{{ns}}}Description").text = f"Codes of kind {kind} in CMO Desk"
        for code in members:
            etree.SubElement(el, f"{{{ns}}}{member_tag}").set(member_attr, record_guid(code.id))
        sets.append(el)
    return sets


def _is_pdf(doc: Document, original: bytes | None) -> bool:
    return bool(doc.has_original and original and (doc.media_type or "").lower() == PDF_MEDIA_TYPE)


def _write_zip(path: str | os.PathLike[str], entries: list[tuple[str, bytes]]) -> None:
    with atomic_target(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)


def _xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def build_project_xml(snapshot: ProjectSnapshot) -> tuple[bytes, list[tuple[str, bytes]], list[str]]:
    """The ``project.qde`` bytes, the ``sources/`` entries, and lines about what was left out."""
    xml = _ProjectXml(snapshot)
    xml.add_users()
    xml.add_codebook()
    xml.note_orphaned_excerpts()
    xml.add_sources()
    xml.add_cases()
    configurations = xml.configurations()
    xml.add_notes(configurations)
    xml.add_sets(configurations)
    xml.add_description()
    xml.add_extension()
    return _xml_bytes(xml.root), xml.entries, xml.warnings


class _Configuration(NamedTuple):
    """A CMOC or consensus CMOC as REFI carries it: a note with its slots and a set of its codes,
    its sources and that note."""

    note_guid: str
    set_guid: str
    title: str
    text: str
    owner_id: str | None
    code_ids: tuple[str, ...]
    excerpt_ids: tuple[str, ...]


class _ProjectXml:
    """``project.qde`` as it is built, element by element in the schema's order, with the
    lookups its steps share."""

    def __init__(self, snapshot: ProjectSnapshot) -> None:
        self.snapshot = snapshot
        self.ns = PROJECT_NS
        self.warnings: list[str] = []
        self.entries: list[tuple[str, bytes]] = []
        self.shifted_elsewhere = 0  # passages after a character other programs count differently
        self.root = etree.Element(f"{{{self.ns}}}Project", nsmap={None: self.ns, "xsi": XSI_NS})
        self.root.set(f"{{{XSI_NS}}}schemaLocation", f"{self.ns} {PROJECT_SCHEMA_URL}")
        self.root.set("name", _xml_text(snapshot.project.title) or "CMO Desk project")
        self.root.set("origin", ORIGIN)
        self.coder_guids = {c.id: record_guid(c.id) for c in snapshot.coders}
        self.tree = _Tree(snapshot.codes)
        used_roles = sorted({e.role for e in snapshot.excerpts if e.role in _KIND_LABELS})
        self.role_guids = {role: derived_guid("role-code", role) for role in used_roles}
        # CMOC notes first: selections refer to them.
        self.cmoc_notes = {c.id: derived_guid("cmoc-note", c.id) for c in snapshot.cmocs}
        self.notes_by_excerpt: dict[str, list[str]] = {}
        for cmoc in snapshot.cmocs:
            for eid in cmoc.excerpt_ids:
                self.notes_by_excerpt.setdefault(eid, []).append(self.cmoc_notes[cmoc.id])
        self.excerpts_by_doc: dict[str, list[Excerpt]] = {}
        for excerpt in snapshot.excerpts:
            self.excerpts_by_doc.setdefault(excerpt.document_id or "", []).append(excerpt)
        for group_list in self.excerpts_by_doc.values():
            group_list.sort(key=lambda e: (e.start or 0, e.end or 0, e.id))
        self.known_docs = {d.id for d in snapshot.documents}
        self.excerpt_docs = {e.id: e.document_id for e in snapshot.excerpts}
        self.studies = {s.id: s for s in snapshot.studies}
        self.docs_by_study: dict[str, list[str]] = {}
        self.sources_el: etree._Element | None = None

    def _sub(self, parent: etree._Element, tag: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{self.ns}}}{tag}")

    def add_users(self) -> None:
        if not self.snapshot.coders:
            return
        users = self._sub(self.root, "Users")
        for coder in self.snapshot.coders:
            user = self._sub(users, "User")
            user.set("guid", self.coder_guids[coder.id])
            user.set("name", _xml_text(coder.name) or coder.id)

    def add_codebook(self) -> None:
        """The project's codes, then the non-codable "CMO role" code with a code per role used."""
        if not (self.tree.exported or self.role_guids):
            return
        codes_el = self._sub(self._sub(self.root, "CodeBook"), "Codes")
        _code_elements(self.ns, self.tree, codes_el, None)
        if not self.role_guids:
            return
        group = self._sub(codes_el, "Code")
        group.set("guid", derived_guid("role-group"))
        group.set("name", ROLE_GROUP_NAME)
        group.set("isCodable", "false")
        self._sub(group, "Description").text = (
            "The role CMO Desk coders gave each excerpt in a context-mechanism-outcome configuration"
        )
        for role, label in _ROLE_LABELS:
            if role in self.role_guids:
                el = self._sub(group, "Code")
                el.set("guid", self.role_guids[role])
                el.set("name", label)
                el.set("isCodable", "true")

    def note_orphaned_excerpts(self) -> None:
        orphaned = sum(len(v) for k, v in self.excerpts_by_doc.items() if k not in self.known_docs)
        if orphaned:
            self.warnings.append(
                tr("{count} excerpts were left out because their document is not in the project.").format(count=orphaned)
            )

    def add_sources(self) -> None:
        """Each document as a text source, or as a PDF source with its text as a representation;
        its excerpts as selections of that text."""
        for doc in self.snapshot.documents:
            if self.sources_el is None:
                self.sources_el = self._sub(self.root, "Sources")
            study = self.studies.get(doc.study_id or "")
            name = _xml_text(doc.filename or (study.label if study else None) or doc.id)
            original = self.snapshot.get_blob(doc.sha256) if doc.has_original and doc.sha256 else None
            if doc.study_id:
                self.docs_by_study.setdefault(doc.study_id, []).append(record_guid(doc.id))
            if original is not None and _is_pdf(doc, original):
                self._pdf_source(self.sources_el, doc, study, name, original)
            else:
                self._text_source(self.sources_el, doc, study, name)

    def _pdf_source(self, sources_el: etree._Element, doc: Document, study: Study | None,
                    name: str, original: bytes) -> None:
        guid = record_guid(doc.id)
        source = self._sub(sources_el, "PDFSource")
        source.set("guid", guid)
        source.set("name", name)
        source.set("path", f"internal://{guid}.pdf")
        self.entries.append((f"sources/{guid}.pdf", original))
        _source_description(self.ns, source, study)
        rep_guid = derived_guid("representation", doc.id)
        rep = self._sub(source, "Representation")
        rep.set("guid", rep_guid)
        rep.set("name", name)
        rep.set("plainTextPath", f"internal://{rep_guid}.txt")
        self.entries.append((f"sources/{rep_guid}.txt", _text_bytes(doc.text)))
        self.add_selections(rep, doc, doc.text or "")

    def _text_source(self, sources_el: etree._Element, doc: Document, study: Study | None,
                     name: str) -> None:
        guid = record_guid(doc.id)
        source = self._sub(sources_el, "TextSource")
        source.set("guid", guid)
        source.set("name", name)
        source.set("plainTextPath", f"internal://{guid}.txt")
        self.entries.append((f"sources/{guid}.txt", _text_bytes(doc.text)))
        _source_description(self.ns, source, study)
        self.add_selections(source, doc, doc.text or "")

    def add_selections(self, parent: etree._Element, doc: Document, text: str) -> None:
        excerpts = self.excerpts_by_doc.get(doc.id, [])
        odd = _COUNTED_DIFFERENTLY_RE.search(text) if excerpts else None
        for excerpt in excerpts:
            start, end = excerpt.start, excerpt.end
            if start is None or end is None or not (0 <= start <= end <= len(text)):
                self.warnings.append(
                    tr("An excerpt of {document} was left out: its position does not fit the text.").format(
                        document=doc.filename or doc.id
                    )
                )
                continue
            if odd is not None and end > odd.start():
                self.shifted_elsewhere += 1
            sel = self._sub(parent, "PlainTextSelection")
            sel.set("guid", record_guid(excerpt.id))
            sel.set("name", _xml_text(_short(excerpt.quote or text[start:end])) or " ")
            sel.set("startPosition", str(start))
            sel.set("endPosition", str(end))
            owner = self.coder_guids.get(excerpt.owner_id or "")
            if owner:
                sel.set("creatingUser", owner)
            if excerpt.memo and excerpt.memo.strip():
                self._sub(sel, "Description").text = _xml_text(excerpt.memo)
            self.add_codings(sel, excerpt, owner)
            for note_guid in self.notes_by_excerpt.get(excerpt.id, []):
                self._sub(sel, "NoteRef").set("targetGUID", note_guid)

    def add_codings(self, sel: etree._Element, excerpt: Excerpt, owner: str | None) -> None:
        """One coding per code the excerpt has (merged codes as what they became), then its role."""
        targets: list[tuple[str, str]] = []
        for cid in excerpt.code_ids:
            final = self.tree.resolve(cid)
            if final and all(t[1] != final for t in targets):
                targets.append((_coding_guid(excerpt.id, final), final))
        for coding_guid, final in targets:
            _coding(sel, coding_guid, record_guid(final), owner)
        if excerpt.role in self.role_guids:
            _coding(
                sel, derived_guid("role-coding", excerpt.id), self.role_guids[excerpt.role], owner  # type: ignore[index]
            )

    def add_cases(self) -> None:
        """Each study with documents as a case with its variables; cases come before sources in
        the schema's sequence, and variables before cases."""
        cases = [(self.studies[sid], guids) for sid, guids in self.docs_by_study.items()
                 if sid in self.studies]
        if not cases:
            return
        variables = _case_variables(self.snapshot, [study for study, _ in cases])
        cases_el = etree.Element(f"{{{self.ns}}}Cases")
        for study, guids in cases:
            case = self._sub(cases_el, "Case")
            case.set("guid", record_guid(study.id))
            case.set("name", _xml_text(study.label) or _xml_text(study.title) or study.id)
            citation = study.citation()
            if citation:
                self._sub(case, "Description").text = _xml_text(citation)
            for var_guid, kind, value in variables.values.get(study.id, []):
                vv = self._sub(case, "VariableValue")
                self._sub(vv, "VariableRef").set("targetGUID", var_guid)
                self._sub(vv, f"{kind}Value").text = _xml_text(value)
            for g in guids:
                self._sub(case, "SourceRef").set("targetGUID", g)
        if self.sources_el is None:
            return
        self.sources_el.addprevious(cases_el)
        if variables.declared:
            vars_el = etree.Element(f"{{{self.ns}}}Variables")
            for var_guid, name, kind in variables.declared:
                var = self._sub(vars_el, "Variable")
                var.set("guid", var_guid)
                var.set("name", _xml_text(name))
                var.set("typeOfVariable", kind)
            cases_el.addprevious(vars_el)

    def configurations(self) -> list[_Configuration]:
        """CMOCs and consensus CMOCs alike. Consensus notes get no NoteRef from the selections:
        on import they come back as memos, not as excerpt memos."""
        out = [
            _Configuration(self.cmoc_notes[c.id], record_guid(c.id), cmoc_title(c),
                           cmoc_note_text(c), c.owner_id, c.code_ids, c.excerpt_ids)
            for c in self.snapshot.cmocs
        ]
        out += [
            _Configuration(derived_guid("consensus-note", c.id), record_guid(c.id),
                           "Consensus " + cmoc_title(c), cmoc_note_text(c, CONSENSUS_NOTE_HEADER),
                           c.reconciled_by, c.code_ids, c.excerpt_ids)
            for c in self.snapshot.consensus
        ]
        return out

    def add_notes(self, configurations: list[_Configuration]) -> None:
        if not configurations:
            return
        notes_el = self._sub(self.root, "Notes")
        for config in configurations:
            note = self._sub(notes_el, "Note")
            note.set("guid", config.note_guid)
            note.set("name", _xml_text(config.title))
            owner = self.coder_guids.get(config.owner_id or "")
            if owner:
                note.set("creatingUser", owner)
            self._sub(note, "PlainTextContent").text = _xml_text(config.text)

    def add_sets(self, configurations: list[_Configuration]) -> None:
        """The code-kind sets, then one set per configuration."""
        set_elements = _kind_sets(self.ns, self.tree, "MemberCode", "targetGUID")
        set_elements += [self._configuration_set(config) for config in configurations]
        if set_elements:
            sets_el = self._sub(self.root, "Sets")
            for el in set_elements:
                sets_el.append(el)

    def _configuration_set(self, config: _Configuration) -> etree._Element:
        el = etree.Element(f"{{{self.ns}}}Set")
        el.set("guid", config.set_guid)
        el.set("name", _xml_text(config.title))
        self._sub(el, "Description").text = _xml_text(config.text)
        seen_codes: list[str] = []
        for cid in config.code_ids:
            final = self.tree.resolve(cid)
            if final and final not in seen_codes:
                seen_codes.append(final)
                self._sub(el, "MemberCode").set("targetGUID", record_guid(final))
        seen_docs: list[str] = []
        for eid in config.excerpt_ids:
            did = self.excerpt_docs.get(eid)
            if did and did in self.known_docs and did not in seen_docs:
                seen_docs.append(did)
                self._sub(el, "MemberSource").set("targetGUID", record_guid(did))
        self._sub(el, "MemberNote").set("targetGUID", config.note_guid)
        return el

    def add_description(self) -> None:
        description = self.snapshot.project.description
        if description and description.strip():
            self._sub(self.root, "Description").text = _xml_text(description)

    def add_extension(self) -> None:
        """What REFI has no place for, and lines naming what other programs will not show."""
        extension = build_extension(self.snapshot)
        self.entries.append((EXTENSION_ENTRY, json.dumps(extension, ensure_ascii=False, sort_keys=True,
                                                          indent=1).encode("utf-8")))
        self.warnings += foreign_notes(self.snapshot)
        if self.shifted_elsewhere:
            self.warnings.append(
                tr(
                    "{count} passages come after an emoji, a rare character or a Windows line end, which "
                    "NVivo, ATLAS.ti or MAXQDA may count differently from the REFI-QDA standard: check that "
                    "they mark the same words there."
                ).format(count=self.shifted_elsewhere)
            )


class _Variables:
    """Case variables: their declarations and each study's values."""

    def __init__(self) -> None:
        self.declared: list[tuple[str, str, str]] = []  # (guid, name, REFI type)
        self.values: dict[str, list[tuple[str, str, str]]] = {}  # study id -> (guid, type, text)


def _case_variables(snapshot: ProjectSnapshot, studies: list[Study]) -> _Variables:
    """Citation fields and form values of the studies written as cases, as REFI variables.

    A form field's value is the agreed one, or the value all coders gave; when coders differ,
    each coder's value with their initials, as in the evidence tables.
    """
    from cmo_desk.exporters.tables import TableContext

    out = _Variables()
    ctx = TableContext(snapshot, "en")
    keys = list(dict.fromkeys(
        fv.key for fv in snapshot.form_values if fv.key and ctx.study_id(fv.study_id) in ctx.form
    ))
    plan = [(f"citation:{f}", name, kind, f) for f, name, kind in _CITATION_VARIABLES]
    plan += [(f"form:{k}", k, "Text", None) for k in keys]
    used: set[str] = set()
    for study in studies:
        row: list[tuple[str, str, str]] = []
        for var_key, _name, kind, citation_field in plan:
            if citation_field is not None:
                raw = getattr(study, citation_field, None)
                value = "; ".join(raw) if isinstance(raw, list) else ("" if raw is None else str(raw))
            else:
                value = ctx.form_value(study.id, var_key[5:])
            if value.strip():
                row.append((derived_guid("variable", var_key), kind, value))
                used.add(var_key)
        out.values[study.id] = row
    out.declared = [(derived_guid("variable", k), name, kind) for k, name, kind, _ in plan if k in used]
    return out


def _coding_guid(excerpt_id: str, code_id: str) -> str:
    return derived_guid("coding", excerpt_id, code_id)


def _coding(parent: etree._Element, guid: str, code_guid: str, owner: str | None) -> None:
    coding = etree.SubElement(parent, f"{{{PROJECT_NS}}}Coding")
    coding.set("guid", guid)
    if owner:
        coding.set("creatingUser", owner)
    etree.SubElement(coding, f"{{{PROJECT_NS}}}CodeRef").set("targetGUID", code_guid)


def _source_description(ns: str, source: etree._Element, study: Study | None) -> None:
    if study is None:
        return
    citation = study.citation()
    if citation:
        etree.SubElement(source, f"{{{ns}}}Description").text = _xml_text(citation)


def write_qdpx(snapshot: ProjectSnapshot, path: str | os.PathLike[str]) -> list[str]:
    """Write the whole project as a REFI-QDA 1.0 project; returns lines about what was left out.

    The file appears complete or not at all (written beside the target, then moved over it).
    """
    qde, sources, warnings = build_project_xml(snapshot)
    _write_zip(path, [("project.qde", qde), *sorted(sources)])
    return warnings


def build_codebook_xml(snapshot: ProjectSnapshot) -> bytes:
    ns = CODEBOOK_NS
    tree = _Tree(snapshot.codes)
    if not tree.exported:
        raise ValidationError(
            tr("The project has no codes, so there is no codebook to export. Add codes first.")
        )
    root = etree.Element(f"{{{ns}}}CodeBook", nsmap={None: ns, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{ns} {CODEBOOK_SCHEMA_URL}")
    root.set("origin", ORIGIN)
    codes_el = etree.SubElement(root, f"{{{ns}}}Codes")
    _code_elements(ns, tree, codes_el, None)
    sets = _kind_sets(ns, tree, "MemberCode", "guid")
    if sets:
        sets_el = etree.SubElement(root, f"{{{ns}}}Sets")
        for el in sets:
            sets_el.append(el)
    return _xml_bytes(root)


def write_qdc(snapshot: ProjectSnapshot, path: str | os.PathLike[str]) -> None:
    """Write the project's codebook as a REFI-QDA 1.0 ``.qdc`` file (XML, not zipped)."""
    data = build_codebook_xml(snapshot)
    with atomic_target(path) as tmp:
        Path(tmp).write_bytes(data)
