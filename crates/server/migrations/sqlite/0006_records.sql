-- 0006: every record kind of the practice in one table, and matters restricted to named
-- members. Never edit a landed migration.

-- Every record of a practice, of every kind, as the JSON the wire carries. `matter_id` is
-- the matter a record belongs to (a matter's own id for a matter; none for a contact), so
-- access to restricted matters is one rule for every kind. A deletion keeps the row as a
-- tombstone: no body, `deleted = 1`, a new `seq`.
CREATE TABLE records (
    practice_id TEXT NOT NULL REFERENCES practices (id),
    kind        TEXT NOT NULL CHECK (kind IN ('matter', 'contact', 'participant', 'file_note',
                                              'task', 'time_entry', 'document')),
    id          TEXT NOT NULL,
    matter_id   TEXT,
    seq         INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    body        TEXT,
    PRIMARY KEY (practice_id, kind, id)
) STRICT;
CREATE UNIQUE INDEX records_feed ON records (practice_id, seq);
CREATE INDEX records_by_matter ON records (practice_id, matter_id, kind);
CREATE INDEX records_by_kind ON records (practice_id, kind, seq);

INSERT INTO records (practice_id, kind, id, matter_id, seq, version, deleted, body)
SELECT practice_id, 'matter', id, id, seq, version, deleted,
       CASE WHEN deleted THEN NULL ELSE json_object(
           'id', id, 'number', number, 'title', title, 'matter_type', matter_type,
           'status', status, 'client_name', client_name, 'responsible', responsible,
           'opened_on', opened_on, 'closed_on', closed_on, 'description', description,
           'custom_fields', json(custom_fields)) END
FROM matters;
DROP TABLE matters;

-- Matters restricted to named members. A matter not listed here is open to the practice.
CREATE TABLE matter_restrictions (
    practice_id TEXT NOT NULL REFERENCES practices (id),
    matter_id   TEXT NOT NULL,
    PRIMARY KEY (practice_id, matter_id)
) STRICT;
CREATE TABLE matter_access (
    practice_id TEXT NOT NULL REFERENCES practices (id),
    matter_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (practice_id, matter_id, user_id)
) STRICT;
