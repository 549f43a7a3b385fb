-- 0014: cookie consent records (see src/consent.rs): one member's choices per row, kept
-- as history, newest last by `seq`. SQLite's 0014. Never edit a landed migration.
-- Times are unix seconds. Strictly necessary items are always on and not stored.
CREATE TABLE consent_records (
    seq            bigserial PRIMARY KEY,
    id             uuid NOT NULL UNIQUE,
    practice_id    uuid NOT NULL REFERENCES practices (id),
    user_id        uuid NOT NULL REFERENCES users (id),
    functional     boolean NOT NULL,
    analytics      boolean NOT NULL,
    -- A JSON object: catalogue name to the item's own choice, where it differs.
    items          text NOT NULL DEFAULT '{}',
    source         text NOT NULL CHECK (source IN ('user', 'gpc')),
    surface        text NOT NULL CHECK (surface IN ('desktop', 'web')),
    policy_version text NOT NULL,
    recorded_at    bigint NOT NULL
);
CREATE INDEX consent_records_by_member ON consent_records (practice_id, user_id, seq);

-- A record is evidence of a choice: never changed or removed.
CREATE FUNCTION consent_records_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent records are append-only';
END
$$;
CREATE TRIGGER consent_records_append_only BEFORE UPDATE OR DELETE ON consent_records
    FOR EACH ROW EXECUTE FUNCTION consent_records_refuse_change();
