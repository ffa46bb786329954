-- head revision 0008

-- index ix_assignment_coder_id on assignment
CREATE INDEX ix_assignment_coder_id ON assignment (coder_id);

-- index ix_assignment_study_id on assignment
CREATE INDEX ix_assignment_study_id ON assignment (study_id);

-- index ix_cmoc_code_cmoc_id on cmoc_code
CREATE INDEX ix_cmoc_code_cmoc_id ON cmoc_code (cmoc_id);

-- index ix_cmoc_code_code_id on cmoc_code
CREATE INDEX ix_cmoc_code_code_id ON cmoc_code (code_id);

-- index ix_cmoc_excerpt_cmoc_id on cmoc_excerpt
CREATE INDEX ix_cmoc_excerpt_cmoc_id ON cmoc_excerpt (cmoc_id);

-- index ix_cmoc_excerpt_excerpt_id on cmoc_excerpt
CREATE INDEX ix_cmoc_excerpt_excerpt_id ON cmoc_excerpt (excerpt_id);

-- index ix_cmoc_owner_id on cmoc
CREATE INDEX ix_cmoc_owner_id ON cmoc (owner_id);

-- index ix_cmoc_study_id on cmoc
CREATE INDEX ix_cmoc_study_id ON cmoc (study_id);

-- index ix_cmoc_theory_cmoc_id on cmoc_theory
CREATE INDEX ix_cmoc_theory_cmoc_id ON cmoc_theory (cmoc_id);

-- index ix_cmoc_theory_theory_id on cmoc_theory
CREATE INDEX ix_cmoc_theory_theory_id ON cmoc_theory (theory_id);

-- index ix_code_parent_id on code
CREATE INDEX ix_code_parent_id ON code (parent_id);

-- index ix_consensus_code_code_id on consensus_code
CREATE INDEX ix_consensus_code_code_id ON consensus_code (code_id);

-- index ix_consensus_code_consensus_id on consensus_code
CREATE INDEX ix_consensus_code_consensus_id ON consensus_code (consensus_id);

-- index ix_consensus_excerpt_consensus_id on consensus_excerpt
CREATE INDEX ix_consensus_excerpt_consensus_id ON consensus_excerpt (consensus_id);

-- index ix_consensus_excerpt_excerpt_id on consensus_excerpt
CREATE INDEX ix_consensus_excerpt_excerpt_id ON consensus_excerpt (excerpt_id);

-- index ix_consensus_source_cmoc_id on consensus_source
CREATE INDEX ix_consensus_source_cmoc_id ON consensus_source (cmoc_id);

-- index ix_consensus_source_consensus_id on consensus_source
CREATE INDEX ix_consensus_source_consensus_id ON consensus_source (consensus_id);

-- index ix_consensus_study_id on consensus
CREATE INDEX ix_consensus_study_id ON consensus (study_id);

-- index ix_document_study_id on document
CREATE INDEX ix_document_study_id ON document (study_id);

-- index ix_excerpt_code_code_id on excerpt_code
CREATE INDEX ix_excerpt_code_code_id ON excerpt_code (code_id);

-- index ix_excerpt_code_excerpt_id on excerpt_code
CREATE INDEX ix_excerpt_code_excerpt_id ON excerpt_code (excerpt_id);

-- index ix_excerpt_document_id on excerpt
CREATE INDEX ix_excerpt_document_id ON excerpt (document_id);

-- index ix_excerpt_owner_id on excerpt
CREATE INDEX ix_excerpt_owner_id ON excerpt (owner_id);

-- index ix_excerpt_study_id on excerpt
CREATE INDEX ix_excerpt_study_id ON excerpt (study_id);

-- index ix_form_value_coder_id on form_value
CREATE INDEX ix_form_value_coder_id ON form_value (coder_id);

-- index ix_form_value_study_id on form_value
CREATE INDEX ix_form_value_study_id ON form_value (study_id);

-- index ix_log_entity_key on log
CREATE UNIQUE INDEX ix_log_entity_key ON log (entity, key);

-- index ix_review_cmoc_theory_id on review_cmoc
CREATE INDEX ix_review_cmoc_theory_id ON review_cmoc (theory_id);

-- index ix_review_link_review_cmoc_id on review_link
CREATE INDEX ix_review_link_review_cmoc_id ON review_link (review_cmoc_id);

-- index ix_review_link_source_id on review_link
CREATE INDEX ix_review_link_source_id ON review_link (source_id);

-- index ix_search_page_document_id on search_page
CREATE INDEX ix_search_page_document_id ON search_page (document_id);

-- index ix_theory_version_theory_id on theory_version
CREATE INDEX ix_theory_version_theory_id ON theory_version (theory_id);

-- index sqlite_autoindex_alembic_version_1 on alembic_version
-- (made by SQLite)

-- index sqlite_autoindex_assignment_1 on assignment
-- (made by SQLite)

-- index sqlite_autoindex_blobs_1 on blobs
-- (made by SQLite)

-- index sqlite_autoindex_cmoc_1 on cmoc
-- (made by SQLite)

-- index sqlite_autoindex_cmoc_code_1 on cmoc_code
-- (made by SQLite)

-- index sqlite_autoindex_cmoc_excerpt_1 on cmoc_excerpt
-- (made by SQLite)

-- index sqlite_autoindex_cmoc_theory_1 on cmoc_theory
-- (made by SQLite)

-- index sqlite_autoindex_code_1 on code
-- (made by SQLite)

-- index sqlite_autoindex_coder_1 on coder
-- (made by SQLite)

-- index sqlite_autoindex_conflicts_1 on conflicts
-- (made by SQLite)

-- index sqlite_autoindex_consensus_1 on consensus
-- (made by SQLite)

-- index sqlite_autoindex_consensus_code_1 on consensus_code
-- (made by SQLite)

-- index sqlite_autoindex_consensus_excerpt_1 on consensus_excerpt
-- (made by SQLite)

-- index sqlite_autoindex_consensus_source_1 on consensus_source
-- (made by SQLite)

-- index sqlite_autoindex_document_1 on document
-- (made by SQLite)

-- index sqlite_autoindex_duplicate_decision_1 on duplicate_decision
-- (made by SQLite)

-- index sqlite_autoindex_excerpt_1 on excerpt
-- (made by SQLite)

-- index sqlite_autoindex_excerpt_code_1 on excerpt_code
-- (made by SQLite)

-- index sqlite_autoindex_form_value_1 on form_value
-- (made by SQLite)

-- index sqlite_autoindex_log_ids_1 on log_ids
-- (made by SQLite)

-- index sqlite_autoindex_log_names_1 on log_names
-- (made by SQLite)

-- index sqlite_autoindex_log_records_1 on log_records
-- (made by SQLite)

-- index sqlite_autoindex_meta_1 on meta
-- (made by SQLite)

-- index sqlite_autoindex_project_1 on project
-- (made by SQLite)

-- index sqlite_autoindex_review_cmoc_1 on review_cmoc
-- (made by SQLite)

-- index sqlite_autoindex_review_link_1 on review_link
-- (made by SQLite)

-- index sqlite_autoindex_study_1 on study
-- (made by SQLite)

-- index sqlite_autoindex_theory_1 on theory
-- (made by SQLite)

-- index sqlite_autoindex_theory_version_1 on theory_version
-- (made by SQLite)

-- table alembic_version on alembic_version
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));

-- table assignment on assignment
CREATE TABLE assignment (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	study_id VARCHAR(36), 
	coder_id VARCHAR(36), 
	status TEXT, 
	CONSTRAINT pk_assignment PRIMARY KEY (id)
);

-- table blobs on blobs
CREATE TABLE blobs (
	sha256 VARCHAR(64) NOT NULL, 
	size INTEGER NOT NULL, 
	data BLOB NOT NULL, 
	CONSTRAINT pk_blobs PRIMARY KEY (sha256)
);

-- table cmoc on cmoc
CREATE TABLE cmoc (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	study_id VARCHAR(36), 
	intervention TEXT, 
	actor TEXT, 
	context TEXT, 
	mechanism_resource TEXT, 
	mechanism_reasoning TEXT, 
	outcome TEXT, 
	outcome_direction TEXT, 
	outcome_intended TEXT, 
	statement TEXT, 
	confidence TEXT, 
	status TEXT, 
	memo TEXT, 
	set_aside_reason TEXT, 
	sort_order INTEGER, 
	owner_id VARCHAR(36), 
	CONSTRAINT pk_cmoc PRIMARY KEY (id)
);

-- table cmoc_code on cmoc_code
CREATE TABLE cmoc_code (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	cmoc_id VARCHAR(36), 
	code_id VARCHAR(36), 
	CONSTRAINT pk_cmoc_code PRIMARY KEY (id)
);

-- table cmoc_excerpt on cmoc_excerpt
CREATE TABLE cmoc_excerpt (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	cmoc_id VARCHAR(36), 
	excerpt_id VARCHAR(36), 
	slot TEXT, 
	CONSTRAINT pk_cmoc_excerpt PRIMARY KEY (id)
);

-- table cmoc_theory on cmoc_theory
CREATE TABLE cmoc_theory (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	cmoc_id VARCHAR(36), 
	theory_id VARCHAR(36), 
	relation TEXT, 
	CONSTRAINT pk_cmoc_theory PRIMARY KEY (id)
);

-- table code on code
CREATE TABLE code (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	name TEXT, 
	kind TEXT, 
	parent_id VARCHAR(36), 
	definition TEXT, 
	include_notes TEXT, 
	exclude_notes TEXT, 
	color TEXT, 
	sort_order INTEGER, 
	merged_into VARCHAR(36), 
	created_by VARCHAR(36), 
	CONSTRAINT pk_code PRIMARY KEY (id)
);

-- table coder on coder
CREATE TABLE coder (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	name TEXT, 
	initials TEXT, 
	role TEXT, 
	color TEXT, 
	CONSTRAINT pk_coder PRIMARY KEY (id)
);

-- table conflicts on conflicts
CREATE TABLE conflicts (
	entity_type VARCHAR(32) NOT NULL, 
	entity_id VARCHAR(36) NOT NULL, 
	field VARCHAR(64) NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	heads TEXT NOT NULL, 
	ancestors TEXT NOT NULL, 
	CONSTRAINT pk_conflicts PRIMARY KEY (entity_type, entity_id, field)
);

-- table consensus on consensus
CREATE TABLE consensus (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	study_id VARCHAR(36), 
	intervention TEXT, 
	actor TEXT, 
	context TEXT, 
	mechanism_resource TEXT, 
	mechanism_reasoning TEXT, 
	outcome TEXT, 
	outcome_direction TEXT, 
	outcome_intended TEXT, 
	statement TEXT, 
	confidence TEXT, 
	resolution TEXT, 
	note TEXT, 
	reconciled_by VARCHAR(36), 
	sort_order INTEGER, 
	CONSTRAINT pk_consensus PRIMARY KEY (id)
);

-- table consensus_code on consensus_code
CREATE TABLE consensus_code (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	consensus_id VARCHAR(36), 
	code_id VARCHAR(36), 
	CONSTRAINT pk_consensus_code PRIMARY KEY (id)
);

-- table consensus_excerpt on consensus_excerpt
CREATE TABLE consensus_excerpt (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	consensus_id VARCHAR(36), 
	excerpt_id VARCHAR(36), 
	CONSTRAINT pk_consensus_excerpt PRIMARY KEY (id)
);

-- table consensus_source on consensus_source
CREATE TABLE consensus_source (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	consensus_id VARCHAR(36), 
	cmoc_id VARCHAR(36), 
	CONSTRAINT pk_consensus_source PRIMARY KEY (id)
);

-- table document on document
CREATE TABLE document (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	study_id VARCHAR(36), 
	filename TEXT, 
	media_type TEXT, 
	sha256 TEXT, 
	has_original BOOLEAN, 
	text TEXT, 
	page_starts JSON, 
	extractor TEXT, 
	warnings JSON, 
	needs_ocr BOOLEAN, 
	created_by VARCHAR(36), 
	ocr_confidence JSON, 
	CONSTRAINT pk_document PRIMARY KEY (id)
);

-- table duplicate_decision on duplicate_decision
CREATE TABLE duplicate_decision (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	kind TEXT, 
	kept_id TEXT, 
	duplicate_id TEXT, 
	decision TEXT, 
	CONSTRAINT pk_duplicate_decision PRIMARY KEY (id)
);

-- table excerpt on excerpt
CREATE TABLE excerpt (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	document_id VARCHAR(36), 
	study_id VARCHAR(36), 
	start INTEGER, 
	"end" INTEGER, 
	quote TEXT, 
	"before" TEXT, 
	"after" TEXT, 
	page INTEGER, 
	role TEXT, 
	memo TEXT, 
	owner_id VARCHAR(36), 
	CONSTRAINT pk_excerpt PRIMARY KEY (id)
);

-- table excerpt_code on excerpt_code
CREATE TABLE excerpt_code (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	excerpt_id VARCHAR(36), 
	code_id VARCHAR(36), 
	CONSTRAINT pk_excerpt_code PRIMARY KEY (id)
);

-- table form_value on form_value
CREATE TABLE form_value (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	study_id VARCHAR(36), 
	coder_id VARCHAR(36), 
	"key" TEXT, 
	value JSON, 
	CONSTRAINT pk_form_value PRIMARY KEY (id)
);

-- table log on log
CREATE TABLE log (seq INTEGER PRIMARY KEY, key INTEGER NOT NULL, entity INTEGER NOT NULL, field INTEGER NOT NULL, value BLOB NOT NULL, wall INTEGER NOT NULL, counter INTEGER NOT NULL, site INTEGER NOT NULL, coder INTEGER, parents BLOB NOT NULL, seen BLOB NOT NULL);

-- table log_ids on log_ids
CREATE TABLE log_ids (n INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE);

-- table log_names on log_names
CREATE TABLE log_names (n INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);

-- table log_records on log_records
CREATE TABLE log_records (n INTEGER PRIMARY KEY, type INTEGER NOT NULL, id BLOB NOT NULL, UNIQUE (id, type));

-- table meta on meta
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	CONSTRAINT pk_meta PRIMARY KEY ("key")
);

-- table project on project
CREATE TABLE project (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	title TEXT, 
	description TEXT, 
	template JSON, 
	CONSTRAINT pk_project PRIMARY KEY (id)
);

-- table review_cmoc on review_cmoc
CREATE TABLE review_cmoc (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	theory_id VARCHAR(36), 
	label TEXT, 
	context TEXT, 
	mechanism_resource TEXT, 
	mechanism_reasoning TEXT, 
	outcome TEXT, 
	outcome_direction TEXT, 
	statement TEXT, 
	confidence TEXT, 
	assessment JSON, 
	confidence_basis TEXT, 
	sort_order INTEGER, 
	created_by VARCHAR(36), 
	CONSTRAINT pk_review_cmoc PRIMARY KEY (id)
);

-- table review_link on review_link
CREATE TABLE review_link (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	review_cmoc_id VARCHAR(36), 
	source_id TEXT, 
	source_kind TEXT, 
	relation TEXT, 
	note TEXT, 
	CONSTRAINT pk_review_link PRIMARY KEY (id)
);

-- table search_page on search_page
CREATE TABLE search_page (
	id INTEGER NOT NULL, 
	document_id VARCHAR(36) NOT NULL, 
	page INTEGER NOT NULL, 
	CONSTRAINT pk_search_page PRIMARY KEY (id)
);

-- table search_pages on search_pages
CREATE VIRTUAL TABLE search_pages USING fts5(body, content='', tokenize = 'unicode61 remove_diacritics 2');

-- table search_pages_config on search_pages_config
CREATE TABLE 'search_pages_config'(k PRIMARY KEY, v) WITHOUT ROWID;

-- table search_pages_data on search_pages_data
CREATE TABLE 'search_pages_data'(id INTEGER PRIMARY KEY, block BLOB);

-- table search_pages_docsize on search_pages_docsize
CREATE TABLE 'search_pages_docsize'(id INTEGER PRIMARY KEY, sz BLOB);

-- table search_pages_idx on search_pages_idx
CREATE TABLE 'search_pages_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;

-- table study on study
CREATE TABLE study (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	label TEXT, 
	authors JSON, 
	year INTEGER, 
	title TEXT, 
	journal TEXT, 
	volume TEXT, 
	issue TEXT, 
	pages TEXT, 
	doi TEXT, 
	pmid TEXT, 
	url TEXT, 
	abstract TEXT, 
	reference_type TEXT, 
	extra JSON, 
	created_by VARCHAR(36), 
	merged_into VARCHAR(36), 
	CONSTRAINT pk_study PRIMARY KEY (id)
);

-- table theory on theory
CREATE TABLE theory (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	label TEXT, 
	statement TEXT, 
	version TEXT, 
	status TEXT, 
	previous_id VARCHAR(36), 
	CONSTRAINT pk_theory PRIMARY KEY (id)
);

-- table theory_version on theory_version
CREATE TABLE theory_version (
	id VARCHAR(36) NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	theory_id VARCHAR(36), 
	number INTEGER, 
	statement TEXT, 
	members JSON, 
	added JSON, 
	changed JSON, 
	dropped JSON, 
	reason TEXT, 
	author_id VARCHAR(36), 
	recorded_at TEXT, 
	CONSTRAINT pk_theory_version PRIMARY KEY (id)
);

-- view changes on changes
CREATE VIEW changes AS SELECT c.seq AS seq, c.key AS change_id, t.name AS entity_type, r.id AS entity_id, f.name AS field, c.value AS value, c.wall AS wall, c.counter AS counter, s.id AS site_id, k.id AS coder_id, c.parents AS parents, c.seen AS seen FROM log c JOIN log_records r ON r.n = c.entity JOIN log_names t ON t.n = r.type JOIN log_names f ON f.n = c.field JOIN log_ids s ON s.n = c.site LEFT JOIN log_ids k ON k.n = c.coder;
