-- 0008: matters a member may no longer open, as entries of the practice's feed meant for
-- that member alone: their device removes the matter and everything on it. Each takes the
-- practice's next sequence number in the transaction that changes the access. Never edit
-- a landed migration.
CREATE TABLE access_revocations (
    practice_id TEXT NOT NULL REFERENCES practices (id),
    seq         INTEGER NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    matter_id   TEXT NOT NULL,
    PRIMARY KEY (practice_id, seq)
) STRICT;
CREATE INDEX access_revocations_user ON access_revocations (practice_id, user_id, seq);
