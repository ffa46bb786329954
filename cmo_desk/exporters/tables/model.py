"""What an exported table is: the reader's choices (``ExportOptions``) and the table built from
them (``Table``: a title block, columns, groups of rows and the studies to cite).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import LANGUAGES, normalise_language, tr
from cmo_desk.domain.records import Study

TableKind = Literal["evidence", "studies", "excerpts"]
GroupBy = Literal["study", "code", "theory"]
Records = Literal["consensus", "coders", "all"]

TABLES: tuple[str, ...] = ("evidence", "studies", "excerpts")
GROUPINGS: tuple[str, ...] = ("study", "code", "theory")
RECORD_CHOICES: tuple[str, ...] = ("consensus", "coders", "all")
#: Evidence-table columns a reader may add: (key, heading, width, placed before this column).
OPTIONAL_COLUMN_SPECS: tuple[tuple[str, str, float, str], ...] = (
    ("intervention", "Intervention", 1.1, "context"),
    ("actor", "Actor", 0.9, "context"),
    ("codes", "Codes", 1.1, "appraisal"),
    ("theories", "Programme theories", 1.1, "appraisal"),
)
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(k for k, *_ in OPTIONAL_COLUMN_SPECS)
EMPTY_CHOICES: tuple[str, ...] = ("blank", "NR", "dash")
#: CMOC slots whose emptiness the Word table marks when asked (never the data columns).
SLOT_COLUMNS: frozenset[str] = frozenset({
    "intervention", "actor", "context", "mechanism_resource", "mechanism_reasoning",
    "outcome_shown", "statement",
})


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
    #: Consensus CMOCs whose sources were reworded, re-coded or deleted since they were made
    #: (the export service reads this from the change log); their rows say so.
    changed_consensus: frozenset[str] = frozenset()

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
            option, given, choices = (("columns", ",".join(unknown), OPTIONAL_COLUMNS) if unknown
                                      else ("empty", self.empty, EMPTY_CHOICES))
            raise ValidationError(
                tr("Unknown {name} {value!r}: choose one of {allowed}.").format(
                    name=option, value=given, allowed=", ".join(choices)
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
