"""REFI-QDA sources: text and PDF sources become documents of studies, their selections
excerpts; images, audio, video and PDF page rectangles are listed as not imported.

In files CMO Desk wrote, the cases are the studies and a study's documents come back together;
otherwise every source is a study of its own, labelled with the source's name.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from cmo_desk.domain.anchoring import context_around
from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import new_id
from cmo_desk.domain.records import Document, Excerpt, Study
from cmo_desk.importers.refi.archive import QdpxArchive
from cmo_desk.importers.refi.model import PDF_MEDIA_TYPE, TEXT_MEDIA_TYPE, RefiReader
from cmo_desk.importers.refi.notes import ProjectNotes
from cmo_desk.importers.refi.positions import choose_offset_unit, lf_line_ends
from cmo_desk.importers.refi.source_text import decode_source_text, extract_pdf_text, pdf_pages_of
from cmo_desk.importers.refi.xmltree import child_named, child_text, children_named, guid_attr, int_attr, local_name


@dataclass
class _Selection:
    guid: str | None
    start: int
    end: int
    creating_user: str | None
    description: str | None
    code_guids: list[str]
    note_guids: list[str]
    name: str | None = None


def read_selection(reader: RefiReader, el: ET.Element) -> _Selection | None:
    start, end = int_attr(el, "startPosition"), int_attr(el, "endPosition")
    if start is None or end is None:
        reader.count(tr("{count} text selections without a valid position were not imported."))
        return None
    codes: list[str] = []
    for coding in children_named(el, "Coding"):
        ref = child_named(coding, "CodeRef")
        guid = guid_attr(ref, "targetGUID") if ref is not None else None
        if guid:
            codes.append(guid)
    creator = guid_attr(el, "creatingUser")
    if creator is None:
        for coding in children_named(el, "Coding"):
            creator = guid_attr(coding, "creatingUser")
            if creator:
                break
    notes = [g for g in (guid_attr(n, "targetGUID") for n in children_named(el, "NoteRef")) if g]
    return _Selection(
        guid=guid_attr(el),
        start=start,
        end=end,
        creating_user=creator,
        description=child_text(el, "Description"),
        code_guids=codes,
        note_guids=notes,
        name=el.get("name"),
    )


def _count_codings(el: ET.Element) -> int:
    return sum(1 for x in el.iter() if local_name(x.tag) == "Coding")


@dataclass
class _Document:
    """A source about to become a document: what the document is made from."""

    source: ET.Element
    text: str
    media_type: str
    original: bytes | None
    page_starts: list[int] | None
    extractor: str
    warnings: list[str]
    selections: list[ET.Element]


class SourceReader:
    """Reads a project's cases and sources into studies, documents and excerpts."""

    def __init__(self, reader: RefiReader, archive: QdpxArchive, notes: ProjectNotes, from_cmo_desk: bool) -> None:
        self.reader = reader
        self.result = reader.result
        self.archive = archive
        self.notes = notes
        self.from_cmo_desk = from_cmo_desk
        self.case_of_source: dict[str, tuple[str, str]] = {}  # source guid -> (case guid, case name)
        self.study_for_case: dict[str, str] = {}

    # cases and studies

    def read_cases(self, root: ET.Element) -> None:
        """In CMO Desk's own files a case is a study; other programs' cases are listed as not imported."""
        cases_el = child_named(root, "Cases")
        cases = children_named(cases_el, "Case") if cases_el is not None else []
        if self.from_cmo_desk:
            for case in cases:
                cguid = guid_attr(case) or new_id()
                for ref in children_named(case, "SourceRef"):
                    sguid = guid_attr(ref, "targetGUID")
                    if sguid and sguid not in self.case_of_source:
                        self.case_of_source[sguid] = (cguid, case.get("name") or "")
        elif cases:
            self.reader.skip(
                tr("{count} cases were not imported (CMO Desk groups documents by study instead).").format(
                    count=len(cases)
                )
            )

    def study_for(self, source_guid: str | None, name: str, creator: str | None) -> str:
        case = self.case_of_source.get(source_guid or "")
        if case and case[0] in self.study_for_case:
            return self.study_for_case[case[0]]
        sid = new_id()
        self.result.studies.append(Study(id=sid, label=(case[1] if case else "") or name, created_by=creator))
        if case:
            self.study_for_case[case[0]] = sid
            self.reader.refs[case[0]] = sid
        return sid

    # sources

    def read_sources(self, root: ET.Element) -> None:
        sources_el = child_named(root, "Sources")
        for source in list(sources_el) if sources_el is not None else []:
            self.read_source(source)

    def read_source(self, source: ET.Element) -> None:
        kind = local_name(source.tag)
        name = source.get("name") or "?"
        if children_named(source, "Coding"):
            self.reader.count(tr("{count} codings of whole sources were not imported (CMO Desk codes passages)."))
        if kind == "TextSource":
            self.read_text_source(source, name)
        elif kind == "PDFSource":
            self.read_pdf_source(source, name)
        elif kind in ("PictureSource", "AudioSource", "VideoSource"):
            self.skip_media(source, kind, name)
        elif kind:
            self.reader.skip(tr("Source \u201c{name}\u201d of an unknown kind ({kind}) was not imported.").format(
                name=name, kind=kind
            ))

    def read_text_source(self, source: ET.Element, name: str) -> None:
        self.report_unsupported(source, name)
        selections = children_named(source, "PlainTextSelection")
        text, warnings = self.text_of(source, tr("Text source"), name, len(selections))
        if text is None:
            return
        self.add_document(_Document(source, text, TEXT_MEDIA_TYPE, None, [0], "refi-qda", warnings, selections))

    def read_pdf_source(self, source: ET.Element, name: str) -> None:
        rep = child_named(source, "Representation")
        member = self.archive.lookup(source.get("path"))
        original = self.archive.read_original(member) if member else None
        self.report_area_selections(source, rep, name)
        if rep is not None:
            self.report_unsupported(rep, name)
            selections = children_named(rep, "PlainTextSelection")
            text, warnings = self.text_of(rep, tr("PDF"), name, len(selections))
            if text is None:
                return
            pages = pdf_pages_of(original, lf_line_ends(text)) if not self.from_cmo_desk else None
            self.add_document(_Document(source, text, PDF_MEDIA_TYPE, original, pages, "refi-qda", warnings,
                                        selections))
        elif original is not None:
            try:
                text, starts = extract_pdf_text(original)
            except ImportFailed as err:
                self.reader.skip(
                    tr("PDF \u201c{name}\u201d was not imported: its text could not be read ({reason}).").format(
                        name=name, reason=err
                    )
                )
                return
            self.add_document(_Document(source, text, PDF_MEDIA_TYPE, original, starts, "pypdfium2", [], []))
        else:
            self.reader.skip(
                tr("PDF \u201c{name}\u201d was not imported: neither the PDF nor its text is in the file.").format(
                    name=name
                )
            )

    def report_area_selections(self, source: ET.Element, rep: ET.Element | None, name: str) -> None:
        rep_guids: set[str] = set()
        if rep is not None:
            rep_guids = {g for g in (guid_attr(s) for s in children_named(rep, "PlainTextSelection")) if g}
        area = [s for s in children_named(source, "PDFSelection") if guid_attr(s) not in rep_guids]
        if area:
            self.reader.skip(
                tr(
                    "{count} area selections in PDF \u201c{name}\u201d were not imported "
                    "(CMO Desk codes text, not page rectangles)."
                ).format(count=len(area), name=name)
            )

    def skip_media(self, source: ET.Element, kind: str, name: str) -> None:
        what = {
            "PictureSource": tr("Image"),
            "AudioSource": tr("Audio"),
            "VideoSource": tr("Video"),
        }[kind]
        n = _count_codings(source)
        if n:
            message = tr(
                "{what} \u201c{name}\u201d and its {count} codings were not imported (CMO Desk works on text)."
            )
        else:
            message = tr("{what} \u201c{name}\u201d was not imported (CMO Desk works on text).")
        self.reader.skip(message.format(what=what, name=name, count=n))

    def text_of(self, el: ET.Element, what: str, name: str, selections: int) -> tuple[str | None, list[str]]:
        """Text of a TextSource-like element (inline or a file in sources/); None when missing."""
        inline = child_text(el, "PlainTextContent")
        if inline is not None:
            return inline, []
        path = el.get("plainTextPath")
        member = self.archive.lookup(path)
        if member is None:
            if selections:
                message = tr(
                    "{what} \u201c{name}\u201d and its {count} coded passages were not imported: its text "
                    "({path}) is not in the file."
                )
            else:
                message = tr("{what} \u201c{name}\u201d was not imported: its text ({path}) is not in the file.")
            self.reader.skip(message.format(what=what, name=name, count=selections, path=path or "?"))
            return None, []
        text, replaced = decode_source_text(self.archive.read(member))
        warnings = [tr("Some characters of the text could not be decoded and were replaced.")] if replaced else []
        return text, warnings

    def report_unsupported(self, el: ET.Element, name: str) -> None:
        odd = [c for c in el if local_name(c.tag).endswith("Selection") and local_name(c.tag) != "PlainTextSelection"]
        if odd:
            self.reader.skip(
                tr("{count} selections of an unsupported kind ({kinds}) in \u201c{name}\u201d were not imported.").format(
                    count=len(odd), kinds=", ".join(sorted({local_name(c.tag) for c in odd})), name=name
                )
            )

    # documents and excerpts

    def add_document(self, doc: _Document) -> None:
        source = doc.source
        name = source.get("name") or tr("(unnamed source)")
        creator = self.reader.coder(guid_attr(source, "creatingUser"))
        sid = self.study_for(guid_attr(source), name, creator)
        did = new_id()
        text, selections = self.read_selections(doc.text, doc.selections, name)
        self.reader.refs[guid_attr(source) or did] = did
        if doc.original is not None:
            sha = hashlib.sha256(doc.original).hexdigest()
            self.result.originals[sha] = doc.original
        else:
            sha = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
        self.result.documents.append(
            Document(
                id=did,
                study_id=sid,
                filename=name,
                media_type=doc.media_type,
                sha256=sha,
                has_original=doc.original is not None,
                text=text,
                page_starts=doc.page_starts,
                extractor=doc.extractor,
                warnings=doc.warnings or None,
                needs_ocr=not text.strip() if doc.media_type == PDF_MEDIA_TYPE else None,
                created_by=creator,
            )
        )
        for sel in selections:
            self.add_excerpt(sel, text, did, sid)

    def read_selections(self, raw: str, elements: list[ET.Element], name: str) -> tuple[str, list[_Selection]]:
        """The text of a document and its selections, their positions turned into code points of
        that text (``positions``: in the way of counting that fits them best)."""
        read = [s for s in (read_selection(self.reader, el) for el in elements) if s is not None]
        text, spans, reading = choose_offset_unit(raw, [(s.start, s.end, s.name) for s in read], self.from_cmo_desk)
        if reading.differing and reading.fitting * 2 < reading.differing:
            self.reader.skip(
                tr(
                    "The positions of {count} coded passages in \u201c{name}\u201d fit the text neither as "
                    "characters nor as UTF-16 code units; they were imported as characters and may mark the "
                    "wrong words: check them."
                ).format(count=reading.differing - reading.fitting, name=name)
            )
        for sel, (start, end) in zip(read, spans, strict=True):
            if start is None or end is None or not (0 <= start <= end <= len(text)):
                # A hand-edited or damaged file: clamping or dropping the passage would put a quote
                # on other words or lose it, so nothing of the file is imported.
                raise ImportFailed(
                    tr(
                        "{file}: the coded passage at positions {start}\u2013{end} of \u201c{name}\u201d does "
                        "not fit its text ({length} characters). The file may have been edited by hand; "
                        "nothing was imported. Export it again from the program that made it."
                    ).format(file=self.reader.label, start=sel.start, end=sel.end, name=name, length=len(text))
                )
            sel.start, sel.end = start, end
        return text, read

    def add_excerpt(self, sel: _Selection, text: str, did: str, sid: str) -> None:
        code_ids, role = self.codes_and_role(sel)
        memo_parts = [sel.description.strip()] if sel.description and sel.description.strip() else []
        eid = new_id()
        if sel.guid:
            self.reader.refs[sel.guid] = eid
        memo_parts += self.link_notes(sel, eid, sid)
        before, after = context_around(text, sel.start, sel.end)
        self.result.excerpts.append(
            Excerpt(
                id=eid,
                document_id=did,
                study_id=sid,
                start=sel.start,
                end=sel.end,
                quote=text[sel.start : sel.end],
                before=before,
                after=after,
                page=None,
                role=role,
                memo="\n\n".join(memo_parts) or None,
                owner_id=self.reader.coder(sel.creating_user),
                code_ids=tuple(code_ids),
            )
        )

    def codes_and_role(self, sel: _Selection) -> tuple[list[str], str | None]:
        reader = self.reader
        code_ids: list[str] = []
        role = None
        for g in sel.code_guids:
            if g in reader.role_codes:
                role = reader.role_codes[g]
            elif g in reader.codes and reader.codes[g] not in code_ids:
                code_ids.append(reader.codes[g])
            else:
                reader.count(tr("{count} codings referring to codes not in the codebook were not imported."))
        return code_ids, role

    def link_notes(self, sel: _Selection, eid: str, sid: str) -> list[str]:
        """Tie the excerpt to the CMOC notes it refers to; returns the other notes' texts, its memo."""
        notes = self.notes
        memo_parts: list[str] = []
        for g in sel.note_guids:
            if g in notes.cmoc:
                notes.cmoc_excerpts[g].append(eid)
                notes.cmoc_study.setdefault(g, sid)
            elif g in notes.by_guid:
                notes.used.add(g)
                if notes.by_guid[g][1].strip():
                    memo_parts.append(notes.by_guid[g][1].strip())
        return memo_parts

