-- 0003: failed sign-ins per account, for back-off. Kept in the database so that every
-- instance of the service enforces the same limits. The key is the SHA-256 of the
-- lower-cased email: no address in clear. Never edit a landed migration.
CREATE TABLE sign_in_failures (
    account_key     text PRIMARY KEY,
    failures        bigint NOT NULL,
    last_failure_at bigint NOT NULL
);
