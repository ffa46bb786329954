"""Recognising the text of a scanned document (OCR), and moving its excerpts to the new text.

A document's text is fixed once written (excerpt offsets mean nothing otherwise), so recognised
text becomes a new document of the same study, marked as recognised with a confidence per page.
The document it replaces is set aside (deleted, kept in the log). When a document that coders
already coded is recognised again, each excerpt is found again by its quote and surroundings and
moved to the new text with its codes and CMOC links; an excerpt whose quote cannot be found stays
where it was, the old document stays, and the result says how many.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cmo_desk.domain import records as rec
from cmo_desk.domain.anchoring import context_around, find_anchor
from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr, trn
from cmo_desk.domain.ids import EntityType, new_id
from cmo_desk.importers.fulltext import join_pages
from cmo_desk.importers.ocr import (
    DEFAULT_LANGUAGES,
    LANGUAGES,
    RecognisedText,
    available_languages,
    how_to_install,
    recognise_pdf,
)
from cmo_desk.importers.textnorm import clean_text
from cmo_desk.services.session import Session

#: The desk asks which languages can be read, and what to install, through this module.
__all__ = ["DEFAULT_LANGUAGES", "LANGUAGES", "RecognitionResult", "available_languages",
           "documents_needing_ocr", "how_to_install", "recognise_document"]

ProgressCallback = Callable[[int, int], None]
CancelCallback = Callable[[], bool]

#: Links that hang off an excerpt and move with it: (link type, the excerpt's field, other fields).
_EXCERPT_LINKS: tuple[tuple[EntityType, tuple[str, ...]], ...] = (
    ("excerpt_code", ("code_id",)),
    ("cmoc_excerpt", ("cmoc_id", "slot")),
    ("consensus_excerpt", ("consensus_id",)),
)
_EXCERPT_FIELDS = ("study_id", "role", "memo", "owner_id")


@dataclass
class RecognitionResult:
    document_id: str
    replaced_id: str
    pages: int
    #: Mean of the per-page confidences (0-1).
    confidence: float
    engine: str
    moved: int = 0
    #: Excerpts whose quote was not found in the recognised text (left on the old document).
    unplaced: list[str] = field(default_factory=list)
    changed: rec.Changed = field(default_factory=rec.Changed)

    def summary(self) -> str:
        line = trn("Recognised {pages} page with {engine}; mean confidence {confidence:.0%}.",
                   "Recognised {pages} pages with {engine}; mean confidence {confidence:.0%}.",
                   self.pages).format(
            pages=self.pages, engine=self.engine, confidence=self.confidence)
        if self.moved:
            line += " " + trn("{n} excerpt was found again in the new text.",
                              "{n} excerpts were found again in the new text.",
                              self.moved).format(n=self.moved)
        if self.unplaced:
            line += " " + trn("{n} excerpt could not be found in the new text and stays on the "
                              "earlier text; check it.",
                              "{n} excerpts could not be found in the new text and stay on the "
                              "earlier text; check them.", len(self.unplaced)).format(
                n=len(self.unplaced))
        return line


def documents_needing_ocr(session: Session, study_ids: list[str] | None = None) -> list[rec.Document]:
    docs: list[rec.Document] = session.store.list("document")
    return [d for d in docs if d.needs_ocr and (study_ids is None or d.study_id in study_ids)]


def recognise_document(
    session: Session,
    document_id: str,
    languages: list[str] | None = None,
    password: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
) -> RecognitionResult:
    """Recognise ``document_id``'s pages and put the text in a new document of its study.

    Nothing is written when recognition fails or is cancelled."""
    store = session.store
    doc: rec.Document | None = store.get("document", document_id)
    if doc is None:
        raise ValidationError(tr("That document is no longer in the project."))
    if doc.media_type != "application/pdf":
        raise ValidationError(tr("Only PDF files can be recognised; {name} is not a PDF.").format(
            name=doc.filename or ""))
    data = store.get_blob(doc.sha256) if doc.has_original else None
    if not data:
        raise ValidationError(tr(
            "The original file of {name} is not kept in the project, so its pages cannot be "
            "recognised. Import the PDF again.").format(name=doc.filename or ""))
    recognised = recognise_pdf(data, doc.filename or "document.pdf", languages, password,
                               progress, cancel)
    return _write(session, doc, recognised)


def _write(session: Session, doc: rec.Document, recognised: RecognisedText) -> RecognitionResult:
    pages = [clean_text(p) for p in recognised.pages]
    text, starts = join_pages(pages)
    excerpts: list[rec.Excerpt] = session.store.list("excerpt", document_id=doc.id)
    old_length = len(doc.text or "")
    placed: list[tuple[rec.Excerpt, int, int]] = []
    unplaced: list[str] = []
    for excerpt in excerpts:
        anchor = find_anchor(text, excerpt.quote or "", excerpt.before or "", excerpt.after or "",
                             excerpt.start, old_length)
        if anchor is None:
            unplaced.append(excerpt.id)
        else:
            placed.append((excerpt, anchor.start, anchor.end))

    new_doc = new_id()
    with session.write() as uow:
        uow.create("document", {
            "study_id": doc.study_id, "filename": doc.filename, "media_type": doc.media_type,
            "sha256": doc.sha256, "has_original": doc.has_original, "text": text,
            "page_starts": starts or [0], "extractor": recognised.engine,
            "warnings": list(recognised.warnings), "needs_ocr": False,
            "ocr_confidence": list(recognised.confidences), "created_by": session.coder_id,
        }, id=new_doc)
        page_of = rec.Document(id=new_doc, page_starts=starts or [0]).page_at
        for excerpt, start, end in placed:
            moved = new_id()
            before, after = context_around(text, start, end)
            uow.create("excerpt", {
                **{k: getattr(excerpt, k) for k in _EXCERPT_FIELDS},
                "document_id": new_doc, "start": start, "end": end, "quote": text[start:end],
                "before": before, "after": after, "page": page_of(start)}, id=moved)
            for link_type, others in _EXCERPT_LINKS:
                for row in session.store.links(link_type, excerpt_id=excerpt.id):
                    uow.link(link_type, excerpt_id=moved, **{k: row[k] for k in others})
                    uow.unlink(link_type, excerpt_id=excerpt.id,
                               **{k: row[k] for k in others if k != "slot"})
            uow.delete("excerpt", excerpt.id)
        if not unplaced:
            uow.delete("document", doc.id)
    confidences = recognised.confidences
    return RecognitionResult(
        document_id=new_doc, replaced_id=doc.id, pages=len(pages),
        confidence=sum(confidences) / len(confidences) if confidences else 0.0,
        engine=recognised.engine, moved=len(placed), unplaced=unplaced, changed=uow.changed)
