"""Lookups over one project snapshot that every table reads (``TableContext``), and the helpers
that turn its records into cell text: form values, quotes, citations, group headings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import merged_target
from cmo_desk.domain.initials import unique_initials
from cmo_desk.domain.records import (
    Cmoc, Code, Consensus, Excerpt, Study, Theory, and_others, end_sentence,
)
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.exporters.textclean import clean_text, one_line

#: Form keys read as the study's appraisal (RAMESES items 9-11), in display order.
APPRAISAL_KEYS: tuple[str, ...] = ("relevance", "rigour", "rigor", "richness")

#: Study characteristics used when the project has no form template and the shipped default
#: template cannot be read. Keys match schemas/peer-involvement-review.json.
FALLBACK_TEMPLATE: dict[str, Any] = {
    "id": "fallback",
    "title": "Study characteristics",
    "sections": [
        {
            "key": "place",
            "title": "Place",
            "fields": [
                {"key": "countries", "label": "Countries", "type": "list"},
                {"key": "income_group", "label": "Income group", "type": "choice"},
                {"key": "income_fiscal_year", "label": "Income group fiscal year", "type": "text",
                 "in_table": False},
                {"key": "income_basis", "label": "Income group basis", "type": "choice",
                 "in_table": False},
            ],
        },
        {"key": "setting", "title": "Setting",
         "fields": [{"key": "setting", "label": "Setting", "type": "multi_choice"}]},
        {"key": "population", "title": "Population",
         "fields": [{"key": "population", "label": "Population", "type": "multi_choice"}]},
        {"key": "peer_role", "title": "Peer role",
         "fields": [{"key": "peer_role", "label": "Peer role", "type": "multi_choice"}]},
        {"key": "study", "title": "Study",
         "fields": [{"key": "design", "label": "Design", "type": "choice"}]},
        {
            "key": "appraisal",
            "title": "Appraisal",
            "fields": [
                {"key": k, "label": k.capitalize(), "type": "ordinal", "justification": True}
                for k in ("relevance", "rigour", "richness")
            ],
        },
    ],
}

_HYPHEN_BREAK = re.compile(r"(?<=\w)-[ \t]*\n[ \t]*(?=\w)")
_REASON_KEYS = ("justification", "reason", "note", "notes", "comment")
_MAIN_KEYS = ("value", "rating", "level", "group", "name", "label", "country")


class TableContext:
    """Lookups over one snapshot, built once per export."""

    def __init__(self, snapshot: ProjectSnapshot, lang: str) -> None:
        self.snapshot = snapshot
        self.lang = lang
        self.empty = "blank"
        self.template = snapshot.project.template or _default_template()
        #: The template's choice options: stored in English, shown in the table's language
        #: (as the study form shows them).
        self.option_values = _choice_options(self.template)
        #: Countries are stored in English and named in the reader's language, as the desk's
        #: study list names them (a place the catalogue does not know stays as typed).
        self.option_values |= {c for fv in snapshot.form_values if fv.key == "countries"
                               and isinstance(fv.value, (list, tuple)) for c in fv.value
                               if isinstance(c, str)}
        self._study_target = {s.id: s.merged_into for s in snapshot.studies if s.merged_into}
        self.studies = [s for s in snapshot.studies if not s.merged_into]
        self.study_by_id = {s.id: s for s in self.studies}
        self.coder_name = {c.id: one_line(c.name) for c in snapshot.coders}
        self.coder_initials = unique_initials(snapshot.coders)
        self.excerpt_by_id = {e.id: e for e in snapshot.excerpts}
        self.document_by_id = {d.id: d for d in snapshot.documents}
        self.document_order = {d.id: i for i, d in enumerate(snapshot.documents)}
        self._code_target = {c.id: c.merged_into for c in snapshot.codes if c.merged_into}
        self.codes = [c for c in snapshot.codes if not c.merged_into]
        self.code_by_id = {c.id: c for c in self.codes}
        self.theory_by_id = {t.id: t for t in snapshot.theories}
        self.review_theories = _review_theories(snapshot, set(self.theory_by_id))
        self.cmoc_by_id = {c.id: c for c in snapshot.cmocs}
        #: coder CMOC id -> ids of the consensus CMOCs built from it
        self.covered: dict[str, list[str]] = {}
        for agreed in snapshot.consensus:
            for source_id in agreed.source_ids:
                self.covered.setdefault(source_id, []).append(agreed.id)
        #: study id (merged studies followed) -> key -> [(coder id, value)]
        self.form = self._form_values()

    def _form_values(self) -> dict[str, dict[str, list[tuple[str | None, Any]]]]:
        form: dict[str, dict[str, list[tuple[str | None, Any]]]] = {}
        for fv in self.snapshot.form_values:
            if fv.key and not is_empty(fv.value):
                sid = self.study_id(fv.study_id)
                form.setdefault(sid, {}).setdefault(fv.key, []).append((fv.coder_id, fv.value))
        return form

    def t(self, text: str) -> str:
        return tr(text, self.lang)

    def study_id(self, study_id: str | None) -> str:
        return merged_target(self._study_target, study_id or "")

    def code_id(self, code_id: str) -> str:
        return merged_target(self._code_target, code_id)

    def study_label(self, study_id: str) -> str:
        study = self.study_by_id.get(study_id)
        if study is None:
            return self.t("Unknown study")
        return one_line(study.label) or one_line(short_citation(study)) or self.t("Unlabelled study")

    def code_path(self, code: Code) -> str:
        # a starter code is named in the table's language, as the desk names it
        names = [self.t(one_line(code.name)) if code.name else self.t("Unnamed code")]
        seen = {code.id}
        parent = self.code_by_id.get(code.parent_id or "")
        while parent is not None and parent.id not in seen:
            seen.add(parent.id)
            names.append(self.t(one_line(parent.name)) if parent.name else "")
            parent = self.code_by_id.get(parent.parent_id or "")
        return " › ".join(n for n in reversed(names) if n)

    def page_of(self, excerpt: Excerpt) -> int | None:
        doc = self.document_by_id.get(excerpt.document_id or "")
        return doc.page_to_cite(excerpt.start, excerpt.page) if doc is not None else excerpt.page

    def text_order(self, excerpt: Excerpt) -> tuple[int, bool, int, int, str]:
        """Where an excerpt stands in its study's texts: document, then offset (page when the
        excerpt has no offset)."""
        return (self.document_order.get(excerpt.document_id or "", len(self.document_order)),
                excerpt.start is None, excerpt.start or 0, self.page_of(excerpt) or 0, excerpt.id)

    def quote_line(self, excerpt: Excerpt) -> str:
        """The quote as one paragraph: the PDF's line ends are layout, not the author's breaks."""
        quote = quote_text(excerpt.quote)
        if not quote:
            return ""
        page = self.page_of(excerpt)
        if page is None:
            return f"“{quote}”"
        return f"“{quote}” " + self.t("(p. {page})").format(page=page)

    def form_value(self, study_id: str, key: str, coder_id: str | None = None) -> str:
        """The value shown for a form field: agreed, unanimous, the row's coder's, or per coder."""
        entries = self.form.get(study_id, {}).get(key, [])
        if not entries:
            return ""
        agreed = [v for c, v in entries if c is None]
        if agreed:
            return self.format_value(agreed[0])
        shown = {self.format_value(v) for _, v in entries} - {""}
        if len(shown) == 1:
            return shown.pop()
        if coder_id is not None:
            own = [v for c, v in entries if c == coder_id]
            if own:
                return self.format_value(own[0])
        parts = []
        for coder, value in sorted(entries, key=lambda e: self.coder_initials.get(e[0] or "", "")):
            text = self.format_value(value)
            if text:
                who = self.coder_initials.get(coder or "", "") or self.t("unknown coder")
                parts.append(f"{text} ({who})")
        return "; ".join(parts)

    def format_value(self, value: Any) -> str:
        if is_empty(value):
            return ""
        if isinstance(value, bool):
            return self.t("Yes") if value else self.t("No")
        if isinstance(value, (list, tuple, set)):
            return "; ".join(t for t in (self.format_value(v) for v in value) if t)
        if isinstance(value, dict):
            return self._format_mapping(value)
        if isinstance(value, str) and value in self.option_values:
            return self.t(value)
        return clean_text(value).strip()

    def _format_mapping(self, value: dict[str, Any]) -> str:
        # Ratings: {"rating": "high", "justification": "..."} -> "high — ...";
        # income groups: {"group": ..., "fiscal_year": ..., "basis": ...} -> "group (FY; basis)".
        main_key = next((k for k in _MAIN_KEYS if not is_empty(value.get(k))), None)
        reasons = [self.format_value(v) for k, v in value.items() if k in _REASON_KEYS]
        details = [
            self.format_value(v)
            for k, v in value.items()
            if k != main_key and k not in _REASON_KEYS
        ]
        text = self.format_value(value[main_key]) if main_key else ""
        details = [d for d in details if d]
        if details:
            text = f"{text} ({'; '.join(details)})" if text else "; ".join(details)
        reasons = [r for r in reasons if r]
        if reasons:
            text = f"{text} — {'; '.join(reasons)}" if text else "; ".join(reasons)
        return text

    def field_label(self, f: dict[str, Any]) -> str:
        key = str(f.get("key") or "")
        if self.lang == "zh_CN" and f.get("label_zh_CN"):
            return one_line(f["label_zh_CN"])
        return self.t(one_line(f.get("label")) or key)

    def appraisal_keys(self) -> list[tuple[str, str]]:
        """(key, translated label) of the template's appraisal fields, in template order."""
        found: list[tuple[str, str]] = []
        for section in template_sections(self.template):
            in_appraisal = "apprais" in f"{section.get('key', '')} {section.get('title', '')}".lower()
            for f in section_fields(section):
                key = str(f.get("key", ""))
                if key in APPRAISAL_KEYS or (in_appraisal and f.get("type") in ("ordinal", "choice")):
                    found.append((key, self.field_label(f)))
        if not found:
            found = [(k, self.t(k.capitalize())) for k in ("relevance", "rigour", "richness")]
        return found

    def theories_of(self, record: Cmoc | Consensus) -> list[tuple[str, str | None]]:
        if isinstance(record, Cmoc):
            return list(record.theories)
        out: list[tuple[str, str | None]] = []
        for source_id in record.source_ids:
            source = self.cmoc_by_id.get(source_id)
            for link in source.theories if source else ():
                if link[0] not in {t for t, _ in out}:
                    out.append(link)
        return out

    def theory_relations(self, record: Cmoc | Consensus) -> list[tuple[str, str]]:
        """Each programme theory a record bears on, with how, in the table's language: its own
        links to theories (a consensus takes its sources'), then the review CMOCs it (or a
        source) is linked to in the synthesis ("Supports PT1-C2")."""
        out: dict[str, list[str]] = {}
        for tid, relation in self.theories_of(record):
            out.setdefault(tid, []).append(self.t(relation.capitalize()) if relation else "")
        ids = [record.id, *getattr(record, "source_ids", ())]
        for source_id in ids:
            for tid, relation, label in self.review_theories.get(source_id, ()):
                text = " ".join(x for x in (
                    self.t(relation.capitalize()) if relation else "", label) if x)
                if text not in out.setdefault(tid, []):
                    out[tid].append(text)
        return [(tid, "; ".join(x for x in texts if x)) for tid, texts in out.items()]


def _review_theories(snapshot: ProjectSnapshot, theory_ids: set[str]
                     ) -> dict[str, list[tuple[str, str, str]]]:
    """Study (or consensus) CMOC id -> [(theory id, relation, review CMOC label)]: how it bears
    on a programme theory through the review CMOCs it is linked to, in their order."""
    reviews = {r.id: r for r in snapshot.review_cmocs if r.theory_id in theory_ids}
    out: dict[str, list[tuple[str, str, str]]] = {}
    links = [lk for lk in snapshot.review_links
             if lk.source_id and (lk.review_cmoc_id or "") in reviews]
    links.sort(key=lambda lk: (reviews[lk.review_cmoc_id or ""].sort_order or 0,
                               reviews[lk.review_cmoc_id or ""].label or "", lk.id))
    for lk in links:
        review = reviews[lk.review_cmoc_id or ""]
        out.setdefault(lk.source_id or "", []).append(
            (review.theory_id or "", lk.relation or "", review.label or ""))
    return out


def codes_cell(ctx: TableContext, code_ids: Iterable[str]) -> str:
    """A record's codes as paths ("Mechanism › Trust"), merged codes shown as what they became."""
    codes = [ctx.code_by_id.get(ctx.code_id(c)) for c in code_ids]
    return "; ".join(ctx.code_path(c) for c in codes if c is not None)


# ---- headings -----------------------------------------------------------------------------------


def study_heading(ctx: TableContext, study_id: str) -> str:
    label = ctx.study_label(study_id)
    study = ctx.study_by_id.get(study_id)
    short = one_line(short_citation(study)) if study else ""
    return f"{label} — {short}" if short and short != label else label


def theory_label(ctx: TableContext, theory: Theory) -> str:
    label = one_line(theory.label) or ctx.t("Programme theory")
    if theory.version:
        label += f" (v{one_line(theory.version).lstrip('vV')})"
    return label


def theory_heading(ctx: TableContext, theory: Theory) -> str:
    statement = one_line(theory.statement)
    label = theory_label(ctx, theory)
    return f"{label}: {statement}" if statement else label


# ---- helpers ------------------------------------------------------------------------------------


def quote_text(value: Any) -> str:
    """A quote as one paragraph: line breaks from the PDF's layout become spaces; a word broken
    with a hyphen at a line end keeps its hyphen (it may be a compound) and loses the break."""
    text = clean_text(value).strip()
    if "\n" not in text:
        return text
    return one_line(_HYPHEN_BREAK.sub("-", text))


def _default_template() -> dict[str, Any]:
    try:
        from cmo_desk.domain.templates import default_template

        return default_template()
    except Exception:  # a damaged install must not stop an export; the fallback has the same keys
        return FALLBACK_TEMPLATE


def _choice_options(template: Any) -> set[str]:
    return {
        o for section in template_sections(template) for f in section_fields(section)
        for o in (f.get("options") or []) if isinstance(o, str)
    }


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {} or value == ()


def template_sections(template: Any) -> list[dict[str, Any]]:
    if not isinstance(template, dict):
        return []
    sections = template.get("sections")
    if isinstance(sections, list):
        return [s for s in sections if isinstance(s, dict)]
    if isinstance(template.get("fields"), list):  # a flat template without sections
        return [template]
    return []


def section_fields(section: dict[str, Any]) -> list[dict[str, Any]]:
    found = section.get("fields")
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def label_sort_key(study: Study) -> tuple[str, int, str]:
    return ((study.label or "").casefold(), study.year or 0, study.id)


def citation_sort_key(study: Study) -> tuple[str, str]:
    return (one_line(study.citation()).casefold(), study.id)


def short_citation(study: Study | None) -> str:
    """First author (et al.), year and title: enough to recognise a study under its heading."""
    if study is None:
        return ""
    parts: list[str] = []
    authors = [a for a in (study.authors or []) if isinstance(a, str) and a.strip()]
    if authors:
        parts.append(authors[0] + (and_others(authors[0]) if len(authors) > 1 else ""))
    if study.year:
        parts.append(f"({study.year})")
    head = " ".join(parts)
    title = end_sentence(study.title or "")
    if title:
        head = f"{end_sentence(head)} {title}" if head else title
    if study.journal:
        head += " " + end_sentence(study.journal)
    return head.strip()
