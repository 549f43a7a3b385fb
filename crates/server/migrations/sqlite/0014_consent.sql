-- 0014: cookie consent records (see src/consent.rs): one member's choices per row, kept
-- as history, newest last by `seq`. PostgreSQL's 0014. Never edit a landed migration.
-- Times are unix seconds. Strictly necessary items are always on and not stored.
CREATE TABLE consent_records (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    practice_id    TEXT NOT NULL REFERENCES practices (id),
    user_id        TEXT NOT NULL REFERENCES users (id),
    functional     INTEGER NOT NULL CHECK (functional IN (0, 1)),
    analytics      INTEGER NOT NULL CHECK (analytics IN (0, 1)),
    -- A JSON object: catalogue name to the item's own choice, where it differs.
    items          TEXT NOT NULL DEFAULT '{}',
    source         TEXT NOT NULL CHECK (source IN ('user', 'gpc')),
    surface        TEXT NOT NULL CHECK (surface IN ('desktop', 'web')),
    policy_version TEXT NOT NULL,
    recorded_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX consent_records_by_member ON consent_records (practice_id, user_id, seq);

-- A record is evidence of a choice: never changed or removed.
CREATE TRIGGER consent_records_no_update BEFORE UPDATE ON consent_records
BEGIN
    SELECT RAISE(ABORT, 'consent records are append-only');
END;
CREATE TRIGGER consent_records_no_delete BEFORE DELETE ON consent_records
BEGIN
    SELECT RAISE(ABORT, 'consent records are append-only');
END;
