-- The batch (ParameterStore.Batch) a change was part of, in the change log
-- and in the audit history ('' for single writes, and for everything
-- written before this column).
ALTER TABLE changes ADD COLUMN batch_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN batch_id TEXT NOT NULL DEFAULT '';
