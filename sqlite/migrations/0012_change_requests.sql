-- Change requests (vane.ChangeRequestStore): batches of writes proposed
-- for approval. A request is kept as a JSON body; the columns beside it
-- are what queries select and order by. seq is the newest-first order and
-- the paging key; path is the common path of the names the request
-- changes (vane.ChangeRequest.Path), which prefix queries compare.
CREATE TABLE change_requests (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	id       TEXT    NOT NULL UNIQUE,
	state    TEXT    NOT NULL,
	path     TEXT    NOT NULL,
	revision INTEGER NOT NULL,
	body     TEXT    NOT NULL
);
CREATE INDEX change_requests_state ON change_requests (state, seq);
