-- Flag evaluation counts by flag, UTC day and variant ('' for errors),
-- with the time of the latest evaluation counted (Unix nanoseconds).
CREATE TABLE flag_usage (
	name    TEXT   NOT NULL COLLATE "C",
	day     TEXT   NOT NULL,
	variant TEXT   NOT NULL,
	count   BIGINT NOT NULL,
	last_at BIGINT NOT NULL,
	PRIMARY KEY (name, day, variant)
);
