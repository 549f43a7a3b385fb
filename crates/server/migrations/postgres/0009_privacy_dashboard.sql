-- 0009: the privacy dashboard: what each device holds offline, every practice's own audit
-- chain (see src/audit.rs and strongroom_protocol::audit), and recorded access reviews.
-- Never edit a landed migration.

-- What the device reported after its last sync; NULL until it reports.
ALTER TABLE sessions ADD COLUMN holdings_matters bigint;
ALTER TABLE sessions ADD COLUMN holdings_records bigint;
ALTER TABLE sessions ADD COLUMN holdings_synced_at text;

-- Each audit entry that concerns a practice is a link in that practice's own chain. Links
-- for entries from before this migration are added, in entry order, when the store opens.
-- Appends hold the audit head's lock, so links are written one at a time.
CREATE TABLE audit_practice_links (
    entry_id    bigint PRIMARY KEY,
    practice_id uuid NOT NULL,
    seq         bigint NOT NULL,
    prev_link   text NOT NULL,
    link        text NOT NULL,
    UNIQUE (practice_id, seq)
);

CREATE TRIGGER audit_practice_links_append_only BEFORE UPDATE OR DELETE ON audit_practice_links
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_practice_links_no_truncate BEFORE TRUNCATE ON audit_practice_links
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- A link follows its practice's last one, for an entry of that practice.
CREATE FUNCTION audit_practice_link_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq  bigint;
    last_link text;
BEGIN
    SELECT seq, link INTO last_seq, last_link FROM audit_practice_links
    WHERE practice_id = NEW.practice_id ORDER BY seq DESC LIMIT 1;
    IF NEW.seq IS DISTINCT FROM coalesce(last_seq, 0) + 1
       OR NEW.prev_link IS DISTINCT FROM coalesce(last_link,
            '0000000000000000000000000000000000000000000000000000000000000000')
       OR NOT EXISTS (
            SELECT 1 FROM audit_log WHERE id = NEW.entry_id AND practice_id = NEW.practice_id)
    THEN
        RAISE EXCEPTION 'a practice link must follow the practice''s last link';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_practice_links_follow BEFORE INSERT ON audit_practice_links
    FOR EACH ROW EXECUTE FUNCTION audit_practice_link_follow();

CREATE TABLE access_reviews (
    id                  uuid PRIMARY KEY,
    practice_id         uuid NOT NULL REFERENCES practices (id),
    completed_at        bigint NOT NULL,
    by_user             uuid NOT NULL REFERENCES users (id),
    dormant_days        integer NOT NULL,
    -- JSON arrays of ids.
    disabled            text NOT NULL,
    invitations_revoked text NOT NULL
);
CREATE INDEX access_reviews_practice ON access_reviews (practice_id, completed_at);
