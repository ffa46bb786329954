"""Write an agreement report (see ``cmo_desk.agreement.agreement``) to Word or CSV.

The exporter reads the report's plain data (``report.to_dict()``, the same as ``--json``), so it
works on a report object or on that dict. CSV columns stay in English so that scripts can read the
file whatever the interface language; the Word document is translated.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cmo_desk.domain.atomic import replace_durably
from cmo_desk.domain.errors import ExportFailed, ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.exporters.textclean import clean_text, csv_safe


CSV_COLUMNS = (
    "section",
    "coder_a",
    "coder_b",
    "code",
    "study",
    "document",
    "units",
    "kappa",
    "alpha",
    "percent_agreement",
    "length",
    "a_chars",
    "b_chars",
    "both",
    "neither",
    "reason",
)

# XML 1.0 forbids control characters; text pasted from PDFs carries them and Word refuses the file.
_clean = clean_text


def _as_dict(report: Any) -> Mapping[str, Any]:
    if isinstance(report, Mapping):
        return report
    to_dict = getattr(report, "to_dict", None)
    if to_dict is None:
        raise ValidationError(tr("This is not an agreement report; compute the agreement first."))
    return to_dict()


def _fmt_stat(value: float | None, lang: str) -> str:
    return tr("undefined", lang) if value is None else f"{value:.3f}"


def _fmt_percent(value: float | None, lang: str) -> str:
    return tr("undefined", lang) if value is None else f"{value:.1f} %"


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary file beside ``path``, then swap it in: a power cut leaves the old file."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportFailed(
            tr("Cannot save the report: the folder {folder} does not exist; choose an existing folder.")
            .format(folder=folder)
        )
    fd, tmp_name = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        replace_durably(tmp, path)
    except OSError as err:
        raise ExportFailed(
            tr("Cannot save the report to {path} ({reason}); close it if it is open in another program, or choose another place.").format(path=path, reason=err.strerror or err)
        ) from err
    finally:
        if tmp.exists():
            try:
                tmp.unlink()
            except OSError:
                pass


def write_agreement(report: Any, path: str | os.PathLike[str], lang: str = "en") -> Path:
    """Save an agreement report as .docx or .csv (chosen by the file's extension); returns the path."""
    target = Path(path)
    data = _as_dict(report)
    suffix = target.suffix.lower()
    if suffix == ".docx":
        _atomic_write(target, lambda tmp: _write_docx(data, tmp, lang))
    elif suffix == ".csv":
        _atomic_write(target, lambda tmp: _write_csv(data, tmp))
    else:
        raise ValidationError(
            tr("Cannot save an agreement report as \"{suffix}\"; use a file name ending in .docx or .csv.")
            .format(suffix=target.suffix or target.name)
        )
    return target


def _coder_names(data: Mapping[str, Any]) -> dict[str, str]:
    return {c["id"]: c.get("name") or c["id"] for c in data.get("coders", [])}


def _csv_rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    coders = [c.get("name") or c["id"] for c in data.get("coders", [])]
    pair = coders if len(coders) == 2 else [", ".join(coders), ""]
    rows: list[dict[str, Any]] = []

    def blank(v: float | None) -> Any:
        return "" if v is None else v

    for section, row in [("code", r) for r in data.get("per_code", [])] + [("pooled", data["pooled"])]:
        rows.append(
            {
                "section": section,
                "coder_a": pair[0],
                "coder_b": pair[1],
                "code": row.get("code_name", "") if section == "code" else "",
                "units": row["units"],
                "kappa": blank(row["kappa"]),
                "alpha": blank(row["alpha"]),
                "percent_agreement": blank(row["percent"]),
            }
        )
    for ov in data.get("overlaps", []):
        rows.append(
            {
                "section": "char_overlap",
                "coder_a": ov.get("coder_a_name") or ov["coder_a"],
                "coder_b": ov.get("coder_b_name") or ov["coder_b"],
                "code": ov.get("code_name", ""),
                "study": ov.get("study_label", ""),
                "document": ov.get("document_name", ""),
                "kappa": blank(ov["kappa"]),
                "alpha": blank(ov["alpha_binary"]),
                "percent_agreement": blank(ov["percent"]),
                "length": ov["length"],
                "a_chars": ov["a_chars"],
                "b_chars": ov["b_chars"],
                "both": ov["both"],
                "neither": ov["neither"],
            }
        )
    for left in data.get("left_out", []):
        # a study the figures do not count, and why ("one_coder" or "not_submitted")
        rows.append({"section": "left_out", "coder_a": ", ".join(left.get("coder_names", ())),
                     "study": left.get("study_label", ""), "reason": left.get("reason", "")})
    return rows


def _write_csv(data: Mapping[str, Any], tmp: Path) -> None:
    # utf-8-sig so that Excel on Windows shows Chinese and Cyrillic names correctly
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, restval="")
        writer.writeheader()
        for row in _csv_rows(data):
            writer.writerow({k: csv_safe(v) if isinstance(v, str) else v for k, v in row.items()})


def _write_docx(data: Mapping[str, Any], tmp: Path, lang: str) -> None:
    try:
        import docx
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
    except ImportError as err:  # pragma: no cover - a broken installation
        raise ExportFailed(
            tr("Cannot write Word files: python-docx is missing; reinstall CMO Desk.", lang)
        ) from err

    def repeat_header(table: Any) -> None:
        tr_pr = table.rows[0]._tr.get_or_add_trPr()
        flag = OxmlElement("w:tblHeader")
        flag.set(qn("w:val"), "true")
        tr_pr.append(flag)

    def add_table(headers: list[str], rows: list[list[str]], bold_last: bool = False) -> None:
        table = document.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, headers):
            cell.text = ""
            cell.paragraphs[0].add_run(_clean(text)).bold = True
        repeat_header(table)
        for i, values in enumerate(rows):
            cells = table.add_row().cells
            for cell, text in zip(cells, values):
                cell.text = ""
                run = cell.paragraphs[0].add_run(_clean(text))
                run.bold = bold_last and i == len(rows) - 1

    names = _coder_names(data)
    document = docx.Document()
    document.add_heading(tr("Agreement between coders", lang), level=1)
    document.add_paragraph(
        _clean(tr("Coders", lang) + ": " + ", ".join(names.values()))
    )
    share = data.get("double_coded_share")
    document.add_paragraph(
        tr("Studies: {total}; double-coded: {double} ({share}).", lang).format(
            total=data.get("studies_total", 0),
            double=data.get("studies_double_coded", 0),
            share=_fmt_percent(None if share is None else 100.0 * share, lang),
        )
    )
    document.add_paragraph(
        tr("Units are study × code pairs in double-coded studies; computed from each coder's own records, not from consensus.", lang)
    )
    for note in data.get("notes", []):
        document.add_paragraph(_clean(note))

    document.add_heading(tr("Study × code presence", lang), level=2)
    rows = [
        [tr(r.get("code_name", ""), lang), str(r["units"]), _fmt_stat(r["kappa"], lang), _fmt_stat(r["alpha"], lang),
         _fmt_percent(r["percent"], lang)]
        for r in data.get("per_code", [])
    ]
    pooled = data["pooled"]
    rows.append(
        [tr("All codes (pooled)", lang), str(pooled["units"]), _fmt_stat(pooled["kappa"], lang),
         _fmt_stat(pooled["alpha"], lang), _fmt_percent(pooled["percent"], lang)]
    )
    add_table(
        [tr("Code", lang), tr("Units", lang), tr("Cohen's κ", lang), tr("Krippendorff's α", lang),
         tr("% agreement", lang)],
        rows,
        bold_last=True,
    )

    overlaps = data.get("overlaps", [])
    if overlaps:
        document.add_heading(tr("Character overlap per code and document", lang), level=2)
        add_table(
            [tr("Coders", lang), tr("Study", lang), tr("Document", lang), tr("Code", lang),
             tr("% agreement", lang), tr("κ", lang), tr("α", lang)],
            [
                [
                    f"{o.get('coder_a_name') or o['coder_a']} / {o.get('coder_b_name') or o['coder_b']}",
                    o.get("study_label", ""),
                    o.get("document_name", ""),
                    tr(o.get("code_name", ""), lang),
                    _fmt_percent(o["percent"], lang),
                    _fmt_stat(o["kappa"], lang),
                    _fmt_stat(o["alpha_binary"], lang),
                ]
                for o in overlaps
            ],
        )
    document.save(str(tmp))
