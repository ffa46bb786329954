"""initial schema

Revision ID: 0001
Revises: 
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assignment',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('study_id', sa.String(length=36), nullable=True),
    sa.Column('coder_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_coder_id', ['coder_id'], unique=False)
        batch_op.create_index('ix_assignment_study_id', ['study_id'], unique=False)

    op.create_table('blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_blobs'))
    )
    op.create_table('changes',
    sa.Column('change_id', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=36), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('wall', sa.Integer(), nullable=False),
    sa.Column('counter', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('coder_id', sa.String(length=36), nullable=True),
    sa.Column('parents', sa.Text(), nullable=False),
    sa.Column('seen', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('change_id', name=op.f('pk_changes'))
    )
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.create_index('ix_changes_clock', ['wall', 'counter'], unique=False)
        batch_op.create_index('ix_changes_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('cmoc',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('study_id', sa.String(length=36), nullable=True),
    sa.Column('intervention', sa.Text(), nullable=True),
    sa.Column('actor', sa.Text(), nullable=True),
    sa.Column('context', sa.Text(), nullable=True),
    sa.Column('mechanism_resource', sa.Text(), nullable=True),
    sa.Column('mechanism_reasoning', sa.Text(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('outcome_direction', sa.Text(), nullable=True),
    sa.Column('outcome_intended', sa.Text(), nullable=True),
    sa.Column('statement', sa.Text(), nullable=True),
    sa.Column('confidence', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('set_aside_reason', sa.Text(), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cmoc'))
    )
    with op.batch_alter_table('cmoc', schema=None) as batch_op:
        batch_op.create_index('ix_cmoc_owner_id', ['owner_id'], unique=False)
        batch_op.create_index('ix_cmoc_study_id', ['study_id'], unique=False)

    op.create_table('cmoc_code',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('cmoc_id', sa.String(length=36), nullable=True),
    sa.Column('code_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cmoc_code'))
    )
    with op.batch_alter_table('cmoc_code', schema=None) as batch_op:
        batch_op.create_index('ix_cmoc_code_cmoc_id', ['cmoc_id'], unique=False)
        batch_op.create_index('ix_cmoc_code_code_id', ['code_id'], unique=False)

    op.create_table('cmoc_excerpt',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('cmoc_id', sa.String(length=36), nullable=True),
    sa.Column('excerpt_id', sa.String(length=36), nullable=True),
    sa.Column('slot', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cmoc_excerpt'))
    )
    with op.batch_alter_table('cmoc_excerpt', schema=None) as batch_op:
        batch_op.create_index('ix_cmoc_excerpt_cmoc_id', ['cmoc_id'], unique=False)
        batch_op.create_index('ix_cmoc_excerpt_excerpt_id', ['excerpt_id'], unique=False)

    op.create_table('cmoc_theory',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('cmoc_id', sa.String(length=36), nullable=True),
    sa.Column('theory_id', sa.String(length=36), nullable=True),
    sa.Column('relation', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cmoc_theory'))
    )
    with op.batch_alter_table('cmoc_theory', schema=None) as batch_op:
        batch_op.create_index('ix_cmoc_theory_cmoc_id', ['cmoc_id'], unique=False)
        batch_op.create_index('ix_cmoc_theory_theory_id', ['theory_id'], unique=False)

    op.create_table('code',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=True),
    sa.Column('parent_id', sa.String(length=36), nullable=True),
    sa.Column('definition', sa.Text(), nullable=True),
    sa.Column('include_notes', sa.Text(), nullable=True),
    sa.Column('exclude_notes', sa.Text(), nullable=True),
    sa.Column('color', sa.Text(), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=True),
    sa.Column('merged_into', sa.String(length=36), nullable=True),
    sa.Column('created_by', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code'))
    )
    with op.batch_alter_table('code', schema=None) as batch_op:
        batch_op.create_index('ix_code_parent_id', ['parent_id'], unique=False)

    op.create_table('coder',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('initials', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=True),
    sa.Column('color', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coder'))
    )
    op.create_table('conflicts',
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=36), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('heads', sa.Text(), nullable=False),
    sa.Column('ancestors', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('entity_type', 'entity_id', 'field', name=op.f('pk_conflicts'))
    )
    op.create_table('consensus',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('study_id', sa.String(length=36), nullable=True),
    sa.Column('intervention', sa.Text(), nullable=True),
    sa.Column('actor', sa.Text(), nullable=True),
    sa.Column('context', sa.Text(), nullable=True),
    sa.Column('mechanism_resource', sa.Text(), nullable=True),
    sa.Column('mechanism_reasoning', sa.Text(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('outcome_direction', sa.Text(), nullable=True),
    sa.Column('outcome_intended', sa.Text(), nullable=True),
    sa.Column('statement', sa.Text(), nullable=True),
    sa.Column('confidence', sa.Text(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reconciled_by', sa.String(length=36), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consensus'))
    )
    with op.batch_alter_table('consensus', schema=None) as batch_op:
        batch_op.create_index('ix_consensus_study_id', ['study_id'], unique=False)

    op.create_table('consensus_code',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('consensus_id', sa.String(length=36), nullable=True),
    sa.Column('code_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consensus_code'))
    )
    with op.batch_alter_table('consensus_code', schema=None) as batch_op:
        batch_op.create_index('ix_consensus_code_code_id', ['code_id'], unique=False)
        batch_op.create_index('ix_consensus_code_consensus_id', ['consensus_id'], unique=False)

    op.create_table('consensus_excerpt',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('consensus_id', sa.String(length=36), nullable=True),
    sa.Column('excerpt_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consensus_excerpt'))
    )
    with op.batch_alter_table('consensus_excerpt', schema=None) as batch_op:
        batch_op.create_index('ix_consensus_excerpt_consensus_id', ['consensus_id'], unique=False)
        batch_op.create_index('ix_consensus_excerpt_excerpt_id', ['excerpt_id'], unique=False)

    op.create_table('consensus_source',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('consensus_id', sa.String(length=36), nullable=True),
    sa.Column('cmoc_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consensus_source'))
    )
    with op.batch_alter_table('consensus_source', schema=None) as batch_op:
        batch_op.create_index('ix_consensus_source_cmoc_id', ['cmoc_id'], unique=False)
        batch_op.create_index('ix_consensus_source_consensus_id', ['consensus_id'], unique=False)

    op.create_table('document',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('study_id', sa.String(length=36), nullable=True),
    sa.Column('filename', sa.Text(), nullable=True),
    sa.Column('media_type', sa.Text(), nullable=True),
    sa.Column('sha256', sa.Text(), nullable=True),
    sa.Column('has_original', sa.Boolean(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('page_starts', sa.JSON(), nullable=True),
    sa.Column('extractor', sa.Text(), nullable=True),
    sa.Column('warnings', sa.JSON(), nullable=True),
    sa.Column('needs_ocr', sa.Boolean(), nullable=True),
    sa.Column('created_by', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document'))
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index('ix_document_study_id', ['study_id'], unique=False)

    op.create_table('excerpt',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('document_id', sa.String(length=36), nullable=True),
    sa.Column('study_id', sa.String(length=36), nullable=True),
    sa.Column('start', sa.Integer(), nullable=True),
    sa.Column('end', sa.Integer(), nullable=True),
    sa.Column('quote', sa.Text(), nullable=True),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('page', sa.Integer(), nullable=True),
    sa.Column('role', sa.Text(), nullable=True),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_excerpt'))
    )
    with op.batch_alter_table('excerpt', schema=None) as batch_op:
        batch_op.create_index('ix_excerpt_document_id', ['document_id'], unique=False)
        batch_op.create_index('ix_excerpt_owner_id', ['owner_id'], unique=False)
        batch_op.create_index('ix_excerpt_study_id', ['study_id'], unique=False)

    op.create_table('excerpt_code',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('excerpt_id', sa.String(length=36), nullable=True),
    sa.Column('code_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_excerpt_code'))
    )
    with op.batch_alter_table('excerpt_code', schema=None) as batch_op:
        batch_op.create_index('ix_excerpt_code_code_id', ['code_id'], unique=False)
        batch_op.create_index('ix_excerpt_code_excerpt_id', ['excerpt_id'], unique=False)

    op.create_table('form_value',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('study_id', sa.String(length=36), nullable=True),
    sa.Column('coder_id', sa.String(length=36), nullable=True),
    sa.Column('key', sa.Text(), nullable=True),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_value'))
    )
    with op.batch_alter_table('form_value', schema=None) as batch_op:
        batch_op.create_index('ix_form_value_coder_id', ['coder_id'], unique=False)
        batch_op.create_index('ix_form_value_study_id', ['study_id'], unique=False)

    op.create_table('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_meta'))
    )
    op.create_table('project',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('template', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project'))
    )
    op.create_table('study',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('authors', sa.JSON(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('journal', sa.Text(), nullable=True),
    sa.Column('volume', sa.Text(), nullable=True),
    sa.Column('issue', sa.Text(), nullable=True),
    sa.Column('pages', sa.Text(), nullable=True),
    sa.Column('doi', sa.Text(), nullable=True),
    sa.Column('pmid', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('abstract', sa.Text(), nullable=True),
    sa.Column('reference_type', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=True),
    sa.Column('created_by', sa.String(length=36), nullable=True),
    sa.Column('merged_into', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study'))
    )
    op.create_table('theory',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('statement', sa.Text(), nullable=True),
    sa.Column('version', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('previous_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theory'))
    )
    if op.get_bind().dialect.name == "sqlite":
        # Full-text search over document pages; CJK text is indexed one character per token.
        op.execute(
            "CREATE VIRTUAL TABLE search_pages USING fts5("
            "document_id UNINDEXED, study_id UNINDEXED, page UNINDEXED, body, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_pages")
    op.drop_table('theory')
    op.drop_table('study')
    op.drop_table('project')
    op.drop_table('meta')
    with op.batch_alter_table('form_value', schema=None) as batch_op:
        batch_op.drop_index('ix_form_value_study_id')
        batch_op.drop_index('ix_form_value_coder_id')

    op.drop_table('form_value')
    with op.batch_alter_table('excerpt_code', schema=None) as batch_op:
        batch_op.drop_index('ix_excerpt_code_excerpt_id')
        batch_op.drop_index('ix_excerpt_code_code_id')

    op.drop_table('excerpt_code')
    with op.batch_alter_table('excerpt', schema=None) as batch_op:
        batch_op.drop_index('ix_excerpt_study_id')
        batch_op.drop_index('ix_excerpt_owner_id')
        batch_op.drop_index('ix_excerpt_document_id')

    op.drop_table('excerpt')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index('ix_document_study_id')

    op.drop_table('document')
    with op.batch_alter_table('consensus_source', schema=None) as batch_op:
        batch_op.drop_index('ix_consensus_source_consensus_id')
        batch_op.drop_index('ix_consensus_source_cmoc_id')

    op.drop_table('consensus_source')
    with op.batch_alter_table('consensus_excerpt', schema=None) as batch_op:
        batch_op.drop_index('ix_consensus_excerpt_excerpt_id')
        batch_op.drop_index('ix_consensus_excerpt_consensus_id')

    op.drop_table('consensus_excerpt')
    with op.batch_alter_table('consensus_code', schema=None) as batch_op:
        batch_op.drop_index('ix_consensus_code_consensus_id')
        batch_op.drop_index('ix_consensus_code_code_id')

    op.drop_table('consensus_code')
    with op.batch_alter_table('consensus', schema=None) as batch_op:
        batch_op.drop_index('ix_consensus_study_id')

    op.drop_table('consensus')
    op.drop_table('conflicts')
    op.drop_table('coder')
    with op.batch_alter_table('code', schema=None) as batch_op:
        batch_op.drop_index('ix_code_parent_id')

    op.drop_table('code')
    with op.batch_alter_table('cmoc_theory', schema=None) as batch_op:
        batch_op.drop_index('ix_cmoc_theory_theory_id')
        batch_op.drop_index('ix_cmoc_theory_cmoc_id')

    op.drop_table('cmoc_theory')
    with op.batch_alter_table('cmoc_excerpt', schema=None) as batch_op:
        batch_op.drop_index('ix_cmoc_excerpt_excerpt_id')
        batch_op.drop_index('ix_cmoc_excerpt_cmoc_id')

    op.drop_table('cmoc_excerpt')
    with op.batch_alter_table('cmoc_code', schema=None) as batch_op:
        batch_op.drop_index('ix_cmoc_code_code_id')
        batch_op.drop_index('ix_cmoc_code_cmoc_id')

    op.drop_table('cmoc_code')
    with op.batch_alter_table('cmoc', schema=None) as batch_op:
        batch_op.drop_index('ix_cmoc_study_id')
        batch_op.drop_index('ix_cmoc_owner_id')

    op.drop_table('cmoc')
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_index('ix_changes_entity')
        batch_op.drop_index('ix_changes_clock')

    op.drop_table('changes')
    op.drop_table('blobs')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_study_id')
        batch_op.drop_index('ix_assignment_coder_id')

    op.drop_table('assignment')
