//! The use cases behind the app's screens, against a real server over TLS with real vaults
//! and the real keyring: the matter list in windows (every sort, every filter), a matter
//! page with everything on it, records created and changed offline reaching a second
//! device, conflicts shown field by field and resolved, the timer, sign-in with a second
//! factor, and sign-out.

use serde_json::{Map, Value, json};
use strongroom_client::{
    ConflictChoice, Core, ErrorCode, MatterListQuery, MatterSort, RecordKind, SearchRequest,
};
use strongroom_protocol::{ConflictKind, MatterStatus};
use strongroom_server::audit::AuditKind;
use strongroom_server::seed;

use super::{Env, second_device};

fn fields(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn query(sort: MatterSort, descending: bool, offset: u32, limit: u32) -> MatterListQuery {
    MatterListQuery {
        offset,
        limit,
        sort,
        descending,
        ..Default::default()
    }
}

/// Every window of the list, read `step` at a time, joined.
fn read_all(core: &mut Core, q: &MatterListQuery, step: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = core
            .matters_page(&MatterListQuery {
                offset,
                limit: step,
                ..q.clone()
            })
            .unwrap();
        assert_eq!(page.offset, offset);
        assert!(page.rows.len() <= step as usize);
        if page.rows.is_empty() {
            assert_eq!(
                out.len() as u32,
                page.total,
                "windows cover the total exactly"
            );
            return out;
        }
        out.extend(page.rows.into_iter().map(|m| m.number));
        offset += step;
    }
}

#[tokio::test]
async fn the_matter_list_reads_in_windows_in_every_order_and_filter() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    // Forty more matters, made offline on this device, in an order that is none of the
    // list's: each sort must put them right.
    let types = ["Probate", "Litigation", "Family"];
    let lawyers = ["Zoe Adams", "ann baker", "Mei-Lin Cho"];
    for i in 0..40u32 {
        let n = (i * 17) % 40;
        core.save_record(
            RecordKind::Matter,
            None,
            fields(json!({
                "number": format!("T-{n:03}"),
                "title": format!("{} matter {n}", if n % 2 == 0 { "alpha" } else { "Beta" }),
                "matter_type": types[(n % 3) as usize],
                "status": if n % 4 == 0 { "closed" } else { "open" },
                "client_name": format!("Client {:02}", 39 - n),
                "responsible": lawyers[(n % 3) as usize],
                "opened_on": format!("2024-01-{:02}", 1 + n % 28),
            })),
        )
        .unwrap();
    }
    let all = core.matters().unwrap();
    assert_eq!(all.len(), 48);

    // Each order, each direction, read 7 at a time, is the whole list sorted that way.
    type Key = fn(&strongroom_client::MatterSummary) -> (String, String);
    let orders: [(MatterSort, Key); 5] = [
        (MatterSort::Number, |m| (m.number.clone(), String::new())),
        (MatterSort::Title, |m| {
            (m.title.to_lowercase(), m.number.clone())
        }),
        (MatterSort::Client, |m| {
            (m.client_name.to_lowercase(), m.number.clone())
        }),
        (MatterSort::Responsible, |m| {
            (m.responsible.to_lowercase(), m.number.clone())
        }),
        (MatterSort::Opened, |m| (m.opened_on.clone(), String::new())),
    ];
    for (sort, key) in orders {
        let mut expected = all.clone();
        expected.sort_by_key(key);
        let asc = read_all(&mut core, &query(sort, false, 0, 0), 7);
        let desc = read_all(&mut core, &query(sort, true, 0, 0), 7);
        let keys = |numbers: &[String]| -> Vec<(String, String)> {
            numbers
                .iter()
                .map(|n| key(all.iter().find(|m| &m.number == n).unwrap()))
                .collect()
        };
        let expected_keys: Vec<_> = expected.iter().map(key).collect();
        assert_eq!(keys(&asc), expected_keys, "{sort:?} ascending");
        let mut reversed = expected_keys.clone();
        reversed.reverse();
        assert_eq!(keys(&desc), reversed, "{sort:?} descending");
        let mut unique = asc.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 48, "{sort:?}: every matter once");
    }

    // Filters narrow the list and its total; the options list what is there.
    let opts = core.matter_filters().unwrap();
    for t in types {
        assert!(opts.matter_types.contains(&t.to_owned()), "{t} offered");
    }
    assert!(opts.responsible.contains(&"ann baker".to_owned()));
    let filtered = core
        .matters_page(&MatterListQuery {
            limit: 100,
            status: Some(MatterStatus::Closed),
            matter_type: Some("Probate".into()),
            ..Default::default()
        })
        .unwrap();
    let expected: Vec<_> = all
        .iter()
        .filter(|m| m.status == "closed" && m.matter_type == "Probate")
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(filtered.total as usize, expected.len());
    assert_eq!(filtered.rows.len(), expected.len());
    assert!(
        filtered
            .rows
            .iter()
            .all(|m| m.status == "closed" && m.matter_type == "Probate")
    );
    let by_lawyer = core
        .matters_page(&MatterListQuery {
            limit: 100,
            responsible: Some("ann baker".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        by_lawyer.total as usize,
        all.iter().filter(|m| m.responsible == "ann baker").count()
    );
    // A window past the end is empty; an over-large one is capped, never refused.
    let past = core
        .matters_page(&query(MatterSort::Number, false, 500, 10))
        .unwrap();
    assert!(past.rows.is_empty());
    assert_eq!(past.total, 48);
    let capped = core
        .matters_page(&query(MatterSort::Number, false, 0, u32::MAX))
        .unwrap();
    assert_eq!(capped.rows.len(), 48);

    // Search hits carry the list's columns.
    let hits = core
        .search(&SearchRequest {
            text: "okafor".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].matter_type, "Probate");
    assert_eq!(hits[0].status, "open");
    assert_eq!(hits[0].responsible, seed::DEMO_NAME);
    env.cleanup_keyring();
}

#[tokio::test]
async fn a_matter_page_holds_everything_on_it_and_offline_edits_reach_another_device() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    // Offline: the server is not asked for any of this.
    let mid = core
        .save_record(
            RecordKind::Matter,
            None,
            fields(json!({"number": "T-0001", "title": "Estate of Tamsin's aunt", "matter_type": "Probate", "status": "open", "client_name": "Tamsin O'Leary", "responsible": seed::DEMO_NAME, "opened_on": "2026-11-19"})),
        )
        .unwrap();
    let contact = core
        .save_record(
            RecordKind::Contact,
            None,
            fields(json!({"kind": "person", "name": "Tamsin O'Leary", "email": "tamsin@example.org", "phone": null, "address": null})),
        )
        .unwrap();
    let participant = core
        .save_record(
            RecordKind::Participant,
            None,
            fields(json!({"matter_id": mid, "contact_id": contact, "role": "Executor"})),
        )
        .unwrap();
    let older = core
        .save_record(
            RecordKind::FileNote,
            None,
            fields(json!({"matter_id": mid, "author": seed::DEMO_NAME, "written_at": "2026-11-20T09:00:00Z", "subject": "First call", "body": "Spoke with the executor."})),
        )
        .unwrap();
    let newer = core
        .save_record(
            RecordKind::FileNote,
            None,
            fields(json!({"matter_id": mid, "author": seed::DEMO_NAME, "written_at": "2026-11-21T09:00:00Z", "subject": "Valuation", "body": "Asked for the house valuation."})),
        )
        .unwrap();
    let task_done = core
        .save_record(
            RecordKind::Task,
            None,
            fields(json!({"matter_id": mid, "title": "Open the file", "due_on": "2026-11-01", "assignee": null, "done": true})),
        )
        .unwrap();
    let task_open = core
        .save_record(
            RecordKind::Task,
            None,
            fields(json!({"matter_id": mid, "title": "File the application", "due_on": "2026-12-01", "assignee": seed::DEMO_NAME, "done": false})),
        )
        .unwrap();
    let time = core
        .save_record(
            RecordKind::TimeEntry,
            None,
            fields(json!({"matter_id": mid, "worked_on": "2026-11-21", "minutes": 42, "rate_cents": 45000, "billable": true, "narrative": "Call and file note", "author": seed::DEMO_NAME})),
        )
        .unwrap();
    let doc = core
        .save_record(
            RecordKind::Document,
            None,
            fields(json!({"matter_id": mid, "name": "Will.pdf", "folder": "Originals", "size_bytes": 182_044, "content_hash": "a".repeat(64)})),
        )
        .unwrap();

    let page = core.matter_detail(&mid).unwrap();
    assert_eq!(page.matter.number, "T-0001");
    assert_eq!(page.participants.len(), 1);
    assert_eq!(page.participants[0].participant.id.to_string(), participant);
    assert_eq!(
        page.participants[0].contact.as_ref().unwrap().name,
        "Tamsin O'Leary"
    );
    let note_ids: Vec<String> = page.file_notes.iter().map(|n| n.id.to_string()).collect();
    assert_eq!(note_ids, [newer.clone(), older.clone()], "newest first");
    let task_ids: Vec<String> = page.tasks.iter().map(|t| t.id.to_string()).collect();
    assert_eq!(
        task_ids,
        [task_open.clone(), task_done.clone()],
        "open first"
    );
    assert_eq!(page.time_entries[0].minutes, 42);
    assert_eq!(page.documents[0].name, "Will.pdf");
    for id in [&participant, &older, &newer, &task_open, &time, &doc] {
        assert!(page.unsynced.contains(id), "{id} marked unsynced");
    }

    // A change of some fields keeps the others.
    core.save_record(
        RecordKind::Task,
        Some(&task_open),
        fields(json!({"done": true})),
    )
    .unwrap();
    let page = core.matter_detail(&mid).unwrap();
    let t = page
        .tasks
        .iter()
        .find(|t| t.id.to_string() == task_open)
        .unwrap();
    assert!(t.done);
    assert_eq!(t.title, "File the application");
    core.delete_record(RecordKind::FileNote, &older).unwrap();

    // Bad input: a clear error naming the problem, and nothing queued.
    let pending = core.status().unwrap().pending_edits;
    let missing = core
        .save_record(
            RecordKind::FileNote,
            None,
            fields(json!({"matter_id": mid, "subject": "No body"})),
        )
        .unwrap_err();
    assert_eq!(missing.code(), ErrorCode::InvalidInput, "{missing}");
    let bad_id = core
        .save_record(
            RecordKind::Task,
            Some("not-an-id"),
            fields(json!({"done": true})),
        )
        .unwrap_err();
    assert_eq!(bad_id.code(), ErrorCode::InvalidInput);
    let unknown = core
        .save_record(
            RecordKind::Task,
            Some(&uuid::Uuid::new_v4().to_string()),
            fields(json!({"done": true})),
        )
        .unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::NotFound);
    assert_eq!(
        core.matter_detail(&uuid::Uuid::new_v4().to_string())
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    assert_eq!(core.status().unwrap().pending_edits, pending);

    // Contacts by name as it is typed: a word's start, any case; wildcards are literal.
    let found = core.find_contacts("o'le", 10).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.to_string(), contact);
    assert!(core.find_contacts("%", 10).unwrap().is_empty());

    // Online again: everything goes, and a second device sees the same page.
    let report = core.sync().await.unwrap();
    assert_eq!(report.rejected, 0, "{report:?}");
    assert!(core.matter_detail(&mid).unwrap().unsynced.is_empty());
    let other_dir = tempfile::tempdir().unwrap();
    let mut other = second_device(&env, other_dir.path()).await;
    let there = other.matter_detail(&mid).unwrap();
    let here = core.matter_detail(&mid).unwrap();
    assert_eq!(there, here);
    assert_eq!(
        there.file_notes.len(),
        1,
        "the deleted note is gone there too"
    );
    assert!(there.tasks.iter().all(|t| t.done));
    env.cleanup_keyring();
    env.forget_device(other_dir.path());
}

#[tokio::test]
async fn a_clash_is_shown_field_by_field_and_resolved_by_choice() {
    let env = Env::new().await;
    let mut first = env.signed_in().await;
    let other_dir = tempfile::tempdir().unwrap();
    let mut second = second_device(&env, other_dir.path()).await;
    let matter = first.matters().unwrap()[0].clone();

    first
        .save_record(
            RecordKind::Matter,
            Some(&matter.id),
            fields(json!({"title": "Title from the office"})),
        )
        .unwrap();
    first.sync().await.unwrap();
    second
        .save_record(
            RecordKind::Matter,
            Some(&matter.id),
            fields(json!({"title": "Title from the plane", "description": "Drafted offline"})),
        )
        .unwrap();
    let report = second.sync().await.unwrap();
    assert_eq!(report.conflicts, 1, "{report:?}");

    let views = second.conflict_views().unwrap();
    assert_eq!(views.len(), 1);
    let v = &views[0];
    assert_eq!(v.kind, ConflictKind::SameField);
    assert_eq!(v.record_kind, RecordKind::Matter);
    assert_eq!(v.matter_number.as_deref(), Some(matter.number.as_str()));
    assert_eq!(
        v.label, "Title from the office",
        "named as the service holds it while the clash waits"
    );
    assert_eq!(v.fields.len(), 1, "only the clashing field: {:?}", v.fields);
    assert_eq!(v.fields[0].field, "title");
    assert_eq!(v.fields[0].mine, json!("Title from the plane"));
    assert_eq!(v.fields[0].theirs, json!("Title from the office"));
    let page = second.matter_detail(&matter.id).unwrap();
    assert!(page.conflicted.contains(&matter.id));
    assert_eq!(
        page.matter.description, "Drafted offline",
        "the rest merged"
    );

    // A bad id is refused before the service is asked.
    assert_eq!(
        second
            .resolve_conflict_choice("nope", ConflictChoice::KeepMine)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
    second
        .resolve_conflict_choice(
            &v.id,
            ConflictChoice::Edit {
                fields: fields(json!({"title": "Title agreed by both"})),
            },
        )
        .await
        .unwrap();
    assert!(second.conflict_views().unwrap().is_empty());
    second.sync().await.unwrap();
    first.sync().await.unwrap();
    for core in [&mut first, &mut second] {
        assert_eq!(
            core.matter_detail(&matter.id).unwrap().matter.title,
            "Title agreed by both"
        );
    }
    env.cleanup_keyring();
    env.forget_device(other_dir.path());
}

#[tokio::test]
async fn the_timer_counts_pauses_survives_a_lock_and_runs_one_at_a_time() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let matters = core.matters().unwrap();
    assert!(core.timer().unwrap().is_none());
    assert_eq!(core.stop_timer().unwrap_err().code(), ErrorCode::NoTimer);
    assert_eq!(core.pause_timer().unwrap_err().code(), ErrorCode::NoTimer);
    assert_eq!(
        core.start_timer(&uuid::Uuid::new_v4().to_string())
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );

    let t = core.start_timer(&matters[0].id).unwrap();
    assert!(t.running);
    assert_eq!(t.matter_number, matters[0].number);
    assert!(t.elapsed_secs <= 1);
    let other = core.start_timer(&matters[1].id).unwrap_err();
    assert_eq!(other.code(), ErrorCode::TimerRunning);
    assert!(other.to_string().contains(&matters[0].number), "{other}");

    // The timer is kept in the vault: a lock and unlock (or a restart) keeps it.
    core.lock().unwrap();
    assert_eq!(core.timer().unwrap_err().code(), ErrorCode::VaultLocked);
    core.unlock(None).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let paused = core.pause_timer().unwrap();
    assert!(!paused.running);
    assert!(paused.elapsed_secs >= 2, "{paused:?}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let still = core.timer().unwrap().unwrap();
    assert_eq!(
        still.elapsed_secs, paused.elapsed_secs,
        "paused means paused"
    );
    let resumed = core.resume_timer().unwrap();
    assert!(resumed.running);
    let stopped = core.stop_timer().unwrap();
    assert!(!stopped.running);
    assert!(stopped.elapsed_secs >= paused.elapsed_secs);
    assert!(core.timer().unwrap().is_none());
    // Now another matter may have one.
    core.start_timer(&matters[1].id).unwrap();
    env.cleanup_keyring();
}

/// The authenticator's code `steps` steps from now (an app set up from the base32 secret).
fn totp_code(secret_b32: &str, steps: u64) -> String {
    let app = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(totp_rs::Secret::try_from_base32(secret_b32).unwrap())
        .build()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    app.generate(now + 30 * steps).to_string()
}

#[tokio::test]
async fn a_second_factor_is_asked_for_and_nothing_is_made_until_it_is_right() {
    let env = Env::new().await;
    // The member sets up an authenticator (as the practice's web page would).
    let http = env.http();
    let base = env.server.url();
    let answer: Value = http
        .post(format!("{base}v1/auth/sign-in"))
        .json(&json!({"email": seed::DEMO_EMAIL, "password": seed::DEMO_PASSWORD, "device_name": "browser"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = answer["token"].as_str().unwrap().to_owned();
    let setup: Value = http
        .post(format!("{base}v1/auth/mfa/totp/setup"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let confirmed: Value = http
        .post(format!("{base}v1/auth/mfa/totp/confirm"))
        .bearer_auth(&token)
        .json(&json!({"code": totp_code(&secret, 0)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recovery: Vec<String> = serde_json::from_value(confirmed["codes"].clone()).unwrap();

    let mut core = Core::new(env.config());
    core.start().unwrap();
    let url = env.server.url();
    let err = core
        .sign_in_with_code(&url, seed::DEMO_EMAIL, seed::DEMO_PASSWORD, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::MfaRequired);
    assert!(
        !env.vault_path().exists(),
        "no vault without the second factor"
    );
    let wrong = core
        .sign_in_with_code(
            &url,
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            None,
            Some("000 000"),
        )
        .await;
    // "000000" could, one time in a million, be the right code; then try another.
    if let Err(e) = wrong {
        assert_eq!(e.code(), ErrorCode::WrongCode);
        assert!(!env.vault_path().exists());
        let st = core
            .sign_in_with_code(
                &url,
                seed::DEMO_EMAIL,
                seed::DEMO_PASSWORD,
                None,
                Some(&totp_code(&secret, 1)),
            )
            .await
            .unwrap();
        assert!(st.signed_in);
    }
    assert!(env.vault_path().exists());
    core.sync().await.unwrap();
    assert_eq!(core.matters().unwrap().len(), seed::demo_matters().len());

    // A recovery code works too, on another device.
    let other_dir = tempfile::tempdir().unwrap();
    let mut cfg = strongroom_client::Config::new(other_dir.path().join("data"));
    cfg.keyring_service = env.service.clone();
    cfg.practice_ca_pem = Some(env.ca_pem.clone());
    cfg.without_os_roots = true;
    let mut other = Core::new(cfg);
    other.start().unwrap();
    let st = other
        .sign_in_with_code(
            &url,
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            None,
            Some(&recovery[0]),
        )
        .await
        .unwrap();
    assert!(st.signed_in);
    other.sign_out().await.unwrap();
    env.cleanup_keyring();
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_service_and_wipes_the_device() {
    let env = Env::new().await;
    let mut core = env.signed_in().await;
    let profile = strongroom_client::profile_for(&env.app_dir.path().join("data"));
    let token = env
        .keystore()
        .get(strongroom_keystore::SecretKind::SessionToken, &profile)
        .unwrap()
        .unwrap();
    let token = String::from_utf8(token.to_vec()).unwrap();
    // An edit not yet synced: the status counts it, for the UI's warning.
    let m = core.matters().unwrap()[0].clone();
    core.save_record(
        RecordKind::Matter,
        Some(&m.id),
        fields(json!({"description": "x"})),
    )
    .unwrap();
    assert_eq!(core.status().unwrap().pending_edits, 1);

    let st = core.sign_out().await.unwrap();
    assert!(!st.signed_in);
    assert!(!env.vault_path().exists());
    let ks = env.keystore();
    for kind in [
        strongroom_keystore::SecretKind::VaultKey,
        strongroom_keystore::SecretKind::SessionToken,
    ] {
        assert!(ks.get(kind, &profile).unwrap().is_none(), "{kind:?} left");
    }
    // The token no longer works, and the audit log says the member signed out.
    let http = env.http();
    let resp = http
        .get(format!(
            "{}v1/sync/changes?after=0&limit=1",
            env.server.url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let kinds: Vec<_> = env
        .server
        .store
        .audit_entries(None, 0, 1000)
        .await
        .unwrap()
        .iter()
        .filter_map(|e| e.kind())
        .collect();
    assert!(kinds.contains(&AuditKind::SignOut), "{kinds:?}");
    assert_eq!(
        core.sign_out().await.unwrap_err().code(),
        ErrorCode::NotSignedIn
    );

    // Signed out with the service gone: the device is wiped all the same.
    let mut again = env.signed_in().await;
    env.server.stop().await;
    let st = again.sign_out().await.unwrap();
    assert!(!st.signed_in);
    assert!(!env.vault_path().exists());
}
