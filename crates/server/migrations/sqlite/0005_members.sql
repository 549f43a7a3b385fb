-- 0005: roles, multi-factor, devices and invitations. Never edit a landed migration.

-- Practices may require a second factor of every member.
ALTER TABLE practices ADD COLUMN mfa_required INTEGER NOT NULL DEFAULT 0;

-- Roles. Members from before roles existed had every power; they stay admins.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'
    CHECK (role IN ('admin', 'lawyer', 'read_only'));
-- TOTP (RFC 6238): the confirmed secret, one awaiting confirmation, and the last time step
-- accepted (a code is never accepted twice).
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- Recovery codes, stored hashed; each works once.
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
) STRICT;

-- One session per device: what the device says it is, where it was last seen from, and
-- when its user last proved who they are (re-authentication for sensitive actions).
-- `public_id` names a session in lists; the token's hash never leaves the database.
ALTER TABLE sessions ADD COLUMN public_id TEXT;
UPDATE sessions SET public_id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX sessions_public_id ON sessions (public_id);
ALTER TABLE sessions ADD COLUMN platform TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN app_version TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN last_ip TEXT;
ALTER TABLE sessions ADD COLUMN reauth_at INTEGER;

-- Invitations by email; the token is stored hashed and expires.
CREATE TABLE invitations (
    id          TEXT PRIMARY KEY NOT NULL,
    practice_id TEXT NOT NULL REFERENCES practices (id),
    email       TEXT NOT NULL COLLATE NOCASE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'lawyer', 'read_only')),
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  TEXT NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER,
    revoked     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX invitations_practice ON invitations (practice_id, created_at);
