-- The request that made a change, for event consumers to match a change
-- with its audit entry ('' for changes made before this column, and by
-- background jobs).
ALTER TABLE changes ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
