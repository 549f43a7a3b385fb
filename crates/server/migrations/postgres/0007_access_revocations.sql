-- 0007: matters a member may no longer open, as entries of the practice's feed meant for
-- that member alone (SQLite's 0008). Never edit a landed migration.
CREATE TABLE access_revocations (
    practice_id uuid NOT NULL REFERENCES practices (id),
    seq         bigint NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id),
    matter_id   uuid NOT NULL,
    PRIMARY KEY (practice_id, seq)
);
CREATE INDEX access_revocations_user ON access_revocations (practice_id, user_id, seq);
