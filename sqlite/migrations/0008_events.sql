-- Event rules and their deliveries (vane.EventStore). A rule selects
-- changes by path and operation and sends them to a target; each change a
-- rule selects becomes one delivery, kept with its attempts so that the
-- rule's recent events and dead letters can be inspected and redelivered.
-- operations is comma-separated ('' selects every operation);
-- include_values and disabled are 0 or 1; unused_days is the days
-- without evaluations after which a FlagUnused notice goes (0: the default). Times are Unix nanoseconds, 0
-- meaning the zero time (never). An attempt's n is its place among the
-- delivery's attempts, 1 for the first, and keeps counting across
-- redeliveries, which reset event_deliveries.attempts but keep the
-- attempts listed.
CREATE TABLE event_rules (
	id             TEXT    NOT NULL PRIMARY KEY,
	name           TEXT    NOT NULL UNIQUE,
	path           TEXT    NOT NULL,
	operations     TEXT    NOT NULL DEFAULT '',
	target         TEXT    NOT NULL,
	url            TEXT    NOT NULL DEFAULT '',
	sealed_secret  TEXT    NOT NULL DEFAULT '',
	include_values INTEGER NOT NULL DEFAULT 0 CHECK (include_values IN (0, 1)),
	disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	unused_days    INTEGER NOT NULL DEFAULT 0,
	start_seq      INTEGER NOT NULL,
	created_by     TEXT    NOT NULL,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	revision       INTEGER NOT NULL
);
CREATE TABLE event_deliveries (
	id              TEXT    NOT NULL PRIMARY KEY,
	rule_id         TEXT    NOT NULL,
	seq             INTEGER NOT NULL,
	name            TEXT    NOT NULL,
	operation       TEXT    NOT NULL,
	body            TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	attempts        INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	last_status     INTEGER NOT NULL,
	last_error      TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	delivered_at    INTEGER NOT NULL
);
-- A rule's pending deliveries in change-log order, and its deliveries
-- newest first (id breaks ties of seq).
CREATE INDEX event_deliveries_state ON event_deliveries (rule_id, state, seq, id);
CREATE INDEX event_deliveries_seq ON event_deliveries (rule_id, seq, id);
-- Pruning of old delivered and dead deliveries.
CREATE INDEX event_deliveries_prune ON event_deliveries (state, created_at);
CREATE TABLE event_attempts (
	delivery_id TEXT    NOT NULL,
	n           INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	status      INTEGER NOT NULL,
	latency_ns  INTEGER NOT NULL,
	error       TEXT    NOT NULL,
	PRIMARY KEY (delivery_id, n)
);
