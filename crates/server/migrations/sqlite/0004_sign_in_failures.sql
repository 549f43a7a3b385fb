-- 0004: failed sign-ins per account, for back-off. Kept in the database so that every
-- instance of the service enforces the same limits. The key is the SHA-256 of the
-- lower-cased email: no address in clear. Never edit a landed migration.
CREATE TABLE sign_in_failures (
    account_key     TEXT PRIMARY KEY NOT NULL,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL
) STRICT;
