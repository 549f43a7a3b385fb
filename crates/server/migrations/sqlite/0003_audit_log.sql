-- 0003: the audit log, one hash chain over every entry (see src/audit.rs), and its head.
-- Never edit a landed migration.
-- Ids are given by the service, consecutive from 1. Text is kept exactly as hashed.
-- No foreign keys: the log is evidence, and outlives what it speaks of.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY NOT NULL,
    occurred_at TEXT NOT NULL,
    practice_id TEXT,
    actor       TEXT,
    kind        TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_practice ON audit_log (practice_id, id);

-- One row: the last entry's id and hash. Appends take the write lock (BEGIN IMMEDIATE)
-- before they read it.
CREATE TABLE audit_head (
    singleton INTEGER PRIMARY KEY NOT NULL CHECK (singleton = 1),
    last_id   INTEGER NOT NULL,
    last_hash TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (singleton, last_id, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: an entry is never changed or removed, and a new one follows the head.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_follows_the_head BEFORE INSERT ON audit_log
WHEN NOT EXISTS (
    SELECT 1 FROM audit_head WHERE last_id + 1 = NEW.id AND last_hash = NEW.prev_hash
)
BEGIN
    SELECT RAISE(ABORT, 'an audit entry must follow the head of the log');
END;
-- The head only moves forward by one, onto the entry just appended, and is never removed.
CREATE TRIGGER audit_head_advances BEFORE UPDATE ON audit_head
WHEN NEW.singleton IS NOT OLD.singleton
  OR NEW.last_id IS NOT OLD.last_id + 1
  OR NOT EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.last_id AND hash = NEW.last_hash)
BEGIN
    SELECT RAISE(ABORT, 'the audit head only advances to the entry just appended');
END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'the audit head cannot be removed');
END;
