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
    query = _Query(
        studies={s.id: s for s in store.list("study", columns=("label",))},
        coders={c.id: c for c in session.coders()},
        codes={c.id: c for c in store.list("code")},
        role=role, coder_id=coder_id, coders_shown=coders_shown,
        needle=" ".join(words.split()).casefold())
    if code_id:
        query.wanted_codes = _with_children(query.codes, code_id)
    out = [p for ex in store.list("excerpt") if (p := query.excerpt(ex)) is not None]
    for cmoc in store.list("cmoc"):
        out += query.cmoc(cmoc)
    out.sort(key=lambda p: (p.study_label.casefold(), p.kind != "excerpt", p.start or 0,
                            p.page or 0, p.id, p.slot or ""))
    return out


@dataclass
class _Query:
    """The filters of one retrieval and what is needed to describe a passage."""

    studies: dict[str, rec.Study]
    coders: dict[str, rec.Coder]
    codes: dict[str, rec.Code]
    role: str | None
    coder_id: str | None
    coders_shown: set[str] | None
    needle: str
    #: the code asked for and every code under it; None when no code was asked for
    wanted_codes: set[str] | None = None

    def allowed(self, owner: str | None, code_ids: tuple[str, ...]) -> bool:
        if self.coders_shown is not None and owner not in self.coders_shown:
            return False
        if self.coder_id is not None and owner != self.coder_id:
            return False
        return self.wanted_codes is None or bool(self.wanted_codes.intersection(code_ids))

    def names(self, ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.codes[c].name or "" for c in ids if c in self.codes)

    def excerpt(self, ex: rec.Excerpt) -> Passage | None:
        if not self.allowed(ex.owner_id, ex.code_ids):
            return None
        if self.role and (ex.role or "other") != self.role:
            return None
        if not (_matches(ex.quote, self.needle) or _matches(ex.memo, self.needle)):
            return None
        return Passage("excerpt", ex.id, ex.study_id, _label(self.studies, ex.study_id), ex.page,
                       ex.owner_id, _coder(self.coders, ex.owner_id), ex.role, None,
                       self.names(ex.code_ids), ex.quote or "", ex.start)

    def cmoc(self, cmoc: rec.Cmoc) -> list[Passage]:
        if not self.allowed(cmoc.owner_id, cmoc.code_ids):
            return []
        return [Passage("cmoc", cmoc.id, cmoc.study_id, _label(self.studies, cmoc.study_id),
                        None, cmoc.owner_id, _coder(self.coders, cmoc.owner_id), slot_role,
                        slot, self.names(cmoc.code_ids), text)
                for slot, slot_role, text in self.slot_hits(cmoc)]

    def slot_hits(self, cmoc: rec.Cmoc) -> list[tuple[str, str | None, str]]:
        """The CMOC's filled slots that match: (slot, its role, its text)."""
        filled = [(slot, r, getattr(cmoc, slot)) for slot, r in CMOC_SLOT_ROLES
                  if (getattr(cmoc, slot) or "").strip()]
        if self.role:
            return [f for f in filled if f[1] == self.role and _matches(f[2], self.needle)]
        if self.needle:
            return [f for f in filled if _matches(f[2], self.needle)]
        # a code or a coder lists each CMOC once, by its statement when it has one
        return [f for f in filled if f[0] == "statement"] or filled[:1]


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
