-- 0010: the privacy dashboard: what each device holds offline, every practice's own audit
-- chain (see src/audit.rs and strongroom_protocol::audit), and recorded access reviews.
-- Never edit a landed migration.

-- What the device reported after its last sync; NULL until it reports.
ALTER TABLE sessions ADD COLUMN holdings_matters INTEGER;
ALTER TABLE sessions ADD COLUMN holdings_records INTEGER;
ALTER TABLE sessions ADD COLUMN holdings_synced_at TEXT;

-- Each audit entry that concerns a practice is a link in that practice's own chain. Links
-- for entries from before this migration are added, in entry order, when the store opens.
-- No foreign keys: like the log, the links are evidence.
CREATE TABLE audit_practice_links (
    entry_id    INTEGER PRIMARY KEY NOT NULL,
    practice_id TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    prev_link   TEXT NOT NULL,
    link        TEXT NOT NULL,
    UNIQUE (practice_id, seq)
) STRICT;

CREATE TRIGGER audit_practice_links_no_update BEFORE UPDATE ON audit_practice_links
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_practice_links_no_delete BEFORE DELETE ON audit_practice_links
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- A link follows its practice's last one, for an entry of that practice.
CREATE TRIGGER audit_practice_links_follow BEFORE INSERT ON audit_practice_links
WHEN NEW.seq IS NOT coalesce(
        (SELECT max(seq) FROM audit_practice_links WHERE practice_id = NEW.practice_id), 0) + 1
  OR NEW.prev_link IS NOT coalesce(
        (SELECT link FROM audit_practice_links
         WHERE practice_id = NEW.practice_id ORDER BY seq DESC LIMIT 1),
        '0000000000000000000000000000000000000000000000000000000000000000')
  OR NOT EXISTS (
        SELECT 1 FROM audit_log WHERE id = NEW.entry_id AND practice_id = NEW.practice_id)
BEGIN
    SELECT RAISE(ABORT, 'a practice link must follow the practice''s last link');
END;

CREATE TABLE access_reviews (
    id                  TEXT PRIMARY KEY NOT NULL,
    practice_id         TEXT NOT NULL REFERENCES practices (id),
    completed_at        INTEGER NOT NULL,
    by_user             TEXT NOT NULL REFERENCES users (id),
    dormant_days        INTEGER NOT NULL,
    -- JSON arrays of ids.
    disabled            TEXT NOT NULL,
    invitations_revoked TEXT NOT NULL
) STRICT;
CREATE INDEX access_reviews_practice ON access_reviews (practice_id, completed_at);
