-- 0013: notification preferences, the durable mail outbox and the in-app inbox
-- (promise 8). Never edit a landed migration.
-- Times are unix seconds, but for the outbox's `next_attempt_ms` (milliseconds, for
-- back-off shorter than a second in tests).

-- A member's explicit choices; a category and channel with no row has its default
-- (`Category::default_on`). Essential categories are never stored: they are locked on.
CREATE TABLE notification_choices (
    user_id    TEXT NOT NULL REFERENCES users (id),
    category   TEXT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'in_app', 'desktop')),
    enabled    INTEGER NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('user', 'web', 'unsubscribe_link')),
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, category, channel)
) STRICT;

-- Mail waiting to go, or gone. A row stays until it is sent (`sent_at`) or given up
-- (`cancelled_at`: the member opted out while it waited, or too many attempts), so a
-- restart loses nothing. `headers` is a JSON array of [name, value] pairs.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         TEXT REFERENCES users (id),
    recipient       TEXT NOT NULL,
    category        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    headers         TEXT NOT NULL DEFAULT '[]',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    cancelled_at    INTEGER,
    last_error      TEXT
) STRICT;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_ms)
    WHERE sent_at IS NULL AND cancelled_at IS NULL;

CREATE TABLE notices (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    category   TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    in_app     INTEGER NOT NULL,
    desktop    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    read_at    INTEGER
) STRICT;
CREATE INDEX notices_user ON notices (user_id, created_at);
