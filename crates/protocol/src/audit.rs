//! The audit log's hash formats, shared by the service that writes the log and the app
//! that checks it: one definition of what an entry's hash covers and how a practice's own
//! entries chain.
//!
//! The service keeps one chain over every entry of every practice (each entry's
//! `prev_hash` is the hash of the entry before it, whoever's it was). A practice cannot
//! check that chain without reading other practices' entries, so every entry that
//! concerns a practice is also a link in that practice's own chain: it has the practice's
//! next number (`seq`, from 1) and a `link`, the SHA-256 of the number, the entry's own
//! hash and the link before it ([`practice_link`]). The app reads its practice's entries
//! and checks both: each entry's hash against its fields, and the links one after
//! another with no number missing ([`PracticeChainVerifier`]).
//!
//! Invariant: the entry hash covers every field of an entry, and the link covers the
//! entry hash, so no field of any entry in a practice's chain can change, and no entry can
//! be removed, inserted or moved, without the check finding the first entry affected.
//!
//! What it does not do: a service that rewrites a practice's whole chain from some entry on
//! passes the check. The app keeps the chain it has checked and refuses a later answer
//! that does not continue it, so history it has seen cannot be rewritten unnoticed.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry, and `prev_link` of a practice's first link: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn field(h: &mut Sha256, value: Option<&str>) {
    match value {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
    }
}

/// An entry's hash: SHA-256, hex, over a domain tag, the id (8 bytes, big-endian) and each
/// text field as a presence byte (0 absent, 1 present) then, when present, its length (8
/// bytes, big-endian) and its UTF-8 bytes. No two different entries encode alike.
pub fn entry_hash(
    id: i64,
    occurred_at: &str,
    practice_id: Option<&str>,
    actor: Option<&str>,
    kind: &str,
    details: &str,
    prev_hash: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(b"strongroom-audit-v1\0");
    h.update(id.to_be_bytes());
    field(&mut h, Some(occurred_at));
    field(&mut h, practice_id);
    field(&mut h, actor);
    field(&mut h, Some(kind));
    field(&mut h, Some(details));
    field(&mut h, Some(prev_hash));
    hex::encode(h.finalize())
}

/// A practice's link for its entry number `seq` (from 1) whose entry hash is `entry_hash`,
/// after the link `prev_link` ([`GENESIS_HASH`] for the first): SHA-256, hex, over a domain
/// tag, `seq` (8 bytes, big-endian) and the two hashes, each length-prefixed.
pub fn practice_link(seq: i64, entry_hash: &str, prev_link: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"strongroom-audit-practice-v1\0");
    h.update(seq.to_be_bytes());
    field(&mut h, Some(entry_hash));
    field(&mut h, Some(prev_link));
    hex::encode(h.finalize())
}

/// One entry of a practice's audit log, as `GET /v1/audit/entries` gives it: every field
/// the hashes cover, exactly as stored, so the app can recompute them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntryWire {
    /// The entry's id in the service's one log.
    pub id: i64,
    /// Its number in the practice's own chain, from 1.
    pub seq: i64,
    /// RFC 3339, UTC.
    pub occurred_at: String,
    pub practice_id: Option<String>,
    /// `user:<uuid>`, `staff:<uuid>`, or none (the service, or an unknown account).
    pub actor: Option<String>,
    /// What happened, e.g. `sign_in`.
    pub kind: String,
    /// Compact JSON.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
    pub prev_link: String,
    pub link: String,
}

impl AuditEntryWire {
    /// What `hash` should be, from the other fields.
    pub fn computed_hash(&self) -> String {
        entry_hash(
            self.id,
            &self.occurred_at,
            self.practice_id.as_deref(),
            self.actor.as_deref(),
            &self.kind,
            &self.details,
            &self.prev_hash,
        )
    }
}

/// Someone who appears in a page of the log, by the `actor` the entries carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditActor {
    /// As entries carry it: `user:<uuid>` or `staff:<uuid>`.
    pub actor: String,
    pub name: String,
}

/// `GET /v1/audit/entries` answer: the practice's entries after `after_seq`, in order, and
/// the practice's head (its last number and link) when the page was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntryWire>,
    /// The practice's last entry number (0: none yet).
    pub head_seq: i64,
    /// That entry's link ([`GENESIS_HASH`] when there is none).
    pub head_link: String,
    /// The names of the actors in `entries`.
    pub actors: Vec<AuditActor>,
}

/// Why a practice's chain does not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainBreak {
    /// The entry's fields do not give its hash: it was changed.
    EntryAltered,
    /// The entry's link is not computed from its number, hash and the link before.
    LinkAltered,
    /// The entry does not follow the one before: one is missing, inserted or moved.
    OutOfSequence,
    /// The entry belongs to another practice.
    ForeignEntry,
    /// The chain ends before the head the service announced, or the head's link differs:
    /// entries are missing at the end.
    HeadMismatch,
    /// The chain does not continue the one this device checked before: history it had
    /// seen was rewritten.
    HistoryRewritten,
}

impl ChainBreak {
    /// In words, for the person reading the log.
    pub fn describe(self) -> &'static str {
        match self {
            ChainBreak::EntryAltered => "the entry was changed after it was written",
            ChainBreak::LinkAltered => "the entry's link in the chain was changed",
            ChainBreak::OutOfSequence => "an entry is missing, inserted or out of order here",
            ChainBreak::ForeignEntry => "the entry belongs to another practice",
            ChainBreak::HeadMismatch => "entries are missing at the end of the log",
            ChainBreak::HistoryRewritten => {
                "the log no longer matches what this device checked before"
            }
        }
    }
}

/// The outcome of checking a practice's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Every entry from 1 to the head checks out.
    Verified { entries: i64 },
    /// The first entry (by number) that does not, and why.
    Broken { seq: i64, reason: ChainBreak },
}

/// Checks a practice's chain one entry at a time, in order, from its first entry.
#[derive(Debug, Clone)]
pub struct PracticeChainVerifier {
    practice_id: String,
    last_seq: i64,
    last_link: String,
    broken: Option<(i64, ChainBreak)>,
}

impl PracticeChainVerifier {
    /// A check of practice `practice_id`'s chain (its UUID, hyphenated, lower-case).
    pub fn new(practice_id: &str) -> Self {
        Self {
            practice_id: practice_id.to_owned(),
            last_seq: 0,
            last_link: GENESIS_HASH.to_owned(),
            broken: None,
        }
    }

    /// The number and link of the last entry that checked out.
    pub fn head(&self) -> (i64, &str) {
        (self.last_seq, &self.last_link)
    }

    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    /// Checks the next entry. After the first break, nothing more is looked at.
    pub fn push(&mut self, e: &AuditEntryWire) {
        if self.broken.is_some() {
            return;
        }
        let expected = self.last_seq + 1;
        let reason = if e.practice_id.as_deref() != Some(self.practice_id.as_str()) {
            Some(ChainBreak::ForeignEntry)
        } else if e.seq != expected || e.prev_link != self.last_link {
            Some(ChainBreak::OutOfSequence)
        } else if e.computed_hash() != e.hash {
            Some(ChainBreak::EntryAltered)
        } else if practice_link(e.seq, &e.hash, &e.prev_link) != e.link {
            Some(ChainBreak::LinkAltered)
        } else {
            None
        };
        match reason {
            Some(r) => self.broken = Some((expected, r)),
            None => {
                self.last_seq = e.seq;
                self.last_link.clone_from(&e.link);
            }
        }
    }

    /// The verdict, given the head the service announced (its last number and link).
    pub fn finish(self, head_seq: i64, head_link: &str) -> ChainVerdict {
        if let Some((seq, reason)) = self.broken {
            return ChainVerdict::Broken { seq, reason };
        }
        if self.last_seq != head_seq || self.last_link != head_link {
            return ChainVerdict::Broken {
                seq: self.last_seq + 1,
                reason: ChainBreak::HeadMismatch,
            };
        }
        ChainVerdict::Verified {
            entries: self.last_seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRACTICE: &str = "6f1c2a4e-0000-4000-8000-000000000001";

    /// A practice chain of `n` entries whose service-wide ids leave gaps (other
    /// practices' entries), and its head.
    fn chain(n: i64) -> (Vec<AuditEntryWire>, i64, String) {
        let mut out = Vec::new();
        let mut prev_hash = GENESIS_HASH.to_owned();
        let mut prev_link = GENESIS_HASH.to_owned();
        for seq in 1..=n {
            let id = seq * 3;
            let details = format!("{{\"n\":{seq}}}");
            let hash = entry_hash(
                id,
                "2026-11-28T00:00:00Z",
                Some(PRACTICE),
                Some("user:x"),
                "sign_in",
                &details,
                &prev_hash,
            );
            let link = practice_link(seq, &hash, &prev_link);
            out.push(AuditEntryWire {
                id,
                seq,
                occurred_at: "2026-11-28T00:00:00Z".into(),
                practice_id: Some(PRACTICE.into()),
                actor: Some("user:x".into()),
                kind: "sign_in".into(),
                details,
                prev_hash: prev_hash.clone(),
                hash: hash.clone(),
                prev_link,
                link: link.clone(),
            });
            // The service-wide chain runs through other practices' entries in between.
            prev_hash = format!("{:064x}", id + 2);
            prev_link = link;
        }
        let head = out
            .last()
            .map(|e| e.link.clone())
            .unwrap_or(GENESIS_HASH.into());
        (out, n, head)
    }

    fn check(entries: &[AuditEntryWire], head_seq: i64, head_link: &str) -> ChainVerdict {
        let mut v = PracticeChainVerifier::new(PRACTICE);
        for e in entries {
            v.push(e);
        }
        v.finish(head_seq, head_link)
    }

    #[test]
    fn an_untouched_chain_verifies_even_with_gaps_in_service_ids() {
        let (c, seq, link) = chain(6);
        assert_eq!(check(&c, seq, &link), ChainVerdict::Verified { entries: 6 });
        assert_eq!(
            check(&[], 0, GENESIS_HASH),
            ChainVerdict::Verified { entries: 0 }
        );
    }

    #[test]
    fn changing_any_field_of_any_entry_is_found_at_that_entry() {
        let (c, seq, link) = chain(5);
        type Edit = fn(&mut AuditEntryWire);
        let edits: [(Edit, ChainBreak); 9] = [
            (|e| e.occurred_at.push('x'), ChainBreak::EntryAltered),
            (|e| e.actor = None, ChainBreak::EntryAltered),
            (|e| e.kind = "sign_out".into(), ChainBreak::EntryAltered),
            (|e| e.details = "{}".into(), ChainBreak::EntryAltered),
            (|e| e.id += 1, ChainBreak::EntryAltered),
            (|e| e.prev_hash = "f".repeat(64), ChainBreak::EntryAltered),
            (|e| e.link = GENESIS_HASH.into(), ChainBreak::LinkAltered),
            (|e| e.seq += 7, ChainBreak::OutOfSequence),
            (
                |e| e.practice_id = Some("other".into()),
                ChainBreak::ForeignEntry,
            ),
        ];
        for at in 0..c.len() {
            for (edit, reason) in edits {
                let mut t = c.clone();
                edit(&mut t[at]);
                let seq_expected = at as i64 + 1;
                assert_eq!(
                    check(&t, seq, &link),
                    ChainVerdict::Broken {
                        seq: seq_expected,
                        reason
                    },
                    "edit at {at}"
                );
            }
        }
    }

    #[test]
    fn removing_or_swapping_entries_is_found() {
        let (c, seq, link) = chain(5);
        for at in 0..c.len() {
            let mut t = c.clone();
            t.remove(at);
            let v = check(&t, seq, &link);
            let expected_reason = if at == c.len() - 1 {
                ChainBreak::HeadMismatch
            } else {
                ChainBreak::OutOfSequence
            };
            assert_eq!(
                v,
                ChainVerdict::Broken {
                    seq: at as i64 + 1,
                    reason: expected_reason
                },
                "removed {at}"
            );
        }
        let mut t = c.clone();
        t.swap(1, 3);
        assert_eq!(
            check(&t, seq, &link),
            ChainVerdict::Broken {
                seq: 2,
                reason: ChainBreak::OutOfSequence
            }
        );
    }

    #[test]
    fn a_rehashed_entry_still_breaks_the_links_after_it() {
        let (mut c, seq, link) = chain(4);
        // Someone edits entry 2 and recomputes its hash and link, but not the ones after.
        c[1].details = "{\"n\":99}".into();
        c[1].hash = c[1].computed_hash();
        c[1].link = practice_link(c[1].seq, &c[1].hash, &c[1].prev_link);
        assert_eq!(
            check(&c, seq, &link),
            ChainVerdict::Broken {
                seq: 3,
                reason: ChainBreak::OutOfSequence
            }
        );
    }
}
