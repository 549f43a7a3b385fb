-- 0009: when the device of a revoked session confirmed that it erased its offline copy
-- (unix seconds; null until then). Recorded once, with its audit entry. Never edit a
-- landed migration.
ALTER TABLE sessions ADD COLUMN wiped_at INTEGER;
