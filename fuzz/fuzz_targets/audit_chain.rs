//! The app's check of a practice's audit chain (`PracticeChainVerifier`) on sequences of
//! entries made from the fuzz input. It must never panic. Fed any entries at all, it
//! verifies only when it was given exactly the announced head's number of entries. A
//! chain built as the service builds it (`entry_hash`, `practice_link`) from fuzz-chosen
//! fields verifies, to its head. Changing any field of any entry of it (a byte of a text,
//! a bit of a number, a present value made absent or back), removing, duplicating or
//! swapping entries, re-hashing an edited entry, or announcing another head is reported as
//! a break at the first entry affected, for the reason the module gives.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use strongroom_protocol::audit::{
    AuditEntryWire, ChainBreak, ChainVerdict, GENESIS_HASH, PracticeChainVerifier, entry_hash,
    practice_link,
};

/// The most entries a chain gets here: enough for every position to matter.
const MAX_ENTRIES: usize = 48;

#[derive(Arbitrary, Debug)]
struct EntryIn {
    id: i64,
    occurred_at: String,
    actor: Option<String>,
    kind: String,
    details: String,
    prev_hash: String,
}

/// Any entry at all, as a hostile or broken service might send it.
#[derive(Arbitrary, Debug)]
struct RawEntry {
    id: i64,
    seq: i64,
    occurred_at: String,
    practice_id: Option<String>,
    actor: Option<String>,
    kind: String,
    details: String,
    prev_hash: String,
    hash: String,
    prev_link: String,
    link: String,
}

#[derive(Arbitrary, Debug)]
enum Tamper {
    Nothing,
    /// Field `field` (0 to 10) of entry `at`, at byte or bit `pos`.
    Field {
        at: u8,
        field: u8,
        pos: u16,
        xor: u8,
    },
    Remove(u8),
    Duplicate(u8),
    Swap(u8, u8),
    /// Entry `at`'s details changed, and its hash and link recomputed to match.
    Rehash(u8, String),
    HeadSeq(i64),
    HeadLink(u16, u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    practice: String,
    entries: Vec<EntryIn>,
    tamper: Tamper,
    raw: Vec<RawEntry>,
    raw_head_seq: i64,
    raw_head_link: String,
    /// Whether the raw entries follow the built chain (else they are checked alone).
    raw_after: bool,
}

fn verify(
    practice: &str,
    entries: &[AuditEntryWire],
    head_seq: i64,
    head_link: &str,
) -> ChainVerdict {
    let mut v = PracticeChainVerifier::new(practice);
    for e in entries {
        v.push(e);
    }
    let (seq, link) = v.head();
    assert!(seq >= 0 && !link.is_empty());
    v.finish(head_seq, head_link)
}

/// The chain the service would give for these entries of `practice`.
fn build(practice: &str, entries: &[EntryIn]) -> Vec<AuditEntryWire> {
    let mut out = Vec::new();
    let mut prev_link = GENESIS_HASH.to_owned();
    for (i, e) in entries.iter().take(MAX_ENTRIES).enumerate() {
        let seq = i as i64 + 1;
        let hash = entry_hash(
            e.id,
            &e.occurred_at,
            Some(practice),
            e.actor.as_deref(),
            &e.kind,
            &e.details,
            &e.prev_hash,
        );
        let link = practice_link(seq, &hash, &prev_link);
        out.push(AuditEntryWire {
            id: e.id,
            seq,
            occurred_at: e.occurred_at.clone(),
            practice_id: Some(practice.to_owned()),
            actor: e.actor.clone(),
            kind: e.kind.clone(),
            details: e.details.clone(),
            prev_hash: e.prev_hash.clone(),
            hash: hash.clone(),
            prev_link,
            link: link.clone(),
        });
        prev_link = link;
    }
    out
}

/// `s` with one byte changed at `pos` (or one added when it is empty); none when the
/// change is no change.
fn flip_text(s: &str, pos: u16, xor: u8) -> Option<String> {
    let mut bytes = s.as_bytes().to_vec();
    if bytes.is_empty() {
        bytes.push(xor);
    } else {
        let i = usize::from(pos) % bytes.len();
        bytes[i] ^= xor.max(1);
    }
    let t = String::from_utf8_lossy(&bytes).into_owned();
    (t != s).then_some(t)
}

fn flip_opt(s: &Option<String>, pos: u16, xor: u8) -> Option<Option<String>> {
    match s {
        None => Some(Some(String::new())),
        Some(t) if t.is_empty() => Some(None),
        Some(t) => flip_text(t, pos, xor).map(Some),
    }
}

/// Changes field `field` of `e`: the reason the check must give, or none when the change
/// is no change.
fn tamper_field(e: &mut AuditEntryWire, field: u8, pos: u16, xor: u8) -> Option<ChainBreak> {
    let bit = 1i64 << (pos % 64);
    let text = |s: &mut String| -> Option<()> {
        *s = flip_text(s, pos, xor)?;
        Some(())
    };
    Some(match field % 11 {
        0 => {
            e.id ^= bit;
            ChainBreak::EntryAltered
        }
        1 => {
            e.seq ^= bit;
            ChainBreak::OutOfSequence
        }
        2 => {
            text(&mut e.occurred_at)?;
            ChainBreak::EntryAltered
        }
        3 => {
            e.practice_id = flip_opt(&e.practice_id, pos, xor)?;
            ChainBreak::ForeignEntry
        }
        4 => {
            e.actor = flip_opt(&e.actor, pos, xor)?;
            ChainBreak::EntryAltered
        }
        5 => {
            text(&mut e.kind)?;
            ChainBreak::EntryAltered
        }
        6 => {
            text(&mut e.details)?;
            ChainBreak::EntryAltered
        }
        7 => {
            text(&mut e.prev_hash)?;
            ChainBreak::EntryAltered
        }
        8 => {
            text(&mut e.hash)?;
            ChainBreak::EntryAltered
        }
        9 => {
            text(&mut e.prev_link)?;
            ChainBreak::OutOfSequence
        }
        _ => {
            text(&mut e.link)?;
            ChainBreak::LinkAltered
        }
    })
}

fn raw_entry(r: &RawEntry) -> AuditEntryWire {
    AuditEntryWire {
        id: r.id,
        seq: r.seq,
        occurred_at: r.occurred_at.clone(),
        practice_id: r.practice_id.clone(),
        actor: r.actor.clone(),
        kind: r.kind.clone(),
        details: r.details.clone(),
        prev_hash: r.prev_hash.clone(),
        hash: r.hash.clone(),
        prev_link: r.prev_link.clone(),
        link: r.link.clone(),
    }
}

fn broken(seq: usize, reason: ChainBreak) -> ChainVerdict {
    ChainVerdict::Broken {
        seq: seq as i64,
        reason,
    }
}

fn check(input: &Input) {
    let practice = input.practice.as_str();
    let chain = build(practice, &input.entries);
    let n = chain.len();
    let head_link = chain
        .last()
        .map_or(GENESIS_HASH, |e| e.link.as_str())
        .to_owned();
    assert_eq!(
        verify(practice, &chain, n as i64, &head_link),
        ChainVerdict::Verified { entries: n as i64 },
        "a chain built as the service builds it does not verify"
    );

    // Any entries at all: never a panic, and never verified past the entries given.
    let raw: Vec<AuditEntryWire> = input.raw.iter().take(MAX_ENTRIES).map(raw_entry).collect();
    let mut fed = if input.raw_after {
        chain.clone()
    } else {
        Vec::new()
    };
    fed.extend(raw);
    if let ChainVerdict::Verified { entries } =
        verify(practice, &fed, input.raw_head_seq, &input.raw_head_link)
    {
        assert_eq!(entries, input.raw_head_seq);
        assert!(
            entries as usize <= fed.len(),
            "verified more entries than it was given"
        );
    }

    let mut t = chain.clone();
    let (mut head_seq, mut head) = (n as i64, head_link.clone());
    let expected = match &input.tamper {
        Tamper::Nothing => return,
        Tamper::Field {
            at,
            field,
            pos,
            xor,
        } if n > 0 => {
            let at = usize::from(*at) % n;
            let Some(reason) = tamper_field(&mut t[at], *field, *pos, *xor) else {
                return;
            };
            broken(at + 1, reason)
        }
        Tamper::Remove(at) if n > 0 => {
            let at = usize::from(*at) % n;
            t.remove(at);
            if at == n - 1 {
                broken(n, ChainBreak::HeadMismatch)
            } else {
                broken(at + 1, ChainBreak::OutOfSequence)
            }
        }
        Tamper::Duplicate(at) if n > 0 => {
            let at = usize::from(*at) % n;
            t.insert(at + 1, t[at].clone());
            broken(at + 2, ChainBreak::OutOfSequence)
        }
        Tamper::Swap(a, b) if n > 1 => {
            let (a, b) = (usize::from(*a) % n, usize::from(*b) % n);
            if a == b {
                return;
            }
            t.swap(a, b);
            broken(a.min(b) + 1, ChainBreak::OutOfSequence)
        }
        Tamper::Rehash(at, details) if n > 0 => {
            let at = usize::from(*at) % n;
            if t[at].details == *details {
                return;
            }
            let e = &mut t[at];
            e.details.clone_from(details);
            e.hash = e.computed_hash();
            e.link = practice_link(e.seq, &e.hash, &e.prev_link);
            if at == n - 1 {
                broken(n + 1, ChainBreak::HeadMismatch)
            } else {
                broken(at + 2, ChainBreak::OutOfSequence)
            }
        }
        Tamper::HeadSeq(s) => {
            if *s == head_seq {
                return;
            }
            head_seq = *s;
            broken(n + 1, ChainBreak::HeadMismatch)
        }
        Tamper::HeadLink(pos, xor) => {
            let Some(other) = flip_text(&head, *pos, *xor) else {
                return;
            };
            head = other;
            broken(n + 1, ChainBreak::HeadMismatch)
        }
        _ => return,
    };
    assert_eq!(
        verify(practice, &t, head_seq, &head),
        expected,
        "a changed chain ({:?}) is not reported as it should be",
        input.tamper
    );
}

fuzz_target!(|input: Input| check(&input));
