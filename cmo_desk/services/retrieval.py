"""Retrieval: every passage coded with a code, a role or by a coder, or holding some words,
across all studies — excerpts and the matching slots of CMOCs — with study, page and coder."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import ExportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.services.session import Session

# CMOC slots and the role each one carries
CMOC_SLOT_ROLES = (
    ("context", "context"),
    ("mechanism_resource", "mechanism"),
    ("mechanism_reasoning", "mechanism"),
    ("outcome", "outcome"),
    ("intervention", "intervention"),
    ("statement", None),
    ("memo", None),
)


@dataclass(frozen=True)
class Passage:
    kind: str  # "excerpt" or "cmoc"
    id: str  # the excerpt or CMOC id
    study_id: str | None
    study_label: str
    page: int | None
    coder_id: str | None
    coder_name: str
    role: str | None
    slot: str | None  # the CMOC slot, None for an excerpt
    codes: tuple[str, ...]  # code names
    text: str
    start: int | None = None


def _matches(text: str | None, needle: str) -> bool:
    return not needle or needle in (text or "").casefold()


def retrieve(session: Session, code_id: str | None = None, role: str | None = None,
             coder_id: str | None = None, words: str = "",
             coders_shown: set[str] | None = None) -> list[Passage]:
    """Passages matching every filter given; ``coders_shown`` limits whose work is listed (a
    coder working blind sees only their own). Ordered by study, then position."""
    store = session.store
    studies = {s.id: s for s in store.list("study", columns=("label",))}
    coders = {c.id: c for c in session.coders()}
    codes = {c.id: c for c in store.list("code")}
    needle = " ".join(words.split()).casefold()
    wanted_codes = _with_children(codes, code_id) if code_id else set()

    def allowed(owner: str | None) -> bool:
        if coders_shown is not None and owner not in coders_shown:
            return False
        return coder_id is None or owner == coder_id

    def names(ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(codes[c].name or "" for c in ids if c in codes)

    out: list[Passage] = []
    for ex in store.list("excerpt"):
        if not allowed(ex.owner_id):
            continue
        if code_id and not wanted_codes.intersection(ex.code_ids):
            continue
        if role and (ex.role or "other") != role:
            continue
        if not (_matches(ex.quote, needle) or _matches(ex.memo, needle)):
            continue
        out.append(Passage("excerpt", ex.id, ex.study_id, _label(studies, ex.study_id), ex.page,
                           ex.owner_id, _coder(coders, ex.owner_id), ex.role, None,
                           names(ex.code_ids), ex.quote or "", ex.start))
    for cmoc in store.list("cmoc"):
        if not allowed(cmoc.owner_id):
            continue
        if code_id and not wanted_codes.intersection(cmoc.code_ids):
            continue
        filled = [(slot, r, getattr(cmoc, slot)) for slot, r in CMOC_SLOT_ROLES
                  if (getattr(cmoc, slot) or "").strip()]
        if role:
            hits = [f for f in filled if f[1] == role and _matches(f[2], needle)]
        elif needle:
            hits = [f for f in filled if _matches(f[2], needle)]
        else:  # a code or a coder lists each CMOC once, by its statement when it has one
            hits = [f for f in filled if f[0] == "statement"] or filled[:1]
        for slot, slot_role, text in hits:
            out.append(Passage("cmoc", cmoc.id, cmoc.study_id, _label(studies, cmoc.study_id),
                               None, cmoc.owner_id, _coder(coders, cmoc.owner_id), slot_role,
                               slot, names(cmoc.code_ids), text))
    out.sort(key=lambda p: (p.study_label.casefold(), p.kind != "excerpt", p.start or 0,
                            p.page or 0, p.id, p.slot or ""))
    return out


def _with_children(codes: dict[str, rec.Code], code_id: str) -> set[str]:
    found = {code_id}
    grew = True
    while grew:
        grew = False
        for c in codes.values():
            if c.parent_id in found and c.id not in found:
                found.add(c.id)
                grew = True
    return found


def _label(studies: dict[str, rec.Study], study_id: str | None) -> str:
    study = studies.get(study_id or "")
    return (study.label if study else None) or ""


def _coder(coders: dict[str, rec.Coder], coder_id: str | None) -> str:
    coder = coders.get(coder_id or "")
    return (coder.name if coder else None) or ""


COLUMNS = ("Study", "Page", "Coder", "Role", "Slot", "Codes", "Passage")


def rows(passages: list[Passage]) -> list[list[str]]:
    return [[p.study_label, str(p.page or ""), p.coder_name, p.role or "", p.slot or "",
             "; ".join(p.codes), p.text] for p in passages]


def export_csv(passages: list[Passage], path: str | os.PathLike[str]) -> int:
    """Write the passages as CSV (UTF-8 with BOM, for spreadsheets); returns rows written."""
    target = Path(path)
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            writer.writerows(rows(passages))
        os.replace(partial, target)
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise ExportFailed(tr("The passages could not be saved to {path} ({why}). Choose another "
                              "folder.").format(path=target, why=err.strerror or err)) from None
    return len(passages)
