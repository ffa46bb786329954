"""Typed SQLAlchemy models of the visible tables (a projection of the change log) and the log itself.

The visible tables mirror ``cmo_desk.domain.schema.ENTITIES`` column for column; a test checks
that they agree. Only the unit of work writes to them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, LargeBinary, MetaData, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from cmo_desk.domain.packed_text import pack_text, unpack_text
from cmo_desk.store.logformat import LogId

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class CompressedText(TypeDecorator[str]):
    """Text that a SQLite file stores compressed when it is long (a document's extracted text):
    Python sees the text, queries do not change. Other databases store it as plain text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        return pack_text(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return unpack_text(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Meta(Base):
    """Project-wide facts: project id, file format version, creating app version."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ChangeRow(Base):
    """One field write. Append-only; merged by set union on ``change_id``. Ids are stored in the
    compact layout of ``logformat`` (bytes for hex and UUID ids): read and write rows through it."""

    __tablename__ = "changes"
    change_id: Mapped[Any] = mapped_column(LogId(), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[Any] = mapped_column(LogId())
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)  # canonical JSON (long texts packed)
    wall: Mapped[int] = mapped_column(Integer)
    counter: Mapped[int] = mapped_column(Integer)
    site_id: Mapped[Any] = mapped_column(LogId())
    coder_id: Mapped[Any] = mapped_column(LogId(), nullable=True)
    parents: Mapped[Any] = mapped_column(LogId())  # change ids' bytes, one after the other
    seen: Mapped[Any] = mapped_column(LogId())

    # Records are found by id alone (an id names one record, whatever its type): an index
    # that also held each row's type name was a tenth of the file.
    __table_args__ = (
        Index("ix_changes_entity_id", "entity_id"),
        Index("ix_changes_clock", "wall", "counter"),
    )


class ConflictRow(Base):
    """A field with several concurrent values, as projected from the log."""

    __tablename__ = "conflicts"
    entity_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    heads: Mapped[str] = mapped_column(Text)  # JSON list of change ids
    ancestors: Mapped[str] = mapped_column(Text)  # JSON list of change ids


class SearchPageRow(Base):
    """Which document page each row of the full-text index ``search_pages`` is (page_index.py)."""

    __tablename__ = "search_page"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[str] = mapped_column(String(36))
    page: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_search_page_document_id", "document_id"),)


class Blob(Base):
    """Original document bytes, addressed by SHA-256 (not part of a bundle)."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ProjectRow(Base):
    __tablename__ = "project"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    template: Mapped[Any | None] = mapped_column(JSON, nullable=True)


class CoderRow(Base):
    __tablename__ = "coder"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(Text, nullable=True)
    initials: Mapped[str | None] = mapped_column(Text, nullable=True)
    role: Mapped[str | None] = mapped_column(Text, nullable=True)
    color: Mapped[str | None] = mapped_column(Text, nullable=True)


class StudyRow(Base):
    __tablename__ = "study"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    authors: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    journal: Mapped[str | None] = mapped_column(Text, nullable=True)
    volume: Mapped[str | None] = mapped_column(Text, nullable=True)
    issue: Mapped[str | None] = mapped_column(Text, nullable=True)
    pages: Mapped[str | None] = mapped_column(Text, nullable=True)
    doi: Mapped[str | None] = mapped_column(Text, nullable=True)
    pmid: Mapped[str | None] = mapped_column(Text, nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    abstract: Mapped[str | None] = mapped_column(Text, nullable=True)
    reference_type: Mapped[str | None] = mapped_column(Text, nullable=True)
    extra: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    merged_into: Mapped[str | None] = mapped_column(String(36), nullable=True)


class DocumentRow(Base):
    __tablename__ = "document"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    study_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    filename: Mapped[str | None] = mapped_column(Text, nullable=True)
    media_type: Mapped[str | None] = mapped_column(Text, nullable=True)
    sha256: Mapped[str | None] = mapped_column(Text, nullable=True)
    has_original: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # The log holds the text too; this copy is compressed (it is read a document at a time).
    text: Mapped[str | None] = mapped_column(CompressedText, nullable=True)
    page_starts: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    extractor: Mapped[str | None] = mapped_column(Text, nullable=True)
    warnings: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    needs_ocr: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    ocr_confidence: Mapped[Any | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (
        Index("ix_document_study_id", "study_id"),
    )


class ExcerptRow(Base):
    __tablename__ = "excerpt"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    document_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    study_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quote: Mapped[str | None] = mapped_column(Text, nullable=True)
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    role: Mapped[str | None] = mapped_column(Text, nullable=True)
    memo: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        Index("ix_excerpt_document_id", "document_id"),
        Index("ix_excerpt_study_id", "study_id"),
        Index("ix_excerpt_owner_id", "owner_id"),
    )


class CodeRow(Base):
    __tablename__ = "code"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(Text, nullable=True)
    kind: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    definition: Mapped[str | None] = mapped_column(Text, nullable=True)
    include_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    exclude_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    color: Mapped[str | None] = mapped_column(Text, nullable=True)
    sort_order: Mapped[int | None] = mapped_column(Integer, nullable=True)
    merged_into: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        Index("ix_code_parent_id", "parent_id"),
    )


class CmocRow(Base):
    __tablename__ = "cmoc"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    study_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    intervention: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str | None] = mapped_column(Text, nullable=True)
    context: Mapped[str | None] = mapped_column(Text, nullable=True)
    mechanism_resource: Mapped[str | None] = mapped_column(Text, nullable=True)
    mechanism_reasoning: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome_direction: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome_intended: Mapped[str | None] = mapped_column(Text, nullable=True)
    statement: Mapped[str | None] = mapped_column(Text, nullable=True)
    confidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str | None] = mapped_column(Text, nullable=True)
    memo: Mapped[str | None] = mapped_column(Text, nullable=True)
    set_aside_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    sort_order: Mapped[int | None] = mapped_column(Integer, nullable=True)
    owner_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        Index("ix_cmoc_study_id", "study_id"),
        Index("ix_cmoc_owner_id", "owner_id"),
    )


class ConsensusRow(Base):
    __tablename__ = "consensus"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    study_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    intervention: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str | None] = mapped_column(Text, nullable=True)
    context: Mapped[str | None] = mapped_column(Text, nullable=True)
    mechanism_resource: Mapped[str | None] = mapped_column(Text, nullable=True)
    mechanism_reasoning: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome_direction: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome_intended: Mapped[str | None] = mapped_column(Text, nullable=True)
    statement: Mapped[str | None] = mapped_column(Text, nullable=True)
    confidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reconciled_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    sort_order: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        Index("ix_consensus_study_id", "study_id"),
    )


class TheoryRow(Base):
    __tablename__ = "theory"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    statement: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str | None] = mapped_column(Text, nullable=True)
    previous_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class FormValueRow(Base):
    __tablename__ = "form_value"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    study_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    coder_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    key: Mapped[str | None] = mapped_column(Text, nullable=True)
    value: Mapped[Any | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (
        Index("ix_form_value_study_id", "study_id"),
        Index("ix_form_value_coder_id", "coder_id"),
    )


class AssignmentRow(Base):
    __tablename__ = "assignment"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    study_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    coder_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    status: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_assignment_study_id", "study_id"),
        Index("ix_assignment_coder_id", "coder_id"),
    )


class DuplicateDecisionRow(Base):
    __tablename__ = "duplicate_decision"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str | None] = mapped_column(Text, nullable=True)
    kept_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    duplicate_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    decision: Mapped[str | None] = mapped_column(Text, nullable=True)


class ExcerptCodeRow(Base):
    __tablename__ = "excerpt_code"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    excerpt_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    code_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        Index("ix_excerpt_code_excerpt_id", "excerpt_id"),
        Index("ix_excerpt_code_code_id", "code_id"),
    )


class CmocCodeRow(Base):
    __tablename__ = "cmoc_code"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    cmoc_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    code_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        Index("ix_cmoc_code_cmoc_id", "cmoc_id"),
        Index("ix_cmoc_code_code_id", "code_id"),
    )


class CmocExcerptRow(Base):
    __tablename__ = "cmoc_excerpt"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    cmoc_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    excerpt_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    slot: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_cmoc_excerpt_cmoc_id", "cmoc_id"),
        Index("ix_cmoc_excerpt_excerpt_id", "excerpt_id"),
    )


class CmocTheoryRow(Base):
    __tablename__ = "cmoc_theory"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    cmoc_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    theory_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    relation: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_cmoc_theory_cmoc_id", "cmoc_id"),
        Index("ix_cmoc_theory_theory_id", "theory_id"),
    )


class ConsensusCodeRow(Base):
    __tablename__ = "consensus_code"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    consensus_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    code_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        Index("ix_consensus_code_consensus_id", "consensus_id"),
        Index("ix_consensus_code_code_id", "code_id"),
    )


class ConsensusSourceRow(Base):
    __tablename__ = "consensus_source"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    consensus_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    cmoc_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        Index("ix_consensus_source_consensus_id", "consensus_id"),
        Index("ix_consensus_source_cmoc_id", "cmoc_id"),
    )


class ConsensusExcerptRow(Base):
    __tablename__ = "consensus_excerpt"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    consensus_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    excerpt_id: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        Index("ix_consensus_excerpt_consensus_id", "consensus_id"),
        Index("ix_consensus_excerpt_excerpt_id", "excerpt_id"),
    )


class ReviewCmocRow(Base):
    __tablename__ = "review_cmoc"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    theory_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    context: Mapped[str | None] = mapped_column(Text, nullable=True)
    mechanism_resource: Mapped[str | None] = mapped_column(Text, nullable=True)
    mechanism_reasoning: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome_direction: Mapped[str | None] = mapped_column(Text, nullable=True)
    statement: Mapped[str | None] = mapped_column(Text, nullable=True)
    confidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    assessment: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    confidence_basis: Mapped[str | None] = mapped_column(Text, nullable=True)
    sort_order: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)

    __table_args__ = (
        Index("ix_review_cmoc_theory_id", "theory_id"),
    )


class ReviewLinkRow(Base):
    __tablename__ = "review_link"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    review_cmoc_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    source_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_kind: Mapped[str | None] = mapped_column(Text, nullable=True)
    relation: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_review_link_review_cmoc_id", "review_cmoc_id"),
        Index("ix_review_link_source_id", "source_id"),
    )


class TheoryVersionRow(Base):
    __tablename__ = "theory_version"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    theory_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    statement: Mapped[str | None] = mapped_column(Text, nullable=True)
    members: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    added: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    changed: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    dropped: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    author_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    recorded_at: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_theory_version_theory_id", "theory_id"),
    )


ROW_CLASSES: dict[str, type[Base]] = {
    "project": ProjectRow,
    "coder": CoderRow,
    "study": StudyRow,
    "document": DocumentRow,
    "excerpt": ExcerptRow,
    "code": CodeRow,
    "cmoc": CmocRow,
    "consensus": ConsensusRow,
    "theory": TheoryRow,
    "form_value": FormValueRow,
    "assignment": AssignmentRow,
    "duplicate_decision": DuplicateDecisionRow,
    "excerpt_code": ExcerptCodeRow,
    "cmoc_code": CmocCodeRow,
    "cmoc_excerpt": CmocExcerptRow,
    "cmoc_theory": CmocTheoryRow,
    "consensus_code": ConsensusCodeRow,
    "consensus_source": ConsensusSourceRow,
    "consensus_excerpt": ConsensusExcerptRow,
    "review_cmoc": ReviewCmocRow,
    "review_link": ReviewLinkRow,
    "theory_version": TheoryVersionRow,
}
