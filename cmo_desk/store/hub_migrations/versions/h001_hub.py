"""the hub: projects, members, the union of every laptop's change log, document bytes

Row-level security: a member reads the projects they belong to, and may add a change only when it
is attributed to their own coder, or when they are the project's coordinator; codebook,
assignment and consensus records are the coordinator's.

Revision ID: h001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "h001"
down_revision = None
branch_labels = None
depends_on = None

#: Entity types only a coordinator may write on the hub.
COORDINATOR_ONLY = ("code", "assignment", "consensus", "consensus_code", "consensus_source",
                    "consensus_excerpt", "duplicate_decision", "project")


def upgrade() -> None:
    only = ", ".join(f"'{t}'" for t in COORDINATOR_ONLY)
    op.execute("""
        CREATE TABLE cmo_hub.project (
            project_id text PRIMARY KEY,
            title text,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE cmo_hub.member (
            project_id text NOT NULL REFERENCES cmo_hub.project ON DELETE CASCADE,
            role_name text NOT NULL,
            coder_id text NOT NULL,
            coordinator boolean NOT NULL DEFAULT false,
            PRIMARY KEY (project_id, role_name)
        );
        CREATE TABLE cmo_hub.change (
            seq bigserial PRIMARY KEY,
            project_id text NOT NULL REFERENCES cmo_hub.project ON DELETE CASCADE,
            change_id text NOT NULL,
            entity_type text NOT NULL,
            entity_id text NOT NULL,
            field text NOT NULL,
            value text NOT NULL,
            wall bigint NOT NULL,
            counter integer NOT NULL,
            site_id text NOT NULL,
            coder_id text,
            parents text NOT NULL,
            seen text NOT NULL,
            pushed_by text NOT NULL DEFAULT current_user,
            pushed_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (project_id, change_id)
        );
        CREATE TABLE cmo_hub.blob (
            project_id text NOT NULL REFERENCES cmo_hub.project ON DELETE CASCADE,
            sha256 text NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (project_id, sha256)
        );

        CREATE FUNCTION cmo_hub.is_member(p text) RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cmo_hub, pg_temp AS
            $$ SELECT EXISTS (SELECT 1 FROM cmo_hub.member
                              WHERE project_id = p AND role_name = session_user) $$;
        CREATE FUNCTION cmo_hub.is_coordinator(p text) RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = cmo_hub, pg_temp AS
            $$ SELECT EXISTS (SELECT 1 FROM cmo_hub.member
                              WHERE project_id = p AND role_name = session_user AND coordinator) $$;
        ALTER TABLE cmo_hub.project ENABLE ROW LEVEL SECURITY;
        ALTER TABLE cmo_hub.member ENABLE ROW LEVEL SECURITY;
        ALTER TABLE cmo_hub.change ENABLE ROW LEVEL SECURITY;
        ALTER TABLE cmo_hub.blob ENABLE ROW LEVEL SECURITY;

        CREATE POLICY read_own_projects ON cmo_hub.project FOR SELECT
            USING (cmo_hub.is_member(project_id));
        -- one's own membership row is checked first, so the checks below stay one index lookup
        CREATE POLICY read_members ON cmo_hub.member FOR SELECT
            USING (role_name = session_user OR cmo_hub.is_member(project_id));
        CREATE POLICY coordinator_manages_members ON cmo_hub.member FOR ALL
            USING (cmo_hub.is_coordinator(project_id))
            WITH CHECK (cmo_hub.is_coordinator(project_id));
        CREATE POLICY read_changes ON cmo_hub.change FOR SELECT
            USING (cmo_hub.is_member(project_id));
        CREATE POLICY add_own_changes ON cmo_hub.change FOR INSERT
            WITH CHECK (pushed_by = session_user AND EXISTS (
                SELECT 1 FROM cmo_hub.member m
                WHERE m.project_id = change.project_id AND m.role_name = session_user
                  AND (m.coordinator OR (change.coder_id IS NOT NULL
                                         AND m.coder_id = change.coder_id
                                         AND change.entity_type NOT IN (""" + only + """)))));
        CREATE POLICY read_blobs ON cmo_hub.blob FOR SELECT
            USING (cmo_hub.is_member(project_id));
        CREATE POLICY add_blobs ON cmo_hub.blob FOR INSERT
            WITH CHECK (cmo_hub.is_member(project_id));
    """)


def downgrade() -> None:
    op.execute("DROP TABLE cmo_hub.blob, cmo_hub.change, cmo_hub.member, cmo_hub.project")
    op.execute("DROP FUNCTION cmo_hub.is_coordinator, cmo_hub.is_member")
