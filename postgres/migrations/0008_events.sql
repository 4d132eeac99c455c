-- Event rules and their deliveries (vane.EventStore). A rule selects
-- changes by path and operation and sends them to a target; each change a
-- rule selects becomes one delivery, kept with its attempts so that the
-- rule's recent events and dead letters can be inspected and redelivered.
-- operations is comma-separated ('' selects every operation);
-- include_values and disabled are 0 or 1, as in SQLite, so that rows copy
-- between the two as integers. Times are Unix nanoseconds, 0 meaning the
-- zero time (never). An attempt's n is its place among the delivery's
-- attempts, 1 for the first, and keeps counting across redeliveries,
-- which reset event_deliveries.attempts but keep the attempts listed.
CREATE TABLE event_rules (
	id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name           TEXT COLLATE "C" NOT NULL UNIQUE,
	path           TEXT COLLATE "C" NOT NULL,
	operations     TEXT    NOT NULL DEFAULT '',
	target         TEXT    NOT NULL,
	url            TEXT    NOT NULL DEFAULT '',
	sealed_secret  TEXT    NOT NULL DEFAULT '',
	include_values INTEGER NOT NULL DEFAULT 0 CHECK (include_values IN (0, 1)),
	disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	unused_days    INTEGER NOT NULL DEFAULT 0,
	start_seq      BIGINT  NOT NULL,
	created_by     TEXT    NOT NULL,
	created_at     BIGINT  NOT NULL,
	updated_at     BIGINT  NOT NULL,
	revision       BIGINT  NOT NULL
);
CREATE TABLE event_deliveries (
	id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	rule_id         TEXT COLLATE "C" NOT NULL,
	seq             BIGINT  NOT NULL,
	name            TEXT COLLATE "C" NOT NULL,
	operation       TEXT    NOT NULL,
	body            TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	attempts        INTEGER NOT NULL,
	next_attempt_at BIGINT  NOT NULL,
	last_status     INTEGER NOT NULL,
	last_error      TEXT    NOT NULL,
	created_at      BIGINT  NOT NULL,
	delivered_at    BIGINT  NOT NULL
);
-- A rule's pending deliveries in change-log order, and its deliveries
-- newest first (id breaks ties of seq).
CREATE INDEX event_deliveries_state ON event_deliveries (rule_id, state, seq, id);
CREATE INDEX event_deliveries_seq ON event_deliveries (rule_id, seq, id);
-- Pruning of old delivered and dead deliveries.
CREATE INDEX event_deliveries_prune ON event_deliveries (state, created_at);
CREATE TABLE event_attempts (
	delivery_id TEXT COLLATE "C" NOT NULL,
	n           INTEGER NOT NULL,
	at          BIGINT  NOT NULL,
	status      INTEGER NOT NULL,
	latency_ns  BIGINT  NOT NULL,
	error       TEXT    NOT NULL,
	PRIMARY KEY (delivery_id, n)
);
