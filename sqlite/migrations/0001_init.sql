-- One row per parameter: its name and latest version.
CREATE TABLE parameters (
	name       TEXT    NOT NULL PRIMARY KEY,
	version    INTEGER NOT NULL,
	created_at INTEGER NOT NULL -- unix nanoseconds
);

-- Every kept version of every parameter (at most 100 per parameter).
CREATE TABLE versions (
	name            TEXT    NOT NULL REFERENCES parameters (name) ON DELETE CASCADE,
	version         INTEGER NOT NULL,
	type            TEXT    NOT NULL,
	value           TEXT    NOT NULL,
	tier            TEXT    NOT NULL,
	description     TEXT    NOT NULL DEFAULT '',
	allowed_pattern TEXT    NOT NULL DEFAULT '',
	data_type       TEXT    NOT NULL,
	key_id          TEXT    NOT NULL DEFAULT '',
	modified_at     INTEGER NOT NULL, -- unix nanoseconds
	modified_by     TEXT    NOT NULL,
	PRIMARY KEY (name, version)
);

-- A label names one version of a parameter; it moves between versions.
CREATE TABLE labels (
	name    TEXT    NOT NULL REFERENCES parameters (name) ON DELETE CASCADE,
	label   TEXT    NOT NULL,
	version INTEGER NOT NULL,
	PRIMARY KEY (name, label)
);
CREATE INDEX labels_version ON labels (name, version);

CREATE TABLE tags (
	name  TEXT NOT NULL REFERENCES parameters (name) ON DELETE CASCADE,
	key   TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (name, key)
);

-- The change log: one record per mutation, written in the mutation's
-- transaction.
CREATE TABLE changes (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	op        TEXT    NOT NULL,
	name      TEXT    NOT NULL,
	version   INTEGER NOT NULL,
	type      TEXT    NOT NULL DEFAULT '',
	labels    TEXT    NOT NULL DEFAULT '', -- comma-separated
	tag_keys  TEXT    NOT NULL DEFAULT '', -- comma-separated
	at        INTEGER NOT NULL,            -- unix nanoseconds
	principal TEXT    NOT NULL
);
