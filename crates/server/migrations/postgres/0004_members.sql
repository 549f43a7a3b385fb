-- 0004: roles, multi-factor, devices and invitations (SQLite's 0005). Never edit a landed migration.

ALTER TABLE practices ADD COLUMN mfa_required boolean NOT NULL DEFAULT false;

-- Members from before roles existed had every power; they stay admins.
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'admin'
    CHECK (role IN ('admin', 'lawyer', 'read_only'));
ALTER TABLE users ADD COLUMN totp_secret text;
ALTER TABLE users ADD COLUMN totp_pending text;
ALTER TABLE users ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0;

CREATE TABLE recovery_codes (
    user_id   uuid NOT NULL REFERENCES users (id),
    code_hash text NOT NULL,
    used_at   bigint,
    PRIMARY KEY (user_id, code_hash)
);

ALTER TABLE sessions ADD COLUMN public_id text;
UPDATE sessions SET public_id = md5(random()::text || clock_timestamp()::text || token_hash);
ALTER TABLE sessions ALTER COLUMN public_id SET NOT NULL;
CREATE UNIQUE INDEX sessions_public_id ON sessions (public_id);
ALTER TABLE sessions ADD COLUMN platform text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN app_version text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN ip text;
ALTER TABLE sessions ADD COLUMN last_ip text;
ALTER TABLE sessions ADD COLUMN reauth_at bigint;

CREATE TABLE invitations (
    id          uuid PRIMARY KEY,
    practice_id uuid NOT NULL REFERENCES practices (id),
    email       text NOT NULL,
    role        text NOT NULL CHECK (role IN ('admin', 'lawyer', 'read_only')),
    token_hash  text NOT NULL UNIQUE,
    invited_by  uuid NOT NULL REFERENCES users (id),
    created_at  bigint NOT NULL,
    expires_at  bigint NOT NULL,
    accepted_at bigint,
    revoked     boolean NOT NULL DEFAULT false
);
CREATE INDEX invitations_practice ON invitations (practice_id, created_at);
