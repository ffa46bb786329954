"""Agreement between coders over a project, and choosing coders by what people type."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import coder_id as coder_id_for
from cmo_desk.exporters.agreement_report import write_agreement
from cmo_desk.agreement.agreement import AgreementReport, resolve_coder_ids, study_code_agreement
from cmo_desk.services.session import Session, create_coder, known_coders


def agreement_report(session: Session, coders: Sequence[str] | None = None) -> AgreementReport:
    """Study x code agreement from the coders' own records (never from consensus CMOCs).

    ``coders``: names, initials or ids; default every coder who coded something.
    """
    snapshot = session.store.snapshot()
    chosen = resolve_coder_ids(snapshot, coders) if coders else None
    if chosen is not None and len(chosen) < 2:
        raise ValidationError(tr("Agreement needs at least two coders; choose two or more coders."))
    return study_code_agreement(snapshot, chosen)


def export_agreement(report: AgreementReport, path: str | Path, lang: str = "en") -> Path:
    return write_agreement(report, path, lang)


def coder_ids_from_names(session: Session, names: Sequence[str]) -> list[str]:
    """Coder ids for names typed by the coordinator; a new name becomes a new coder record.

    A coder is a person identified by their name, so assigning a study to someone who has not
    opened the project yet gives the same id they will have when they do.
    """
    cleaned = [" ".join(n.split()) for n in names if n and n.strip()]
    if not cleaned:
        raise ValidationError(tr("Give at least one coder with --coders NAME,NAME."))
    snapshot = session.store.snapshot()
    out: list[str] = []
    new: list[str] = []
    for name in cleaned:
        try:
            (cid,) = resolve_coder_ids(snapshot, [name])
        except ValidationError:
            if len(name) > 80:
                raise ValidationError(
                    tr("The coder name is longer than 80 characters. Use a shorter name.")
                ) from None
            cid = coder_id_for(name)
            new.append(name)
        if cid not in out:
            out.append(cid)
    if new:
        known = known_coders(session.store)
        with session.write(need_coder=False) as uow:
            for name in new:
                if uow.current("coder", coder_id_for(name)) is None:
                    create_coder(uow, name, known)
                    known += 1
    return out
