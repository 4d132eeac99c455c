-- The audit history: who did what to which name, from where, with what
-- result. Parameter mutations write their entry in their own transaction.
CREATE TABLE audit (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	at          INTEGER NOT NULL,
	principal   TEXT    NOT NULL,
	source      TEXT    NOT NULL,
	request_id  TEXT    NOT NULL,
	action      TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	old_version INTEGER NOT NULL,
	new_version INTEGER NOT NULL,
	result      TEXT    NOT NULL,
	detail      TEXT    NOT NULL
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_name ON audit (name, id);
