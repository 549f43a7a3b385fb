-- 0012: a member whose credentials an admin removed: no password, no second factor, no
-- session, and their email address freed for a new invitation; the row stays, so the audit
-- log's entries still name them. Never edit a landed migration.
ALTER TABLE users ADD COLUMN credentials_removed_at INTEGER;
