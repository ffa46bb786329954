"""The store's tables, declared as plain SQLAlchemy Core tables on one ``METADATA``: the change
log, project facts, original document bytes, and the visible tables (a projection of the log).

The visible tables mirror ``cmo_desk.domain.schema.ENTITIES`` column for column; a test checks
that they agree, and another that a new file's schema equals ``tests/store/head-schema.sql`` to
the byte. Only the unit of work writes to them. (No ORM: nothing maps rows to objects, and not
loading ``sqlalchemy.orm`` shortens every start.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import SchemaItem
from sqlalchemy.types import TypeDecorator, UserDefinedType

from cmo_desk.domain.packed_text import pack_text, unpack_text

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Every table of a project file (Alembic's ``target_metadata``; ``create_all`` for a new file).
METADATA = MetaData(naming_convention=NAMING_CONVENTION)


class CompressedText(TypeDecorator[str]):
    """Text that a SQLite file stores compressed when it is long (a document's extracted text):
    Python sees the text, queries do not change. Other databases store it as plain text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        return pack_text(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return unpack_text(value)


#: Project-wide facts: project id, file format version, creating app version.
META = Table(
    "meta", METADATA,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

class LogId(UserDefinedType[Any]):
    """A column holding an id in its stored form (bytes, or text): declared BLOB, so SQLite
    converts nothing, and passed through unchanged both ways."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "BLOB"


#: The change log as its readers see it: the view ``changes`` over the numbered tables of
#: ``logformat.LOG_DDL`` (made with them, not by ``create_all``). One row per field write;
#: append-only; merged by set union. ``change_id`` holds the key of the change id, ``seq`` the
#: row's place. Read rows through ``logformat``; write them only with ``logformat.append_rows``.
CHANGES = Table(
    "changes", MetaData(),
    Column("seq", Integer),
    Column("change_id", Integer),
    Column("entity_type", String(32)),
    Column("entity_id", LogId()),
    Column("field", String(64)),
    Column("value", LogId()),  # canonical JSON; long texts packed, a lone UUID as its bytes
    Column("wall", Integer),
    Column("counter", Integer),
    Column("site_id", LogId()),
    Column("coder_id", LogId()),
    Column("parents", LogId()),  # change ids' bytes, one after the other
    Column("seen", LogId()),
)

#: A field with several concurrent values, as projected from the log.
CONFLICTS = Table(
    "conflicts", METADATA,
    Column("entity_type", String(32), primary_key=True),
    Column("entity_id", String(36), primary_key=True),
    Column("field", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("heads", Text, nullable=False),  # JSON list of change ids
    Column("ancestors", Text, nullable=False),  # JSON list of change ids
)

#: Which document page each row of the full-text index ``search_pages`` is (page_index.py).
SEARCH_PAGE = Table(
    "search_page", METADATA,
    Column("id", Integer, primary_key=True),
    Column("document_id", String(36), nullable=False),
    Column("page", Integer, nullable=False),
    Index("ix_search_page_document_id", "document_id"),
)

#: Original document bytes, addressed by SHA-256 (not part of a bundle).
BLOBS = Table(
    "blobs", METADATA,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)


def _record_table(name: str, *items: SchemaItem) -> Table:
    """The visible table of one entity type: its record id, whether it is deleted, then the
    fields of ``domain.schema.ENTITIES[name]`` (nullable: a field may never have been set)."""
    return Table(
        name, METADATA,
        Column("id", String(36), primary_key=True),
        Column("deleted", Boolean, nullable=False, default=False),
        *items,
    )


PROJECT = _record_table(
    "project",
    Column("title", Text),
    Column("description", Text),
    Column("template", JSON),
)

CODER = _record_table(
    "coder",
    Column("name", Text),
    Column("initials", Text),
    Column("role", Text),
    Column("color", Text),
)

STUDY = _record_table(
    "study",
    Column("label", Text),
    Column("authors", JSON),
    Column("year", Integer),
    Column("title", Text),
    Column("journal", Text),
    Column("volume", Text),
    Column("issue", Text),
    Column("pages", Text),
    Column("doi", Text),
    Column("pmid", Text),
    Column("url", Text),
    Column("abstract", Text),
    Column("reference_type", Text),
    Column("extra", JSON),
    Column("created_by", String(36)),
    Column("merged_into", String(36)),
)

DOCUMENT = _record_table(
    "document",
    Column("study_id", String(36)),
    Column("filename", Text),
    Column("media_type", Text),
    Column("sha256", Text),
    Column("has_original", Boolean),
    # Always empty (schema 0007 on): the log alone holds a document's text (document_text.py).
    # Kept so that the table mirrors the record's fields and older files' upgrades read it.
    Column("text", CompressedText),
    Column("page_starts", JSON),
    Column("extractor", Text),
    Column("warnings", JSON),
    Column("needs_ocr", Boolean),
    Column("created_by", String(36)),
    Column("ocr_confidence", JSON),
    Index("ix_document_study_id", "study_id"),
)

EXCERPT = _record_table(
    "excerpt",
    Column("document_id", String(36)),
    Column("study_id", String(36)),
    Column("start", Integer),
    Column("end", Integer),
    Column("quote", Text),
    Column("before", Text),
    Column("after", Text),
    Column("page", Integer),
    Column("role", Text),
    Column("memo", Text),
    Column("owner_id", String(36)),
    Index("ix_excerpt_document_id", "document_id"),
    Index("ix_excerpt_study_id", "study_id"),
    Index("ix_excerpt_owner_id", "owner_id"),
)

CODE = _record_table(
    "code",
    Column("name", Text),
    Column("kind", Text),
    Column("parent_id", String(36)),
    Column("definition", Text),
    Column("include_notes", Text),
    Column("exclude_notes", Text),
    Column("color", Text),
    Column("sort_order", Integer),
    Column("merged_into", String(36)),
    Column("created_by", String(36)),
    Index("ix_code_parent_id", "parent_id"),
)

def _cmo_slots() -> list[Column[Any]]:
    """The slots a study CMOC and a consensus CMOC share, in the order both tables hold them."""
    return [Column(name, Text) for name in (
        "intervention", "actor", "context", "mechanism_resource", "mechanism_reasoning",
        "outcome", "outcome_direction", "outcome_intended", "statement", "confidence")]


CMOC = _record_table(
    "cmoc",
    Column("study_id", String(36)),
    *_cmo_slots(),
    Column("status", Text),
    Column("memo", Text),
    Column("set_aside_reason", Text),
    Column("sort_order", Integer),
    Column("owner_id", String(36)),
    Index("ix_cmoc_study_id", "study_id"),
    Index("ix_cmoc_owner_id", "owner_id"),
)

CONSENSUS = _record_table(
    "consensus",
    Column("study_id", String(36)),
    *_cmo_slots(),
    Column("resolution", Text),
    Column("note", Text),
    Column("reconciled_by", String(36)),
    Column("sort_order", Integer),
    Index("ix_consensus_study_id", "study_id"),
)

THEORY = _record_table(
    "theory",
    Column("label", Text),
    Column("statement", Text),
    Column("version", Text),
    Column("status", Text),
    Column("previous_id", String(36)),
)

FORM_VALUE = _record_table(
    "form_value",
    Column("study_id", String(36)),
    Column("coder_id", String(36)),
    Column("key", Text),
    Column("value", JSON),
    Index("ix_form_value_study_id", "study_id"),
    Index("ix_form_value_coder_id", "coder_id"),
)

ASSIGNMENT = _record_table(
    "assignment",
    Column("study_id", String(36)),
    Column("coder_id", String(36)),
    Column("status", Text),
    Index("ix_assignment_study_id", "study_id"),
    Index("ix_assignment_coder_id", "coder_id"),
)

DUPLICATE_DECISION = _record_table(
    "duplicate_decision",
    Column("kind", Text),
    Column("kept_id", Text),
    Column("duplicate_id", Text),
    Column("decision", Text),
)

def _link_table(name: str, left: str, right: str, *extra: SchemaItem) -> Table:
    """The visible table of a link between two records (``left`` and ``right`` are the columns
    holding their ids, each indexed), with any ``extra`` fields of the link."""
    return _record_table(
        name,
        Column(left, String(36)),
        Column(right, String(36)),
        *extra,
        Index(f"ix_{name}_{left}", left),
        Index(f"ix_{name}_{right}", right),
    )


EXCERPT_CODE = _link_table("excerpt_code", "excerpt_id", "code_id")
CMOC_CODE = _link_table("cmoc_code", "cmoc_id", "code_id")
CMOC_EXCERPT = _link_table("cmoc_excerpt", "cmoc_id", "excerpt_id", Column("slot", Text))
CMOC_THEORY = _link_table("cmoc_theory", "cmoc_id", "theory_id", Column("relation", Text))
CONSENSUS_CODE = _link_table("consensus_code", "consensus_id", "code_id")
CONSENSUS_SOURCE = _link_table("consensus_source", "consensus_id", "cmoc_id")
CONSENSUS_EXCERPT = _link_table("consensus_excerpt", "consensus_id", "excerpt_id")

REVIEW_CMOC = _record_table(
    "review_cmoc",
    Column("theory_id", String(36)),
    Column("label", Text),
    Column("context", Text),
    Column("mechanism_resource", Text),
    Column("mechanism_reasoning", Text),
    Column("outcome", Text),
    Column("outcome_direction", Text),
    Column("statement", Text),
    Column("confidence", Text),
    Column("assessment", JSON),
    Column("confidence_basis", Text),
    Column("sort_order", Integer),
    Column("created_by", String(36)),
    Index("ix_review_cmoc_theory_id", "theory_id"),
)

REVIEW_LINK = _record_table(
    "review_link",
    Column("review_cmoc_id", String(36)),
    Column("source_id", Text),
    Column("source_kind", Text),
    Column("relation", Text),
    Column("note", Text),
    Index("ix_review_link_review_cmoc_id", "review_cmoc_id"),
    Index("ix_review_link_source_id", "source_id"),
)

THEORY_VERSION = _record_table(
    "theory_version",
    Column("theory_id", String(36)),
    Column("number", Integer),
    Column("statement", Text),
    Column("members", JSON),
    Column("added", JSON),
    Column("changed", JSON),
    Column("dropped", JSON),
    Column("reason", Text),
    Column("author_id", String(36)),
    Column("recorded_at", Text),
    Index("ix_theory_version_theory_id", "theory_id"),
)


#: The visible table of each entity type, by type name.
ENTITY_TABLES: dict[str, Table] = {
    "project": PROJECT,
    "coder": CODER,
    "study": STUDY,
    "document": DOCUMENT,
    "excerpt": EXCERPT,
    "code": CODE,
    "cmoc": CMOC,
    "consensus": CONSENSUS,
    "theory": THEORY,
    "form_value": FORM_VALUE,
    "assignment": ASSIGNMENT,
    "duplicate_decision": DUPLICATE_DECISION,
    "excerpt_code": EXCERPT_CODE,
    "cmoc_code": CMOC_CODE,
    "cmoc_excerpt": CMOC_EXCERPT,
    "cmoc_theory": CMOC_THEORY,
    "consensus_code": CONSENSUS_CODE,
    "consensus_source": CONSENSUS_SOURCE,
    "consensus_excerpt": CONSENSUS_EXCERPT,
    "review_cmoc": REVIEW_CMOC,
    "review_link": REVIEW_LINK,
    "theory_version": THEORY_VERSION,
}
