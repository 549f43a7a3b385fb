-- 0004: indexes for the matter list's sort orders (number, title, client, responsible),
-- so a window of a 100,000-matter list sorted any of these ways is read in index order.
-- Never edit a landed migration: add the next one.

CREATE INDEX matters_number ON matters (number);
CREATE INDEX matters_title ON matters (title COLLATE NOCASE, number);
CREATE INDEX matters_client ON matters (client_name COLLATE NOCASE, number);
CREATE INDEX matters_responsible ON matters (responsible COLLATE NOCASE, number);
