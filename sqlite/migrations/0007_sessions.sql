-- Dashboard sessions (package auth): a signed-in browser's token, kept
-- only as its SHA-256 in hex. Times are Unix nanoseconds. A session ends
-- when it expires, when it is signed out, or with its access key.
CREATE TABLE sessions (
	id         TEXT   NOT NULL PRIMARY KEY,
	key_id     TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_key ON sessions (key_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
