-- 0014: breach notices (promise 10) and versioned policies (promises 11 and 12).
-- SQLite's 0015. Never edit a landed migration. Times are unix seconds, but for the `_ms` columns
-- (milliseconds: the time from recording a breach to delivering its notice is measured).

-- A breach as recorded by the operator, with the fields regulators ask a notification to
-- carry. `data_kinds` is a JSON array of strings.
CREATE TABLE incidents (
    id                    uuid PRIMARY KEY,
    title                 text NOT NULL,
    description           text NOT NULL,
    occurred_at           bigint,
    detected_at           bigint NOT NULL,
    data_kinds            text NOT NULL,
    steps_taken           text NOT NULL,
    recommendations       text NOT NULL,
    contact               text NOT NULL,
    regulator_notified    boolean NOT NULL,
    regulator             text,
    regulator_notified_at bigint,
    recorded_by           text NOT NULL,
    recorded_at_ms        bigint NOT NULL
);

-- The practices an incident affects (at least one).
CREATE TABLE incident_practices (
    incident_id uuid NOT NULL REFERENCES incidents (id),
    practice_id uuid NOT NULL REFERENCES practices (id),
    PRIMARY KEY (incident_id, practice_id)
);
CREATE INDEX incident_practices_practice ON incident_practices (practice_id);

-- Each member told of an incident (written with the incident, in its transaction), or
-- who acknowledged it having joined later (`notified` false): their notice, their email's
-- outbox row, and when they acknowledged it.
CREATE TABLE incident_recipients (
    incident_id        uuid NOT NULL REFERENCES incidents (id),
    user_id            uuid NOT NULL REFERENCES users (id),
    practice_id        uuid NOT NULL REFERENCES practices (id),
    notified           boolean NOT NULL,
    notice_id          uuid,
    mail_id            bigint REFERENCES mail_outbox (id),
    acknowledged_at_ms bigint,
    PRIMARY KEY (incident_id, user_id)
);

-- When a message actually left, to the millisecond.
ALTER TABLE mail_outbox ADD COLUMN sent_at_ms bigint;

-- Versions of the privacy policy and the terms; the current version of a kind is its
-- latest (highest `seq`). `text` is Markdown.
CREATE TABLE policy_versions (
    seq          bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('privacy', 'terms')),
    version      text NOT NULL,
    published_at bigint NOT NULL,
    summary      text NOT NULL,
    text         text NOT NULL,
    UNIQUE (kind, version)
);

-- Each version a member acknowledged, once.
CREATE TABLE policy_acknowledgements (
    user_id         uuid NOT NULL REFERENCES users (id),
    kind            text NOT NULL,
    version         text NOT NULL,
    acknowledged_at bigint NOT NULL,
    PRIMARY KEY (user_id, kind, version)
);
