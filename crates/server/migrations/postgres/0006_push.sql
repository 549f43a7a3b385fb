-- 0006: push: field versions of records, devices and their mutations' results, and
-- conflicts (SQLite's 0007). Never edit a landed migration.

ALTER TABLE records ADD COLUMN field_versions text NOT NULL DEFAULT '{}';
UPDATE records
SET field_versions = (SELECT coalesce(jsonb_object_agg(key, records.version), '{}'::jsonb)::text
                      FROM jsonb_each(records.body::jsonb))
WHERE body IS NOT NULL;

CREATE TABLE devices (
    practice_id       uuid NOT NULL REFERENCES practices (id),
    user_id           uuid NOT NULL REFERENCES users (id),
    device_id         uuid NOT NULL,
    last_mutation_seq bigint NOT NULL DEFAULT 0,
    first_seen        bigint NOT NULL,
    last_seen         bigint NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

CREATE TABLE mutation_results (
    user_id         uuid NOT NULL,
    device_id       uuid NOT NULL,
    mutation_seq    bigint NOT NULL,
    record_kind     text NOT NULL,
    record_id       uuid NOT NULL,
    written_version bigint,
    result          text NOT NULL,
    PRIMARY KEY (user_id, device_id, mutation_seq),
    FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id)
);
CREATE INDEX mutation_results_by_record
    ON mutation_results (user_id, device_id, record_kind, record_id, written_version);

CREATE TABLE sync_conflicts (
    practice_id    uuid NOT NULL REFERENCES practices (id),
    id             uuid NOT NULL PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id),
    device_id      uuid NOT NULL,
    mutation_seq   bigint NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('same_field', 'edit_against_delete',
                                                 'delete_against_edit')),
    record_kind    text NOT NULL,
    record_id      uuid NOT NULL,
    base_version   bigint,
    server_version bigint NOT NULL,
    fields         text NOT NULL,
    created_at     bigint NOT NULL,
    resolved_at    bigint,
    resolved_by    uuid REFERENCES users (id),
    resolution     text CHECK (resolution IN ('keep_mine', 'keep_theirs', 'edit'))
);
CREATE INDEX sync_conflicts_open ON sync_conflicts (practice_id, user_id, resolved_at);
