//! Full-text search over matters and file notes.
//!
//! Invariant: matching runs first, in the FTS5 index, and is bounded: a search ranks
//! (BM25) the first [`CANDIDATES`] matches of each index, and a filtered search looks at
//! [`SCANNED`] matches at most, so a query whose terms match a million rows costs no more
//! than one that matches a few thousand. Filters are checked on the matches by rowid
//! lookups as they come from the index, never by a join that drives the match.
//!
//! A filtered search keeps the matches that pass its filters, and goes on past the first
//! [`CANDIDATES`] while too few have passed to fill its list: with two filters that keep
//! one matter in forty, the index's first 300 matches hold about seven that pass, and the
//! matters after them would otherwise never be found.
//!
//! User text never reaches FTS5 as syntax: it is split into words, and each word becomes a
//! quoted prefix term (`"word"*`), all of which must match.

use rusqlite::params;
use strongroom_protocol::MatterStatus;
use uuid::Uuid;

use crate::{Result, Vault, VaultError};

/// How many matches of each index are ranked, at most (see [`CANDIDATES`]).
macro_rules! candidates {
    () => {
        300
    };
}

/// How many matches of each index a filtered search looks at, at most (see [`SCANNED`]).
macro_rules! scanned {
    () => {
        3000
    };
}

/// How many matches of each index are ranked, at least when there are that many (a
/// filtered search goes on past them while its list cannot be filled; see [`SCANNED`]).
/// Written into the statements' text, not bound, so that SQLite hands the limit to the
/// full-text index whatever the planner's stability setting (which leaves a bound `LIMIT`
/// unknown to the plan).
pub const CANDIDATES: i64 = candidates!();

/// How many matches of each index a filtered search looks at, at most: past the first
/// [`CANDIDATES`], it goes on only while fewer matches than the list holds passed its
/// filters.
pub const SCANNED: i64 = scanned!();

/// The two statements that find one index's candidates, written once per index:
/// `(plain, filtered)`. `plain`, for a search without filters: the first [`CANDIDATES`]
/// matches with their scores. `filtered`: the matches in the index's order, at most
/// [`SCANNED`] of them, each with its score and whether its matter passes the filters,
/// looked up by rowid in `join` (the table and the join that reach the matter, aliased
/// `m`). The index is the outer loop: a subquery with a limit, joined by `CROSS JOIN`,
/// which SQLite never reorders, so the filters never drive the match.
macro_rules! candidate_statements {
    ($index:literal, $weights:literal, $join:literal) => {
        (
            concat!(
                "SELECT rowid, bm25(", $index, ", ", $weights, ") FROM ", $index,
                " WHERE ", $index, " MATCH ?1 LIMIT ", candidates!()
            ),
            concat!(
                "SELECT c.rowid, c.score,
                        CASE WHEN (?2 IS NULL OR m.status = ?2) AND (?3 IS NULL OR m.matter_type = ?3)
                             AND (?4 IS NULL OR m.responsible = ?4) THEN 1 ELSE 0 END
                 FROM (SELECT rowid, bm25(", $index, ", ", $weights, ") AS score FROM ", $index,
                " WHERE ", $index, " MATCH ?1 LIMIT ", scanned!(), ") AS c CROSS JOIN ", $join
            ),
        )
    };
}

/// A search's ranked candidates from one index, best first: for a search without filters,
/// the first [`CANDIDATES`] matches; with filters, those of the first [`CANDIDATES`]
/// matches that pass them, and after those, further matches while fewer than `want` have
/// passed, up to [`SCANNED`]. `statements` are the index's (see [`candidate_statements`]).
fn ranked(
    conn: &rusqlite::Connection,
    (plain, filtered): (&str, &str),
    expr: &str,
    q: &SearchQuery,
    want: usize,
) -> rusqlite::Result<Vec<(i64, f64)>> {
    let mut hits: Vec<(i64, f64)> = Vec::new();
    if q.status.is_none() && q.matter_type.is_none() && q.responsible.is_none() {
        let mut stmt = conn.prepare_cached(plain)?;
        let mut rows = stmt.query([expr])?;
        while let Some(r) = rows.next()? {
            hits.push((r.get(0)?, r.get(1)?));
        }
    } else {
        let mut stmt = conn.prepare_cached(filtered)?;
        let mut rows = stmt.query(params![
            expr,
            q.status.map(|s| s.as_str()),
            q.matter_type,
            q.responsible
        ])?;
        let mut looked: i64 = 0;
        while let Some(r) = rows.next()? {
            looked += 1;
            if r.get::<_, i64>(2)? == 1 {
                hits.push((r.get(0)?, r.get(1)?));
            }
            if looked >= CANDIDATES && hits.len() >= want {
                break;
            }
        }
    }
    hits.sort_by(|a, b| a.1.total_cmp(&b.1));
    Ok(hits)
}

/// A search: words (each a prefix), and optional exact filters on the matter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub text: String,
    pub status: Option<MatterStatus>,
    pub matter_type: Option<String>,
    pub responsible: Option<String>,
    pub limit: usize,
}

/// Where a hit was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitSource {
    /// The matter's number, title, client, people or description.
    Matter,
    /// One of the matter's file notes.
    FileNote { note_id: Uuid },
}

/// One result: the matter, and where the words were found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub matter_id: Uuid,
    pub number: String,
    pub title: String,
    pub client_name: String,
    pub source: HitSource,
    /// BM25 score; lower is better.
    pub score: f64,
}

/// The FTS5 expression for user text: every word a quoted prefix term. `None` when the
/// text has no word in it.
pub fn fts_expression(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{}\"*", w.to_lowercase().replace('"', "")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

impl Vault {
    /// Searches matters (first) and file notes (after), ranked within each.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let limit = q.limit.clamp(1, 500);
        if self.meta("search_index")?.as_deref() != Some("ready") {
            return Err(VaultError::IndexNotReady);
        }
        let Some(expr) = fts_expression(&q.text) else {
            return self.browse(q, limit);
        };
        let status = q.status.map(|s| s.as_str());
        let conn = &self.conn;

        // Matters: bounded candidates from the index (filtered by rowid lookups as they
        // come, when there are filters), then looked up for display, best first.
        let matter_hits = ranked(
            conn,
            candidate_statements!(
                "matter_fts",
                "8.0, 6.0, 4.0, 2.0, 1.0",
                "matters m ON m.rowid = c.rowid"
            ),
            &expr,
            q,
            limit,
        )?;

        let mut out = Vec::with_capacity(limit);
        let mut seen = std::collections::HashSet::new();
        {
            let mut get = conn.prepare_cached(
                "SELECT id, number, title, client_name FROM matters
                 WHERE rowid = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR matter_type = ?3)
                   AND (?4 IS NULL OR responsible = ?4)",
            )?;
            for (rowid, score) in matter_hits {
                if out.len() >= limit {
                    break;
                }
                let row = get
                    .query_row(params![rowid, status, q.matter_type, q.responsible], |r| {
                        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                    .map(Some)
                    .or_else(not_found_is_none)?;
                if let Some((id, number, title, client_name)) = row {
                    let matter_id = parse_id(&id)?;
                    seen.insert(matter_id);
                    out.push(SearchHit {
                        matter_id,
                        number,
                        title,
                        client_name,
                        source: HitSource::Matter,
                        score,
                    });
                }
            }
        }
        if out.len() >= limit {
            return Ok(out);
        }

        // File notes: the same, each hit naming its matter; a matter already found by its
        // own fields is not repeated.
        let note_hits = ranked(
            conn,
            candidate_statements!(
                "note_fts",
                "2.0, 1.0",
                "file_notes n ON n.rowid = c.rowid CROSS JOIN matters m ON m.id = n.matter_id"
            ),
            &expr,
            q,
            limit,
        )?;
        let mut get = conn.prepare_cached(
            "SELECT n.id, m.id, m.number, m.title, m.client_name FROM file_notes n JOIN matters m ON m.id = n.matter_id
             WHERE n.rowid = ?1 AND (?2 IS NULL OR m.status = ?2) AND (?3 IS NULL OR m.matter_type = ?3)
               AND (?4 IS NULL OR m.responsible = ?4)",
        )?;
        for (rowid, score) in note_hits {
            if out.len() >= limit {
                break;
            }
            let row = get
                .query_row(params![rowid, status, q.matter_type, q.responsible], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                    ))
                })
                .map(Some)
                .or_else(not_found_is_none)?;
            if let Some((note_id, matter_id, number, title, client_name)) = row {
                let matter_id = parse_id(&matter_id)?;
                if !seen.insert(matter_id) {
                    continue;
                }
                out.push(SearchHit {
                    matter_id,
                    number,
                    title,
                    client_name,
                    source: HitSource::FileNote {
                        note_id: parse_id(&note_id)?,
                    },
                    score,
                });
            }
        }
        Ok(out)
    }

    /// No words: the filtered matters, most recently opened first.
    fn browse(&self, q: &SearchQuery, limit: usize) -> Result<Vec<SearchHit>> {
        let status = q.status.map(|s| s.as_str());
        let rows = self
            .conn
            .prepare_cached(
                "SELECT id, number, title, client_name FROM matters
                 WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR matter_type = ?2) AND (?3 IS NULL OR responsible = ?3)
                 ORDER BY opened_on DESC, number LIMIT ?4",
            )?
            .query_map(params![status, q.matter_type, q.responsible, limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<Vec<(String, String, String, String)>>>()?;
        rows.into_iter()
            .map(|(id, number, title, client_name)| {
                Ok(SearchHit {
                    matter_id: parse_id(&id)?,
                    number,
                    title,
                    client_name,
                    source: HitSource::Matter,
                    score: 0.0,
                })
            })
            .collect()
    }
}

fn not_found_is_none<T>(e: rusqlite::Error) -> rusqlite::Result<Option<T>> {
    match e {
        rusqlite::Error::QueryReturnedNoRows => Ok(None),
        other => Err(other),
    }
}

fn parse_id(s: &str) -> Result<Uuid> {
    s.parse()
        .map_err(|_| VaultError::Corrupt(format!("record id {s:?} is not a UUID")))
}

#[cfg(test)]
mod tests {
    use super::fts_expression;

    #[test]
    fn user_text_becomes_quoted_prefix_terms() {
        assert_eq!(
            fts_expression("HV-2026-01"),
            Some("\"hv\"* \"2026\"* \"01\"*".into())
        );
        assert_eq!(
            fts_expression("  \"NEAR(a b)\" OR x* ^y "),
            Some("\"near\"* \"a\"* \"b\"* \"or\"* \"x\"* \"y\"*".into())
        );
        assert_eq!(
            fts_expression("Zoë Ōkafor"),
            Some("\"zoë\"* \"ōkafor\"*".into())
        );
        assert_eq!(fts_expression(" -- ** "), None);
        assert_eq!(fts_expression(""), None);
    }
}
