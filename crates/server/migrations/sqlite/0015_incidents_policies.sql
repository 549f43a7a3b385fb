-- 0015: breach notices (promise 10) and versioned policies (promises 11 and 12).
-- Never edit a landed migration. Times are unix seconds, but for the `_ms` columns
-- (milliseconds: the time from recording a breach to delivering its notice is measured).

-- A breach as recorded by the operator, with the fields regulators ask a notification to
-- carry. `data_kinds` is a JSON array of strings.
CREATE TABLE incidents (
    id                    TEXT PRIMARY KEY NOT NULL,
    title                 TEXT NOT NULL,
    description           TEXT NOT NULL,
    occurred_at           INTEGER,
    detected_at           INTEGER NOT NULL,
    data_kinds            TEXT NOT NULL,
    steps_taken           TEXT NOT NULL,
    recommendations       TEXT NOT NULL,
    contact               TEXT NOT NULL,
    regulator_notified    INTEGER NOT NULL,
    regulator             TEXT,
    regulator_notified_at INTEGER,
    recorded_by           TEXT NOT NULL,
    recorded_at_ms        INTEGER NOT NULL
) STRICT;

-- The practices an incident affects (at least one).
CREATE TABLE incident_practices (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    practice_id TEXT NOT NULL REFERENCES practices (id),
    PRIMARY KEY (incident_id, practice_id)
) STRICT;
CREATE INDEX incident_practices_practice ON incident_practices (practice_id);

-- Each member told of an incident (written with the incident, in its transaction), or
-- who acknowledged it having joined later (`notified` 0): their notice, their email's
-- outbox row, and when they acknowledged it.
CREATE TABLE incident_recipients (
    incident_id        TEXT NOT NULL REFERENCES incidents (id),
    user_id            TEXT NOT NULL REFERENCES users (id),
    practice_id        TEXT NOT NULL REFERENCES practices (id),
    notified           INTEGER NOT NULL,
    notice_id          TEXT,
    mail_id            INTEGER REFERENCES mail_outbox (id),
    acknowledged_at_ms INTEGER,
    PRIMARY KEY (incident_id, user_id)
) STRICT;

-- When a message actually left, to the millisecond.
ALTER TABLE mail_outbox ADD COLUMN sent_at_ms INTEGER;

-- Versions of the privacy policy and the terms; the current version of a kind is its
-- latest (highest `seq`). `text` is Markdown.
CREATE TABLE policy_versions (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('privacy', 'terms')),
    version      TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    summary      TEXT NOT NULL,
    text         TEXT NOT NULL,
    UNIQUE (kind, version)
) STRICT;

-- Each version a member acknowledged, once.
CREATE TABLE policy_acknowledgements (
    user_id         TEXT NOT NULL REFERENCES users (id),
    kind            TEXT NOT NULL,
    version         TEXT NOT NULL,
    acknowledged_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, version)
) STRICT;
