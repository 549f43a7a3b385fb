-- 0010: support staff, a realm of their own with sessions of their own; their requests
-- for access to a practice and the practice's decisions; and third-party integration
-- tokens (the integration ledger). SQLite's 0011. Never edit a landed migration.
-- Times are unix seconds. Tokens are kept only as SHA-256 hashes.

CREATE TABLE support_staff (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    bigint NOT NULL
);
CREATE UNIQUE INDEX support_staff_email ON support_staff (lower(email));

CREATE TABLE support_sessions (
    token_hash   text PRIMARY KEY,
    staff_id     uuid NOT NULL REFERENCES support_staff (id),
    created_at   bigint NOT NULL,
    last_seen_at bigint NOT NULL,
    expires_at   bigint NOT NULL,
    revoked      boolean NOT NULL DEFAULT false
);
CREATE INDEX support_sessions_staff ON support_sessions (staff_id);

-- A request, and what the practice decided. Its status is computed from these times when
-- it is read: no decision, requested; `declined`; approved and revoked, revoked; approved
-- and past `expires_at`, expired; else active.
CREATE TABLE support_grants (
    id             uuid PRIMARY KEY,
    -- Orders requests made in the same second (SQLite's rowid does there).
    seq            bigserial NOT NULL,
    practice_id    uuid NOT NULL REFERENCES practices (id),
    staff_id       uuid NOT NULL REFERENCES support_staff (id),
    reason         text NOT NULL,
    ticket         text NOT NULL,
    scope_kind     text NOT NULL CHECK (scope_kind IN ('practice', 'matters')),
    -- A JSON array of matter ids (empty for a practice-wide scope).
    matters        text NOT NULL DEFAULT '[]',
    access         text NOT NULL CHECK (access IN ('read', 'read_write')),
    duration_hours integer NOT NULL CHECK (duration_hours BETWEEN 1 AND 168),
    requested_at   bigint NOT NULL,
    decision       text CHECK (decision IN ('approved', 'declined')),
    decided_at     bigint,
    decided_by     uuid REFERENCES users (id),
    expires_at     bigint,
    revoked_at     bigint,
    revoked_by     uuid REFERENCES users (id)
);
CREATE INDEX support_grants_practice ON support_grants (practice_id, requested_at);
CREATE INDEX support_grants_staff ON support_grants (staff_id, requested_at);

CREATE TABLE integrations (
    id           uuid PRIMARY KEY,
    -- Orders integrations made in the same second (SQLite's rowid does there).
    seq          bigserial NOT NULL,
    practice_id  uuid NOT NULL REFERENCES practices (id),
    token_hash   text NOT NULL UNIQUE,
    app_name     text NOT NULL,
    -- Space-separated: `records:read`, `records:write`.
    scopes       text NOT NULL,
    created_by   uuid NOT NULL REFERENCES users (id),
    created_at   bigint NOT NULL,
    last_used_at bigint,
    records_read bigint NOT NULL DEFAULT 0,
    revoked_at   bigint,
    revoked_by   uuid REFERENCES users (id)
);
CREATE INDEX integrations_practice ON integrations (practice_id, created_at);
