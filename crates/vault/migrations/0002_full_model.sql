-- 0002: the full local model of a practice's matters, what sync needs, and search.
-- Never edit a landed migration: add the next one.
--
-- Synced tables carry the server's `seq` and `version`. They have no foreign keys: the
-- feed orders records by their latest write, so a participant can arrive before the
-- contact it names.

ALTER TABLE matters ADD COLUMN closed_on TEXT;
ALTER TABLE matters ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE matters ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';
CREATE INDEX matters_filters ON matters (status, matter_type, responsible);

CREATE TABLE contacts (
    id      TEXT PRIMARY KEY NOT NULL,
    seq     INTEGER NOT NULL,
    version INTEGER NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('person', 'organisation')),
    name    TEXT NOT NULL,
    email   TEXT,
    phone   TEXT,
    address TEXT
) STRICT;

CREATE TABLE participants (
    id         TEXT PRIMARY KEY NOT NULL,
    seq        INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    matter_id  TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    role       TEXT NOT NULL
) STRICT;
CREATE INDEX participants_matter ON participants (matter_id);
CREATE INDEX participants_contact ON participants (contact_id);

CREATE TABLE file_notes (
    id         TEXT PRIMARY KEY NOT NULL,
    seq        INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    matter_id  TEXT NOT NULL,
    author     TEXT NOT NULL,
    written_at TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL
) STRICT;
CREATE INDEX file_notes_matter ON file_notes (matter_id, written_at);

CREATE TABLE tasks (
    id        TEXT PRIMARY KEY NOT NULL,
    seq       INTEGER NOT NULL,
    version   INTEGER NOT NULL,
    matter_id TEXT NOT NULL,
    title     TEXT NOT NULL,
    due_on    TEXT,
    assignee  TEXT,
    done      INTEGER NOT NULL
) STRICT;
CREATE INDEX tasks_matter ON tasks (matter_id);

CREATE TABLE time_entries (
    id         TEXT PRIMARY KEY NOT NULL,
    seq        INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    matter_id  TEXT NOT NULL,
    worked_on  TEXT NOT NULL,
    minutes    INTEGER NOT NULL,
    rate_cents INTEGER NOT NULL,
    billable   INTEGER NOT NULL,
    narrative  TEXT NOT NULL,
    author     TEXT NOT NULL
) STRICT;
CREATE INDEX time_entries_matter ON time_entries (matter_id);

CREATE TABLE documents (
    id           TEXT PRIMARY KEY NOT NULL,
    seq          INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    matter_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    folder       TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    content_hash TEXT NOT NULL
) STRICT;
CREATE INDEX documents_matter ON documents (matter_id);

-- A deleted record leaves its kind, id, sequence and version, and nothing of its content.
CREATE TABLE tombstones (
    record_kind TEXT NOT NULL,
    id          TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (record_kind, id)
) STRICT, WITHOUT ROWID;

-- Local edits waiting to be pushed, written in the same transaction as the edit.
CREATE TABLE outbox (
    mutation_seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_kind  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    op           TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    base_version INTEGER,
    fields       TEXT NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;

-- The same field changed here and on the server: both values, until a person decides.
CREATE TABLE conflicts (
    id             INTEGER PRIMARY KEY,
    record_kind    TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    field          TEXT NOT NULL,
    local_value    TEXT,
    remote_value   TEXT,
    remote_version INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    resolved_at    TEXT,
    resolution     TEXT
) STRICT;
CREATE INDEX conflicts_open ON conflicts (resolved_at, record_kind, record_id);

-- Full-text search. Contentless (the vault holds the text once, in the tables above),
-- kept up to date by the vault's apply code, or built in one pass after a first sync.
-- Prefix indexes make search-as-you-type on one to three letters cheap on matters; notes,
-- ten times as many, keep a two-letter prefix index only (a one-letter note search is
-- bounded by the candidate limit instead).
CREATE VIRTUAL TABLE matter_fts USING fts5 (
    number, title, client, people, description,
    content = '', contentless_delete = 1, prefix = '1 2 3', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE note_fts USING fts5 (
    subject, body,
    content = '', contentless_delete = 1, prefix = '2', tokenize = 'unicode61 remove_diacritics 2'
);

-- Matters written by schema 1 enter the index now.
INSERT INTO matter_fts (rowid, number, title, client, people, description)
    SELECT rowid, number, title, client_name, '', description FROM matters;

-- 'ready', or 'deferred' while a first sync loads rows without indexing them.
INSERT INTO meta (key, value) VALUES ('search_index', 'ready');
