-- 0008: when the device of a revoked session confirmed that it erased its offline copy
-- (SQLite's 0009). Never edit a landed migration.
ALTER TABLE sessions ADD COLUMN wiped_at bigint;
