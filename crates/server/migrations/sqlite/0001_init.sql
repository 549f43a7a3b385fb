-- 0001: the walking skeleton's hosted store. Never edit a landed migration.
CREATE TABLE practices (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    last_seq   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    practice_id   TEXT NOT NULL REFERENCES practices (id),
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id),
    practice_id  TEXT NOT NULL REFERENCES practices (id),
    device_name  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked      INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE matters (
    practice_id TEXT NOT NULL REFERENCES practices (id),
    id          TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    number      TEXT NOT NULL,
    title       TEXT NOT NULL,
    matter_type TEXT NOT NULL,
    status      TEXT NOT NULL,
    client_name TEXT NOT NULL,
    responsible TEXT NOT NULL,
    opened_on   TEXT NOT NULL,
    PRIMARY KEY (practice_id, id)
) STRICT;
CREATE UNIQUE INDEX matters_feed ON matters (practice_id, seq);
