-- Flag evaluation counts by flag, UTC day and variant ('' for errors),
-- with the time of the latest evaluation counted (Unix nanoseconds).
CREATE TABLE flag_usage (
	name    TEXT    NOT NULL,
	day     TEXT    NOT NULL,
	variant TEXT    NOT NULL,
	count   INTEGER NOT NULL,
	last_at INTEGER NOT NULL,
	PRIMARY KEY (name, day, variant)
);
