//! Arbitrary bytes decoded as every wire type the service accepts from a client (request
//! bodies) and the app accepts from the service (answers), with serde_json as both sides
//! do. Nothing may panic. Whatever decodes must encode again, and decode from that to the
//! same value (compared by `==`, or by its encoding for the types without `PartialEq`).
//! Each record kind is also read the way the records API reads a body
//! (`ChangeRecord::from_body`), checked by `validate::record`, and must survive its own
//! `body_json`; and the input as text goes through the date, timestamp and email rules,
//! which must agree with what they promise (a timestamp starts with a date).

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use strongroom_protocol::{self as p, audit, privacy, validate};

/// Whether a JSON value holds a floating-point number anywhere. serde_json (without its
/// `float_roundtrip` feature, which neither side turns on) may read a float back one unit
/// in the last place off, so values holding one are only required to re-encode.
fn has_float(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_f64(),
        Value::Array(a) => a.iter().any(has_float),
        Value::Object(o) => o.values().any(has_float),
        _ => false,
    }
}

/// Decodes `data` as `T`; what decodes must re-encode and decode back equal.
fn round_trip<T>(data: &[u8]) -> Option<T>
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let x: T = serde_json::from_slice(data).ok()?;
    let text = serde_json::to_vec(&x).expect("what decoded must encode");
    let y: T = match serde_json::from_slice(&text) {
        Ok(y) => y,
        Err(e) => panic!(
            "{} re-encoded as {} does not decode: {e}",
            std::any::type_name::<T>(),
            String::from_utf8_lossy(&text)
        ),
    };
    let floats = serde_json::from_slice::<Value>(&text).is_ok_and(|v| has_float(&v));
    if !floats {
        assert_eq!(x, y, "{} does not round-trip", std::any::type_name::<T>());
    }
    Some(x)
}

/// The same for a type without `PartialEq` (those that hide secrets from `Debug`): its
/// encoding must be a fixed point.
fn round_trip_bytes<T>(data: &[u8])
where
    T: DeserializeOwned + Serialize,
{
    let Ok(x) = serde_json::from_slice::<T>(data) else {
        return;
    };
    let text = serde_json::to_vec(&x).expect("what decoded must encode");
    let y: T = serde_json::from_slice(&text).expect("what encoded must decode");
    let again = serde_json::to_vec(&y).expect("what decoded must encode");
    assert_eq!(
        text,
        again,
        "{} does not round-trip",
        std::any::type_name::<T>()
    );
}

/// A record as the feed carries it: its rules may fail, never panic; its body must read
/// back as the same record.
fn check_record(r: &p::ChangeRecord) {
    let _ = validate::record(r);
    let _ = r.key();
    let _ = r.matter_id();
    if let Some(body) = r.body_json() {
        let (kind, _) = r.key();
        let back = p::ChangeRecord::from_body(kind, &body).expect("a record's body reads back");
        assert_eq!(&back, r, "a record's body does not read back the same");
    }
}

fn check_text(s: &str) {
    if validate::is_date(s) {
        assert_eq!(s.len(), 10, "a date is ten characters: {s:?}");
    }
    if validate::is_timestamp(s) {
        assert!(
            s.get(..10).is_some_and(validate::is_date),
            "a timestamp starts with a date: {s:?}"
        );
    }
    let _ = validate::email_address(s);
    let _ = p::Role::parse(s);
    let _ = p::RecordKind::parse(s);
    let _ = p::MatterStatus::parse(s);
    let _ = p::ContactKind::parse(s);
    let _ = p::SupportAccess::parse(s);
    let _ = p::IntegrationScope::parse(s);
    for kind in p::RecordKind::ALL {
        if let Ok(r) = p::ChangeRecord::from_body(kind, s) {
            check_record(&r);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        check_text(s);
    }

    // What the service reads from a client.
    round_trip_bytes::<p::SignInRequest>(data);
    round_trip_bytes::<p::ReauthRequest>(data);
    round_trip_bytes::<p::TotpConfirmRequest>(data);
    round_trip_bytes::<p::AcceptInvitation>(data);
    round_trip_bytes::<p::SupportSignInRequest>(data);
    if let Some(push) = round_trip::<p::PushRequest>(data) {
        for m in &push.mutations {
            let _ = (m.kind.as_str(), &m.op);
        }
    }
    round_trip::<p::Mutation>(data);
    round_trip::<p::ConflictResolution>(data);
    round_trip::<p::MemberUpdate>(data);
    round_trip::<p::MatterAccess>(data);
    round_trip::<p::NewInvitation>(data);
    round_trip::<p::PracticeSettings>(data);
    round_trip::<privacy::DeviceHoldings>(data);
    round_trip::<privacy::CompleteReview>(data);
    round_trip::<p::SupportAccessRequest>(data);
    round_trip::<p::NewIntegration>(data);

    // What the app reads from the service.
    round_trip::<p::Health>(data);
    round_trip_bytes::<p::SignInResponse>(data);
    round_trip_bytes::<p::TotpSetup>(data);
    round_trip_bytes::<p::RecoveryCodes>(data);
    round_trip::<p::SessionList>(data);
    if let Some(page) = round_trip::<p::ChangesPage>(data) {
        for c in &page.changes {
            check_record(&c.record);
        }
    }
    if let Some(c) = round_trip::<p::Change>(data) {
        check_record(&c.record);
    }
    round_trip::<p::PushResponse>(data);
    round_trip::<Vec<p::SyncConflict>>(data);
    round_trip::<p::AppliedAt>(data);
    round_trip::<Vec<p::Member>>(data);
    round_trip::<Vec<p::Invitation>>(data);
    round_trip::<p::InvitationCreated>(data);
    round_trip::<p::Problem>(data);
    round_trip::<privacy::RevokedSessions>(data);
    round_trip::<privacy::AccessReview>(data);
    round_trip::<p::SupportSignInResponse>(data);
    round_trip::<Vec<p::SupportGrant>>(data);
    round_trip::<p::StaffGrant>(data);
    round_trip::<p::SupportAccessLog>(data);
    round_trip::<Vec<p::Integration>>(data);
    round_trip::<p::IntegrationCreated>(data);
    if let Some(page) = round_trip::<audit::AuditPage>(data) {
        let mut v = audit::PracticeChainVerifier::new("p");
        for e in &page.entries {
            let _ = e.computed_hash();
            v.push(e);
        }
        let _ = v.finish(page.head_seq, &page.head_link);
    }
});
