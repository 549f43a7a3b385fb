-- 0011: support staff, a realm of their own with sessions of their own; their requests
-- for access to a practice and the practice's decisions; and third-party integration
-- tokens (the integration ledger). Never edit a landed migration.
-- Times are unix seconds. Tokens are kept only as SHA-256 hashes.

CREATE TABLE support_staff (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE support_sessions (
    token_hash   TEXT PRIMARY KEY NOT NULL,
    staff_id     TEXT NOT NULL REFERENCES support_staff (id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked      INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX support_sessions_staff ON support_sessions (staff_id);

-- A request, and what the practice decided. Its status is computed from these times when
-- it is read: no decision, requested; `declined`; approved and revoked, revoked; approved
-- and past `expires_at`, expired; else active.
CREATE TABLE support_grants (
    id             TEXT PRIMARY KEY NOT NULL,
    practice_id    TEXT NOT NULL REFERENCES practices (id),
    staff_id       TEXT NOT NULL REFERENCES support_staff (id),
    reason         TEXT NOT NULL,
    ticket         TEXT NOT NULL,
    scope_kind     TEXT NOT NULL CHECK (scope_kind IN ('practice', 'matters')),
    -- A JSON array of matter ids (empty for a practice-wide scope).
    matters        TEXT NOT NULL DEFAULT '[]',
    access         TEXT NOT NULL CHECK (access IN ('read', 'read_write')),
    duration_hours INTEGER NOT NULL CHECK (duration_hours BETWEEN 1 AND 168),
    requested_at   INTEGER NOT NULL,
    decision       TEXT CHECK (decision IN ('approved', 'declined')),
    decided_at     INTEGER,
    decided_by     TEXT REFERENCES users (id),
    expires_at     INTEGER,
    revoked_at     INTEGER,
    revoked_by     TEXT REFERENCES users (id)
) STRICT;
CREATE INDEX support_grants_practice ON support_grants (practice_id, requested_at);
CREATE INDEX support_grants_staff ON support_grants (staff_id, requested_at);

CREATE TABLE integrations (
    id           TEXT PRIMARY KEY NOT NULL,
    practice_id  TEXT NOT NULL REFERENCES practices (id),
    token_hash   TEXT NOT NULL UNIQUE,
    app_name     TEXT NOT NULL,
    -- Space-separated: `records:read`, `records:write`.
    scopes       TEXT NOT NULL,
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    records_read INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER,
    revoked_by   TEXT REFERENCES users (id)
) STRICT;
CREATE INDEX integrations_practice ON integrations (practice_id, created_at);
