-- 0002: the rest of a matter's fields. Never edit a landed migration.
ALTER TABLE matters ADD COLUMN closed_on TEXT;
ALTER TABLE matters ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE matters ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';
