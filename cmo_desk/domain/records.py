"""Immutable snapshots of the project's records, handed to services, exporters and the UI.

Every slot may be empty: coders assemble fragments over time. Field names match
``cmo_desk.domain.schema.ENTITIES`` so that the store can build records generically.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, fields
from enum import Enum
from operator import attrgetter
from typing import Any, TypeVar


class Role(str, Enum):
    CONTEXT = "context"
    MECHANISM = "mechanism"
    OUTCOME = "outcome"
    INTERVENTION = "intervention"
    OTHER = "other"


class CodeKind(str, Enum):
    CONTEXT = "context"
    MECHANISM = "mechanism"
    OUTCOME = "outcome"
    INTERVENTION = "intervention"
    OTHER = "other"


class Direction(str, Enum):
    POSITIVE = "+"
    NEGATIVE = "-"
    MIXED = "mixed"


class Intended(str, Enum):
    INTENDED = "intended"
    UNINTENDED = "unintended"


class Confidence(str, Enum):
    HIGH = "high"
    MODERATE = "moderate"
    LOW = "low"


class CmocStatus(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECONCILED = "reconciled"
    SET_ASIDE = "set_aside"


class Resolution(str, Enum):
    AGREED = "agreed"
    MERGED = "merged"
    A = "a"
    B = "b"
    UNRESOLVED = "unresolved"


class TheoryRelation(str, Enum):
    SUPPORTS = "supports"
    REFUTES = "refutes"
    REFINES = "refines"
    NEW = "new"


class ReviewRelation(str, Enum):
    """How a study CMOC bears on a review CMOC."""

    SUPPORTS = "supports"
    REFUTES = "refutes"
    REFINES = "refines"


class ReviewConfidence(str, Enum):
    """Overall confidence in a review CMOC (docs/synthesis.md)."""

    HIGH = "high"
    MODERATE = "moderate"
    LOW = "low"
    VERY_LOW = "very_low"


class Concern(str, Enum):
    """Concerns about one component of confidence (CERQual-style; docs/synthesis.md)."""

    NONE = "none"
    MINOR = "minor"
    MODERATE = "moderate"
    SERIOUS = "serious"


class AssignmentStatus(str, Enum):
    ASSIGNED = "assigned"
    DRAFT = "draft"
    SUBMITTED = "submitted"


# Records (and the other values below) are frozen dataclasses whose comparison, hash and repr
# are the ones every dataclass gets, written once on ``Fieldwise`` (``eq=False, repr=False``)
# rather than generated and compiled for each class when this module is imported: the desk
# imports it before its first window is painted.


class Fieldwise:
    """Compared, hashed and shown field by field, in field order, as dataclasses are."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        # as a dataclass compares: the same class, and equal fields in order
        if other.__class__ is self.__class__:
            values = _field_values(self.__class__)
            return bool(values(self) == values(other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(_field_values(self.__class__)(self))

    def __repr__(self) -> str:
        names = _FIELD_ORDER.get(self.__class__) or _field_order(self.__class__)
        return f"{self.__class__.__qualname__}(" + ", ".join(
            f"{name}={getattr(self, name)!r}" for name in names) + ")"


@dataclass(frozen=True, eq=False, repr=False)
class Record(Fieldwise):
    """A row of the project: its id, and whether it was deleted."""

    id: str
    deleted: bool = False

    @classmethod
    def from_mapping(cls: type[R], data: dict[str, Any]) -> R:
        names = _field_names(cls)
        return cls(**{k: v for k, v in data.items() if k in names})


R = TypeVar("R", bound=Record)


_FIELD_NAMES: dict[type, frozenset[str]] = {}
_FIELD_ORDER: dict[type, tuple[str, ...]] = {}
_FIELD_VALUES: dict[type, Any] = {}


def _field_names(cls: type) -> frozenset[str]:
    """A record class's field names, worked out once (every row read goes through here)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in fields(cls))
    return names


def _field_order(cls: type) -> tuple[str, ...]:
    order = _FIELD_ORDER[cls] = tuple(f.name for f in fields(cls))
    return order


def _field_values(cls: type) -> Any:
    """A function giving a record's field values as a tuple, in field order."""
    values = _FIELD_VALUES.get(cls)
    if values is None:
        names = _FIELD_ORDER.get(cls) or _field_order(cls)
        getter = attrgetter(*names)
        values = _FIELD_VALUES[cls] = getter if len(names) > 1 else (
            lambda record: (getter(record),))
    return values


@dataclass(frozen=True, eq=False, repr=False)
class Project(Record):
    """The project's title, description and study form template."""

    title: str | None = None
    description: str | None = None
    template: dict[str, Any] | None = None


@dataclass(frozen=True, eq=False, repr=False)
class Coder(Record):
    """A person who codes, with the initials and colour shown beside their work."""

    name: str | None = None
    initials: str | None = None
    role: str | None = None
    color: str | None = None


def and_others(first_author: str) -> str:
    """What follows the first authors of a reference that has more: 等 when they are written in
    Chinese characters (as GB/T 7714 and Chinese journals cite), else " et al."."""
    if any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in first_author):
        return "等"
    return " et al."


@dataclass(frozen=True, eq=False, repr=False)
class Study(Record):
    """A study under review: its reference and where it came from."""

    label: str | None = None
    authors: list[str] | None = None
    year: int | None = None
    title: str | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    url: str | None = None
    abstract: str | None = None
    reference_type: str | None = None
    extra: dict[str, Any] | None = None
    created_by: str | None = None
    merged_into: str | None = None

    def citation(self) -> str:
        """A short reference-list entry: Authors (year). Title. Journal vol(issue):pages. doi."""
        parts: list[str] = []
        authors = self.authors or []
        if authors:
            shown = authors if len(authors) <= 6 else [*authors[:6], and_others(authors[0]).strip()]
            parts.append(", ".join(shown))
        if self.year:
            parts.append(f"({self.year}).")
        elif parts:
            parts[-1] = end_sentence(parts[-1])
        if self.title:
            parts.append(end_sentence(self.title))
        src = self.journal or ""
        if self.volume:
            src += f" {self.volume}"
            if self.issue:
                src += f"({self.issue})"
        if self.pages:
            src += f":{self.pages}"
        if src.strip():
            parts.append(end_sentence(src))
        if self.doi:
            parts.append(f"doi:{self.doi}")
        return " ".join(parts) or (self.label or "")


def end_sentence(text: str) -> str:
    """``text`` closed with one full stop, as a reference list needs: a title that ends with a
    question or exclamation mark, or an abbreviation's stop ("et al.", "Appl. Phys. Lett."),
    takes none more."""
    text = text.strip()
    return text if not text or text[-1] in ".?!…" else text + "."


@dataclass(frozen=True, eq=False, repr=False)
class Document(Record):
    """A study's full text, with its page boundaries and how it was extracted."""

    study_id: str | None = None
    filename: str | None = None
    media_type: str | None = None
    sha256: str | None = None
    has_original: bool | None = None
    text: str | None = None
    page_starts: list[int] | None = None
    extractor: str | None = None
    warnings: list[str] | None = None
    needs_ocr: bool | None = None
    created_by: str | None = None
    #: For recognised (OCR) text, the engine's confidence for each page (0-1).
    ocr_confidence: list[float] | None = None

    def page_at(self, offset: int) -> int:
        """1-based page number of a character offset (1 when the text has no page breaks)."""
        starts = self.page_starts or [0]
        return max(1, bisect.bisect_right(starts, offset))

    @property
    def page_count(self) -> int:
        return len(self.page_starts or [0])

    def known_page_at(self, offset: int | None) -> int | None:
        """The page to cite for an offset, or None when the document's pages are not known: a
        text without page breaks (Word, HTML, plain text) has no page 1 to cite, and a PDF whose
        text came without its page boundaries has none either."""
        if offset is None or not self.page_starts:
            return None
        if len(self.page_starts) > 1 or (self.media_type or "").lower() == "application/pdf":
            return self.page_at(offset)
        return None

    def page_to_cite(self, offset: int | None, kept: int | None) -> int | None:
        """The page an excerpt at ``offset`` cites, given the page ``kept`` with it: none in a
        text known to have no pages (a page 1 kept there was made up when the passage was
        marked), else the kept page, else the page this document knows."""
        if not kept:
            return self.known_page_at(offset)
        if self.page_starts is not None and self.known_page_at(0) is None:
            return None
        return kept


@dataclass(frozen=True, eq=False, repr=False)
class Excerpt(Record):
    """A passage of a document marked by a coder, with its role and codes."""

    document_id: str | None = None
    study_id: str | None = None
    start: int | None = None
    end: int | None = None
    quote: str | None = None
    before: str | None = None
    after: str | None = None
    page: int | None = None
    role: str | None = None
    memo: str | None = None
    owner_id: str | None = None
    code_ids: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class Code(Record):
    """A code of the codebook, placed under its parent."""

    name: str | None = None
    kind: str | None = None
    parent_id: str | None = None
    definition: str | None = None
    include_notes: str | None = None
    exclude_notes: str | None = None
    color: str | None = None
    sort_order: int | None = None
    merged_into: str | None = None
    created_by: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class CmocLinks(Fieldwise):
    """What a CMOC cites: codes, excerpts and programme theories."""

    code_ids: tuple[str, ...] = ()
    excerpt_ids: tuple[str, ...] = ()
    #: (theory id, relation)
    theories: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class Cmoc(Record):
    """A context–mechanism–outcome configuration drawn from one study by one coder."""

    study_id: str | None = None
    intervention: str | None = None
    actor: str | None = None
    context: str | None = None
    mechanism_resource: str | None = None
    mechanism_reasoning: str | None = None
    outcome: str | None = None
    outcome_direction: str | None = None
    outcome_intended: str | None = None
    statement: str | None = None
    confidence: str | None = None
    status: str | None = None
    memo: str | None = None
    set_aside_reason: str | None = None
    sort_order: int | None = None
    owner_id: str | None = None
    code_ids: tuple[str, ...] = ()
    excerpt_ids: tuple[str, ...] = ()
    theories: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class Consensus(Record):
    """The CMOC two coders agreed on after reconciling theirs."""

    study_id: str | None = None
    intervention: str | None = None
    actor: str | None = None
    context: str | None = None
    mechanism_resource: str | None = None
    mechanism_reasoning: str | None = None
    outcome: str | None = None
    outcome_direction: str | None = None
    outcome_intended: str | None = None
    statement: str | None = None
    confidence: str | None = None
    resolution: str | None = None
    note: str | None = None
    reconciled_by: str | None = None
    sort_order: int | None = None
    source_ids: tuple[str, ...] = ()
    code_ids: tuple[str, ...] = ()
    excerpt_ids: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class Theory(Record):
    """A programme theory."""

    label: str | None = None
    statement: str | None = None
    version: str | None = None
    status: str | None = None
    previous_id: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class ReviewCmoc(Record):
    """A CMOC of the review as a whole, synthesised from the studies' CMOCs."""

    theory_id: str | None = None
    label: str | None = None
    context: str | None = None
    mechanism_resource: str | None = None
    mechanism_reasoning: str | None = None
    outcome: str | None = None
    outcome_direction: str | None = None
    statement: str | None = None
    confidence: str | None = None
    #: component -> concern, e.g. {"coherence": "minor", "adequacy": "none"}
    assessment: dict[str, Any] | None = None
    confidence_basis: str | None = None
    sort_order: int | None = None
    created_by: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class ReviewLink(Record):
    """How a study CMOC (or a consensus) bears on a review CMOC."""

    review_cmoc_id: str | None = None
    source_id: str | None = None
    #: "cmoc" or "consensus"
    source_kind: str | None = None
    relation: str | None = None
    note: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class TheoryVersion(Record):
    """A programme theory as it stood when a version of it was recorded."""

    theory_id: str | None = None
    number: int | None = None
    statement: str | None = None
    #: The theory's review CMOCs as they stood: [{"id", "label", slots...}]
    members: list[dict[str, Any]] | None = None
    #: Labels of the review CMOCs added, changed and dropped since the previous version.
    added: list[str] | None = None
    changed: list[str] | None = None
    dropped: list[str] | None = None
    reason: str | None = None
    author_id: str | None = None
    recorded_at: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class FormValue(Record):
    """One coder's answer to one question of a study's form."""

    study_id: str | None = None
    coder_id: str | None = None
    key: str | None = None
    value: Any = None


@dataclass(frozen=True, eq=False, repr=False)
class Assignment(Record):
    """A study given to a coder, and how far their coding has come."""

    study_id: str | None = None
    coder_id: str | None = None
    status: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class ConflictValue(Fieldwise):
    """One writer's value in a conflict."""

    value: Any
    coder_id: str | None
    coder_name: str | None
    wall_ms: int
    change_id: str
    #: The type and id of the record the change was made to (a conflict about a deleted code
    #: lists the taggings that still use it).
    record: tuple[str, str] | None = None


@dataclass(frozen=True, eq=False, repr=False)
class Conflict(Fieldwise):
    """A field two coders changed concurrently: the values and where they started from."""

    entity_type: str
    entity_id: str
    field: str
    #: The value shown provisionally.
    shown: Any
    values: tuple[ConflictValue, ...]
    #: The value(s) the concurrent writers started from (None when the record was new).
    ancestors: tuple[Any, ...] = ()
    kind: str = "edit"  # "edit" or "edit_vs_delete"


@dataclass(frozen=True, eq=False, repr=False)
class Changed(Fieldwise):
    """What a unit of work changed: the UI refreshes from this."""

    #: entity type -> ids written (created, edited, deleted or restored)
    entities: dict[str, frozenset[str]] = field(default_factory=dict)
    change_count: int = 0

    def touched(self, entity_type: str) -> frozenset[str]:
        return self.entities.get(entity_type, frozenset())

    def __bool__(self) -> bool:
        return self.change_count > 0
