-- 0005: each record table's id is kept unique by an index of its own (`<table>_id`) rather
-- than by a PRIMARY KEY constraint, whose index SQLite never lets go. A first sync drops
-- these indexes with the others, stores its rows in arrival order, and builds them once,
-- sorted, at the end: inserting a million random ids into them one by one was most of the
-- time a first sync spent storing rows. Row ids are kept (the search index refers to them);
-- columns, their order, defaults and checks are as before. Never edit a landed migration:
-- add the next one.

CREATE TABLE matters_0005 (
    id            TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    number        TEXT NOT NULL,
    title         TEXT NOT NULL,
    matter_type   TEXT NOT NULL,
    status        TEXT NOT NULL,
    client_name   TEXT NOT NULL,
    responsible   TEXT NOT NULL,
    opened_on     TEXT NOT NULL,
    closed_on     TEXT,
    description   TEXT NOT NULL DEFAULT '',
    custom_fields TEXT NOT NULL DEFAULT '{}'
) STRICT;
INSERT INTO matters_0005 (rowid, id, seq, version, number, title, matter_type, status,
                          client_name, responsible, opened_on, closed_on, description,
                          custom_fields)
    SELECT rowid, id, seq, version, number, title, matter_type, status, client_name,
           responsible, opened_on, closed_on, description, custom_fields
    FROM matters;
DROP TABLE matters;
ALTER TABLE matters_0005 RENAME TO matters;
CREATE UNIQUE INDEX matters_id ON matters (id);
CREATE INDEX matters_opened ON matters (opened_on DESC, number);
CREATE INDEX matters_filters ON matters (status, matter_type, responsible);
CREATE INDEX matters_number ON matters (number);
CREATE INDEX matters_title ON matters (title COLLATE NOCASE, number);
CREATE INDEX matters_client ON matters (client_name COLLATE NOCASE, number);
CREATE INDEX matters_responsible ON matters (responsible COLLATE NOCASE, number);

CREATE TABLE contacts_0005 (
    id      TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    version INTEGER NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('person', 'organisation')),
    name    TEXT NOT NULL,
    email   TEXT,
    phone   TEXT,
    address TEXT
) STRICT;
INSERT INTO contacts_0005 (rowid, id, seq, version, kind, name, email, phone, address)
    SELECT rowid, id, seq, version, kind, name, email, phone, address FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_0005 RENAME TO contacts;
CREATE UNIQUE INDEX contacts_id ON contacts (id);

CREATE TABLE participants_0005 (
    id         TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    matter_id  TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    role       TEXT NOT NULL
) STRICT;
INSERT INTO participants_0005 (rowid, id, seq, version, matter_id, contact_id, role)
    SELECT rowid, id, seq, version, matter_id, contact_id, role FROM participants;
DROP TABLE participants;
ALTER TABLE participants_0005 RENAME TO participants;
CREATE UNIQUE INDEX participants_id ON participants (id);
CREATE INDEX participants_matter ON participants (matter_id);
CREATE INDEX participants_contact ON participants (contact_id);

CREATE TABLE file_notes_0005 (
    id         TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    matter_id  TEXT NOT NULL,
    author     TEXT NOT NULL,
    written_at TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL
) STRICT;
INSERT INTO file_notes_0005 (rowid, id, seq, version, matter_id, author, written_at, subject,
                             body)
    SELECT rowid, id, seq, version, matter_id, author, written_at, subject, body
    FROM file_notes;
DROP TABLE file_notes;
ALTER TABLE file_notes_0005 RENAME TO file_notes;
CREATE UNIQUE INDEX file_notes_id ON file_notes (id);
CREATE INDEX file_notes_matter ON file_notes (matter_id, written_at);

CREATE TABLE tasks_0005 (
    id        TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    version   INTEGER NOT NULL,
    matter_id TEXT NOT NULL,
    title     TEXT NOT NULL,
    due_on    TEXT,
    assignee  TEXT,
    done      INTEGER NOT NULL
) STRICT;
INSERT INTO tasks_0005 (rowid, id, seq, version, matter_id, title, due_on, assignee, done)
    SELECT rowid, id, seq, version, matter_id, title, due_on, assignee, done FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_0005 RENAME TO tasks;
CREATE UNIQUE INDEX tasks_id ON tasks (id);
CREATE INDEX tasks_matter ON tasks (matter_id);

CREATE TABLE time_entries_0005 (
    id         TEXT NOT NULL,
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
INSERT INTO time_entries_0005 (rowid, id, seq, version, matter_id, worked_on, minutes,
                               rate_cents, billable, narrative, author)
    SELECT rowid, id, seq, version, matter_id, worked_on, minutes, rate_cents, billable,
           narrative, author
    FROM time_entries;
DROP TABLE time_entries;
ALTER TABLE time_entries_0005 RENAME TO time_entries;
CREATE UNIQUE INDEX time_entries_id ON time_entries (id);
CREATE INDEX time_entries_matter ON time_entries (matter_id);

CREATE TABLE documents_0005 (
    id           TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    matter_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    folder       TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    content_hash TEXT NOT NULL
) STRICT;
INSERT INTO documents_0005 (rowid, id, seq, version, matter_id, name, folder, size_bytes,
                            content_hash)
    SELECT rowid, id, seq, version, matter_id, name, folder, size_bytes, content_hash
    FROM documents;
DROP TABLE documents;
ALTER TABLE documents_0005 RENAME TO documents;
CREATE UNIQUE INDEX documents_id ON documents (id);
CREATE INDEX documents_matter ON documents (matter_id);
