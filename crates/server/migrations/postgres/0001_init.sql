-- 0001: the hosted store on PostgreSQL, the schema of SQLite's 0001 and 0002 in one.
-- Never edit a landed migration.
CREATE TABLE practices (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    last_seq   bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    practice_id   uuid NOT NULL REFERENCES practices (id),
    email         text NOT NULL,
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are unique regardless of case, as SQLite's COLLATE NOCASE makes them.
CREATE UNIQUE INDEX users_email ON users (lower(email));

-- Session times are Unix seconds, as the service computes and compares them.
CREATE TABLE sessions (
    token_hash   text PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id),
    practice_id  uuid NOT NULL REFERENCES practices (id),
    device_name  text NOT NULL,
    created_at   bigint NOT NULL,
    last_seen_at bigint NOT NULL,
    expires_at   bigint NOT NULL,
    revoked      boolean NOT NULL DEFAULT false
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Dates stay text: they travel as ISO 8601 strings, and a tombstone keeps none.
CREATE TABLE matters (
    practice_id   uuid NOT NULL REFERENCES practices (id),
    id            uuid NOT NULL,
    seq           bigint NOT NULL,
    version       bigint NOT NULL,
    deleted       boolean NOT NULL DEFAULT false,
    number        text NOT NULL,
    title         text NOT NULL,
    matter_type   text NOT NULL,
    status        text NOT NULL,
    client_name   text NOT NULL,
    responsible   text NOT NULL,
    opened_on     text NOT NULL,
    closed_on     text,
    description   text NOT NULL DEFAULT '',
    custom_fields jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (practice_id, id)
);
CREATE UNIQUE INDEX matters_feed ON matters (practice_id, seq);
