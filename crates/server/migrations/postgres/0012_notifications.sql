-- 0012: notification preferences, the durable mail outbox and the in-app inbox
-- (promise 8). SQLite's 0013. Never edit a landed migration.
-- Times are unix seconds, but for the outbox's `next_attempt_ms` (milliseconds, for
-- back-off shorter than a second in tests).

-- A member's explicit choices; a category and channel with no row has its default
-- (`Category::default_on`). Essential categories are never stored: they are locked on.
CREATE TABLE notification_choices (
    user_id    uuid NOT NULL REFERENCES users (id),
    category   text NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('email', 'in_app', 'desktop')),
    enabled    boolean NOT NULL,
    source     text NOT NULL CHECK (source IN ('user', 'web', 'unsubscribe_link')),
    changed_at bigint NOT NULL,
    PRIMARY KEY (user_id, category, channel)
);

-- Mail waiting to go, or gone. A row stays until it is sent (`sent_at`) or given up
-- (`cancelled_at`: the member opted out while it waited, or too many attempts), so a
-- restart loses nothing. `headers` is a JSON array of [name, value] pairs.
CREATE TABLE mail_outbox (
    id              bigserial PRIMARY KEY,
    user_id         uuid REFERENCES users (id),
    recipient       text NOT NULL,
    category        text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    headers         text NOT NULL DEFAULT '[]',
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_ms bigint NOT NULL,
    created_at      bigint NOT NULL,
    sent_at         bigint,
    cancelled_at    bigint,
    last_error      text
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_ms)
    WHERE sent_at IS NULL AND cancelled_at IS NULL;

CREATE TABLE notices (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    category   text NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL,
    in_app     boolean NOT NULL,
    desktop    boolean NOT NULL,
    created_at bigint NOT NULL,
    read_at    bigint
);
CREATE INDEX notices_user ON notices (user_id, created_at);
