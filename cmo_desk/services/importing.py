"""Bringing studies in: reference exports, full texts and CMOC spreadsheets.

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
from cmo_desk.domain.errors import (
    Cancelled,
    CmoDeskError,
    ImportFailed,
    PasswordRequired,
    ReadOnlyError,
    ValidationError,
)
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import coder_id as coder_id_for
from cmo_desk.domain.ids import new_id
from cmo_desk.domain.records import CmocStatus, CodeKind
from cmo_desk.importers.cmoc_sheet import CmocRow, QuoteLocator, read_cmoc_sheet
from cmo_desk.importers.dedupe import DuplicateIndex
from cmo_desk.importers.fulltext import ExtractedText, decode_text
from cmo_desk.importers.linking import link_files
from cmo_desk.importers.refi import sniff_refi
from cmo_desk.importers.sandbox import SafeReader
from cmo_desk.importers.references import (
    assign_labels,
    detect_format,
    parse_references,
    surname,
)
from cmo_desk.importers.textnorm import normalise_doi, normalise_title
from cmo_desk.domain.initials import initials_of
from cmo_desk.services.session import CODER_COLORS, Session, resolve_coder_name
from cmo_desk.store.project_store import UnitOfWork

ProgressCallback = Callable[[int, int], None]
CancelCallback = Callable[[], bool]

REFERENCE_EXTENSIONS = (".ris", ".bib", ".bibtex", ".biblatex", ".nbib", ".medline", ".xml",
                        ".json")
FULLTEXT_EXTENSIONS = (".pdf", ".docx", ".odt", ".txt", ".html", ".htm")
REFI_EXTENSIONS = (".qdpx", ".qdc")
#: Characters of text kept before and after an excerpt, as when a coder marks one.
EXCERPT_CONTEXT_CHARS = 40
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


@dataclass(frozen=True)
class RowProblem:
    row: int
    study: str
    message: str


@dataclass
class CmocImportSummary:
    cmocs_added: int = 0
    excerpts_added: int = 0
    #: coder name -> CMOCs added for them
    by_coder: dict[str, int] = field(default_factory=dict)
    codes_created: list[str] = field(default_factory=list)
    unmatched_rows: list[RowProblem] = field(default_factory=list)
    quotes_not_found: list[RowProblem] = field(default_factory=list)
    duplicate_rows: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows_read: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "cmocs_added": self.cmocs_added,
            "excerpts_added": self.excerpts_added,
            "by_coder": self.by_coder,
            "codes_created": self.codes_created,
            "unmatched_rows": [asdict(p) for p in self.unmatched_rows],
            "quotes_not_found": [asdict(p) for p in self.quotes_not_found],
            "duplicate_rows": [asdict(p) for p in self.duplicate_rows],
            "warnings": self.warnings,
            "rows_read": self.rows_read,
        }


# -- finding files -------------------------------------------------------------------------------


def _check_writable(session: Session) -> None:
    """Refuse before reading any file, not after minutes of extracting text."""
    if session.read_only:
        raise ReadOnlyError(session.store.read_only_reason or tr(
            "This project is open read-only, so nothing can be imported into it. Close the other "
            "desk that has it open, then try again."))


def _check_cancel(cancel: CancelCallback | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled(tr("Import cancelled; nothing was written."))


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
    return detect_format(text.lstrip("\ufeff").replace("\r\n", "\n"), "") in ("medline", "ris")


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in REFI_EXTENSIONS or (suffix not in FULLTEXT_EXTENSIONS and sniff_refi(path)):
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
    they were not given are listed in ``passwords_needed`` (and in ``errors``)."""
    _check_writable(session)
    summary = ImportSummary()
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
            elif kind == "refi" and path == given:
                summary.errors[name] = tr(
                    "{name} is a REFI-QDA project: import it on its own with "
                    "'cmo-desk import PROJECT {name}'.").format(name=name)
            elif path == given:
                summary.errors[name] = tr(
                    "{name}: this kind of file cannot be imported. Import reference exports "
                    "(RIS, BibTeX, MEDLINE, EndNote XML, CSL-JSON) or full texts (PDF, DOCX, "
                    "ODT, TXT, HTML).").format(name=name)
            else:
                summary.skipped.append(name)
    total = len(references) + len(fulltexts)
    if total == 0:
        if summary.errors:
            raise ImportFailed(next(iter(summary.errors.values())))
        raise ImportFailed(tr(
            "No files to import were found. Give reference exports (RIS, BibTeX, MEDLINE, "
            "EndNote XML, CSL-JSON) or full texts (PDF, DOCX, ODT, TXT, HTML), or a folder "
            "holding them."))
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total + 1)

    store = session.store
    existing = [s for s in store.list("study") if not s.merged_into]
    labels: dict[str, str] = {s.id: s.label or "" for s in existing}

    # References: parse all, then drop duplicates within the import and against the project.
    index = DuplicateIndex(existing)
    citations = {_citation_key(s): s.id for s in existing}
    new_studies: list[rec.Study] = []
    existing_by_id = {s.id: s for s in existing}
    new_by_id: dict[str, int] = {}
    #: study id -> identifiers to add to a study already in the project
    identifier_updates: dict[str, dict[str, str]] = {}
    for name, path in references:
        _check_cancel(cancel)
        try:
            parsed = parse_references(path)
        except CmoDeskError as err:
            summary.errors[name] = str(err)
            step()
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
                _copy_identifiers(study, match, new_studies, new_by_id, existing_by_id,
                                  identifier_updates, index)
                continue
            index.add(study)
            citations.setdefault(citation, study.id)
            new_by_id[study.id] = len(new_studies)
            new_studies.append(study)
        del parsed  # its records are in new_studies or skipped: not held twice while writing
        step()
    # The duplicate keys are no longer needed; seventy thousand references' keys are not kept
    # while the studies are written.
    del index, citations, existing_by_id
    new_studies = assign_labels(new_studies, taken=[s.label for s in existing if s.label])
    labels.update({s.id: s.label or "" for s in new_studies})
    summary.duplicate_references = [replace(d, study_label=labels.get(d.study_id or ""))
                                     for d in summary.duplicate_references]

    # Full texts: extract every file before anything is written.
    known_hashes = {d.sha256: d for d in store.list("document", columns=("sha256", "study_id"))
                    if d.sha256}
    extracted: list[tuple[str, ExtractedText]] = []
    source_of: dict[str, Path] = {}
    seen_hashes: dict[str, str] = {}
    # Each file is read in a child process with memory and time limits: a crafted file that
    # would exhaust memory or crash the PDF engine is refused, and the desk keeps running.
    with SafeReader() as reader:
        for name, path in fulltexts:
            _check_cancel(cancel)
            try:
                text = reader.read(path, password=(passwords or {}).get(name, password),
                                   cancel=cancel)
            except Cancelled:
                raise
            except PasswordRequired as err:
                summary.errors[name] = str(err)
                summary.passwords_needed.append(name)
                step()
                continue
            except CmoDeskError as err:
                summary.errors[name] = str(err)
                step()
                continue
            except Exception as err:  # noqa: BLE001 - one unreadable file must not stop the others
                summary.errors[name] = tr(
                    "{name} could not be read ({detail}). Check the file or save it again."
                ).format(name=Path(name).name, detail=type(err).__name__)
                step()
                continue
            summary.files_read += 1
            step()
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
            extracted.append((name, text))
            source_of[name] = path

    if summary.files_read == 0:
        failure = ImportFailed(next(iter(summary.errors.values())))
        failure.summary = summary  # type: ignore[attr-defined]  # which files need a password
        raise failure
    _check_cancel(cancel)

    decisions = link_files(extracted, [
        s if _distinctive_title(s.title) else replace(s, title=None)
        for s in [*existing, *new_studies]]) if extracted else []
    taken_labels = {label.casefold() for label in labels.values() if label}
    file_studies: list[rec.Study] = []
    document_study: list[str] = []
    accepted = dict(accept_links or {})
    known_ids = set(labels)
    for (name, text), decision in zip(extracted, decisions):
        study_id = decision.study_id
        if study_id is None and accepted.get(name) in known_ids:
            study_id = accepted[name]
            decision = replace(decision, study_id=study_id, how="confirmed")
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
        summary.linked.append(LinkedFile(name, study_id, labels.get(study_id, ""), decision.how))

    summary.identifiers_added = [
        (labels.get(sid, ""), key, value) for sid, values in identifier_updates.items()
        for key, value in values.items()]
    if dry_run:
        summary.dry_run = True
        return summary
    studies_added = len(new_studies) + len(file_studies)
    # Written in order and let go as written: once its changes are in the unit of work a study
    # is not needed again, so the studies are not held beside their changes.
    to_write = [*reversed(file_studies), *reversed(new_studies)]
    del new_studies, file_studies
    with session.write(need_coder=False) as uow:
        while to_write:
            study = to_write.pop()
            values = {k: getattr(study, k) for k in _STUDY_FIELDS}
            uow.create("study", {**values, "created_by": session.coder_id}, id=study.id)
        for study_id, values in identifier_updates.items():
            if study_id not in new_by_id:  # new studies were written with them
                uow.update("study", study_id, values)
        for (name, text), study_id in zip(extracted, document_study):
            sha = uow.put_blob(_original_bytes(source_of[name], name, text.sha256))
            uow.create("document", {
                "study_id": study_id, "filename": Path(name).name, "media_type": text.media_type,
                "sha256": sha, "has_original": True, "text": text.text,
                "page_starts": list(text.page_starts), "extractor": text.extractor,
                "warnings": list(text.warnings) or None, "needs_ocr": text.needs_ocr,
                "created_by": session.coder_id})
    summary.studies_added = studies_added
    summary.documents_added = len(extracted)
    if progress:
        progress(total + 1, total + 1)
    return summary


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
    return target.suffix.lower() in REFI_EXTENSIONS or (target.is_file() and sniff_refi(target) is not None)


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


# -- CMOC spreadsheets ----------------------------------------------------------------------------


class _StudyFinder:
    """Finds the study a spreadsheet row names: by label, DOI, or exact or normalised title."""

    def __init__(self, studies: list[rec.Study]) -> None:
        self.by_label: dict[str, set[str]] = {}
        self.by_doi: dict[str, set[str]] = {}
        self.by_title: dict[str, set[str]] = {}
        self.by_norm_title: dict[str, set[str]] = {}
        for s in studies:
            if s.label:
                self.by_label.setdefault(_fold(s.label), set()).add(s.id)
            doi = normalise_doi(s.doi)
            if doi:
                self.by_doi.setdefault(doi, set()).add(s.id)
            if s.title:
                self.by_title.setdefault(_fold(s.title), set()).add(s.id)
                key = normalise_title(s.title)
                if key:
                    self.by_norm_title.setdefault(key, set()).add(s.id)

    def find(self, text: str) -> tuple[str | None, str | None]:
        """(study id, None) or (None, why no single study was found)."""
        doi = normalise_doi(text) if "10." in text else None
        for table, key in ((self.by_label, _fold(text)), (self.by_doi, doi),
                           (self.by_title, _fold(text)),
                           (self.by_norm_title, normalise_title(text))):
            found = table.get(key) if key else None
            if found and len(found) == 1:
                return next(iter(found)), None
            if found:
                return None, tr("'{study}' names {count} studies; use the study's label or DOI."
                                ).format(study=text, count=len(found))
        return None, tr("No study matches '{study}'. Use a study's label, DOI or title "
                        "(see 'cmo-desk info').").format(study=text)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class _PlannedCmoc:
    row: CmocRow
    study_id: str
    coder_name: str
    values: dict[str, Any]
    code_names: list[str]
    excerpt: dict[str, Any] | None


def import_cmoc_sheet(
    session: Session,
    path: str | os.PathLike[str],
    coder: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
) -> CmocImportSummary:
    """CMOCs from a spreadsheet, one per row, owned by the row's ``coder`` (else ``coder``, else the
    session's coder). A quote found in the study's text becomes an anchored excerpt linked to the
    CMOC; one not found is kept in the CMOC's memo and reported. Unknown codes are created (kind
    "other") and reported; rows naming no single study are reported and skipped. Everything is
    written in one unit of work."""
    _check_writable(session)
    rows, warnings = read_cmoc_sheet(path)
    summary = CmocImportSummary(warnings=list(warnings), rows_read=len(rows))
    if not rows:
        raise ImportFailed(tr("{name} has no CMOC rows. Add one row per CMOC under the header."
                              ).format(name=Path(path).name))
    default_coder = (resolve_coder_name(coder) if coder else None) or session.coder_name
    store = session.store
    studies = [s for s in store.list("study") if not s.merged_into]
    labels = {s.id: s.label or "" for s in studies}
    finder = _StudyFinder(studies)
    documents: dict[str, list[rec.Document]] = {}
    for doc in store.list("document"):
        if doc.study_id and doc.text:
            documents.setdefault(doc.study_id, []).append(doc)
    locators: dict[str, QuoteLocator] = {}
    codes = {_fold(c.name): c.id for c in store.list("code") if c.name and not c.merged_into}
    existing_keys = {_cmoc_key(c.study_id, c.owner_id, asdict(c)) for c in store.list("cmoc")}
    submitted = {(a["study_id"], a["coder_id"]) for a in store.links("assignment")
                 if a["status"] == rec.AssignmentStatus.SUBMITTED.value}

    planned: list[_PlannedCmoc] = []
    for number, row in enumerate(rows, start=1):
        _check_cancel(cancel)
        if progress:
            progress(number, len(rows) + 1)
        study_id, problem = finder.find(row.study)
        if study_id is None:
            summary.unmatched_rows.append(RowProblem(row.row_number, row.study, problem or ""))
            continue
        coder_name = resolve_coder_name(row.coder) if row.coder else default_coder
        if not coder_name:
            raise ValidationError(tr(
                "Who extracted these CMOCs? Add a 'coder' column or give --coder NAME."))
        owner = coder_id_for(coder_name)
        if (study_id, owner) in submitted:
            summary.unmatched_rows.append(RowProblem(row.row_number, row.study, tr(
                "{coder} submitted this study, so their coding of it is locked. Ask the "
                "coordinator to reopen it.").format(coder=coder_name)))
            continue
        values = {k: getattr(row, k) for k in ("context", "mechanism_resource",
                                               "mechanism_reasoning", "outcome", "statement")}
        key = _cmoc_key(study_id, owner, values)
        if key in existing_keys:
            summary.duplicate_rows.append(RowProblem(row.row_number, row.study, tr(
                "{coder} already has this CMOC for {study}; skipped.").format(
                coder=coder_name, study=labels[study_id])))
            continue
        existing_keys.add(key)
        excerpt = None
        if row.quote:
            excerpt = _place_quote(row, documents.get(study_id, []), locators, owner)
            if excerpt is None:
                summary.quotes_not_found.append(RowProblem(row.row_number, row.study, tr(
                    "The quote was not found in the text of {study}; it is kept in the CMOC's "
                    "memo.").format(study=labels[study_id])))
                page = tr(" (page {page})").format(page=row.page) if row.page else ""
                values["memo"] = tr("Quote from the spreadsheet, not found in the text{page}: "
                                    "{quote}").format(page=page, quote=row.quote)
        planned.append(_PlannedCmoc(row, study_id, coder_name, values, row.codes, excerpt))
    _check_cancel(cancel)

    if planned:
        _write_cmocs(session, planned, codes, summary)
    if progress:
        progress(len(rows) + 1, len(rows) + 1)
    return summary


def _cmoc_key(study_id: str | None, owner_id: str | None, values: dict[str, Any]) -> tuple[Any, ...]:
    slots = ("context", "mechanism_resource", "mechanism_reasoning", "outcome", "statement")
    return (study_id, owner_id, *(_fold(values.get(k) or "") for k in slots))


def _place_quote(row: CmocRow, docs: list[rec.Document], locators: dict[str, QuoteLocator],
                 owner: str) -> dict[str, Any] | None:
    for doc in docs:
        text = doc.text or ""
        locator = locators.get(doc.id)
        if locator is None:
            locator = locators[doc.id] = QuoteLocator(text)
        span = locator.locate(row.quote or "", row.page, doc.page_starts)
        if span is None:
            continue
        start, end = span
        return {
            "document_id": doc.id, "study_id": doc.study_id, "start": start, "end": end,
            "quote": text[start:end],
            "before": text[max(0, start - EXCERPT_CONTEXT_CHARS):start],
            "after": text[end:end + EXCERPT_CONTEXT_CHARS],
            "page": doc.page_at(start), "role": None, "owner_id": owner,
        }
    return None


def _ensure_coder(uow: UnitOfWork, name: str, known: int) -> tuple[str, bool]:
    """The coder's id, creating their record when this project has not met them yet."""
    cid = coder_id_for(name)
    if uow.current("coder", cid) is not None:
        return cid, False
    uow.create("coder", {"name": name, "initials": initials_of(name),
                         "color": CODER_COLORS[known % len(CODER_COLORS)]}, id=cid)
    return cid, True


def _write_cmocs(session: Session, planned: list[_PlannedCmoc], codes: dict[str, str],
                 summary: CmocImportSummary) -> None:
    store = session.store
    order: dict[tuple[str, str], int] = {}
    coders_known = len(store.list("coder", include_deleted=True))
    code_count = store.count("code")
    # One transaction for every coder: the change log still names who owns what, because each
    # coder's records are written under their own id.
    with session.write(need_coder=False) as uow:
        for item in planned:
            owner, created = _ensure_coder(uow, item.coder_name, coders_known)
            coders_known += created
            uow.coder_id = owner
            code_ids = []
            for name in item.code_names:
                key = _fold(name)
                if key not in codes:
                    code_count += 1
                    codes[key] = uow.create("code", {
                        "name": " ".join(name.split()), "kind": CodeKind.OTHER.value,
                        "sort_order": code_count, "created_by": owner})
                    summary.codes_created.append(" ".join(name.split()))
                code_ids.append(codes[key])
            slot_key = (item.study_id, owner)
            if slot_key not in order:
                order[slot_key] = store.count("cmoc", study_id=item.study_id, owner_id=owner)
            order[slot_key] += 1
            cmoc_id = uow.create("cmoc", {
                "status": CmocStatus.DRAFT.value, "sort_order": order[slot_key],
                **{k: v for k, v in item.values.items() if v is not None},
                "study_id": item.study_id, "owner_id": owner})
            if item.excerpt is not None:
                excerpt_id = uow.create("excerpt", item.excerpt)
                uow.link("cmoc_excerpt", cmoc_id=cmoc_id, excerpt_id=excerpt_id, slot=None)
                summary.excerpts_added += 1
            for code_id in dict.fromkeys(code_ids):
                uow.link("cmoc_code", cmoc_id=cmoc_id, code_id=code_id)
            summary.cmocs_added += 1
            summary.by_coder[item.coder_name] = summary.by_coder.get(item.coder_name, 0) + 1
        uow.coder_id = session.coder_id
