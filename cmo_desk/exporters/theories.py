"""The programme-theory table a realist review publishes (.docx).

Per programme theory: its statement, its diagram, its version history (the refinement ledger),
and its review CMOCs with the studies that support, refute or refine each (counted from the
links), the confidence and its basis, and illustrative quotes with pages.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cmo_desk.domain.errors import Cancelled, ExportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.synthesis import (
    COMPONENTS,
    ReviewCmocEvidence,
    Synthesis,
    TheoryEvidence,
    deleted_evidence_note,
    unrecorded_note,
)
from cmo_desk.exporters import atomic_target
from cmo_desk.exporters.diagram import layout, to_png
from cmo_desk.exporters.textclean import clean_text, one_line

#: Quotes shown per review CMOC: enough to illustrate, few enough to read.
QUOTES_PER_CMOC = 3
QUOTE_CHARS = 300


def confidence_label(value: str | None, lang: str) -> str:
    return {
        "high": tr("High", lang), "moderate": tr("Moderate", lang), "low": tr("Low", lang),
        "very_low": tr("Very low", lang),
    }.get(value or "", value or "")


def relation_label(value: str, lang: str) -> str:
    return {"supports": tr("supports", lang), "refutes": tr("refutes", lang),
            "refines": tr("refines", lang)}.get(value, value)


def component_label(value: str, lang: str) -> str:
    return {"relevance": tr("relevance", lang), "richness": tr("richness", lang),
            "rigour": tr("rigour", lang), "coherence": tr("coherence", lang),
            "adequacy": tr("adequacy", lang)}.get(value, value)


def concern_label(value: str, lang: str) -> str:
    return {"none": tr("no concerns", lang), "minor": tr("minor concerns", lang),
            "moderate": tr("moderate concerns", lang),
            "serious": tr("serious concerns", lang)}.get(value, value)


def studies_cell(r: ReviewCmocEvidence, relation: str) -> str:
    studies = r.studies(relation)
    return f"{len(studies)}: " + "; ".join(studies) if studies else "0"


def confidence_cell(r: ReviewCmocEvidence, lang: str) -> str:
    rc = r.record
    parts = [confidence_label(rc.confidence, lang) or tr("Not judged", lang)]
    judged = [f"{component_label(k, lang)}: {concern_label(v, lang)}"
              for k in COMPONENTS if (v := (rc.assessment or {}).get(k))]
    if judged:
        parts.append("; ".join(judged))
    if rc.confidence_basis:
        parts.append(one_line(rc.confidence_basis))
    return "\n".join(parts)


def quotes_cell(r: ReviewCmocEvidence, lang: str) -> str:
    """Illustrative quotes from the supporting studies first, each with study and page."""
    order = {"supports": 0, "refines": 1, "refutes": 2}
    out: list[str] = []
    seen: set[str] = set()
    for src in sorted(r.sources, key=lambda s: (order.get(s.relation, 3), s.study_label)):
        # The mechanism is what a realist quote must show; then the outcome, then the context.
        rank = {"mechanism": 0, "outcome": 1, "context": 2}
        for q in sorted(src.quotes, key=lambda q: rank.get(q.role or "", 3)):
            text = one_line(q.text)
            if not text or text in seen:
                continue
            seen.add(text)
            if len(text) > QUOTE_CHARS:
                text = text[:QUOTE_CHARS - 1] + "…"
            page = tr("p. {page}", lang).format(page=q.page) if q.page else ""
            where = ", ".join(x for x in (src.study_label, page) if x)
            out.append(f"“{text}” ({where})")
            break  # one quote per source CMOC, so several studies get a voice
        if len(out) >= QUOTES_PER_CMOC:
            break
    return "\n".join(out)


def set_landscape(doc: Any) -> None:
    """Turn the document's page to A4 landscape with narrow margins, for wide tables."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Cm(1.5))


def _repeat_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def set_east_asian_font(doc: Any, lang: str) -> None:
    """Give the Normal style an East Asian font (SimSun for Chinese), so Chinese text is not shown
    in a fallback font."""
    from docx.oxml.ns import qn

    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), "SimSun" if lang == "zh_CN" else "Calibri")


def add_table(doc: Any, headers: list[str], rows: list[list[str]],
              widths: list[float] | None = None) -> Any:
    """A plain table with a bold header row repeated on every page."""
    from docx.shared import Cm, Pt

    table = doc.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = "Table Grid"
    for i, h in enumerate(headers):
        cell = table.rows[0].cells[i]
        cell.text = ""
        run = cell.paragraphs[0].add_run(clean_text(h))
        run.bold = True
    _repeat_header(table.rows[0])
    for r, values in enumerate(rows, start=1):
        cells = table.rows[r].cells
        for i, v in enumerate(values):
            cells[i].text = clean_text(v)
    if widths:
        # Word reads the cells' widths, LibreOffice the grid's: set both.
        table.autofit = False
        for i, w in enumerate(widths):
            table.columns[i].width = Cm(w)
    for row in table.rows:
        for i, cell in enumerate(row.cells):
            if widths:
                cell.width = Cm(widths[i])
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(8.5)
    return table


def ledger_rows(theory: TheoryEvidence, names: dict[str, str], lang: str) -> list[list[str]]:
    return [[f"v{v.number}", v.recorded_at or "", names.get(v.author_id or "", ""),
             ", ".join(v.added or []) or "—", ", ".join(v.changed or []) or "—",
             ", ".join(v.dropped or []) or "—", one_line(v.reason), one_line(v.statement)]
            for v in theory.versions]


def ledger_headers(lang: str) -> list[str]:
    return [tr("Version", lang), tr("Recorded", lang), tr("By", lang),
            tr("Review CMOCs added", lang), tr("Changed", lang), tr("Dropped", lang),
            tr("Why", lang), tr("Theory statement", lang)]


def write_theories(synthesis: Synthesis, path: str | os.PathLike[str], lang: str = "en",
                   cancel: Callable[[], bool] | None = None) -> tuple[Path, list[str]]:
    """Write the programme-theory table; returns the path and notes on what was left out."""
    from docx import Document
    from docx.shared import Cm

    target = Path(path)
    notes: list[str] = []
    doc = Document()
    set_landscape(doc)
    set_east_asian_font(doc, lang)
    doc.add_heading(clean_text(tr("Programme theories", lang)), level=0)
    if synthesis.title:
        doc.add_paragraph(clean_text(synthesis.title))
    n_reviews = len(synthesis.review_cmocs)
    doc.add_paragraph(clean_text(tr(
        "{theories} programme theories, {reviews} review CMOCs. Studies are counted from the "
        "links between study CMOCs and review CMOCs; confidence follows the scheme in the "
        "review's methods (relevance, richness, rigour, coherence, adequacy).", lang).format(
            theories=len(synthesis.theories), reviews=n_reviews)))
    if not synthesis.theories:
        doc.add_paragraph(clean_text(tr("No programme theories yet.", lang)))
    for t in synthesis.theories:
        if cancel is not None and cancel():
            raise Cancelled(tr("Export cancelled; no file was written."))
        th = t.theory
        head = " ".join(x for x in (th.label or "", f"({th.version})" if th.version else "") if x)
        doc.add_heading(clean_text(head), level=1)
        if th.statement:
            doc.add_paragraph(clean_text(th.statement))
        if (since := unrecorded_note(t, lang)) is not None:
            # the table shows the theory as it stands, which its version label no longer covers
            doc.add_paragraph(clean_text(since))
        png, png_notes = to_png(layout(t, lang))
        for n in png_notes:
            if n not in notes:
                notes.append(n)
        doc.add_picture(io.BytesIO(png), width=Cm(min(25.0, layout(t, lang).width / 38)))
        doc.add_heading(clean_text(tr("Review CMOCs", lang)), level=2)
        if t.review_cmocs:
            rows = []
            for r in t.review_cmocs:
                rc = r.record
                mech = "\n".join(x for x in (rc.mechanism_resource, rc.mechanism_reasoning) if x)
                outcome = rc.outcome or ""
                if rc.outcome_direction:
                    outcome += f" ({rc.outcome_direction})"
                rows.append([
                    rc.label or "", rc.statement or "", rc.context or "", mech, outcome,
                    studies_cell(r, "supports"), studies_cell(r, "refutes"),
                    studies_cell(r, "refines"), confidence_cell(r, lang), quotes_cell(r, lang)])
            add_table(doc, [tr("Label", lang), tr("If–then–because", lang), tr("Context", lang),
                            tr("Mechanism", lang), tr("Outcome", lang),
                            tr("Supporting studies", lang), tr("Refuting studies", lang),
                            tr("Refining studies", lang), tr("Confidence and basis", lang),
                            tr("Illustrative quotes", lang)], rows,
                      [1.3, 3.4, 2.4, 2.8, 2.2, 2.2, 2.0, 2.0, 3.2, 5.0])
            for r in t.review_cmocs:
                if (lost := deleted_evidence_note(r, lang)) is not None:
                    doc.add_paragraph(clean_text(lost))
        else:
            doc.add_paragraph(clean_text(tr("No review CMOCs yet.", lang)))
        doc.add_heading(clean_text(tr("Version history", lang)), level=2)
        if t.versions:
            add_table(doc, ledger_headers(lang), ledger_rows(t, synthesis.coder_names, lang),
                      [1.5, 2.6, 2.2, 2.6, 2.2, 2.2, 5.4, 7.5])
        else:
            doc.add_paragraph(clean_text(tr("No versions recorded yet.", lang)))
    with atomic_target(target) as tmp:
        try:
            doc.save(str(tmp))
        except OSError as err:
            raise ExportFailed(tr("Cannot write {path}: {reason}. Free some space or choose "
                                  "another folder.").format(path=target,
                                                            reason=err.strerror or err)) from err
    return target, notes
