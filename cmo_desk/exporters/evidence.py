"""The table model shared by the Word and spreadsheet exports and the desk's Export preview.

``build_table`` turns a project snapshot into columns, groups of rows and a title block. Every
cell is already cleaned, translated and formatted text, so writers only lay it out. Rows also
carry stable snake_case fields (ids, plain outcome, direction...) that the spreadsheets use.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import LANGUAGES, normalise_language, tr
from cmo_desk.domain.initials import unique_initials
from cmo_desk.domain.records import Cmoc, Code, Consensus, Excerpt, Study, Theory
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.exporters.textclean import clean_text, one_line

TableKind = Literal["evidence", "studies", "excerpts"]
GroupBy = Literal["study", "code", "theory"]
Records = Literal["consensus", "coders", "all"]

TABLES: tuple[str, ...] = ("evidence", "studies", "excerpts")
GROUPINGS: tuple[str, ...] = ("study", "code", "theory")
RECORD_CHOICES: tuple[str, ...] = ("consensus", "coders", "all")
#: Evidence-table columns a reader may add: (key, heading, width, placed before this column).
_OPTIONAL: tuple[tuple[str, str, float, str], ...] = (
    ("intervention", "Intervention", 1.1, "context"),
    ("actor", "Actor", 0.9, "context"),
    ("codes", "Codes", 1.1, "appraisal"),
    ("theories", "Programme theories", 1.1, "appraisal"),
)
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(k for k, *_ in _OPTIONAL)
EMPTY_CHOICES: tuple[str, ...] = ("blank", "NR", "dash")
#: CMOC slots whose emptiness the Word table marks when asked (never the data columns).
SLOT_COLUMNS: frozenset[str] = frozenset({
    "intervention", "actor", "context", "mechanism_resource", "mechanism_reasoning",
    "outcome_shown", "statement",
})

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

_NO_PAGE = "–"
_HYPHEN_BREAK = re.compile(r"(?<=\w)-[ \t]*\n[ \t]*(?=\w)")
_DIRECTION_MARK = {"+": "(+)", "-": "(−)", "−": "(−)", "mixed": "(mixed)"}
_LONG_FIELD_TYPES = {"long_text", "textarea", "memo", "paragraph"}
_REASON_KEYS = ("justification", "reason", "note", "notes", "comment")
_MAIN_KEYS = ("value", "rating", "level", "group", "name", "label", "country")


@dataclass(frozen=True)
class ExportOptions:
    table: TableKind = "evidence"
    group_by: GroupBy = "study"
    records: Records = "consensus"
    lang: str = "en"
    #: Blind coding: the coder whose own work alone the export shows (None: everyone's).
    only_coder: str | None = None
    #: Also write the tidy companions (studies, CMOCs, CMOC–excerpt pages, form values) beside a
    #: .csv or .xlsx table.
    tidy: bool = False
    #: Optional evidence-table columns, from ``OPTIONAL_COLUMNS``.
    columns: tuple[str, ...] = ()
    #: What an empty CMOC slot shows in Word: "blank", "NR" (not reported) or "dash".
    empty: str = "blank"
    #: The table's caption in Word; None: "Table S1" in the table's language; "" for none.
    caption: str | None = None

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("table", self.table, TABLES),
            ("group_by", self.group_by, GROUPINGS),
            ("records", self.records, RECORD_CHOICES),
        ):
            if value not in allowed:
                raise ValidationError(
                    tr("Unknown {name} {value!r}: choose one of {allowed}.").format(
                        name=name, value=value, allowed=", ".join(allowed)
                    )
                )
        unknown = [c for c in self.columns if c not in OPTIONAL_COLUMNS]
        if unknown or self.empty not in EMPTY_CHOICES:
            name, value, allowed = (("columns", ",".join(unknown), OPTIONAL_COLUMNS) if unknown
                                    else ("empty", self.empty, EMPTY_CHOICES))
            raise ValidationError(
                tr("Unknown {name} {value!r}: choose one of {allowed}.").format(
                    name=name, value=value, allowed=", ".join(allowed)
                )
            )
        object.__setattr__(self, "columns", tuple(dict.fromkeys(self.columns)))
        lang = normalise_language(self.lang)
        if lang == "en" and not str(self.lang or "en").lower().startswith("en"):
            raise ValidationError(
                tr("Unknown language {value!r}: choose one of {languages}.").format(
                    value=self.lang, languages=", ".join(LANGUAGES))
            )
        object.__setattr__(self, "lang", lang)


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    width_weight: float = 1.0


@dataclass
class Group:
    heading: str
    rows: list[dict[str, str]] = field(default_factory=list)
    #: Stable identifier of what the group stands for (a study, code or theory id; "" for none).
    key: str = ""


@dataclass(frozen=True)
class TitleBlock:
    title: str
    project_title: str
    date: str
    coders: tuple[str, ...]
    #: (translated label, number) in display order, e.g. ("Studies", 29).
    counts: tuple[tuple[str, int], ...]
    #: Sentences telling the reader which records and appraisal values the table shows.
    notes: tuple[str, ...] = ()
    #: What the table's marks and abbreviations mean: coders' initials, (+)/(−), empty slots.
    legend: tuple[str, ...] = ()
    #: "Table S1" and the like; shown before the title in Word.
    caption: str = ""


@dataclass
class Table:
    options: ExportOptions
    title_block: TitleBlock
    #: Columns a reader sees (Word, the preview), with translated headings.
    columns: list[Column]
    groups: list[Group]
    #: Stable snake_case keys for spreadsheets, in order; each row holds every one of them.
    data_keys: list[str]
    #: Studies for the reference list, in citation order.
    studies: list[Study]
    references_heading: str = ""
    #: Translated labels used by the Word writer around the table body.
    labels: dict[str, str] = field(default_factory=dict)
    #: Evidence tables: how many records of each kind the rows show, and how many were left out
    #: (keys "consensus", "coder_reconciled", "coder_not_reconciled", "set_aside_left_out").
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def lang(self) -> str:
        return self.options.lang

    @property
    def row_count(self) -> int:
        return sum(len(g.rows) for g in self.groups)

    def iter_rows(self) -> Iterable[tuple[Group, dict[str, str]]]:
        for group in self.groups:
            for row in group.rows:
                yield group, row


def build_table(
    snapshot: ProjectSnapshot, options: ExportOptions | None = None, today: _dt.date | None = None
) -> Table:
    """Build the table the options ask for. Pure: reads the snapshot, writes nothing."""
    options = options or ExportOptions()
    ctx = _Context(snapshot, options.lang)
    ctx.empty = options.empty
    if options.table == "studies":
        columns, groups, data_keys, title = _studies_table(ctx)
        notes = [ctx.t(_FORM_NOTE)]
        shown_label = ctx.t("Studies in this table")
    elif options.table == "excerpts":
        columns, groups, data_keys, title = _excerpts_table(ctx, options.group_by)
        notes = []
        shown_label = ctx.t("Excerpts in this table")
    else:
        columns, groups, data_keys, title = _evidence_table(ctx, options)
        summary = _evidence_summary(ctx, groups)
        notes = [ctx.t(_RECORDS_NOTE[options.records]), summary_note(summary, ctx.lang),
                 ctx.t(_FORM_NOTE)]
        shown_label = ctx.t("CMOCs in this table")
    # A row listed under two codes or theories is still one record.
    shown = len({row["row_id"] for g in groups for row in g.rows})
    counts: tuple[tuple[str, int], ...] = (
        (ctx.t("Studies"), len(ctx.studies)),
        (ctx.t("Excerpts"), len(snapshot.excerpts)),
        (shown_label, shown),
    )
    if options.table == "evidence":
        counts += tuple(
            (ctx.t(label), summary[key]) for key, label in _SUMMARY_LABELS if summary[key]
        )
    block = TitleBlock(
        caption=ctx.t("Table S1") if options.caption is None else one_line(options.caption),
        title=title,
        project_title=one_line(snapshot.project.title) or ctx.t("Untitled project"),
        date=(today or _dt.date.today()).isoformat(),
        coders=tuple(one_line(c.name) for c in snapshot.coders if c.name),
        counts=counts,
        notes=tuple(n for n in notes if n),
        legend=_legend(ctx, options.table),
    )
    return Table(
        options=options,
        summary=summary if options.table == "evidence" else {},
        title_block=block,
        columns=columns,
        groups=groups,
        data_keys=data_keys,
        studies=sorted(ctx.studies, key=_citation_sort_key),
        references_heading=ctx.t("References: included studies"),
        labels={
            "project": ctx.t("Project"),
            "date": ctx.t("Date"),
            "coders": ctx.t("Coders"),
            "page": ctx.t("Page"),
        },
    )


_FORM_NOTE = (
    "Study characteristics and appraisal show the agreed value where one is recorded or all "
    "coders gave the same value; otherwise each coder's value with their initials."
)

_RECORDS_NOTE = {
    "consensus": "Rows show consensus CMOCs and every coder's CMOC that no consensus CMOC was "
    "built from, marked “not reconciled”. CMOCs set aside are left out.",
    "coders": "Rows show each coder's own CMOCs, with the coder named. CMOCs set aside are left out.",
    "all": "Rows show consensus CMOCs and every coder's own CMOCs. CMOCs set aside are left out.",
}


_SUMMARY_LABELS: tuple[tuple[str, str], ...] = (
    ("consensus", "Consensus CMOCs"),
    ("coder_reconciled", "Coders' CMOCs a consensus was built from"),
    ("coder_not_reconciled", "Coders' CMOCs not reconciled"),
    ("set_aside_left_out", "CMOCs set aside, left out"),
)


def _evidence_summary(ctx: _Context, groups: Sequence[Group]) -> dict[str, int]:
    """Distinct records shown, by kind, and the set-aside CMOCs the table leaves out."""
    seen: dict[str, str] = {}
    for group in groups:
        for row in group.rows:
            if row["record_type"] == "consensus":
                kind = "consensus"
            elif row["consensus_ids"]:
                kind = "coder_reconciled"
            else:
                kind = "coder_not_reconciled"
            seen[row["row_id"]] = kind
    summary = {key: 0 for key, _ in _SUMMARY_LABELS}
    for kind in seen.values():
        summary[kind] += 1
    summary["set_aside_left_out"] = sum(1 for c in ctx.snapshot.cmocs if c.status == "set_aside")
    return summary


def summary_note(summary: dict[str, int], lang: str | None = None) -> str:
    """One sentence saying how many rows of each kind an evidence table shows and leaves out."""
    return tr(
        "This table shows {consensus} consensus CMOCs, {coder_reconciled} coders' CMOCs a "
        "consensus was built from and {coder_not_reconciled} coders' CMOCs not reconciled; "
        "{set_aside_left_out} CMOCs set aside are left out.",
        lang,
    ).format(**summary)


def _legend(ctx: _Context, table: str) -> tuple[str, ...]:
    lines = []
    named = sorted((ctx.coder_initials[c.id], one_line(c.name)) for c in ctx.snapshot.coders
                   if c.id in ctx.coder_initials)
    if named:
        lines.append(ctx.t("Coders' initials: {pairs}.").format(
            pairs="; ".join(f"{initials} = {name or '?'}" for initials, name in named)))
    if table == "evidence":
        lines.append(ctx.t(
            "Outcome marks: (+) positive outcome; (−) negative outcome; (mixed) positive and "
            "negative; [unintended] an outcome the programme did not intend."))
        if ctx.empty == "NR":
            lines.append(ctx.t("NR: not reported in the study or not recorded by the coder."))
        elif ctx.empty == "dash":
            lines.append(ctx.t("–: not reported in the study or not recorded by the coder."))
    return tuple(lines)


class _Context:
    """Lookups over one snapshot, built once per export."""

    def __init__(self, snapshot: ProjectSnapshot, lang: str) -> None:
        self.snapshot = snapshot
        self.lang = lang
        self.empty = "blank"
        self.template = snapshot.project.template or _default_template()
        #: The template's choice options: stored in English, shown in the table's language
        #: (as the study form shows them).
        self.option_values = {
            o for section in _sections(self.template) for f in _fields(section)
            for o in (f.get("options") or []) if isinstance(o, str)
        }
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
        self.cmoc_by_id = {c.id: c for c in snapshot.cmocs}
        #: coder CMOC id -> ids of the consensus CMOCs built from it
        self.covered: dict[str, list[str]] = {}
        for agreed in snapshot.consensus:
            for source_id in agreed.source_ids:
                self.covered.setdefault(source_id, []).append(agreed.id)
        # study id -> key -> [(coder id, value)]
        self.form: dict[str, dict[str, list[tuple[str | None, Any]]]] = {}
        for fv in snapshot.form_values:
            if fv.key and not _is_empty(fv.value):
                sid = self.study_id(fv.study_id)
                self.form.setdefault(sid, {}).setdefault(fv.key, []).append((fv.coder_id, fv.value))

    def t(self, text: str) -> str:
        return tr(text, self.lang)

    def study_id(self, study_id: str | None) -> str:
        seen: set[str] = set()
        sid = study_id or ""
        while sid in self._study_target and sid not in seen:
            seen.add(sid)
            sid = self._study_target[sid] or sid
        return sid

    def code_id(self, code_id: str) -> str:
        seen: set[str] = set()
        cid = code_id
        while cid in self._code_target and cid not in seen:
            seen.add(cid)
            cid = self._code_target[cid] or cid
        return cid

    def study_label(self, study_id: str) -> str:
        study = self.study_by_id.get(study_id)
        if study is None:
            return self.t("Unknown study")
        return one_line(study.label) or one_line(_short_citation(study)) or self.t("Unlabelled study")

    def code_path(self, code: Code) -> str:
        names = [one_line(code.name) or self.t("Unnamed code")]
        seen = {code.id}
        parent = self.code_by_id.get(code.parent_id or "")
        while parent is not None and parent.id not in seen:
            seen.add(parent.id)
            names.append(one_line(parent.name))
            parent = self.code_by_id.get(parent.parent_id or "")
        return " › ".join(n for n in reversed(names) if n)

    def page_of(self, excerpt: Excerpt) -> int | None:
        if excerpt.page:
            return excerpt.page
        doc = self.document_by_id.get(excerpt.document_id or "")
        return doc.known_page_at(excerpt.start) if doc is not None else None

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
        if _is_empty(value):
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
        main_key = next((k for k in _MAIN_KEYS if not _is_empty(value.get(k))), None)
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
        for section in _sections(self.template):
            in_appraisal = "apprais" in f"{section.get('key', '')} {section.get('title', '')}".lower()
            for f in _fields(section):
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


# ---- evidence table ---------------------------------------------------------------------------


_EVIDENCE_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("study_label", "Study", 0.8),
    ("context", "Context", 1.6),
    ("mechanism_resource", "Mechanism: resource", 1.3),
    ("mechanism_reasoning", "Mechanism: reasoning", 1.5),
    ("outcome_shown", "Outcome", 1.4),
    ("statement", "If–then–because statement", 1.8),
    ("quotes", "Supporting quotes", 2.3),
    ("appraisal", "Appraisal", 1.1),
    ("recorded_by", "Coder or consensus", 0.9),
)

EVIDENCE_DATA_KEYS: tuple[str, ...] = (
    "group",
    "record_type",
    "cmoc_id",
    "study_id",
    "study_label",
    "coder",
    "status",
    "intervention",
    "actor",
    "context",
    "mechanism_resource",
    "mechanism_reasoning",
    "outcome",
    "outcome_direction",
    "outcome_intended",
    "statement",
    "confidence",
    "codes",
    "theories",
    "theory_relation",
    "quotes",
    "pages",
    "excerpt_ids",
    "appraisal",
    "source_cmoc_ids",
    "consensus_ids",
    "memo",
)

_RESOLUTION = {
    "agreed": "Consensus (agreed)",
    "merged": "Consensus (merged wording)",
    "a": "Consensus (first coder's wording)",
    "b": "Consensus (second coder's wording)",
    "unresolved": "Consensus (unresolved)",
}


def _evidence_records(
    ctx: _Context, records: str
) -> list[tuple[Cmoc | Consensus, str]]:
    """(record, "consensus"|"coder") in study order, then sort order, then snapshot order.

    ``records="consensus"`` lists each study's consensus CMOCs and then every coder CMOC that no
    consensus CMOC was built from: reconciling part of a study never hides the rest of it.
    """
    snap = ctx.snapshot
    by_study_consensus: dict[str, list[Consensus]] = {}
    for c in snap.consensus:
        by_study_consensus.setdefault(ctx.study_id(c.study_id), []).append(c)
    by_study_cmoc: dict[str, list[Cmoc]] = {}
    for c in snap.cmocs:
        if c.status != "set_aside":
            by_study_cmoc.setdefault(ctx.study_id(c.study_id), []).append(c)
    study_order = [s.id for s in sorted(ctx.studies, key=_label_sort_key)]
    # Records whose study is missing still belong in the audit trail: list them last.
    strays = [sid for sid in {*by_study_consensus, *by_study_cmoc} if sid not in ctx.study_by_id]
    out: list[tuple[Cmoc | Consensus, str]] = []
    for sid in study_order + sorted(strays):
        agreed = sorted(by_study_consensus.get(sid, []), key=_sort_order)
        own = sorted(by_study_cmoc.get(sid, []), key=_sort_order)
        own.sort(key=lambda c: ctx.coder_name.get(c.owner_id or "", "").casefold())
        if records in ("consensus", "all"):
            out += [(c, "consensus") for c in agreed]
        if records in ("coders", "all"):
            out += [(c, "coder") for c in own]
        elif records == "consensus":
            out += [(c, "coder") for c in own if c.id not in ctx.covered]
    return out


def _evidence_table(
    ctx: _Context, options: ExportOptions
) -> tuple[list[Column], list[Group], list[str], str]:
    columns = [Column(k, ctx.t(h), w) for k, h, w in _EVIDENCE_COLUMNS]
    for key, heading, weight, before in _OPTIONAL:
        if key in options.columns:
            at = next(i for i, c in enumerate(columns) if c.key == before)
            columns.insert(at, Column(key, ctx.t(heading), weight))
    if options.group_by == "theory":
        columns.insert(-1, Column("theory_relation", ctx.t("Relation to theory"), 0.7))
    appraisal_keys = ctx.appraisal_keys()
    base_rows: list[tuple[dict[str, str], Cmoc | Consensus]] = []
    for record, record_type in _evidence_records(ctx, options.records):
        base_rows.append(
            (_evidence_row(ctx, record, record_type, appraisal_keys, options.records), record)
        )
    groups = _group_rows(ctx, base_rows, options.group_by)
    return columns, groups, list(EVIDENCE_DATA_KEYS), ctx.t("CMOC evidence table")


def _evidence_row(
    ctx: _Context,
    record: Cmoc | Consensus,
    record_type: str,
    appraisal_keys: Sequence[tuple[str, str]],
    records: str = "consensus",
) -> dict[str, str]:
    sid = ctx.study_id(record.study_id)
    if isinstance(record, Consensus):
        coder_id = None
        recorded_by = ctx.t(_RESOLUTION.get(record.resolution or "", "Consensus"))
        coder = ""
        status = record.resolution or ""
        sources = " ".join(record.source_ids)
        memo = clean_text(record.note)
    else:
        coder_id = record.owner_id
        coder = ctx.coder_name.get(coder_id or "", "")
        recorded_by = coder or ctx.t("Unknown coder")
        if records != "coders" and record.id not in ctx.covered:
            recorded_by = ctx.t("{coder} (not reconciled)").format(coder=recorded_by)
        status = record.status or ""
        sources = ""
        memo = clean_text(record.memo)
    # Text order, whatever order the excerpts were linked in; one quote line, one page and one id
    # per excerpt, in the same order, so the three columns can be matched.
    excerpts = sorted((ctx.excerpt_by_id[e] for e in dict.fromkeys(record.excerpt_ids)
                       if e in ctx.excerpt_by_id), key=ctx.text_order)
    quotes = [ctx.quote_line(e) or "“”" for e in excerpts]
    pages = [_NO_PAGE if p is None else str(p) for p in (ctx.page_of(e) for e in excerpts)]
    outcome = clean_text(record.outcome).strip()
    direction = (record.outcome_direction or "").strip()
    marks = []
    if direction:
        mark = _DIRECTION_MARK.get(direction)
        marks.append(ctx.t(mark) if mark else f"({one_line(direction)})")
    if (record.outcome_intended or "") == "unintended":
        marks.append(ctx.t("[unintended]"))
    outcome_shown = " ".join(p for p in (outcome, *marks) if p)
    appraisal_parts = []
    for key, label in appraisal_keys:
        value = ctx.form_value(sid, key, coder_id)
        if value:
            appraisal_parts.append(f"{label}: {value}")
    if record.confidence:
        conf = one_line(record.confidence)
        appraisal_parts.append(f"{ctx.t('Confidence')}: {ctx.t(conf.capitalize())}")
    codes = [ctx.code_by_id.get(ctx.code_id(c)) for c in record.code_ids]
    theories = ctx.theories_of(record)
    return {
        "row_id": f"{record_type}:{record.id}",
        "group": "",
        "record_type": record_type,
        "cmoc_id": record.id,
        "study_id": sid,
        "study_label": ctx.study_label(sid),
        "coder": coder,
        "recorded_by": recorded_by,
        "status": status,
        "intervention": clean_text(record.intervention).strip(),
        "actor": clean_text(record.actor).strip(),
        "context": clean_text(record.context).strip(),
        "mechanism_resource": clean_text(record.mechanism_resource).strip(),
        "mechanism_reasoning": clean_text(record.mechanism_reasoning).strip(),
        "outcome": outcome,
        "outcome_direction": one_line(direction),
        "outcome_intended": one_line(record.outcome_intended),
        "outcome_shown": outcome_shown,
        "statement": clean_text(record.statement).strip(),
        "confidence": one_line(record.confidence),
        "codes": "; ".join(ctx.code_path(c) for c in codes if c is not None),
        "theories": "; ".join(_theory_label(ctx, ctx.theory_by_id[t]) for t, _ in theories
                              if t in ctx.theory_by_id),
        "theory_relation": "",
        "quotes": "\n".join(quotes),
        "pages": "; ".join(pages),
        "excerpt_ids": " ".join(e.id for e in excerpts),
        "appraisal": "\n".join(appraisal_parts),
        "source_cmoc_ids": sources,
        "consensus_ids": " ".join(ctx.covered.get(record.id, ())) if record_type == "coder" else "",
        "memo": memo,
    }


def _group_rows(
    ctx: _Context,
    base_rows: list[tuple[dict[str, str], Cmoc | Consensus]],
    group_by: str,
) -> list[Group]:
    if group_by == "study":
        groups: dict[str, Group] = {}
        for row, _ in base_rows:
            sid = row["study_id"]
            if sid not in groups:
                groups[sid] = Group(_study_heading(ctx, sid), [], sid)
            groups[sid].rows.append({**row, "group": groups[sid].heading})
        return list(groups.values())
    if group_by == "code":
        ordered = sorted(ctx.codes, key=lambda c: (c.sort_order is None, c.sort_order or 0))
        code_groups = {c.id: Group(ctx.code_path(c), [], c.id) for c in ordered}
        uncoded = Group(ctx.t("Uncoded"), [], "")
        for row, record in base_rows:
            placed = False
            for cid in dict.fromkeys(ctx.code_id(c) for c in record.code_ids):
                if cid in code_groups:
                    g = code_groups[cid]
                    g.rows.append({**row, "group": g.heading})
                    placed = True
            if not placed:
                uncoded.rows.append({**row, "group": uncoded.heading})
        return [g for g in (*code_groups.values(), uncoded) if g.rows]
    theory_groups = {t.id: Group(_theory_heading(ctx, t), [], t.id) for t in ctx.snapshot.theories}
    none_group = Group(ctx.t("No programme theory"), [], "")
    for row, record in base_rows:
        placed = False
        for tid, relation in ctx.theories_of(record):
            if tid in theory_groups:
                g = theory_groups[tid]
                rel = ctx.t(relation.capitalize()) if relation else ""
                g.rows.append({**row, "group": g.heading, "theory_relation": rel})
                placed = True
        if not placed:
            none_group.rows.append({**row, "group": none_group.heading})
    return [g for g in (*theory_groups.values(), none_group) if g.rows]


def _study_heading(ctx: _Context, study_id: str) -> str:
    label = ctx.study_label(study_id)
    study = ctx.study_by_id.get(study_id)
    short = one_line(_short_citation(study)) if study else ""
    return f"{label} — {short}" if short and short != label else label


def _theory_label(ctx: _Context, theory: Theory) -> str:
    label = one_line(theory.label) or ctx.t("Programme theory")
    if theory.version:
        label += f" (v{one_line(theory.version).lstrip('vV')})"
    return label


def _theory_heading(ctx: _Context, theory: Theory) -> str:
    statement = one_line(theory.statement)
    label = _theory_label(ctx, theory)
    return f"{label}: {statement}" if statement else label


# ---- study characteristics ---------------------------------------------------------------------


def _studies_table(ctx: _Context) -> tuple[list[Column], list[Group], list[str], str]:
    columns = [Column("study_label", ctx.t("Study"), 0.8), Column("citation", ctx.t("Citation"), 2.0)]
    # key -> (fields appended in parentheses, whether a justification is recorded beside it)
    shown: dict[str, tuple[list[str], bool]] = {}
    for section in _sections(ctx.template):
        fields = _fields(section)
        for f in fields:
            key = str(f.get("key") or "").strip()
            if not key or key in shown or key in ("study_label", "citation", "study_id"):
                continue
            if f.get("in_table") is False:
                continue
            # "income_fiscal_year" and "income_basis" qualify "income_group": RAMESES wants the
            # income group with its year and basis, but not as columns of their own.
            stem = key.split("_")[0] + "_"
            companions = [
                str(g.get("key")) for g in fields
                if g.get("in_table") is False and str(g.get("key", "")).startswith(stem)
                and "_" in key and g is not f
            ]
            shown[key] = (companions, bool(f.get("justification")))
            label = ctx.field_label(f)
            columns.append(Column(key, label, _field_weight(f, label)))
    rows = []
    for study in sorted(ctx.studies, key=_label_sort_key):
        row = {
            "row_id": study.id,
            "group": "",
            "study_id": study.id,
            "study_label": ctx.study_label(study.id),
            "citation": clean_text(study.citation()),
        }
        for key, (companions, justified) in shown.items():
            value = ctx.form_value(study.id, key)
            extra = [v for v in (ctx.form_value(study.id, c) for c in companions) if v]
            if value and extra:
                value = f"{value} ({'; '.join(extra)})"
            reason = ctx.form_value(study.id, f"{key}_justification") if justified else ""
            if value and reason:
                value = f"{value} — {reason}"
            row[key] = value
        rows.append(row)
    data_keys = ["study_id", "study_label", "citation", *shown]
    title = ctx.t("Characteristics of included studies")
    return columns, [Group("", rows, "")], data_keys, title


# ---- excerpts -----------------------------------------------------------------------------------

EXCERPT_DATA_KEYS: tuple[str, ...] = (
    "group",
    "excerpt_id",
    "study_id",
    "study_label",
    "document_id",
    "page",
    "role",
    "codes",
    "quote",
    "coder",
    "memo",
    "start",
    "end",
)


def _excerpts_table(
    ctx: _Context, group_by: str
) -> tuple[list[Column], list[Group], list[str], str]:
    columns = [
        Column("study_label", ctx.t("Study"), 0.8),
        Column("page", ctx.t("Page"), 0.4),
        Column("role_shown", ctx.t("Role"), 0.6),
        Column("codes", ctx.t("Codes"), 1.2),
        Column("quote", ctx.t("Quote"), 3.2),
        Column("coder", ctx.t("Coder"), 0.7),
        Column("memo", ctx.t("Memo"), 1.4),
    ]
    theories_by_excerpt: dict[str, list[tuple[str, str | None]]] = {}
    for c in ctx.snapshot.cmocs:
        for eid in c.excerpt_ids:
            theories_by_excerpt.setdefault(eid, []).extend(c.theories)
    order = {s.id: i for i, s in enumerate(sorted(ctx.studies, key=_label_sort_key))}
    excerpts = sorted(
        ctx.snapshot.excerpts,
        key=lambda e: (order.get(ctx.study_id(e.study_id), len(order)), ctx.page_of(e) or 0,
                       e.start or 0),
    )
    groups: dict[str, Group] = {}
    fallback_heading = {"code": ctx.t("Uncoded"), "theory": ctx.t("No programme theory")}
    if group_by == "code":
        for c in sorted(ctx.codes, key=lambda c: (c.sort_order is None, c.sort_order or 0)):
            groups[c.id] = Group(ctx.code_path(c), [], c.id)
    elif group_by == "theory":
        for t in ctx.snapshot.theories:
            groups[t.id] = Group(_theory_heading(ctx, t), [], t.id)
    for e in excerpts:
        sid = ctx.study_id(e.study_id)
        page = ctx.page_of(e)
        codes = [ctx.code_by_id.get(ctx.code_id(c)) for c in e.code_ids]
        row = {
            "row_id": e.id,
            "group": "",
            "excerpt_id": e.id,
            "study_id": sid,
            "study_label": ctx.study_label(sid),
            "document_id": e.document_id or "",
            "page": "" if page is None else str(page),
            "role": one_line(e.role),
            "role_shown": ctx.t(one_line(e.role).capitalize()) if e.role else "",
            "codes": "; ".join(ctx.code_path(c) for c in codes if c is not None),
            "quote": quote_text(e.quote),
            "coder": ctx.coder_name.get(e.owner_id or "", ""),
            "memo": clean_text(e.memo).strip(),
            "start": "" if e.start is None else str(e.start),
            "end": "" if e.end is None else str(e.end),
        }
        if group_by == "study":
            keys = [sid]
            if sid not in groups:
                groups[sid] = Group(_study_heading(ctx, sid), [], sid)
        elif group_by == "code":
            keys = [k for k in dict.fromkeys(ctx.code_id(c) for c in e.code_ids) if k in groups]
        else:
            keys = [k for k in dict.fromkeys(t for t, _ in theories_by_excerpt.get(e.id, ()))
                    if k in groups]
        if not keys:
            keys = ["\0none"]
            groups.setdefault("\0none", Group(fallback_heading.get(group_by, ""), [], ""))
        for k in keys:
            groups[k].rows.append({**row, "group": groups[k].heading})
    if "\0none" in groups:  # the catch-all group goes last
        groups["\0none"] = groups.pop("\0none")
    return columns, [g for g in groups.values() if g.rows], list(EXCERPT_DATA_KEYS), ctx.t(
        "Coded excerpts"
    )


# ---- helpers ------------------------------------------------------------------------------------


def quote_text(value: Any) -> str:
    """A quote as one paragraph: line breaks from the PDF's layout become spaces; a word broken
    with a hyphen at a line end keeps its hyphen (it may be a compound) and loses the break."""
    text = clean_text(value).strip()
    if "\n" not in text:
        return text
    return one_line(_HYPHEN_BREAK.sub("-", text))


def _field_weight(f: dict[str, Any], label: str) -> float:
    """Room for a characteristics column: long text and justified ratings need more, and a
    heading's longest word must fit on one line (a column is about nine characters wide)."""
    kind = str(f.get("type", "")).lower()
    weight = 1.0
    if kind in _LONG_FIELD_TYPES or f.get("justification"):
        weight = 1.5
    elif kind in ("list", "multi_choice"):
        weight = 1.2
    longest = max((len(word) for word in label.split()), default=0)
    return max(weight, (longest + 1) / 9)


def _default_template() -> dict[str, Any]:
    try:
        from cmo_desk.domain.templates import default_template

        return default_template()
    except Exception:  # a damaged install must not stop an export; the fallback has the same keys
        return FALLBACK_TEMPLATE


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {} or value == ()


def _sections(template: Any) -> list[dict[str, Any]]:
    if not isinstance(template, dict):
        return []
    sections = template.get("sections")
    if isinstance(sections, list):
        return [s for s in sections if isinstance(s, dict)]
    if isinstance(template.get("fields"), list):  # a flat template without sections
        return [template]
    return []


def _fields(section: dict[str, Any]) -> list[dict[str, Any]]:
    found = section.get("fields")
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def _sort_order(record: Cmoc | Consensus) -> tuple[bool, int]:
    return (record.sort_order is None, record.sort_order or 0)


def _label_sort_key(study: Study) -> tuple[str, int, str]:
    return ((study.label or "").casefold(), study.year or 0, study.id)


def _citation_sort_key(study: Study) -> tuple[str, str]:
    return (one_line(study.citation()).casefold(), study.id)


def _short_citation(study: Study | None) -> str:
    """First author (et al.), year and title: enough to recognise a study under its heading."""
    if study is None:
        return ""
    parts: list[str] = []
    authors = [a for a in (study.authors or []) if isinstance(a, str) and a.strip()]
    if authors:
        parts.append(authors[0] + (" et al." if len(authors) > 1 else ""))
    if study.year:
        parts.append(f"({study.year})")
    head = " ".join(parts)
    title = (study.title or "").strip().rstrip(".")
    if title:
        head = f"{head}. {title}." if head else f"{title}."
    if study.journal:
        head += f" {study.journal.strip()}."
    return head.strip()
