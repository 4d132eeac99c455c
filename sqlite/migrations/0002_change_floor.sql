-- The compaction floor of the change log: the highest sequence Compact has
-- removed so far (0 while nothing has been). It only grows, and is written
-- in the transaction that deletes the records, so a reader asking for the
-- changes after a lower sequence learns that some are gone.
CREATE TABLE change_floor (
	id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), -- one row
	seq INTEGER NOT NULL
);
INSERT INTO change_floor (id, seq) VALUES (1, 0);
