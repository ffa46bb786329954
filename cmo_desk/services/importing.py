"""Bringing studies in: reference exports and full texts (CMOC spreadsheets: ``cmoc_import``).

Each import reads and checks everything first and then writes in one unit of work, so a failure
or a cancel leaves the project as it was. The functions take ``progress(done, total)`` and
``cancel() -> bool`` callbacks and never touch Qt: the desk runs them on a worker thread that opens
its own Session.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cmo_desk.domain import records as rec
from cmo_desk.domain.cancel import check_import_cancel
from cmo_desk.domain.errors import (
    Cancelled,
    CmoDeskError,
    ImportFailed,
    PasswordRequired,
    ReadOnlyError,
)
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import EntityType, new_id
from cmo_desk.importers.dedupe import DuplicateIndex
from cmo_desk.importers.fulltext import ExtractedText, decode_text
from cmo_desk.importers.linking import link_files
from cmo_desk.importers.sandbox import ReaderPool
from cmo_desk.importers.textnorm import normalise_doi, normalise_title
from cmo_desk.services.session import Session

ProgressCallback = Callable[[int, int], None]
CancelCallback = Callable[[], bool]

REFERENCE_EXTENSIONS = (".ris", ".bib", ".bibtex", ".biblatex", ".nbib", ".medline", ".xml",
                        ".json")
FULLTEXT_EXTENSIONS = (".pdf", ".docx", ".odt", ".txt", ".html", ".htm")
REFI_EXTENSIONS = (".qdpx", ".qdc")
#: Study fields copied from a parsed reference.
_STUDY_FIELDS = tuple(f.name for f in fields(rec.Study)
                      if f.name not in ("id", "deleted", "created_by", "merged_into"))


# -- summaries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedFile:
    file: str
    study_id: str
    study_label: str
    #: "doi", "title", "confirmed" (a proposed link the user accepted) or "new" (a study made
    #: from the file)
    how: str


@dataclass(frozen=True)
class ProposedLink:
    """A study a file may belong to that was not linked automatically: the file went to a study of
    its own. Pass ``{file: study_id}`` as ``accept_links`` to link it instead."""

    file: str
    study_id: str
    study_label: str
    #: Why the link was not made automatically (titles differ, year or first author not found...).
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Duplicate:
    file: str
    #: What was skipped: a reference's title, or the file name.
    item: str
    study_id: str | None
    study_label: str | None


@dataclass
class ImportSummary:
    studies_added: int = 0
    documents_added: int = 0
    duplicate_references: list[Duplicate] = field(default_factory=list)
    duplicate_files: list[Duplicate] = field(default_factory=list)
    linked: list[LinkedFile] = field(default_factory=list)
    #: Links to confirm: files that resemble a study but lacked the evidence to be linked.
    proposed_links: list[ProposedLink] = field(default_factory=list)
    #: Identifiers (PMID, DOI) copied from a skipped duplicate onto the study it duplicates:
    #: (study label, field, value).
    identifiers_added: list[tuple[str, str, str]] = field(default_factory=list)
    #: True when nothing was written (a dry run to review the proposed links first).
    dry_run: bool = False
    #: Encrypted PDFs that need a password they were not given (also in ``errors``).
    passwords_needed: list[str] = field(default_factory=list)
    #: file -> warnings about it (records skipped, pages without text, no text layer...)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    #: file -> why it was not imported
    errors: dict[str, str] = field(default_factory=dict)
    #: files in the given folders that are not of a kind this import reads
    skipped: list[str] = field(default_factory=list)
    #: reference file -> (records read, records found in the file)
    records: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: documents imported without a text layer
    needs_ocr: list[str] = field(default_factory=list)
    files_read: int = 0

    @property
    def duplicates_skipped(self) -> int:
        return len(self.duplicate_references) + len(self.duplicate_files)

    def warn(self, file: str, message: str) -> None:
        self.warnings.setdefault(file, []).append(message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "studies_added": self.studies_added,
            "documents_added": self.documents_added,
            "duplicates_skipped": self.duplicates_skipped,
            "duplicate_references": [asdict(d) for d in self.duplicate_references],
            "duplicate_files": [asdict(d) for d in self.duplicate_files],
            "linked": [asdict(link) for link in self.linked],
            "proposed_links": [asdict(p) for p in self.proposed_links],
            "identifiers_added": [list(i) for i in self.identifiers_added],
            "dry_run": self.dry_run,
            "passwords_needed": self.passwords_needed,
            "warnings": self.warnings,
            "errors": self.errors,
            "skipped": self.skipped,
            "records": {k: list(v) for k, v in self.records.items()},
            "needs_ocr": self.needs_ocr,
            "files_read": self.files_read,
        }


# -- finding files -------------------------------------------------------------------------------


def check_writable(session: Session) -> None:
    """Refuse before reading any file, not after minutes of extracting text."""
    if session.read_only:
        raise ReadOnlyError(session.store.read_only_reason or tr(
            "This project is open read-only, so nothing can be imported into it. Close the other "
            "desk that has it open, then try again."))


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$")


def _walk(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _is_hidden(d))
        found.extend(Path(root) / name for name in sorted(files) if not _is_hidden(name))
    return found


def _looks_like_references(path: Path) -> bool:
    """A .txt file is a reference export when it reads as MEDLINE or RIS; otherwise a full text."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError:
        return False
    text, _ = decode_text(head, path.name)
    from cmo_desk.importers.references import detect_format  # (not for a folder of PDFs)

    return detect_format(text.lstrip("\ufeff").replace("\r\n", "\n"), "") in ("medline", "ris")


def _sniff_refi(path: Path) -> str | None:
    """``sniff_refi``, whose package (the whole REFI-QDA reader) loads only when a file may be
    a REFI-QDA project: not for a folder of PDFs."""
    from cmo_desk.importers.refi import sniff_refi

    return sniff_refi(path)


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in REFI_EXTENSIONS or (suffix not in FULLTEXT_EXTENSIONS and _sniff_refi(path)):
        return "refi"
    if suffix == ".txt":
        return "references" if _looks_like_references(path) else "fulltext"
    if suffix in REFERENCE_EXTENSIONS:
        return "references"
    if suffix in FULLTEXT_EXTENSIONS:
        return "fulltext"
    return None


def _display(path: Path, given: Path) -> str:
    """A file's name as the user will recognise it: relative to the folder they gave."""
    if path == given:
        return str(given)
    try:
        return str(path.relative_to(given.parent))
    except ValueError:
        return str(path)


# -- importing references and full texts ----------------------------------------------------------


def import_paths(
    session: Session,
    paths: Iterable[str | os.PathLike[str]],
    password: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
    accept_links: Mapping[str, str] | None = None,
    dry_run: bool = False,
    passwords: Mapping[str, str] | None = None,
    reader: ReaderPool | None = None,
) -> ImportSummary:
    """Import reference exports and full texts (files, or folders walked in name order).

    References become studies (duplicates within the import and against the project skipped; a
    skipped duplicate's PMID or DOI is copied onto the study it duplicates when that has none);
    full texts become documents linked to a study by DOI, or by title when the year and first
    author agree too, else to a new study made from the file, with any resembling study listed in
    ``proposed_links``. ``accept_links`` ({file: study id}, files named as in the summary) links
    proposed files to the given studies; ``dry_run`` reads and decides everything and writes
    nothing, so the proposals can be shown first. Nothing is written until every file has been
    read; a bad file is reported in the summary and does not stop the others. Raises ImportFailed
    when no file could be read, Cancelled when ``cancel()`` returns True.

    PDFs are opened without a password first; ``passwords`` ({file: password}, files named as in
    the summary) gives one per file, ``password`` one for the rest. Files that need a password
    they were not given are listed in ``passwords_needed`` (and in ``errors``).

    ``reader`` is a pool from :func:`read_ahead` already reading the full texts (closed on
    return); without it a pool is started here."""
    if reader is None:
        reader = ReaderPool()
    with reader:
        return _import_paths(session, paths, password, progress, cancel, accept_links, dry_run,
                             passwords, reader)


def read_ahead(paths: Iterable[str | os.PathLike[str]], password: str | None = None,
               passwords: Mapping[str, str] | None = None,
               reader: ReaderPool | None = None) -> ReaderPool:
    """Start reading the full texts among ``paths`` (as :func:`import_paths` finds them) before
    the project is open, in ``reader`` or a new pool; pass the pool to :func:`import_paths` with
    the same paths and passwords. Nothing is decided here: every failure is reported by the
    import."""
    pool = reader if reader is not None else ReaderPool()
    try:
        _, fulltexts = _sort_files(paths, ImportSummary())
    except ImportFailed:
        return pool
    pool.prefetch((path, _password_for(name, password, passwords)) for name, path in fulltexts)
    return pool


def _password_for(name: str, password: str | None, passwords: Mapping[str, str] | None) -> str | None:
    return (passwords or {}).get(name, password)


def _import_paths(session: Session, paths: Iterable[str | os.PathLike[str]], password: str | None,
                  progress: ProgressCallback | None, cancel: CancelCallback | None,
                  accept_links: Mapping[str, str] | None, dry_run: bool,
                  passwords: Mapping[str, str] | None, reader: ReaderPool) -> ImportSummary:
    check_writable(session)
    summary = ImportSummary()
    references, fulltexts = _sort_files(paths, summary)
    steps = _Steps(len(references) + len(fulltexts), progress)
    existing = [s for s in session.store.list("study") if not s.merged_into]
    labels: dict[str, str] = {s.id: s.label or "" for s in existing}

    found = _read_references(references, existing, summary, steps, cancel)
    labels.update({s.id: s.label or "" for s in found.studies})
    summary.duplicate_references = [replace(d, study_label=labels.get(d.study_id or ""))
                                    for d in summary.duplicate_references]
    from cmo_desk.store.unit_of_work import writing_ahead  # (the store is open by now)

    with writing_ahead() as ahead:
        return _import_texts(session, fulltexts, existing, found, labels, summary, steps, cancel,
                             password, passwords, accept_links, dry_run, reader,
                             None if dry_run else ahead)


def _import_texts(session: Session, fulltexts: list[tuple[str, Path]], existing: list[rec.Study],
                  found: _FoundStudies, labels: dict[str, str], summary: ImportSummary,
                  steps: _Steps, cancel: CancelCallback | None, password: str | None,
                  passwords: Mapping[str, str] | None, accept_links: Mapping[str, str] | None,
                  dry_run: bool, reader: ReaderPool,
                  ahead: Callable[[EntityType, Mapping[str, Any]], None] | None) -> ImportSummary:
    """The full texts read, linked and, with the studies found, written. ``ahead`` does the
    work of writing each text (``writing_ahead``) as it arrives, while the others are still
    being read (None: a dry run writes none)."""
    texts = _read_fulltexts(fulltexts, session, labels, summary, steps, cancel,
                            lambda name: _password_for(name, password, passwords), reader, ahead)
    if summary.files_read == 0:
        failure = ImportFailed(next(iter(summary.errors.values())))
        failure.summary = summary  # type: ignore[attr-defined]  # which files need a password
        raise failure
    check_import_cancel(cancel)

    file_studies, document_study = _link_texts(texts, [*existing, *found.studies], labels,
                                               accept_links or {}, summary)
    summary.identifiers_added = [
        (labels.get(sid, ""), key, value) for sid, values in found.identifier_updates.items()
        for key, value in values.items()]
    if dry_run:
        summary.dry_run = True
        return summary
    summary.studies_added = len(found.studies) + len(file_studies)
    # Written in order and let go as written: once its changes are in the unit of work a study
    # is not needed again, so the studies are not held beside their changes.
    to_write = [*reversed(file_studies), *reversed(found.studies)]
    found.studies.clear()
    file_studies.clear()
    _write_import(session, to_write, found, texts, document_study)
    summary.documents_added = len(texts.extracted)
    steps.finish()
    return summary


class _Steps:
    """Progress over the files read, with one more step for writing."""

    def __init__(self, files: int, progress: ProgressCallback | None) -> None:
        self.total, self.done, self.progress = files + 1, 0, progress

    def step(self) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total)

    def finish(self) -> None:
        if self.progress:
            self.progress(self.total, self.total)


def _sort_files(paths: Iterable[str | os.PathLike[str]],
                summary: ImportSummary) -> tuple[list[tuple[str, Path]], list[tuple[str, Path]]]:
    """(reference files, full texts), each as (name shown to the user, path); files of no kind
    this import reads are skipped (in a folder) or an error (given by name). Raises ImportFailed
    when nothing is left to import."""
    references: list[tuple[str, Path]] = []
    fulltexts: list[tuple[str, Path]] = []
    for given in (Path(p) for p in paths):
        if given.is_dir():
            members = [(_display(p, given), p) for p in _walk(given)]
        elif given.exists():
            members = [(str(given), given)]
        else:
            summary.errors[str(given)] = tr(
                "{name} does not exist. Check the path and try again.").format(name=given)
            continue
        for name, path in members:
            kind = _kind(path)
            if kind == "references":
                references.append((name, path))
            elif kind == "fulltext":
                fulltexts.append((name, path))
            elif path == given:
                summary.errors[name] = _unreadable_kind(name, kind)
            else:
                summary.skipped.append(name)
    if not references and not fulltexts:
        if summary.errors:
            raise ImportFailed(next(iter(summary.errors.values())))
        raise ImportFailed(tr(
            "No files to import were found. Give reference exports (RIS, BibTeX, MEDLINE, "
            "EndNote XML, CSL-JSON) or full texts (PDF, DOCX, ODT, TXT, HTML), or a folder "
            "holding them."))
    return references, fulltexts


def _unreadable_kind(name: str, kind: str | None) -> str:
    if kind == "refi":
        return tr("{name} is a REFI-QDA project: import it on its own with "
                  "'cmo-desk import PROJECT {name}'.").format(name=name)
    return tr("{name}: this kind of file cannot be imported. Import reference exports "
              "(RIS, BibTeX, MEDLINE, EndNote XML, CSL-JSON) or full texts (PDF, DOCX, "
              "ODT, TXT, HTML).").format(name=name)


@dataclass
class _FoundStudies:
    """The studies new to the project that the reference files hold, labelled."""

    studies: list[rec.Study] = field(default_factory=list)
    #: new study id -> its place in ``studies``
    index_of: dict[str, int] = field(default_factory=dict)
    #: study id -> identifiers (PMID, DOI) a skipped duplicate gave it
    identifier_updates: dict[str, dict[str, str]] = field(default_factory=dict)


def _read_references(references: list[tuple[str, Path]], existing: list[rec.Study],
                     summary: ImportSummary, steps: _Steps,
                     cancel: CancelCallback | None) -> _FoundStudies:
    """Parse every reference file, then drop duplicates within the import and against the
    project. The duplicate keys are let go on return: seventy thousand references' keys are not
    kept while the studies are written."""
    if not references:  # full texts only: the project's studies need no keys
        return _FoundStudies()
    from cmo_desk.importers.references import assign_labels, parse_references

    index = DuplicateIndex(existing)
    citations = {_citation_key(s): s.id for s in existing}
    existing_by_id = {s.id: s for s in existing}
    found = _FoundStudies()
    for name, path in references:
        check_import_cancel(cancel)
        try:
            parsed = parse_references(path)
        except CmoDeskError as err:
            summary.errors[name] = str(err)
            steps.step()
            continue
        summary.files_read += 1
        summary.records[name] = (len(parsed.records), max(parsed.found, len(parsed.records)))
        for warning in parsed.warnings:
            summary.warn(name, warning)
        for study in parsed.records:
            citation = _citation_key(study)
            match = index.find(study) or citations.get(citation)
            if match is not None:
                summary.duplicate_references.append(Duplicate(
                    name, study.title or study.label or "", match, None))
                _copy_identifiers(study, match, found.studies, found.index_of, existing_by_id,
                                  found.identifier_updates, index)
                continue
            index.add(study)
            citations.setdefault(citation, study.id)
            found.index_of[study.id] = len(found.studies)
            found.studies.append(study)
        del parsed  # its records are in the found studies or skipped: not held twice
        steps.step()
    found.studies[:] = assign_labels(found.studies,
                                     taken=[s.label for s in existing if s.label])
    return found


@dataclass
class _Texts:
    """Full texts extracted and not already in the project, with the files they came from."""

    extracted: list[tuple[str, ExtractedText]] = field(default_factory=list)
    source_of: dict[str, Path] = field(default_factory=dict)


def _read_fulltexts(fulltexts: list[tuple[str, Path]], session: Session, labels: dict[str, str],
                    summary: ImportSummary, steps: _Steps, cancel: CancelCallback | None,
                    password_for: Callable[[str], str | None], reader: ReaderPool,
                    ahead: Callable[[EntityType, Mapping[str, Any]], None] | None = None) -> _Texts:
    """Extract every full text before anything is written; files already in the project or
    twice in the import are reported as duplicates. ``ahead`` is handed each text to be
    written as it arrives."""
    known_hashes = {d.sha256: d for d in session.store.list(
        "document", columns=("sha256", "study_id")) if d.sha256}
    texts = _Texts()
    seen_hashes: dict[str, str] = {}
    # Each file is read in a child process with memory and time limits (two read at once): a
    # crafted file that would exhaust memory or crash the PDF engine is refused, and the desk
    # keeps running. The children stop once the last file is read, before anything is written.
    with reader:
        reader.prefetch((path, password_for(name)) for name, path in fulltexts)
        for name, path in fulltexts:
            check_import_cancel(cancel)
            text = _extract(reader, name, path, password_for(name), cancel, summary)
            steps.step()
            if text is None:
                continue
            summary.files_read += 1
            if text.sha256 in known_hashes:
                doc = known_hashes[text.sha256]
                summary.duplicate_files.append(Duplicate(
                    name, Path(name).name, doc.study_id, labels.get(doc.study_id or "")))
                continue
            if text.sha256 in seen_hashes:
                summary.duplicate_files.append(Duplicate(name, Path(name).name, None, None))
                summary.warn(name, tr("The same file as {other}; imported once.").format(
                    other=seen_hashes[text.sha256]))
                continue
            seen_hashes[text.sha256] = name
            for warning in text.warnings:
                summary.warn(name, warning)
            if text.needs_ocr:
                summary.needs_ocr.append(name)
            # The bytes are read again when written: a folder of PDFs held in memory at once would
            # not fit on an old laptop.
            texts.extracted.append((name, text))
            if ahead is not None:
                ahead("document", {"text": text.text, "page_starts": list(text.page_starts)})
            texts.source_of[name] = path
    return texts


def _extract(reader: ReaderPool, name: str, path: Path, password: str | None,
             cancel: CancelCallback | None, summary: ImportSummary) -> ExtractedText | None:
    """One file's text, or None with the reason in ``summary.errors``."""
    try:
        return reader.read(path, password=password, cancel=cancel)
    except Cancelled:
        raise
    except PasswordRequired as err:
        summary.errors[name] = str(err)
        summary.passwords_needed.append(name)
    except CmoDeskError as err:
        summary.errors[name] = str(err)
    except Exception as err:  # noqa: BLE001 - one unreadable file must not stop the others
        summary.errors[name] = tr(
            "{name} could not be read ({detail}). Check the file or save it again."
        ).format(name=Path(name).name, detail=type(err).__name__)
    return None


def _link_texts(texts: _Texts, studies: list[rec.Study], labels: dict[str, str],
                accepted: Mapping[str, str],
                summary: ImportSummary) -> tuple[list[rec.Study], list[str]]:
    """(studies made from files that matched none, the study of each extracted text)."""
    decisions = link_files(texts.extracted, [
        s if _distinctive_title(s.title) else replace(s, title=None)
        for s in studies]) if texts.extracted else []
    taken_labels = {label.casefold() for label in labels.values() if label}
    file_studies: list[rec.Study] = []
    document_study: list[str] = []
    known_ids = set(labels)
    for (name, _text), decision in zip(texts.extracted, decisions):
        study_id, how = decision.study_id, str(decision.how)
        if study_id is None and accepted.get(name) in known_ids:
            study_id, how = accepted[name], "confirmed"
        elif study_id is None and decision.proposed_study_id:
            summary.proposed_links.append(ProposedLink(
                name, decision.proposed_study_id, labels.get(decision.proposed_study_id, ""),
                tuple(decision.reasons)))
        if study_id is None:
            label = _unique_label(Path(name).stem, taken_labels)
            study = rec.Study(id=new_id(), label=label, title=decision.title, doi=decision.doi)
            file_studies.append(study)
            labels[study.id] = label
            study_id = study.id
        document_study.append(study_id)
        summary.linked.append(LinkedFile(name, study_id, labels.get(study_id, ""), how))
    return file_studies, document_study


def _write_import(session: Session, to_write: list[rec.Study], found: _FoundStudies,
                  texts: _Texts, document_study: list[str]) -> None:
    """Everything in one unit of work: the studies (popped from ``to_write`` as written), the
    identifiers copied onto studies already in the project, and the documents."""
    with session.write(need_coder=False) as uow:
        uow.prefetch("study", [s.id for s in to_write])  # (new ids: nothing is found)
        while to_write:
            study = to_write.pop()
            values = {k: getattr(study, k) for k in _STUDY_FIELDS}
            uow.create("study", {**values, "created_by": session.coder_id}, id=study.id)
        for study_id, values in found.identifier_updates.items():
            if study_id not in found.index_of:  # new studies were written with them
                uow.update("study", study_id, values)
        for (name, text), study_id in zip(texts.extracted, document_study):
            sha = uow.put_blob(_original_bytes(texts.source_of[name], name, text.sha256))
            uow.create("document", {
                "study_id": study_id, "filename": Path(name).name, "media_type": text.media_type,
                "sha256": sha, "has_original": True, "text": text.text,
                "page_starts": list(text.page_starts), "extractor": text.extractor,
                "warnings": list(text.warnings) or None, "needs_ocr": text.needs_ocr,
                "created_by": session.coder_id})


#: Titles that are section headings as much as titles: matching a file's "Introduction" line to
#: a reference called "Introduction" would link the wrong study.
_GENERIC_TITLES = frozenset(normalise_title(t) for t in (
    "introduction", "editorial", "abstract", "background", "methods", "results", "discussion",
    "conclusion", "conclusions", "references", "commentary", "letter", "letter to the editor",
    "erratum", "correction", "corrigendum", "preface", "foreword", "reply", "response",
    "book review", "news", "contents", "table of contents", "index", "acknowledgements",
    "acknowledgments", "untitled"))


def _distinctive_title(title: str | None) -> bool:
    """Whether a title says enough to link a file to its study by title alone."""
    key = normalise_title(title)
    if key in _GENERIC_TITLES:
        return False
    if any("\u2e80" <= ch <= "\uffef" for ch in key):
        return len(key) >= 6  # CJK titles carry a word in every character or two
    return len(key) >= 12 and (len((title or "").split()) >= 3 or len(key) >= 25)


_IDENTIFIERS = ("pmid", "doi")


def _copy_identifiers(duplicate: rec.Study, match: str, new_studies: list[rec.Study],
                      new_by_id: dict[str, int], existing: dict[str, rec.Study],
                      updates: dict[str, dict[str, str]], index: DuplicateIndex) -> None:
    """A skipped duplicate may carry an identifier the kept record lacks (the PubMed export has
    the PMID, the Zotero one the DOI): copy it, never overwrite one. ``updates`` collects what
    was copied, per study id."""
    if match in new_by_id:
        kept = new_studies[new_by_id[match]]
        missing = {k: getattr(duplicate, k) for k in _IDENTIFIERS
                   if getattr(duplicate, k) and not getattr(kept, k)}
        if missing:
            kept = replace(kept, **missing)
            new_studies[new_by_id[match]] = kept
            index.add(kept)
            updates.setdefault(match, {}).update(missing)
        return
    study = existing.get(match)
    if study is None:
        return
    pending = updates.setdefault(match, {})
    for key in _IDENTIFIERS:
        value = getattr(duplicate, key)
        if value and not getattr(study, key) and key not in pending:
            pending[key] = value
    if not pending:
        del updates[match]


def _original_bytes(path: Path, name: str, sha256: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as err:
        data = b""
        reason = err.strerror or str(err)
    else:
        reason = ""
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ImportFailed(tr(
            "{name} changed or disappeared while it was being imported{reason}. Nothing was "
            "written; import again.").format(name=name, reason=f" ({reason})" if reason else ""))
    return data


def _citation_key(study: rec.Study) -> bytes:
    """The whole citation, normalised. Short titles ("A Random Book", many CJK titles) give no
    title key to the duplicate index, yet the same record imported twice must still be found.

    Kept as a 16-byte digest of the normalised fields (whose text is written out unambiguously),
    not the fields themselves: seventy thousand references' keys then take a few megabytes."""
    from cmo_desk.importers.references import surname

    if not (study.title or study.authors):
        key: tuple[Any, ...] = (study.id,)
    else:
        key = (normalise_title(study.title), study.year,
               tuple(normalise_title(surname(a)) for a in study.authors or ()),
               normalise_title(study.journal), study.volume, study.issue, study.pages,
               normalise_doi(study.doi), study.pmid)
    return hashlib.blake2b(repr(key).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _unique_label(base: str, taken: set[str]) -> str:
    base = " ".join(base.replace("_", " ").split())[:60].strip() or tr("Untitled")
    label, n = base, 2
    while label.casefold() in taken:
        label = f"{base} ({n})"
        n += 1
    taken.add(label.casefold())
    return label


def is_refi_file(path: str | os.PathLike[str]) -> bool:
    """A REFI-QDA project or codebook, by its name or, whatever the name, by its content."""
    target = Path(path)
    return target.suffix.lower() in REFI_EXTENSIONS or (target.is_file() and _sniff_refi(target) is not None)


def import_refi_file(
    session: Session,
    path: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
) -> Any:
    """A REFI-QDA project (.qdpx) or codebook (.qdc), read by the REFI-QDA exchange service."""
    module_name = "cmo_desk.services.refi_exchange"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        raise ImportFailed(tr("REFI-QDA import is not available in this version")) from None
    return module.import_refi(session, Path(path), progress, cancel)
