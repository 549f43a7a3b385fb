-- 0001: the walking skeleton's vault. Never edit a landed migration: add the next one.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE sync_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    cursor       INTEGER NOT NULL DEFAULT 0,
    last_sync_at TEXT
) STRICT;
INSERT INTO sync_state (id, cursor) VALUES (1, 0);

CREATE TABLE matters (
    id          TEXT PRIMARY KEY NOT NULL,
    seq         INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    number      TEXT NOT NULL,
    title       TEXT NOT NULL,
    matter_type TEXT NOT NULL,
    status      TEXT NOT NULL,
    client_name TEXT NOT NULL,
    responsible TEXT NOT NULL,
    opened_on   TEXT NOT NULL
) STRICT;
CREATE INDEX matters_opened ON matters (opened_on DESC, number);
