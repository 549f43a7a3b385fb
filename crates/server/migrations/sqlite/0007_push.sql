-- 0007: push. Every record remembers the version at which each of its fields last changed
-- (so edits to different fields merge and the same field changed twice is a conflict);
-- each device's mutations are applied once, their results kept for retries; conflicts
-- wait for their member. Never edit a landed migration.

-- Field name to the record version at which that field last changed, as JSON. A tombstone
-- has none. Existing records: every field at the record's current version.
ALTER TABLE records ADD COLUMN field_versions TEXT NOT NULL DEFAULT '{}';
UPDATE records
SET field_versions = (SELECT json_group_object(key, records.version) FROM json_each(records.body))
WHERE body IS NOT NULL;

-- A member's device (one install of the app): the last mutation sequence applied from it,
-- advanced in the same transaction as the mutation's effect.
CREATE TABLE devices (
    practice_id       TEXT NOT NULL REFERENCES practices (id),
    user_id           TEXT NOT NULL REFERENCES users (id),
    device_id         TEXT NOT NULL,
    last_mutation_seq INTEGER NOT NULL DEFAULT 0,
    first_seen        INTEGER NOT NULL,
    last_seen         INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id)
) STRICT;

-- The answer given to each mutation, so a retry is answered exactly as the first time.
-- `record_kind`, `record_id` and `written_version` say which version of which record the
-- mutation wrote (none when it wrote nothing): a device's later edits do not clash with
-- its own earlier ones.
CREATE TABLE mutation_results (
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    mutation_seq    INTEGER NOT NULL,
    record_kind     TEXT NOT NULL,
    record_id       TEXT NOT NULL,
    written_version INTEGER,
    result          TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id, mutation_seq),
    FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id)
) STRICT;
CREATE INDEX mutation_results_by_record
    ON mutation_results (user_id, device_id, record_kind, record_id, written_version);

-- Clashes held for the member whose device made them: both sides of every field in
-- question, until they resolve it.
CREATE TABLE sync_conflicts (
    practice_id    TEXT NOT NULL REFERENCES practices (id),
    id             TEXT NOT NULL PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    device_id      TEXT NOT NULL,
    mutation_seq   INTEGER NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('same_field', 'edit_against_delete',
                                                 'delete_against_edit')),
    record_kind    TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    base_version   INTEGER,
    server_version INTEGER NOT NULL,
    fields         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    resolved_at    INTEGER,
    resolved_by    TEXT REFERENCES users (id),
    resolution     TEXT CHECK (resolution IN ('keep_mine', 'keep_theirs', 'edit'))
) STRICT;
CREATE INDEX sync_conflicts_open ON sync_conflicts (practice_id, user_id, resolved_at);
