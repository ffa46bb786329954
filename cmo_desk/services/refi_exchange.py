"""Exchanging work with NVivo, ATLAS.ti, MAXQDA and QualCoder through REFI-QDA files.

``import_refi`` writes what ``importers.refi`` read from a ``.qdpx`` project or ``.qdc`` codebook
into an open project, in one unit of work: all of it or, on any error or a cancel, nothing.

Merging rules, so that importing a partner's file (or the same file twice) does not double up:

- Coders are matched by name (their ids derive from the name).
- A code with the same name (ignoring case and spacing) and kind as a code already in the project
  is that code: its codings go to the existing code, and gaps in the existing code's definition,
  notes and colour are filled from the file. Nothing already written is overwritten.
- A document whose text is already in the project is that document; its study is the existing one.
- A coded passage already in the project (same document, same span, same coder) gets the file's
  codes added rather than becoming a second excerpt; the same for a CMOC with the same wording.
- Memos that belong to no passage have no place of their own in a project; they are appended to
  the project's description under a heading naming the file (once, however often it is imported).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmo_desk.domain import records as rec
from cmo_desk.domain.cancel import Cancel, check_export_cancel, check_import_cancel
from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import LANGUAGES, tr
from cmo_desk.domain.schema import CMOC_SLOTS, ENTITIES
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.importers.refi import RefiImport, RefiMemo, read_qdc, read_qdpx, sniff_refi
from cmo_desk.services.session import Session, create_coder, known_coders
from cmo_desk.store.project_store import UnitOfWork

if TYPE_CHECKING:
    from cmo_desk.services.exporting import ExportResult

Progress = Callable[[int, int], None]

PROJECT_SUFFIXES: tuple[str, ...] = (".qdpx", ".zip")
CODEBOOK_SUFFIXES: tuple[str, ...] = (".qdc",)
_CODE_GAPS: tuple[str, ...] = ("definition", "include_notes", "exclude_notes", "color")


@dataclass
class RefiImportSummary:
    """What an import added, what it matched with records already in the project, what it left out."""

    path: Path
    #: "project" (.qdpx) or "codebook" (.qdc).
    kind: str
    origin: str | None = None
    coders_added: int = 0
    coders_existing: int = 0
    studies_added: int = 0
    documents_added: int = 0
    documents_existing: int = 0
    originals_kept: int = 0
    codes_added: int = 0
    codes_merged: int = 0
    excerpts_added: int = 0
    excerpts_existing: int = 0
    cmocs_added: int = 0
    cmocs_existing: int = 0
    memos_in_description: int = 0
    #: Records only CMO Desk's own files carry (programme theories, consensus CMOCs, form values,
    #: study assignments), added to the project.
    theories_added: int = 0
    consensus_added: int = 0
    form_values_added: int = 0
    assignments_added: int = 0
    #: Memos found in the project description from an earlier import of the same file.
    memos_existing: int = 0
    #: One line per thing in the file that had no place in the project.
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        name = self.path.name
        if self.kind == "codebook":
            out = [
                tr("Imported the codebook {file}: {added} new codes, {merged} merged with codes "
                   "already in the project.").format(
                    file=name, added=self.codes_added, merged=self.codes_merged)
            ]
        else:
            out = [
                tr("Imported {file}: {studies} studies, {documents} documents, {codes} new codes "
                   "({merged} merged with existing codes), {excerpts} excerpts, {cmocs} CMOCs, "
                   "{coders} new coders.").format(
                    file=name, studies=self.studies_added, documents=self.documents_added,
                    codes=self.codes_added, merged=self.codes_merged,
                    excerpts=self.excerpts_added, cmocs=self.cmocs_added,
                    coders=self.coders_added)
            ]
            already = self.documents_existing + self.excerpts_existing + self.cmocs_existing
            if already:
                out.append(
                    tr("Already in the project, not added again: {documents} documents, "
                       "{excerpts} excerpts, {cmocs} CMOCs.").format(
                        documents=self.documents_existing, excerpts=self.excerpts_existing,
                        cmocs=self.cmocs_existing)
                )
            if self.theories_added or self.consensus_added or self.form_values_added \
                    or self.assignments_added:
                out.append(
                    tr("Also added: {theories} programme theories, {consensus} consensus CMOCs, "
                       "{forms} form values, {assignments} study assignments.").format(
                        theories=self.theories_added, consensus=self.consensus_added,
                        forms=self.form_values_added, assignments=self.assignments_added)
                )
            if self.memos_in_description:
                out.append(
                    tr("Memos that belong to no passage, added to the project description: "
                       "{count}.").format(count=self.memos_in_description)
                )
            if self.memos_existing:
                out.append(
                    tr("Memos already in the project description from an earlier import: "
                       "{count}.").format(count=self.memos_existing)
                )
        if self.skipped:
            out.append(tr("Not imported ({count}):").format(count=len(self.skipped)))
            out += [f"  - {line}" for line in self.skipped]
        return out


# --- import ----------------------------------------------------------------------------------


def read_refi(path: str | os.PathLike[str]) -> tuple[RefiImport, str]:
    """Read a REFI-QDA file; returns the records and "project" or "codebook"."""
    target = Path(path)
    suffix = target.suffix.lower()
    # The content decides over the name: projects arrive as .zip, bare .qde, or without a suffix.
    sniffed = sniff_refi(target)
    if sniffed == "codebook" or (sniffed is None and suffix in CODEBOOK_SUFFIXES):
        return read_qdc(target), "codebook"
    if sniffed == "project" or suffix in PROJECT_SUFFIXES:
        return read_qdpx(target), "project"
    raise ImportFailed(
        tr("{file} is not a REFI-QDA file. Choose a project (.qdpx) or a codebook (.qdc).").format(
            file=target.name
        )
    )


def import_refi(
    session: Session,
    path: str | os.PathLike[str],
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> RefiImportSummary:
    """Import a ``.qdpx`` project or a ``.qdc`` codebook into the open project, all or nothing."""
    target = Path(path)
    check_import_cancel(cancel)
    data, kind = read_refi(target)
    check_import_cancel(cancel)
    summary = RefiImportSummary(path=target, kind=kind, origin=data.origin, skipped=list(data.skipped))
    ownerless = any(e.owner_id is None for e in data.excerpts) or any(
        c.owner_id is None for c in data.cmocs
    )
    writer = _Writer(session, data, summary, progress, cancel)
    # A coder is needed only to own passages the file does not attribute to anyone.
    with session.write(need_coder=ownerless) as uow:
        writer.run(uow)
    return summary


def _name_key(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


def _text_key(text: str | None) -> str:
    return hashlib.sha256((text or "").encode("utf-8", "replace")).hexdigest()


def _values(record: rec.Record, etype: str, **override: Any) -> dict[str, Any]:
    """The record's stored fields (not its id or links), without empty ones."""
    names = ENTITIES[etype].field_names
    values = {k: v for k, v in asdict(record).items() if k in names and v is not None}
    values.update(override)
    return values


class _Writer:
    def __init__(
        self,
        session: Session,
        data: RefiImport,
        summary: RefiImportSummary,
        progress: Progress | None,
        cancel: Cancel | None,
    ) -> None:
        self.session = session
        self.store = session.store
        self.data = data
        self.summary = summary
        self.progress = progress
        self.cancel = cancel
        self.total = (
            len(data.coders) + len(data.codes) + len(data.documents) + len(data.excerpts)
            + len(data.cmocs) + len(data.memos) + len(data.theories) + len(data.consensus)
            + len(data.form_values) + len(data.assignments)
        )
        self.done = 0
        self.code_map: dict[str, str] = {}
        self.study_map: dict[str, str] = {}
        self.document_map: dict[str, str] = {}
        self.excerpt_map: dict[str, str] = {}
        self.document_pages: dict[str, rec.Document] = {}
        self.cmoc_map: dict[str, str] = {}
        self.theory_map: dict[str, str] = {}

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.done % 200 == 0 or self.done >= self.total:
            check_import_cancel(self.cancel)
            if self.progress is not None:
                self.progress(min(self.done, self.total), self.total)

    def run(self, uow: UnitOfWork) -> None:
        if self.progress is not None:
            self.progress(0, self.total)
        self.coders(uow)
        self.codes(uow)
        self.documents(uow)
        self.excerpts(uow)
        self.other_studies(uow)
        self.theories(uow)
        self.cmocs(uow)
        self.consensus(uow)
        self.study_forms(uow)
        self.memos(uow)
        check_import_cancel(self.cancel)
        if self.progress is not None:
            self.progress(self.total, self.total)

    # coders

    def coders(self, uow: UnitOfWork) -> None:
        count = known_coders(self.store)
        for coder in self.data.coders:
            current = uow.current("coder", coder.id)
            if current is None:
                create_coder(uow, coder.name, count, coder_id=coder.id,
                             initials=coder.initials, color=coder.color, role=coder.role)
                count += 1
                self.summary.coders_added += 1
            else:
                if current["deleted"]:
                    uow.restore("coder", coder.id)
                self.summary.coders_existing += 1
            self.step()

    # codes

    def codes(self, uow: UnitOfWork) -> None:
        existing = [c for c in self.store.list("code") if not c.merged_into]
        by_key: dict[tuple[str, str], list[rec.Code]] = {}
        for code in existing:
            by_key.setdefault((_name_key(code.name), code.kind or "other"), []).append(code)
        next_order = max((c.sort_order or 0 for c in existing), default=0) + 1
        created: dict[tuple[str, str, str | None], str] = {}
        for code in _parents_first(self.data.codes):
            parent = self.code_map.get(code.parent_id or "")
            key = (_name_key(code.name), code.kind or "other")
            match = self._match_code(by_key.get(key, []), parent)
            if match is None and (*key, parent) in created:
                match_id: str | None = created[(*key, parent)]
            else:
                match_id = match.id if match else None
            if match_id is not None:
                self.code_map[code.id] = match_id
                if match is not None:
                    gaps = {
                        f: getattr(code, f) for f in _CODE_GAPS
                        if getattr(code, f) and not getattr(match, f)
                    }
                    if gaps:
                        uow.update("code", match.id, gaps)
                self.summary.codes_merged += 1
            else:
                cid = uow.create(
                    "code",
                    _values(code, "code", parent_id=parent, sort_order=next_order,
                            created_by=self.session.coder_id, merged_into=None),
                    id=code.id,
                )
                next_order += 1
                created[(*key, parent)] = cid
                self.code_map[code.id] = cid
                self.summary.codes_added += 1
            self.step()

    @staticmethod
    def _match_code(candidates: list[rec.Code], parent: str | None) -> rec.Code | None:
        if not candidates:
            return None
        # A name used under two parents: the one under the same parent is the same code.
        for code in candidates:
            if code.parent_id == parent:
                return code
        return candidates[0]

    # studies and documents

    def documents(self, uow: UnitOfWork) -> None:
        known = {
            _text_key(d.text): d for d in self.store.list("document") if d.text
        }
        studies = {s.id: s for s in self.data.studies}
        for doc in self.data.documents:
            same = known.get(_text_key(doc.text)) if doc.text else None
            if same is not None:
                self.document_map[doc.id] = same.id
                self.document_pages[same.id] = same
                if doc.study_id and same.study_id:
                    self.study_map.setdefault(doc.study_id, same.study_id)
                self.summary.documents_existing += 1
                self.step()
                continue
            sid = self._study(uow, studies.get(doc.study_id or ""))
            if doc.has_original and doc.sha256 in self.data.originals:
                uow.put_blob(self.data.originals[doc.sha256])
                self.summary.originals_kept += 1
            did = uow.create(
                "document",
                _values(doc, "document", study_id=sid,
                        created_by=doc.created_by or self.session.coder_id),
                id=doc.id,
            )
            self.document_map[doc.id] = did
            self.document_pages[did] = doc
            if doc.text:
                known[_text_key(doc.text)] = doc
            self.summary.documents_added += 1
            self.step()

    def _study(self, uow: UnitOfWork, study: rec.Study | None) -> str | None:
        if study is None:
            return None
        if study.id in self.study_map:
            return self.study_map[study.id]
        sid = uow.create(
            "study",
            _values(study, "study", created_by=study.created_by or self.session.coder_id,
                    merged_into=None),
            id=study.id,
        )
        self.study_map[study.id] = sid
        self.summary.studies_added += 1
        return sid

    # excerpts and CMOCs

    def excerpts(self, uow: UnitOfWork) -> None:
        mapped_docs = set(self.document_map.values())
        existing: dict[tuple[str, int | None, int | None, str | None], str] = {}
        if self.summary.documents_existing:
            for ex in self.store.list("excerpt"):
                if ex.document_id in mapped_docs:
                    existing[(ex.document_id, ex.start, ex.end, ex.owner_id)] = ex.id
        for ex in self.data.excerpts:
            did = self.document_map.get(ex.document_id or "")
            if did is None:
                self.step()
                continue
            owner = ex.owner_id or self.session.coder_id
            codes = list(dict.fromkeys(self.code_map[c] for c in ex.code_ids if c in self.code_map))
            same = existing.get((did, ex.start, ex.end, owner))
            if same is not None:
                eid = same
                self.summary.excerpts_existing += 1
            else:
                doc = self.document_pages.get(did)
                page = ex.page
                if page is None and doc is not None:
                    page = doc.known_page_at(ex.start)
                eid = uow.create(
                    "excerpt",
                    _values(ex, "excerpt", document_id=did,
                            study_id=self.study_map.get(ex.study_id or "", doc.study_id if doc else None),
                            owner_id=owner, page=page),
                    id=ex.id,
                )
                existing[(did, ex.start, ex.end, owner)] = eid
                self.summary.excerpts_added += 1
            self.excerpt_map[ex.id] = eid
            for cid in codes:
                uow.link("excerpt_code", excerpt_id=eid, code_id=cid)
            self.step()

    def cmocs(self, uow: UnitOfWork) -> None:
        existing: dict[tuple[Any, ...], str] = {}
        if self.data.cmocs and self.summary.documents_existing:
            for cmoc in self.store.list("cmoc"):
                existing[_cmoc_key(cmoc, cmoc.study_id, cmoc.owner_id)] = cmoc.id
        next_order: dict[str | None, int] = {}
        roles = {e.id: e.role for e in self.data.excerpts}
        for cmoc in self.data.cmocs:
            sid = self.study_map.get(cmoc.study_id or "")
            owner = cmoc.owner_id or self.session.coder_id
            key = _cmoc_key(cmoc, sid, owner)
            if key in existing:
                cid = existing[key]
                self.summary.cmocs_existing += 1
            else:
                if sid not in next_order:
                    next_order[sid] = 1 + max(
                        (c.sort_order or 0 for c in self.store.list("cmoc", study_id=sid)), default=0
                    ) if sid else 1
                cid = uow.create(
                    "cmoc",
                    _values(cmoc, "cmoc", study_id=sid, owner_id=owner,
                            sort_order=next_order[sid]),
                    id=cmoc.id,
                )
                next_order[sid] += 1
                existing[key] = cid
                self.summary.cmocs_added += 1
            self.cmoc_map[cmoc.id] = cid
            for theory_id, relation in cmoc.theories:
                if theory_id in self.theory_map:
                    uow.link("cmoc_theory", cmoc_id=cid, theory_id=self.theory_map[theory_id],
                             relation=relation)
            for code in dict.fromkeys(self.code_map[c] for c in cmoc.code_ids if c in self.code_map):
                uow.link("cmoc_code", cmoc_id=cid, code_id=code)
            for ex_id in cmoc.excerpt_ids:
                if ex_id in self.excerpt_map:
                    uow.link("cmoc_excerpt", cmoc_id=cid, excerpt_id=self.excerpt_map[ex_id],
                             slot=roles.get(ex_id))
            self.step()

    # what only CMO Desk's own files carry

    def other_studies(self, uow: UnitOfWork) -> None:
        """Studies the file lists without documents (CMO Desk files only)."""
        made: set[str] = set()
        for study in self.data.studies:
            if study.id in self.study_map:
                continue
            if uow.current("study", study.id) is not None:
                self.study_map[study.id] = study.id
            else:
                made.add(self._study(uow, study) or "")
        # A duplicate merged into another study stays merged, never comes back as a study.
        for study in self.data.studies:
            sid = self.study_map.get(study.id)
            target = self.study_map.get(study.merged_into or "")
            if sid in made and target and target != sid:
                uow.update("study", sid, {"merged_into": target})

    def theories(self, uow: UnitOfWork) -> None:
        for theory in self.data.theories:
            if uow.current("theory", theory.id) is None:
                uow.create("theory", _values(theory, "theory", previous_id=None), id=theory.id)
                self.summary.theories_added += 1
            self.theory_map[theory.id] = theory.id
            self.step()
        for theory in self.data.theories:
            if theory.previous_id in self.theory_map and self.summary.theories_added:
                current = uow.current("theory", theory.id) or {}
                if not current.get("previous_id"):
                    uow.update("theory", theory.id, {"previous_id": theory.previous_id})

    def consensus(self, uow: UnitOfWork) -> None:
        for agreed in self.data.consensus:
            if uow.current("consensus", agreed.id) is None:
                coder = agreed.reconciled_by
                cid = uow.create(
                    "consensus",
                    _values(agreed, "consensus", study_id=self.study_map.get(agreed.study_id or ""),
                            reconciled_by=coder if coder and uow.current("coder", coder) else None),
                    id=agreed.id,
                )
                for source in agreed.source_ids:
                    if source in self.cmoc_map:
                        uow.link("consensus_source", consensus_id=cid, cmoc_id=self.cmoc_map[source])
                for code in dict.fromkeys(self.code_map[c] for c in agreed.code_ids
                                          if c in self.code_map):
                    uow.link("consensus_code", consensus_id=cid, code_id=code)
                for ex_id in agreed.excerpt_ids:
                    if ex_id in self.excerpt_map:
                        uow.link("consensus_excerpt", consensus_id=cid,
                                 excerpt_id=self.excerpt_map[ex_id])
                self.summary.consensus_added += 1
            self.step()

    def study_forms(self, uow: UnitOfWork) -> None:
        """Form values and assignments; a value already in the project is never overwritten."""
        project = self.store.project()
        if self.data.template and not project.template:
            uow.update("project", project.id, {"template": self.data.template})
        for fv in self.data.form_values:
            sid = self.study_map.get(fv.study_id or "")
            if sid is not None and not self.store.links(
                "form_value", study_id=sid, coder_id=fv.coder_id, key=fv.key
            ):
                uow.link("form_value", study_id=sid, coder_id=fv.coder_id, key=fv.key,
                         value=fv.value)
                self.summary.form_values_added += 1
            self.step()
        for a in self.data.assignments:
            sid = self.study_map.get(a.study_id or "")
            if sid is not None and not self.store.links("assignment", study_id=sid,
                                                         coder_id=a.coder_id):
                uow.link("assignment", study_id=sid, coder_id=a.coder_id, status=a.status)
                self.summary.assignments_added += 1
            self.step()

    # memos

    def memos(self, uow: UnitOfWork) -> None:
        memos = [m for m in self.data.memos if (m.text or "").strip() or (m.title or "").strip()]
        if not memos:
            return
        project = self.store.project()
        description = project.description or ""
        names = self._coder_names()
        block = _memo_block(self.summary.path.name, memos, names)
        # The heading follows the interface language; an import made in another language counts.
        if any(_memo_block(self.summary.path.name, memos, names, lang) in description
               for lang in LANGUAGES):
            self.summary.memos_existing = len(memos)
        else:
            uow.update("project", project.id, {
                "description": (description.rstrip() + "\n\n" + block) if description.strip() else block
            })
            self.summary.memos_in_description = len(memos)
        self.step(len(memos))

    def _coder_names(self) -> dict[str, str]:
        names = {c.id: c.name or "" for c in self.store.list("coder")}
        names.update({c.id: c.name or "" for c in self.data.coders})
        return names


def _parents_first(codes: list[rec.Code]) -> list[rec.Code]:
    by_id = {c.id: c for c in codes}

    def depth(code: rec.Code) -> int:
        seen = {code.id}
        n = 0
        parent = by_id.get(code.parent_id or "")
        while parent is not None and parent.id not in seen:
            seen.add(parent.id)
            n += 1
            parent = by_id.get(parent.parent_id or "")
        return n

    return sorted(codes, key=depth)  # sorted() is stable: siblings keep the file's order


def _cmoc_key(cmoc: rec.Cmoc, study_id: str | None, owner: str | None) -> tuple[Any, ...]:
    return (study_id, owner, *(" ".join((getattr(cmoc, s) or "").split()) for s in CMOC_SLOTS))


def _memo_block(
    file_name: str, memos: list[RefiMemo], coder_names: dict[str, str], lang: str | None = None
) -> str:
    parts = [tr("Memos imported from {file}", lang).format(file=file_name)]
    for memo in memos:
        title = " ".join((memo.title or "").split()) or tr("Memo", lang)
        who = coder_names.get(memo.owner_id or "", "")
        parts.append(f"## {title}" + (f" ({who})" if who else "") + "\n" + (memo.text or "").strip())
    return "\n\n".join(parts)


# --- export ----------------------------------------------------------------------------------


def export_refi(
    snapshot: ProjectSnapshot,
    path: str | os.PathLike[str],
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ExportResult:
    """Write the project as a ``.qdpx`` project or its codebook as a ``.qdc``, by the extension."""
    from cmo_desk.exporters.refi import write_qdc, write_qdpx
    from cmo_desk.services.exporting import ExportResult

    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    live_codes = [c for c in snapshot.codes if not c.merged_into]
    check_export_cancel(cancel)
    if progress is not None:
        progress(0, 1)
    if fmt == "qdc":
        write_qdc(snapshot, target)
        notes: list[str] = []
        counts = {"codes": len(live_codes)}
    else:
        notes = write_qdpx(snapshot, target)
        counts = {
            "coders": len(snapshot.coders),
            "studies": len([s for s in snapshot.studies if not s.merged_into]),
            "documents": len(snapshot.documents),
            "codes": len(live_codes),
            "excerpts": len(snapshot.excerpts),
            "cmocs": len(snapshot.cmocs),
            "consensus": len(snapshot.consensus),
        }
    if progress is not None:
        progress(1, 1)
    return ExportResult(path=target, format=fmt, counts=counts, notes=list(notes))
