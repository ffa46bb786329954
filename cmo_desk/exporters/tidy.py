"""Tidy companions of the evidence tables, for pandas, R and Excel.

Four tables, each one row per record and one column per variable, with machine values (ids,
ISO codes, numbers, the stored words) that are the same whatever the language of the export:

- ``studies``: citation fields, counts, and one column per form field holding the agreed value
  (or the value every coder gave; empty when coders differ — see ``form_values``);
- ``cmocs``: every coder CMOC (set-aside ones too, with their status) and every consensus CMOC;
- ``cmoc_excerpts``: one row per CMOC and excerpt, in text order, with the page and the quote;
- ``form_values``: one row per study, coder and form field (and per item of a list, per part of
  a structured value such as an income group with its fiscal year).

pandas is imported only when a companion is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmo_desk.domain.initials import unique_initials
from cmo_desk.domain.records import Consensus
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.exporters import ExportFailed, atomic_target
from cmo_desk.exporters.tables import TableContext, is_empty, quote_text
from cmo_desk.exporters.textclean import clean_text, csv_safe

if TYPE_CHECKING:
    import pandas as pd

#: Companion name -> its columns, in order.
COMPANIONS: dict[str, tuple[str, ...]] = {
    "studies": (
        "study_id", "label", "first_author", "authors", "year", "title", "journal", "volume",
        "issue", "pages", "doi", "pmid", "url", "reference_type", "documents", "coder_cmocs",
        "consensus_cmocs",
    ),
    "cmocs": (
        "cmoc_id", "record_type", "study_id", "study_label", "coder_id", "coder", "initials",
        "status", "set_aside_reason", "consensus_ids", "source_cmoc_ids", "resolution",
        "intervention", "actor", "context", "mechanism_resource", "mechanism_reasoning",
        "outcome", "outcome_direction", "outcome_intended", "statement", "confidence",
        "code_ids", "theory_ids", "theory_relations", "excerpts",
    ),
    "cmoc_excerpts": (
        "cmoc_id", "record_type", "position", "excerpt_id", "study_id", "document_id", "page",
        "start", "end", "role", "excerpt_coder_id", "quote",
    ),
    "form_values": (
        "study_id", "study_label", "coder_id", "coder", "initials", "agreed", "key", "part",
        "item", "value",
    ),
}
_INTEGER_COLUMNS = frozenset({"year", "page", "start", "end", "position", "item", "documents",
                              "coder_cmocs", "consensus_cmocs", "excerpts"})


def tidy_frames(snapshot: ProjectSnapshot) -> dict[str, pd.DataFrame]:
    """The four companions as DataFrames, in ``COMPANIONS`` order."""
    import pandas as pd

    rows = _Rows(snapshot)
    built = {
        "studies": rows.studies(),
        "cmocs": rows.cmocs(),
        "cmoc_excerpts": rows.cmoc_excerpts(),
        "form_values": rows.form_values(),
    }
    frames: dict[str, pd.DataFrame] = {}
    for name, columns in COMPANIONS.items():
        extra = [k for k in (built[name][0].keys() if built[name] else ()) if k not in columns]
        frame = pd.DataFrame(built[name], columns=[*columns, *extra])
        for column in frame.columns:
            if column in _INTEGER_COLUMNS:
                frame[column] = pd.array(frame[column], dtype="Int64")
            else:
                frame[column] = frame[column].astype("string")
        frames[name] = frame
    return frames


def companion_paths(path: str | os.PathLike[str]) -> dict[str, Path]:
    """Where the companions of ``path`` go: beside it, named after it.

    ``review.csv`` -> ``review.studies.csv``, ``review.cmocs.csv`` ...; an ``.xlsx`` gets one
    workbook, ``review.tidy.xlsx``, with a sheet per companion.
    """
    target = Path(path)
    if target.suffix.lower() == ".xlsx":
        return {"workbook": target.with_name(f"{target.stem}.tidy.xlsx")}
    return {name: target.with_name(f"{target.stem}.{name}.csv") for name in COMPANIONS}


def write_tidy(snapshot: ProjectSnapshot, path: str | os.PathLike[str]) -> list[Path]:
    """Write the companions of the table at ``path`` (.csv or .xlsx); returns the files written.

    CSV cells that a spreadsheet would run as formulas are written as text (``csv_safe``).
    """
    frames = tidy_frames(snapshot)
    targets = companion_paths(path)
    written: list[Path] = []
    if "workbook" in targets:
        _write_workbook(frames, targets["workbook"])
        return [targets["workbook"]]
    for name, frame in frames.items():
        target = targets[name]
        safe = frame.copy()
        for column in safe.columns:
            if column not in _INTEGER_COLUMNS:
                safe[column] = safe[column].map(csv_safe, na_action="ignore")
        with atomic_target(target) as tmp:
            try:
                safe.to_csv(tmp, index=False, encoding="utf-8-sig")
            except OSError as err:
                raise _failed(target, err) from err
        written.append(target)
    return written


def _write_workbook(frames: dict[str, pd.DataFrame], target: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from cmo_desk.exporters.spreadsheet import excel_cell_text

    book = Workbook(write_only=True)
    for name, frame in frames.items():
        sheet = book.create_sheet(name)
        sheet.freeze_panes = "A2"
        sheet.append(list(frame.columns))
        integer = [c in _INTEGER_COLUMNS for c in frame.columns]
        for values in frame.itertuples(index=False, name=None):
            out: list[Any] = []
            for is_int, value in zip(integer, values, strict=True):
                if value is None or (not isinstance(value, str) and _isna(value)):
                    out.append(None)
                elif is_int:
                    out.append(int(value))
                else:
                    cell = WriteOnlyCell(sheet, value=excel_cell_text(str(value)))
                    cell.data_type = "s"  # text, never a formula
                    out.append(cell)
            sheet.append(out)
    with atomic_target(target) as tmp:
        try:
            book.save(str(tmp))
        except OSError as err:
            raise _failed(target, err) from err


def _isna(value: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def _failed(target: Path, err: OSError) -> ExportFailed:
    from cmo_desk.domain.i18n import tr

    return ExportFailed(
        tr("Cannot write {path}: {reason}. Check the disk has free space and try again.").format(
            path=target, reason=err.strerror or err
        )
    )


def machine_value(value: Any) -> str:
    """A stored value as text a script can read: words as stored, numbers as digits, JSON else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return clean_text(value).strip()
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class _Rows:
    def __init__(self, snapshot: ProjectSnapshot) -> None:
        self.snapshot = snapshot
        self.ctx = TableContext(snapshot, "en")
        self.initials = unique_initials(snapshot.coders)

    def coder(self, coder_id: str | None) -> tuple[str, str, str]:
        if not coder_id:
            return "", "", ""
        return coder_id, self.ctx.coder_name.get(coder_id, ""), self.initials.get(coder_id, "")

    def studies(self) -> list[dict[str, Any]]:
        ctx = self.ctx
        docs: dict[str, int] = {}
        for d in self.snapshot.documents:
            sid = ctx.study_id(d.study_id)
            docs[sid] = docs.get(sid, 0) + 1
        own: dict[str, int] = {}
        for c in self.snapshot.cmocs:
            sid = ctx.study_id(c.study_id)
            own[sid] = own.get(sid, 0) + 1
        agreed: dict[str, int] = {}
        for c in self.snapshot.consensus:
            sid = ctx.study_id(c.study_id)
            agreed[sid] = agreed.get(sid, 0) + 1
        keys = list(dict.fromkeys(f.key for f in self.snapshot.form_values if f.key))
        out = []
        for study in ctx.studies:
            authors = [a for a in (study.authors or []) if isinstance(a, str) and a.strip()]
            row: dict[str, Any] = {
                "study_id": study.id, "label": clean_text(study.label),
                "first_author": authors[0] if authors else "",
                "authors": "; ".join(authors), "year": study.year,
                "title": clean_text(study.title), "journal": clean_text(study.journal),
                "volume": study.volume, "issue": study.issue, "pages": study.pages,
                "doi": study.doi, "pmid": study.pmid, "url": study.url,
                "reference_type": study.reference_type,
                "documents": docs.get(study.id, 0), "coder_cmocs": own.get(study.id, 0),
                "consensus_cmocs": agreed.get(study.id, 0),
            }
            for key in keys:
                entries = ctx.form.get(study.id, {}).get(key, [])
                chosen = [v for c, v in entries if c is None]
                values = {machine_value(v) for _, v in entries}
                if chosen:
                    row[key] = machine_value(chosen[0])
                elif len(values) == 1:
                    row[key] = values.pop()
                else:
                    row[key] = None
            out.append(row)
        return out

    def cmocs(self) -> list[dict[str, Any]]:
        ctx = self.ctx
        out: list[dict[str, Any]] = []
        for record in (*self.snapshot.cmocs, *self.snapshot.consensus):
            is_consensus = isinstance(record, Consensus)
            sid = ctx.study_id(record.study_id)
            coder_id, coder, initials = self.coder(
                getattr(record, "reconciled_by", None) if is_consensus
                else getattr(record, "owner_id", None))
            theories = ctx.theories_of(record)
            row = {
                "cmoc_id": record.id,
                "record_type": "consensus" if is_consensus else "coder",
                "study_id": sid, "study_label": ctx.study_label(sid),
                "coder_id": coder_id, "coder": coder, "initials": initials,
                "status": None if is_consensus else getattr(record, "status", None),
                "set_aside_reason": None if is_consensus else getattr(record, "set_aside_reason",
                                                                      None),
                "consensus_ids": "" if is_consensus else " ".join(ctx.covered.get(record.id, ())),
                "source_cmoc_ids": " ".join(getattr(record, "source_ids", ())),
                "resolution": getattr(record, "resolution", None),
                "code_ids": " ".join(dict.fromkeys(ctx.code_id(c) for c in record.code_ids)),
                "theory_ids": " ".join(t for t, _ in theories),
                "theory_relations": " ".join(r or "" for _, r in theories),
                "excerpts": len(record.excerpt_ids),
            }
            for slot in ("intervention", "actor", "context", "mechanism_resource",
                         "mechanism_reasoning", "outcome", "outcome_direction",
                         "outcome_intended", "statement", "confidence"):
                value = getattr(record, slot, None)
                row[slot] = None if value is None else clean_text(value).strip()
            out.append(row)
        return out

    def cmoc_excerpts(self) -> list[dict[str, Any]]:
        ctx = self.ctx
        out: list[dict[str, Any]] = []
        for record in (*self.snapshot.cmocs, *self.snapshot.consensus):
            kind = "consensus" if isinstance(record, Consensus) else "coder"
            excerpts = sorted((ctx.excerpt_by_id[e] for e in dict.fromkeys(record.excerpt_ids)
                               if e in ctx.excerpt_by_id), key=ctx.text_order)
            for position, e in enumerate(excerpts, 1):
                out.append({
                    "cmoc_id": record.id, "record_type": kind, "position": position,
                    "excerpt_id": e.id, "study_id": ctx.study_id(e.study_id),
                    "document_id": e.document_id, "page": ctx.page_of(e),
                    "start": e.start, "end": e.end, "role": e.role,
                    "excerpt_coder_id": e.owner_id, "quote": quote_text(e.quote),
                })
        return out

    def form_values(self) -> list[dict[str, Any]]:
        ctx = self.ctx
        out: list[dict[str, Any]] = []
        for fv in self.snapshot.form_values:
            if not fv.key or is_empty(fv.value):
                continue
            sid = ctx.study_id(fv.study_id)
            coder_id, coder, initials = self.coder(fv.coder_id)
            base = {"study_id": sid, "study_label": ctx.study_label(sid), "coder_id": coder_id,
                    "coder": coder, "initials": initials,
                    "agreed": "true" if fv.coder_id is None else "false", "key": fv.key}
            for part, item, value in _parts(fv.value):
                out.append({**base, "part": part, "item": item, "value": machine_value(value)})
        return out


def _parts(value: Any) -> Iterable[tuple[str, int | None, Any]]:
    """(part, item, scalar) of a stored value: a dict by key, a list by 1-based item."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, (list, tuple)):
                for i, v in enumerate(inner, 1):
                    yield str(key), i, v
            elif not is_empty(inner):
                yield str(key), None, inner
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value, 1):
            yield "", i, v
    else:
        yield "", None, value
