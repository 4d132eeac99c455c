-- Background jobs: one lease per job (which node runs it, until when, and
-- its cursor in the change log), rollouts and scheduled changes. A
-- rollout or schedule is kept as a JSON body; the columns beside it are
-- what queries select and order by. active_name is the name while the
-- rollout is active and NULL after, so the unique index allows one
-- active rollout per name.
CREATE TABLE leases (
	job        TEXT   PRIMARY KEY,
	holder     TEXT   NOT NULL,
	expires_at BIGINT NOT NULL,
	cursor     BIGINT NOT NULL
);
CREATE TABLE rollouts (
	seq         BIGSERIAL PRIMARY KEY,
	id          TEXT   NOT NULL UNIQUE,
	name        TEXT   NOT NULL COLLATE "C",
	active_name TEXT   UNIQUE COLLATE "C",
	revision    BIGINT NOT NULL,
	body        TEXT   NOT NULL
);
CREATE INDEX rollouts_name ON rollouts (name, seq);
CREATE TABLE schedules (
	seq      BIGSERIAL PRIMARY KEY,
	id       TEXT   NOT NULL UNIQUE,
	name     TEXT   NOT NULL COLLATE "C",
	state    TEXT   NOT NULL,
	at       BIGINT NOT NULL,
	revision BIGINT NOT NULL,
	body     TEXT   NOT NULL
);
CREATE INDEX schedules_due ON schedules (state, at);
