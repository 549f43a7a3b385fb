-- 0002: the audit log, one hash chain over every entry (see src/audit.rs), and its head.
-- Never edit a landed migration.
-- Ids are given by the service, consecutive from 1. Everything the hash covers is text,
-- kept exactly as hashed (jsonb would reorder the details). No foreign keys: the log is
-- evidence, and outlives what it speaks of.
CREATE TABLE audit_log (
    id          bigint PRIMARY KEY,
    occurred_at text NOT NULL,
    practice_id uuid,
    actor       text,
    kind        text NOT NULL,
    details     text NOT NULL,
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);
CREATE INDEX audit_log_practice ON audit_log (practice_id, id);

-- One row: the last entry's id and hash. An append locks it (SELECT ... FOR UPDATE) until
-- it commits, so appends are serialised.
CREATE TABLE audit_head (
    singleton boolean PRIMARY KEY CHECK (singleton),
    last_id   bigint NOT NULL,
    last_hash text NOT NULL
);
INSERT INTO audit_head (singleton, last_id, last_hash)
VALUES (true, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: an entry is never changed or removed, and a new one follows the head.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

CREATE FUNCTION audit_log_follow_the_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM audit_head WHERE last_id + 1 = NEW.id AND last_hash = NEW.prev_hash
    ) THEN
        RAISE EXCEPTION 'an audit entry must follow the head of the log';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_follows_the_head BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_follow_the_head();

-- The head only moves forward by one, onto the entry just appended, and is never removed.
CREATE FUNCTION audit_head_advance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'the audit head cannot be removed';
    END IF;
    IF NEW.singleton IS DISTINCT FROM OLD.singleton
       OR NEW.last_id IS DISTINCT FROM OLD.last_id + 1
       OR NOT EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.last_id AND hash = NEW.last_hash)
    THEN
        RAISE EXCEPTION 'the audit head only advances to the entry just appended';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_head_advances BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_advance();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_head_advance();
