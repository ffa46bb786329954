"""Rules of the coding desk that hold without a window: which role a coded passage takes, which
selected excerpts a new CMOC may cite, and which study a label names (the CLI uses the same)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.services import coding
from cmo_desk.services.session import Session

#: The roles a code's kind can give a passage; any other kind marks it as "other".
CODED_ROLES = frozenset(r.value for r in rec.Role if r is not rec.Role.OTHER)


def role_for_codes(codes: Mapping[str, rec.Code], code_ids: Iterable[str]) -> str:
    """The role of a passage marked with these codes: the one role their kinds share, else
    "other" (codes of two roles, or of no role, say nothing about the passage's role)."""
    kinds = {codes[c].kind for c in code_ids if c in codes} & CODED_ROLES
    return str(kinds.pop()) if len(kinds) == 1 else rec.Role.OTHER.value


def citable_excerpts(session: Session, study_id: str, selected: Iterable[str],
                     show_others: bool) -> list[str]:
    """The selected excerpts a new CMOC of this study may cite, in the order selected: those of
    this study the coder can see (their own; everyone's while other coders' work is shown).
    A selection left from another study, or an excerpt deleted since, is left out."""
    shown = {e.id for e in coding.visible_excerpts(session, study_id=study_id,
                                                   show_others=show_others)}
    out: list[str] = []
    for eid in selected:
        if eid in shown and eid not in out:
            out.append(eid)
    return out


def _folded(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def studies_labelled(session: Session, label: str) -> list[str]:
    """Ids of the studies a label names: its label ignoring case and spacing, or else its id.
    A study folded into its duplicate names nothing: its work is the kept study's now."""
    wanted = _folded(label)
    studies = session.store.list("study", columns=("label",), merged_into=None)
    found = [s.id for s in studies if wanted and _folded(s.label) == wanted]
    if not found:
        found = [s.id for s in studies if s.id == label.strip()]
    return found


def study_by_label(session: Session, label: str) -> str:
    """The one study a label names; a clear error when none or several do."""
    found = studies_labelled(session, label)
    if len(found) != 1:
        raise ValidationError(
            tr("No single study labelled \"{label}\"; see the labels with 'cmo-desk info'.")
            .format(label=label) if not found else
            tr("Several studies are labelled \"{label}\"; give the study id instead.")
            .format(label=label))
    return found[0]


def submitted_coders(session: Session, study_id: str) -> list[tuple[str, str]]:
    """(coder id, name) of the coders who handed this study in, by name."""
    names = {c.id: c.name for c in session.coders()}
    found = [(cid, names.get(cid) or cid)
             for cid, status in coding.study_status(session, study_id).items()
             if status == rec.AssignmentStatus.SUBMITTED.value]
    return sorted(found, key=lambda pair: pair[1].casefold())
