"""Reconciling a double-coded study: two coders' CMOCs side by side, then consensus.

Pairs come from ``agreement.pairing`` (shared excerpts and codes). Nothing here changes a coder's
own wording: a consensus CMOC has its own, and unpaired CMOCs are promoted or set aside with a
reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import EntityType, link_id, merged_target
from cmo_desk.domain.schema import CMOC_SLOTS
from cmo_desk.agreement.pairing import Pair, pair_cmocs
from cmo_desk.services import coding
from cmo_desk.services.session import Session


@dataclass(frozen=True)
class Reconciliation:
    study_id: str
    coder_a: str
    coder_b: str
    pairs: tuple[Pair, ...]
    consensus: tuple[rec.Consensus, ...]

    @property
    def unpaired(self) -> tuple[rec.Cmoc, ...]:
        return tuple(c for p in self.pairs if (p.a is None) != (p.b is None)
                     and (c := p.a or p.b) is not None)


def coders_of_study(session: Session, study_id: str) -> list[str]:
    """Coders who own CMOCs on the study, in the project's coder order."""
    owners = {c.owner_id for c in session.store.list("cmoc", study_id=study_id) if c.owner_id}
    order = [c.id for c in session.coders() if c.id in owners]
    return order + sorted(owners - set(order))


def double_coded_studies(session: Session) -> list[tuple[str, str]]:
    """(id, label) of studies with CMOCs from at least two coders, by label."""
    owners: dict[str, set[str]] = {}
    for c in session.store.list("cmoc", columns=("study_id", "owner_id")):
        if c.owner_id:
            owners.setdefault(c.study_id or "", set()).add(c.owner_id)
    studies = {s.id: s.label or s.title or s.id
               for s in session.store.list("study", columns=("label", "title"))}
    found = [(sid, studies[sid]) for sid, who in owners.items() if len(who) > 1 and sid in studies]
    return sorted(found, key=lambda t: t[1].casefold())


def reconciliation(session: Session, study_id: str, coder_a: str | None = None,
                   coder_b: str | None = None) -> Reconciliation:
    """The two coders' CMOCs on a study, paired, with the consensus CMOCs made so far."""
    store = session.store
    if store.get("study", study_id) is None:
        raise ValidationError(tr("That study no longer exists."))
    if coder_a is None or coder_b is None:
        found = coders_of_study(session, study_id)
        if len(found) < 2:
            raise ValidationError(tr(
                "This study has CMOCs from fewer than two coders; nothing to reconcile yet."))
        coder_a = coder_a or found[0]
        coder_b = coder_b or next(c for c in found if c != coder_a)
    cmocs_a = store.list("cmoc", study_id=study_id, owner_id=coder_a)
    cmocs_b = store.list("cmoc", study_id=study_id, owner_id=coder_b)
    excerpts = {e.id: e for e in store.list("excerpt", study_id=study_id)}
    alias = {c.id: c.merged_into for c in store.list("code", include_deleted=True)
             if c.merged_into}
    pairs = pair_cmocs(cmocs_a, cmocs_b, excerpts, alias)
    return Reconciliation(study_id, coder_a, coder_b, tuple(pairs),
                          tuple(store.list("consensus", study_id=study_id)))


def consensus_from(session: Session, study_id: str, source_ids: Iterable[str],
                   values: dict[str, Any] | None = None, resolution: str = "agreed",
                   note: str | None = None) -> tuple[str, rec.Changed]:
    """A consensus CMOC from coders' CMOCs; its wording defaults to the first source's."""
    ids = list(source_ids)
    if not ids:
        raise ValidationError(tr("Choose at least one CMOC to reconcile."))
    sources = coding.source_cmocs(session, ids)
    if values is None:
        values = {s: getattr(sources[0], s) for s in CMOC_SLOTS}
    return coding.create_consensus(session, study_id, values, [s.id for s in sources],
                                   resolution, note)


def promote(session: Session, cmoc_id: str, note: str | None = None) -> tuple[str, rec.Changed]:
    """An unpaired CMOC the team keeps: a consensus CMOC with its wording."""
    cmoc = session.store.get("cmoc", cmoc_id)
    if cmoc is None:
        raise ValidationError(tr("That CMOC no longer exists."))
    if cmoc.study_id is None:
        # a consensus made here would belong to no study and show nowhere
        raise ValidationError(tr("That study no longer exists."))
    return consensus_from(session, cmoc.study_id, [cmoc.id], None,
                          rec.Resolution.AGREED.value, note)


def set_aside(session: Session, cmoc_id: str, reason: str) -> rec.Changed:
    return coding.set_aside(session, cmoc_id, reason)


# -- sources that changed after their consensus was made -----------------------------------


@dataclass(frozen=True)
class SourceChange:
    """A coder's CMOC a consensus was built from that no longer reads as it did then.

    ``deleted``: the CMOC is gone. ``slots``: slots whose wording was written after the consensus
    was last written (by the hybrid clocks, so an edit made on a laptop that had not yet seen the
    consensus counts as later only when its clock is). ``missing_code_ids`` and
    ``missing_excerpt_ids``: codes and passages the source has that the consensus lacks, whenever
    they were added. ``dropped``: the source lost a code or passage after the consensus.
    """

    cmoc_id: str
    owner_name: str
    deleted: bool = False
    slots: tuple[str, ...] = ()
    missing_code_ids: tuple[str, ...] = ()
    missing_excerpt_ids: tuple[str, ...] = ()
    dropped: bool = False


def _last_write(session: Session, etype: EntityType, entity_id: str) -> tuple[int, int]:
    return max(((c.wall, c.counter) for c in session.store.changes_for(etype, entity_id)),
               default=(0, 0))


def _code_targets_and_names(session: Session) -> tuple[dict[str, str | None], dict[str, str]]:
    """Code id -> the code it was merged into; coder id -> name."""
    store = session.store
    return ({c.id: c.merged_into for c in store.list("code", include_deleted=True)},
            {c.id: c.name or "" for c in store.list("coder", include_deleted=True)})


def changed_sources(session: Session, item: rec.Consensus,
                    _known: tuple[dict[str, str | None], dict[str, str]] | None = None
                    ) -> list[SourceChange]:
    """The source CMOCs of ``item`` that were deleted, reworded, re-coded or given other
    passages after the consensus was made (or last edited), in the consensus's source order.

    Empty when the consensus still rests on what its sources say. Editing the consensus after
    looking again clears what was written before that edit.
    """
    store = session.store
    made = _last_write(session, "consensus", item.id)
    target, names = _known or _code_targets_and_names(session)

    def canonical(ids: Iterable[str]) -> set[str]:
        return {merged_target(target, i) for i in ids}

    agreed_codes = canonical(item.code_ids)
    agreed_excerpts = set(item.excerpt_ids)
    out = []
    for source_id in item.source_ids:
        cmoc = store.get("cmoc", source_id, include_deleted=True)
        owner = names.get(cmoc.owner_id or "", "") if cmoc is not None else ""
        live = store.get("cmoc", source_id)
        if live is None:
            out.append(SourceChange(source_id, owner, deleted=True))
            continue
        slots = sorted({c.field for c in store.changes_for("cmoc", source_id)
                        if c.field in CMOC_SLOTS and (c.wall, c.counter) > made},
                       key=CMOC_SLOTS.index)
        missing_codes = sorted(canonical(live.code_ids) - agreed_codes)
        missing_excerpts = sorted(set(live.excerpt_ids) - agreed_excerpts)
        links: list[tuple[EntityType, str]] = [
            ("cmoc_code", link_id("cmoc_code", source_id, c)) for c in item.code_ids]
        links += [("cmoc_excerpt", link_id("cmoc_excerpt", source_id, e))
                  for e in item.excerpt_ids]
        dropped = any(c.field == "exists" and not c.value and (c.wall, c.counter) > made
                      for etype, lid in links for c in store.changes_for(etype, lid))
        if slots or missing_codes or missing_excerpts or dropped:
            out.append(SourceChange(source_id, owner, False, tuple(slots), tuple(missing_codes),
                                    tuple(missing_excerpts), dropped))
    return out


def changed_consensus_ids(session: Session) -> frozenset[str]:
    """Consensus CMOCs of the project whose sources changed since they were made."""
    known = _code_targets_and_names(session)
    return frozenset(c.id for c in session.store.list("consensus")
                     if changed_sources(session, c, known))
