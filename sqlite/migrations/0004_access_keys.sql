-- Access keys (package auth): the credentials of the SSM protocol (SigV4)
-- and of the native API (bearer tokens). No secret is kept in plaintext:
-- secret_hash is its SHA-256 in hex, for bearer tokens; secret_sealed is
-- the token sealed by the keyring, for SigV4, which needs the secret
-- itself. Times are Unix nanoseconds, 0 meaning never; policy is the JSON
-- document.
CREATE TABLE access_keys (
	id            TEXT    NOT NULL PRIMARY KEY,
	name          TEXT    NOT NULL UNIQUE,
	secret_hash   TEXT    NOT NULL,
	secret_sealed TEXT    NOT NULL,
	policy        TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	last_used_at  INTEGER NOT NULL DEFAULT 0,
	expires_at    INTEGER NOT NULL DEFAULT 0,
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);
