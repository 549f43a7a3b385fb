-- 0003: what the service answered to pushed edits. Never edit a landed migration.

-- A conflict the service found: its id there, how the edit clashed, and the version the
-- edit was made against. A clash about the whole record (an edit against a delete, a
-- delete against an edit) has the field ''.
ALTER TABLE conflicts ADD COLUMN server_id TEXT;
ALTER TABLE conflicts ADD COLUMN kind TEXT NOT NULL DEFAULT 'same_field'
    CHECK (kind IN ('same_field', 'edit_against_delete', 'delete_against_edit'));
ALTER TABLE conflicts ADD COLUMN base_version INTEGER;
CREATE INDEX conflicts_server_id ON conflicts (server_id);

-- Edits the service refused (no access to the matter any more, a broken rule): kept to be
-- shown to the user, never dropped unseen.
CREATE TABLE rejected_edits (
    mutation_seq INTEGER PRIMARY KEY NOT NULL,
    record_kind  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    op           TEXT NOT NULL,
    fields       TEXT NOT NULL,
    code         TEXT NOT NULL,
    detail       TEXT NOT NULL,
    edited_at    TEXT NOT NULL,
    rejected_at  TEXT NOT NULL,
    dismissed_at TEXT
) STRICT;
