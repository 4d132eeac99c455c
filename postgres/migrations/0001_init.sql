-- The schema of package sqlite, in PostgreSQL's types. Every column holding
-- a name, label or tag key is COLLATE "C": listings are ordered, paged and
-- range-scanned by byte order, as the other backends and the index do, and
-- a database's default collation (en_US.UTF-8, say) would order them
-- differently.

-- One row per parameter: its name and latest version.
CREATE TABLE parameters (
	name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	version    BIGINT NOT NULL,
	created_at BIGINT NOT NULL -- unix nanoseconds
);

-- Every kept version of every parameter (at most 100 per parameter).
CREATE TABLE versions (
	name            TEXT COLLATE "C" NOT NULL REFERENCES parameters (name) ON DELETE CASCADE,
	version         BIGINT NOT NULL,
	type            TEXT   NOT NULL,
	value           TEXT   NOT NULL,
	tier            TEXT   NOT NULL,
	description     TEXT   NOT NULL DEFAULT '',
	allowed_pattern TEXT   NOT NULL DEFAULT '',
	data_type       TEXT   NOT NULL,
	key_id          TEXT   NOT NULL DEFAULT '',
	modified_at     BIGINT NOT NULL, -- unix nanoseconds
	modified_by     TEXT   NOT NULL,
	PRIMARY KEY (name, version)
);

-- A label names one version of a parameter; it moves between versions.
CREATE TABLE labels (
	name    TEXT COLLATE "C" NOT NULL REFERENCES parameters (name) ON DELETE CASCADE,
	label   TEXT COLLATE "C" NOT NULL,
	version BIGINT NOT NULL,
	PRIMARY KEY (name, label)
);
CREATE INDEX labels_version ON labels (name, version);

CREATE TABLE tags (
	name  TEXT COLLATE "C" NOT NULL REFERENCES parameters (name) ON DELETE CASCADE,
	key   TEXT COLLATE "C" NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (name, key)
);

-- The change log: one record per mutation, written in the mutation's
-- transaction. Sequence numbers are drawn under the write lock, so they
-- become visible in commit order; a rolled-back write leaves a gap.
CREATE TABLE changes (
	seq       BIGSERIAL PRIMARY KEY,
	op        TEXT   NOT NULL,
	name      TEXT COLLATE "C" NOT NULL,
	version   BIGINT NOT NULL,
	type      TEXT   NOT NULL DEFAULT '',
	labels    TEXT   NOT NULL DEFAULT '', -- comma-separated
	tag_keys  TEXT   NOT NULL DEFAULT '', -- comma-separated
	at        BIGINT NOT NULL,            -- unix nanoseconds
	principal TEXT   NOT NULL
);
