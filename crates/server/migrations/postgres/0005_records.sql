-- 0005: every record kind of the practice in one table, and matters restricted to named
-- members (SQLite's 0006). Never edit a landed migration.

CREATE TABLE records (
    practice_id uuid NOT NULL REFERENCES practices (id),
    kind        text NOT NULL CHECK (kind IN ('matter', 'contact', 'participant', 'file_note',
                                              'task', 'time_entry', 'document')),
    id          uuid NOT NULL,
    matter_id   uuid,
    seq         bigint NOT NULL,
    version     bigint NOT NULL,
    deleted     boolean NOT NULL DEFAULT false,
    body        text,
    PRIMARY KEY (practice_id, kind, id)
);
CREATE UNIQUE INDEX records_feed ON records (practice_id, seq);
CREATE INDEX records_by_matter ON records (practice_id, matter_id, kind);
CREATE INDEX records_by_kind ON records (practice_id, kind, seq);

INSERT INTO records (practice_id, kind, id, matter_id, seq, version, deleted, body)
SELECT practice_id, 'matter', id, id, seq, version, deleted,
       CASE WHEN deleted THEN NULL ELSE jsonb_build_object(
           'id', id, 'number', number, 'title', title, 'matter_type', matter_type,
           'status', status, 'client_name', client_name, 'responsible', responsible,
           'opened_on', opened_on, 'closed_on', closed_on, 'description', description,
           'custom_fields', custom_fields)::text END
FROM matters;
DROP TABLE matters;

CREATE TABLE matter_restrictions (
    practice_id uuid NOT NULL REFERENCES practices (id),
    matter_id   uuid NOT NULL,
    PRIMARY KEY (practice_id, matter_id)
);
CREATE TABLE matter_access (
    practice_id uuid NOT NULL REFERENCES practices (id),
    matter_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (practice_id, matter_id, user_id)
);
