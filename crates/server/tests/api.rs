//! The hosted service over real TLS on loopback: health, sign-in, the change feed, tenant
//! isolation, hostile input and the audit log (what it records, its verifier, tampering
//! with it past the store, concurrent appends), each against both stores (SQLite and
//! PostgreSQL), plus the stores' own semantics and PostgreSQL's ordering of concurrent
//! writers. Also second factors (TOTP and recovery codes), re-authentication and the
//! practice's MFA setting, the operator commands (the built binary, on both stores), push
//! and conflicts (`api/push.rs`), breach notices (`api/incidents.rs`), policy updates
//! (`api/policies.rs`) and the OpenAPI document against the router's own table of
//! routes.
//!
//! The PostgreSQL variants use the database at `STRONGROOM_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), each test in a fresh schema of its own that
//! is dropped at the end. Without a reachable PostgreSQL they fail, naming the URL.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use strongroom_protocol::{ChangeRecord, ChangesPage, Matter, MatterStatus, Role};
use strongroom_server::audit::{
    Actor, AuditKind, BrokenReason, NewAuditEvent, Verdict, email_sha256, entry_hash,
};
use strongroom_server::store::records::Viewer;
use strongroom_server::store::{NewSession, Store, StoreError};
use strongroom_server::{RunningServer, ServeOptions, StoreConfig, auth, seed};
use tokio_postgres::NoTls;
use uuid::Uuid;

#[path = "api/access.rs"]
mod access;
use access::{
    an_expired_or_idle_session_fails_on_its_next_request, hostile_record_writes_get_4xx_never_5xx,
    invitations_work_once_and_expire, records_of_every_kind_round_trip_with_versions,
    restricted_matters_are_invisible_to_everyone_not_named, roles_and_disabling_members,
    the_route_matrix_lets_no_stranger_through,
};
#[path = "api/consent.rs"]
mod consent;
use consent::{
    a_browser_signs_in_with_the_second_factor_when_the_member_has_one,
    a_choice_made_on_one_surface_shows_on_the_other,
    accepting_and_rejecting_are_one_request_each_and_kept_as_history, consent_is_each_members_own,
    cookie_changes_without_the_csrf_defence_are_refused,
    every_cookie_the_service_sets_is_in_the_catalogue, global_privacy_control_refuses_analytics,
    nothing_non_essential_is_set_before_consent,
    notification_changes_are_recorded_as_made_where_the_session_is,
    strictly_necessary_cannot_be_turned_off, the_gpc_support_resource_is_served,
    the_web_session_cookie_is_host_only_http_only_and_stored_as_a_hash,
    usage_aggregates_never_cover_fewer_than_five_practices,
};
#[path = "api/devices.rs"]
mod devices;
#[path = "api/incidents.rs"]
mod incidents;
use incidents::{
    a_breach_notice_reaches_every_affected_member_within_a_minute,
    breach_notices_are_acknowledged_once_and_only_within_the_practice,
    malformed_incident_files_are_refused_and_write_nothing,
};
#[path = "api/policies.rs"]
mod policies;
use policies::{
    publishing_a_policy_reaches_every_member_once_with_the_diff,
    the_first_policies_are_public_and_nothing_acknowledged_diffs_against_empty,
};
#[path = "api/mail.rs"]
mod mail;
use mail::{
    an_invitation_is_emailed_and_its_code_accepts_it,
    an_invitation_that_cannot_be_emailed_is_withdrawn,
};
#[path = "api/live.rs"]
mod live;
use live::{
    a_revoked_sessions_live_stream_ends,
    the_live_stream_pokes_on_each_write_to_its_own_practice_only,
};
#[path = "api/logs.rs"]
mod logs;
#[path = "api/notifications.rs"]
mod notifications;
use notifications::{
    an_opted_out_category_is_never_sent,
    mail_is_retried_until_the_smtp_server_answers_and_arrives_once,
    members_reach_only_their_own_preferences_and_notices,
    notification_preferences_default_change_and_refuse_essential_off,
    one_click_unsubscribe_stops_that_category_and_no_other,
};
#[path = "api/privacy.rs"]
mod privacy;
#[path = "api/push.rs"]
mod push;
#[path = "api/scale.rs"]
mod scale;
#[path = "api/support.rs"]
mod support;
#[path = "api/web.rs"]
mod web;
#[path = "api/wipes.rs"]
mod wipes;
use support::{
    a_support_grant_runs_its_whole_cycle, declined_expired_and_foreign_grants_reach_nothing,
    staff_and_member_tokens_stay_in_their_own_realms, support_requests_are_validated,
};
use web::the_page_and_its_assets_are_served_under_their_own_policy;
#[path = "api/integrations.rs"]
mod integrations;
#[path = "api/spec.rs"]
mod spec;
use devices::{
    a_member_cannot_see_or_revoke_another_members_sessions,
    a_sessions_last_ip_and_last_seen_move_with_use,
    each_device_is_a_session_listed_with_its_metadata, revoking_a_device_ends_its_session_at_once,
};
use integrations::integration_tokens_keep_to_their_scopes_and_are_counted;
use privacy::{
    an_export_holds_every_record_and_checks_against_its_manifest,
    devices_report_holdings_and_all_others_can_be_signed_out,
    each_practice_checks_its_own_audit_chain_from_outside,
    removing_a_members_credentials_ends_their_sessions_and_frees_their_email,
    the_access_review_finds_dormant_credentials_and_disables_them,
};
use push::{
    a_devices_own_queued_edits_never_clash_with_each_other,
    a_push_to_a_restricted_matter_is_rejected_and_changes_nothing,
    a_read_only_members_push_is_rejected_per_mutation,
    a_retried_push_is_answered_the_same_and_writes_nothing,
    edits_against_deletes_and_deletes_against_edits_are_conflicts,
    edits_to_different_fields_merge_and_the_same_field_conflicts,
    field_versions_are_kept_by_the_records_api_and_batch_writes,
    interleaved_devices_apply_each_mutation_once, malformed_pushes_get_4xx_never_5xx,
    resolving_keeps_mine_theirs_or_an_edit_and_everyone_sees_it,
};
use spec::{
    a_staff_write_to_a_malformed_path_is_not_found, every_answer_carries_the_security_headers,
    lengths_are_counted_in_characters, query_numbers_out_of_range_are_refused,
    the_server_chooses_the_cipher_suite,
};
use wipes::{
    a_disabled_members_device_is_told_revoked,
    a_revoked_session_is_told_so_and_confirms_its_wipe_once,
    an_expired_session_is_not_told_revoked_and_confirms_nothing,
};

/// Generates each named test once per store: `sqlite::NAME` and `postgres::NAME`.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await
                }
            )*
        }
    };
}

on_both_stores!(
    health_over_tls_1_2_and_1_3,
    sign_in_and_pull_the_demo_practice,
    wrong_password_unknown_user_and_bad_tokens_are_refused,
    another_practice_sees_nothing_of_this_one,
    tokens_are_stored_only_as_hashes,
    hostile_input_gets_4xx_problems_never_5xx,
    deletes_leave_tombstones_in_the_feed,
    the_data_directory_and_database_are_owner_only,
    a_flood_of_sign_ins_is_turned_away_not_queued,
    the_store_keeps_versions_tombstones_and_sessions,
    sign_ins_and_refusals_are_audited_without_secrets,
    the_audit_log_refuses_changes_while_its_triggers_stand,
    an_edited_audit_entry_is_found,
    a_rehashed_audit_entry_is_found,
    a_deleted_audit_entry_is_found,
    a_deleted_last_audit_entry_is_found,
    swapped_audit_entries_are_found,
    concurrent_appends_keep_one_intact_chain,
    bulk_put_takes_a_block_of_seqs_in_slice_order,
    records_of_every_kind_round_trip_with_versions,
    restricted_matters_are_invisible_to_everyone_not_named,
    roles_and_disabling_members,
    invitations_work_once_and_expire,
    the_route_matrix_lets_no_stranger_through,
    hostile_record_writes_get_4xx_never_5xx,
    an_expired_or_idle_session_fails_on_its_next_request,
    an_invitation_is_emailed_and_its_code_accepts_it,
    an_invitation_that_cannot_be_emailed_is_withdrawn,
    operator_commands_create_a_practice_and_a_member_who_can_sign_in,
    seed_makes_a_practice_whose_feed_has_every_matter_in_order,
    signing_out_ends_that_session_at_once_and_no_other,
    repeated_failures_make_that_account_wait_and_no_other,
    a_successful_sign_in_forgets_the_failures,
    enrolling_an_authenticator_makes_sign_in_ask_for_its_code,
    a_wrong_second_factor_is_refused_counted_and_audited,
    an_authenticator_code_is_never_accepted_twice,
    a_recovery_code_works_once_and_regenerating_retires_the_old_ones,
    a_practice_requiring_mfa_admits_only_enrollment_until_enrolled,
    sensitive_routes_need_a_recent_reauthentication,
    only_an_admin_changes_the_practice_settings,
    a_mandatory_second_factor_cannot_be_disabled,
    each_device_is_a_session_listed_with_its_metadata,
    revoking_a_device_ends_its_session_at_once,
    a_member_cannot_see_or_revoke_another_members_sessions,
    a_sessions_last_ip_and_last_seen_move_with_use,
    edits_to_different_fields_merge_and_the_same_field_conflicts,
    resolving_keeps_mine_theirs_or_an_edit_and_everyone_sees_it,
    edits_against_deletes_and_deletes_against_edits_are_conflicts,
    a_devices_own_queued_edits_never_clash_with_each_other,
    a_retried_push_is_answered_the_same_and_writes_nothing,
    interleaved_devices_apply_each_mutation_once,
    a_read_only_members_push_is_rejected_per_mutation,
    a_push_to_a_restricted_matter_is_rejected_and_changes_nothing,
    malformed_pushes_get_4xx_never_5xx,
    field_versions_are_kept_by_the_records_api_and_batch_writes,
    the_live_stream_pokes_on_each_write_to_its_own_practice_only,
    a_revoked_sessions_live_stream_ends,
    a_revoked_session_is_told_so_and_confirms_its_wipe_once,
    an_expired_session_is_not_told_revoked_and_confirms_nothing,
    a_disabled_members_device_is_told_revoked,
    devices_report_holdings_and_all_others_can_be_signed_out,
    the_access_review_finds_dormant_credentials_and_disables_them,
    each_practice_checks_its_own_audit_chain_from_outside,
    an_export_holds_every_record_and_checks_against_its_manifest,
    a_support_grant_runs_its_whole_cycle,
    declined_expired_and_foreign_grants_reach_nothing,
    staff_and_member_tokens_stay_in_their_own_realms,
    support_requests_are_validated,
    integration_tokens_keep_to_their_scopes_and_are_counted,
    removing_a_members_credentials_ends_their_sessions_and_frees_their_email,
    query_numbers_out_of_range_are_refused,
    lengths_are_counted_in_characters,
    a_staff_write_to_a_malformed_path_is_not_found,
    every_answer_carries_the_security_headers,
    the_server_chooses_the_cipher_suite,
    the_page_and_its_assets_are_served_under_their_own_policy,
    notification_preferences_default_change_and_refuse_essential_off,
    members_reach_only_their_own_preferences_and_notices,
    one_click_unsubscribe_stops_that_category_and_no_other,
    an_opted_out_category_is_never_sent,
    mail_is_retried_until_the_smtp_server_answers_and_arrives_once,
    every_cookie_the_service_sets_is_in_the_catalogue,
    nothing_non_essential_is_set_before_consent,
    accepting_and_rejecting_are_one_request_each_and_kept_as_history,
    strictly_necessary_cannot_be_turned_off,
    global_privacy_control_refuses_analytics,
    the_gpc_support_resource_is_served,
    the_web_session_cookie_is_host_only_http_only_and_stored_as_a_hash,
    cookie_changes_without_the_csrf_defence_are_refused,
    a_choice_made_on_one_surface_shows_on_the_other,
    consent_is_each_members_own,
    notification_changes_are_recorded_as_made_where_the_session_is,
    usage_aggregates_never_cover_fewer_than_five_practices,
    a_browser_signs_in_with_the_second_factor_when_the_member_has_one,
    a_breach_notice_reaches_every_affected_member_within_a_minute,
    breach_notices_are_acknowledged_once_and_only_within_the_practice,
    malformed_incident_files_are_refused_and_write_nothing,
    the_first_policies_are_public_and_nothing_acknowledged_diffs_against_empty,
    publishing_a_policy_reaches_every_member_once_with_the_diff,
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn test_database_url() -> String {
    std::env::var("STRONGROOM_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_DATABASE_URL.to_owned())
}

/// Connects to PostgreSQL, driving the connection on the current runtime.
async fn pg_connect(url: &str) -> Result<tokio_postgres::Client, String> {
    let mut cfg: tokio_postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
    cfg.connect_timeout(Duration::from_secs(10));
    let (client, conn) =
        cfg.connect(NoTls)
            .await
            .map_err(|e| match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            })?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

/// `url` with its search path set to `schema` (a URL, or a `key=value` string).
fn with_search_path(url: &str, schema: &str) -> String {
    if url.contains("://") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-csearch_path%3D{schema}")
    } else {
        format!("{url} options='-csearch_path={schema}'")
    }
}

/// Runs statements that PostgreSQL itself wrote with `format(... %I ...)`, so identifiers
/// are quoted by the server, never pasted together here.
async fn run_generated(c: &tokio_postgres::Client, rows: Vec<tokio_postgres::Row>) {
    for r in rows {
        let sql: String = r.get(0);
        let _ = c.batch_execute(&sql).await;
    }
}

/// A schema of this test's own in the test database, dropped when this is dropped.
struct PgSchema {
    admin_url: String,
    name: String,
    /// Connects with the search path set to the schema.
    url: String,
}

impl PgSchema {
    async fn create() -> Self {
        let admin_url = test_database_url();
        let admin = pg_connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {admin_url}: {e}. The PostgreSQL variants of \
                 these tests need it: start it there, or set STRONGROOM_TEST_DATABASE_URL \
                 (scripts/test starts a throwaway cluster when none answers)"
            )
        });
        // Leftovers of runs that died more than a day ago.
        let stale = admin
            .query(
                "SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', nspname) FROM pg_namespace
                 WHERE nspname ~ '^sr_[0-9]+_[0-9a-f]+$'
                   AND split_part(nspname, '_', 2)::bigint < extract(epoch FROM now())::bigint - 86400",
                &[],
            )
            .await
            .unwrap_or_default();
        run_generated(&admin, stale).await;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let name = format!("sr_{stamp}_{}", Uuid::new_v4().simple());
        let create = admin
            .query_one("SELECT format('CREATE SCHEMA %I', $1::text)", &[&name])
            .await
            .unwrap();
        let sql: String = create.get(0);
        admin
            .batch_execute(&sql)
            .await
            .unwrap_or_else(|e| panic!("creating schema {name} at {admin_url}: {e}"));
        let url = with_search_path(&admin_url, &name);
        PgSchema {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // A runtime of its own: drop may run inside the test's runtime, or while unwinding.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let Ok(c) = pg_connect(&url).await else {
                    return;
                };
                let _ = c.batch_execute("SET lock_timeout = '10s'").await;
                if let Ok(rows) = c
                    .query(
                        "SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text)",
                        &[&name],
                    )
                    .await
                {
                    run_generated(&c, rows).await;
                }
            });
        })
        .join();
    }
}

struct Fixture {
    server: RunningServer,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    /// Last, so the schema goes after the server.
    pg: Option<PgSchema>,
}

impl Fixture {
    async fn new(backend: Backend) -> Self {
        Self::configured(backend, strongroom_server::ServiceSettings::default()).await
    }

    /// A fixture whose server emails through `smtp`.
    async fn with_smtp(backend: Backend, smtp: strongroom_server::config::SmtpSettings) -> Self {
        Self::configured(
            backend,
            strongroom_server::ServiceSettings {
                smtp: Some(smtp),
                ..Default::default()
            },
        )
        .await
    }

    async fn configured(backend: Backend, settings: strongroom_server::ServiceSettings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgSchema::create().await),
        };
        let store = match &pg {
            None => StoreConfig::Sqlite,
            Some(schema) => StoreConfig::Postgres {
                url: schema.url.clone(),
            },
        };
        let server = strongroom_server::start_configured(
            ServeOptions {
                data_dir: dir.path().to_owned(),
                listen: "127.0.0.1:0".parse().unwrap(),
                seed_demo: true,
            },
            store,
            settings,
        )
        .await
        .unwrap();
        let http = client_trusting(&std::fs::read(&server.ca_pem_path).unwrap(), None);
        Fixture {
            server,
            http,
            _dir: dir,
            pg,
        }
    }

    /// A plain connection into this test's PostgreSQL schema.
    async fn pg_client(&self) -> tokio_postgres::Client {
        let schema = self.pg.as_ref().expect("a PostgreSQL fixture");
        pg_connect(&schema.url).await.unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.url(), path.trim_start_matches('/'))
    }

    async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.http
            .post(self.url("/v1/auth/sign-in"))
            .json(&json!({"email": email, "password": password, "device_name": "test"}))
            .send()
            .await
            .unwrap()
    }

    async fn token(&self, email: &str, password: &str) -> String {
        let resp = self.sign_in(email, password).await;
        assert_eq!(resp.status(), 200);
        resp.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn changes(&self, token: &str, query: &str) -> reqwest::Response {
        self.http
            .get(self.url(&format!("/v1/sync/changes{query}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

fn client_trusting(
    ca_pem: &[u8],
    versions: Option<&[&'static rustls::SupportedProtocolVersion]>,
) -> reqwest::Client {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions.unwrap_or(rustls::DEFAULT_VERSIONS))
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(cfg)
        .build()
        .unwrap()
}

async fn health_over_tls_1_2_and_1_3(backend: Backend) {
    let f = Fixture::new(backend).await;
    for versions in [
        &[&rustls::version::TLS12][..],
        &[&rustls::version::TLS13][..],
    ] {
        let http = client_trusting(
            &std::fs::read(&f.server.ca_pem_path).unwrap(),
            Some(versions),
        );
        let v: Value = http
            .get(f.url("/v1/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["status"], "ok");
        assert_eq!(v["protocol_version"], 1);
    }
    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new();
    assert!(
        plain
            .get(format!("http://{}/v1/health", f.server.addr))
            .send()
            .await
            .is_err()
    );
    f.server.stop().await;
}

async fn sign_in_and_pull_the_demo_practice(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let resp = f.changes(&token, "?after=0&limit=3").await;
    assert_eq!(resp.status(), 200);
    let page: ChangesPage = resp.json().await.unwrap();
    assert_eq!(page.changes.len(), 3);
    assert!(page.has_more);
    assert_eq!(page.cursor, page.changes[2].seq);
    let mut all = page.changes;
    let mut cursor = page.cursor;
    loop {
        let p: ChangesPage = f
            .changes(&token, &format!("?after={cursor}&limit=3"))
            .await
            .json()
            .await
            .unwrap();
        all.extend(p.changes);
        cursor = p.cursor;
        if !p.has_more {
            break;
        }
    }
    assert_eq!(all.len(), seed::demo_change_count());
    // Asked, the feed says how many changes wait after a cursor, in all.
    let mid: ChangesPage = f
        .changes(&token, &format!("?after={}&limit=1&count=true", all[2].seq))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mid.total, Some((all.len() - 3) as u64));
    assert_eq!(mid.changes.len(), 1);
    let seqs: Vec<i64> = all.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // An empty page keeps the cursor.
    let p: ChangesPage = f
        .changes(&token, &format!("?after={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((p.changes.len(), p.cursor, p.has_more), (0, cursor, false));
    f.server.stop().await;
}

async fn wrong_password_unknown_user_and_bad_tokens_are_refused(backend: Backend) {
    let f = Fixture::new(backend).await;
    for (email, pw) in [
        (seed::DEMO_EMAIL, "wrong-password"),
        ("nobody@example.test", "whatever-password"),
    ] {
        let resp = f.sign_in(email, pw).await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "invalid_credentials");
        assert!(!body.to_string().contains(pw));
    }
    for token in ["", "garbage", &"x".repeat(5000)] {
        let resp = f.changes(token, "").await;
        assert_eq!(resp.status(), 401, "token {token:.20}");
    }
    let resp = f.http.get(f.url("/v1/sync/changes")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    f.server.stop().await;
}

async fn another_practice_sees_nothing_of_this_one(backend: Backend) {
    let f = Fixture::new(backend).await;
    let store = f.server.store.clone();
    let other = store.create_practice("Other & Partners").await.unwrap();
    let hash = auth::hash_password("other-practice-password").unwrap();
    store
        .create_user(
            other,
            "lawyer@other.example",
            "Other Lawyer",
            &hash,
            Role::Lawyer,
        )
        .await
        .unwrap();
    let theirs = Matter {
        id: Uuid::new_v4(),
        number: "OP-1".into(),
        title: "Other practice's matter".into(),
        matter_type: "Litigation".into(),
        status: MatterStatus::Open,
        client_name: "Their Client".into(),
        responsible: "Other Lawyer".into(),
        opened_on: "2026-01-01".into(),
        closed_on: None,
        description: "Their description".into(),
        custom_fields: [("Court".to_owned(), "Federal".to_owned())].into(),
    };
    store.put_matter(other, &theirs).await.unwrap();

    let their_token = f
        .token("lawyer@other.example", "other-practice-password")
        .await;
    let page: ChangesPage = f
        .changes(&their_token, "?after=0&limit=1000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.changes.len(), 1, "only their own matter");
    assert_eq!(
        page.changes[0].record,
        strongroom_protocol::ChangeRecord::Matter {
            matter: theirs.clone()
        }
    );
    let body = serde_json::to_string(&page).unwrap();
    for demo in seed::demo_matters() {
        assert!(!body.contains(&demo.title), "leaked {}", demo.title);
    }

    let demo_token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let page: ChangesPage = f
        .changes(&demo_token, "?after=0&limit=1000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.changes.len(), seed::demo_change_count());
    assert!(
        !serde_json::to_string(&page)
            .unwrap()
            .contains("Other practice's matter")
    );
    f.server.stop().await;
}

async fn tokens_are_stored_only_as_hashes(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let dir = f._dir.path().to_owned();
    f.server.stop().await;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
    }
    let hash = auth::token_hash(&token);
    match backend {
        Backend::Sqlite => {
            let db = std::fs::read(dir.join("server.db")).unwrap();
            let wal = std::fs::read(dir.join("server.db-wal")).unwrap_or_default();
            assert!(
                [db, wal]
                    .iter()
                    .any(|b| b.windows(hash.len()).any(|w| w == hash.as_bytes()))
            );
        }
        Backend::Postgres => {
            // The store lives in the database, not the data directory.
            assert!(!dir.join("server.db").exists());
            let c = f.pg_client().await;
            let hashed: i64 = c
                .query_one(
                    "SELECT count(*) FROM sessions WHERE token_hash = $1",
                    &[&hash],
                )
                .await
                .unwrap()
                .get(0);
            assert_eq!(hashed, 1, "the session is stored by its token's hash");
            // No row of any table holds the token itself.
            for (table, sql) in [
                ("practices", "SELECT to_jsonb(t)::text FROM practices t"),
                ("users", "SELECT to_jsonb(t)::text FROM users t"),
                ("sessions", "SELECT to_jsonb(t)::text FROM sessions t"),
                ("records", "SELECT to_jsonb(t)::text FROM records t"),
                ("audit_log", "SELECT to_jsonb(t)::text FROM audit_log t"),
            ] {
                let rows = c.query(sql, &[]).await.unwrap();
                assert!(!rows.is_empty(), "{table} has rows to scan");
                for r in rows {
                    let text: String = r.get(0);
                    assert!(!text.contains(&token), "{table} holds the token");
                }
            }
        }
    }
}

async fn hostile_input_gets_4xx_problems_never_5xx(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"{\"email\":1}".to_vec(),
        json!({"email": "a@b", "password": "", "device_name": ""})
            .to_string()
            .into_bytes(),
        json!({"email": "no-at-sign", "password": "x", "device_name": ""})
            .to_string()
            .into_bytes(),
        json!({"email": "a@b", "password": "x".repeat(2000), "device_name": ""})
            .to_string()
            .into_bytes(),
        vec![0xff, 0xfe, 0x00],
        vec![b'a'; 200_000],
    ];
    for body in bodies {
        let resp = f
            .http
            .post(f.url("/v1/auth/sign-in"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        assert!(
            (400..500).contains(&status),
            "{status} for {:?}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        );
    }
    for q in [
        "?after=-1",
        "?after=abc",
        "?limit=0",
        "?limit=5001",
        "?limit=-5",
        "?after=99999999999999999999",
    ] {
        let resp = f.changes(&token, q).await;
        assert_eq!(resp.status(), 400, "{q}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "bad_request");
    }
    let resp = f.http.get(f.url("/v1/nope")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    // A client speaking another protocol version is told so plainly.
    let resp = f
        .http
        .get(f.url("/v1/sync/changes"))
        .bearer_auth(&token)
        .header("strongroom-protocol", "99")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["code"],
        "incompatible_protocol"
    );
    f.server.stop().await;
}

async fn deletes_leave_tombstones_in_the_feed(backend: Backend) {
    let f = Fixture::new(backend).await;
    let store = f.server.store.clone();
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let page: ChangesPage = f
        .changes(&token, "?after=0&limit=1000")
        .await
        .json()
        .await
        .unwrap();
    let strongroom_protocol::ChangeRecord::Matter { matter } = &page.changes[0].record else {
        panic!("expected a matter")
    };
    let user = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let seq = store
        .delete_matter(user.practice_id, matter.id)
        .await
        .unwrap();
    let after: ChangesPage = f
        .changes(&token, &format!("?after={}", page.cursor))
        .await
        .json()
        .await
        .unwrap();
    // The matter's records go first, each with a tombstone of its own, then the matter.
    let on_it = page
        .changes
        .iter()
        .filter(|c| match &c.record {
            strongroom_protocol::ChangeRecord::Participant { participant } => {
                participant.matter_id == matter.id
            }
            strongroom_protocol::ChangeRecord::FileNote { file_note } => {
                file_note.matter_id == matter.id
            }
            strongroom_protocol::ChangeRecord::Task { task } => task.matter_id == matter.id,
            strongroom_protocol::ChangeRecord::TimeEntry { time_entry } => {
                time_entry.matter_id == matter.id
            }
            strongroom_protocol::ChangeRecord::Document { document } => {
                document.matter_id == matter.id
            }
            _ => false,
        })
        .count();
    assert!(on_it > 0, "the demo matter has records on it");
    assert_eq!(after.changes.len(), on_it + 1);
    assert!(
        after
            .changes
            .iter()
            .all(|c| matches!(c.record, strongroom_protocol::ChangeRecord::Deleted { .. }))
    );
    let last = after.changes.last().unwrap();
    assert_eq!(last.seq, seq);
    assert_eq!(
        last.record,
        strongroom_protocol::ChangeRecord::Deleted {
            record_kind: strongroom_protocol::RecordKind::Matter,
            id: matter.id
        }
    );
    assert!(
        !serde_json::to_string(&after)
            .unwrap()
            .contains(&matter.title)
    );
    f.server.stop().await;
}

async fn the_data_directory_and_database_are_owner_only(backend: Backend) {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new(backend).await;
    let _ = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let dir = f._dir.path().to_owned();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("server-key.pem")), 0o600);
    match backend {
        Backend::Sqlite => assert_eq!(mode(&dir.join("server.db")), 0o600),
        Backend::Postgres => assert!(!dir.join("server.db").exists()),
    }
    for name in ["server.db-wal", "server.db-shm"] {
        let p = dir.join(name);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{name}");
        }
    }
    f.server.stop().await;
}

async fn a_flood_of_sign_ins_is_turned_away_not_queued(backend: Backend) {
    let f = Fixture::new(backend).await;
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let http = f.http.clone();
        let url = f.url("/v1/auth/sign-in");
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .json(&json!({"email": seed::DEMO_EMAIL, "password": "wrong-password-guess", "device_name": "x"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&429),
        "some must be turned away: {statuses:?}"
    );
    assert!(
        statuses.contains(&401),
        "some must be checked: {statuses:?}"
    );
    f.server.stop().await;
}

fn sample_matter(number: &str) -> Matter {
    Matter {
        id: Uuid::new_v4(),
        number: number.into(),
        title: format!("Matter {number}"),
        matter_type: "Commercial".into(),
        status: MatterStatus::Open,
        client_name: "A Client".into(),
        responsible: "A Lawyer".into(),
        opened_on: "2026-03-04".into(),
        closed_on: None,
        description: String::new(),
        custom_fields: BTreeMap::new(),
    }
}

/// The store's contract, directly: numbers, versions, tombstones, revival, unknown
/// practices, case-blind emails, and session expiry, idleness and touching.
async fn the_store_keeps_versions_tombstones_and_sessions(backend: Backend) {
    use strongroom_server::store::{PracticeId, Principal};
    let f = Fixture::new(backend).await;
    let store = f.server.store.clone();
    let p = store.create_practice("Semantics & Co").await.unwrap();
    assert_eq!(store.practice(p).await.unwrap().name, "Semantics & Co");
    let nowhere = PracticeId(Uuid::new_v4());
    assert!(matches!(
        store.practice(nowhere).await,
        Err(StoreError::NotFound)
    ));

    // Emails are unique and found whatever their case.
    let user = store
        .create_user(
            p,
            "Case@Example.test",
            "Case Person",
            "phc-hash",
            Role::Lawyer,
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_user(p, "case@example.TEST", "Again", "phc-hash", Role::Lawyer)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let found = store
        .user_by_email("CASE@example.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            found.id,
            found.practice_id,
            found.email.as_str(),
            found.display_name.as_str(),
            found.password_hash.as_str(),
            found.disabled
        ),
        (
            user,
            p,
            "Case@Example.test",
            "Case Person",
            "phc-hash",
            false
        )
    );
    assert!(
        store
            .user_by_email("nobody@example.test")
            .await
            .unwrap()
            .is_none()
    );

    // Every write takes the practice's next number; a rewrite bumps the version.
    let mut m = sample_matter("S-1");
    assert_eq!(store.put_matter(p, &m).await.unwrap(), 1);
    m.title = "Renamed".into();
    m.status = MatterStatus::Closed;
    m.closed_on = Some("2026-12-01".into());
    m.description = "Settled".into();
    m.custom_fields
        .insert("Court file number".into(), "NSD 123/2026".into());
    assert_eq!(store.put_matter(p, &m).await.unwrap(), 2);
    let page = store
        .changes_after(p, Viewer::Service, 0, 10)
        .await
        .unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!((page.changes[0].seq, page.changes[0].version), (2, 2));
    assert_eq!(
        page.changes[0].record,
        ChangeRecord::Matter { matter: m.clone() }
    );

    // Deleting what is not there fails and takes no number; a delete leaves a tombstone.
    assert!(matches!(
        store.delete_matter(p, Uuid::new_v4()).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.delete_matter(p, m.id).await.unwrap(), 3);
    assert!(matches!(
        store.delete_matter(p, m.id).await,
        Err(StoreError::NotFound)
    ));
    let page = store
        .changes_after(p, Viewer::Service, 2, 10)
        .await
        .unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!((page.changes[0].seq, page.changes[0].version), (3, 3));
    assert_eq!(
        page.changes[0].record,
        ChangeRecord::Deleted {
            record_kind: strongroom_protocol::RecordKind::Matter,
            id: m.id
        }
    );

    // A put brings it back, whole.
    assert_eq!(store.put_matter(p, &m).await.unwrap(), 4);
    let other = sample_matter("S-2");
    assert_eq!(store.put_matter(p, &other).await.unwrap(), 5);
    let page = store.changes_after(p, Viewer::Service, 0, 1).await.unwrap();
    assert_eq!(
        (page.changes.len(), page.cursor, page.has_more),
        (1, 4, true)
    );
    assert_eq!(page.changes[0].version, 4);
    assert_eq!(
        page.changes[0].record,
        ChangeRecord::Matter { matter: m.clone() }
    );
    let page = store.changes_after(p, Viewer::Service, 4, 1).await.unwrap();
    assert_eq!(
        (page.changes.len(), page.cursor, page.has_more),
        (1, 5, false)
    );

    // No practice, no write.
    assert!(matches!(
        store.put_matter(nowhere, &other).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_matter(nowhere, other.id).await,
        Err(StoreError::NotFound)
    ));
    let page = store
        .changes_after(nowhere, Viewer::Service, 0, 10)
        .await
        .unwrap();
    assert!(page.changes.is_empty());

    // Sessions: live within both limits, and each use moves the idle limit on.
    let now = 1_900_000_000;
    let public_id = Uuid::new_v4();
    let session = |token_hash: &str| NewSession {
        token_hash: token_hash.into(),
        public_id: if token_hash == "live" {
            public_id
        } else {
            Uuid::new_v4()
        },
        user_id: user,
        practice_id: p,
        device_name: "test".into(),
        platform: "linux x86_64".into(),
        app_version: "0.1.0".into(),
        ip: Some("127.0.0.1".into()),
        created_at: now,
        expires_at: now + 100,
    };
    store.create_session(session("live")).await.unwrap();
    store.create_session(session("idle")).await.unwrap();
    assert!(matches!(
        store.create_session(session("live")).await,
        Err(StoreError::Conflict(_))
    ));
    let principal = Principal {
        user_id: user,
        practice_id: p,
        role: Role::Lawyer,
        session_id: public_id,
        // Signing in counts as proving who one is.
        reauth_at: Some(now),
        mfa_enrollment_required: false,
    };
    assert_eq!(
        store.session("live", now + 40, 50, None).await.unwrap(),
        Some(principal)
    );
    // Only the touch at now + 40 keeps it alive at now + 80.
    assert_eq!(
        store.session("live", now + 80, 50, None).await.unwrap(),
        Some(principal)
    );
    assert_eq!(
        store.session("idle", now + 80, 50, None).await.unwrap(),
        None
    );
    assert_eq!(
        store.session("live", now + 100, 1000, None).await.unwrap(),
        None
    );
    assert_eq!(store.session("unknown", now, 50, None).await.unwrap(), None);
    f.server.stop().await;
}

// ---- The audit log ----

impl Fixture {
    /// Runs SQL on this test's database past the store, as someone with access to the
    /// database could: a file connection for SQLite, a plain client for PostgreSQL.
    async fn raw_sql(&self, sql: &str) -> Result<(), String> {
        match &self.pg {
            None => {
                let c = rusqlite::Connection::open(self._dir.path().join("server.db"))
                    .map_err(|e| e.to_string())?;
                c.busy_timeout(Duration::from_secs(10))
                    .map_err(|e| e.to_string())?;
                c.execute_batch(sql).map_err(|e| e.to_string())
            }
            Some(_) => self
                .pg_client()
                .await
                .batch_execute(sql)
                .await
                .map_err(|e| match std::error::Error::source(&e) {
                    Some(cause) => format!("{e}: {cause}"),
                    None => e.to_string(),
                }),
        }
    }

    /// Drops the triggers that keep `audit_log` append-only (and nothing else).
    async fn drop_append_only_triggers(&self) {
        let sql = match &self.pg {
            None => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
            Some(_) => "DROP TRIGGER audit_log_append_only ON audit_log;",
        };
        self.raw_sql(sql).await.unwrap();
    }

    /// `GET /v1/audit/verify`.
    async fn verify_endpoint(&self, token: &str) -> reqwest::Response {
        self.http
            .get(self.url("/v1/audit/verify"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// `strongroom-server verify-audit` on this fixture's store: exit code and stdout.
    async fn verify_cli(&self) -> (i32, String) {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom-server"));
        cmd.arg("verify-audit")
            .arg("--data-dir")
            .arg(self._dir.path())
            .env_remove("STRONGROOM_DATABASE_URL")
            .env_remove("STRONGROOM_SERVER_DATA")
            .env("RUST_LOG", "off");
        if let Some(pg) = &self.pg {
            cmd.arg("--database-url").arg(&pg.url);
        }
        let out = cmd.output().await.unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        )
    }
}

/// An event of no consequence, to fill the log.
fn filler(n: u32) -> NewAuditEvent {
    NewAuditEvent {
        practice: None,
        actor: None,
        kind: AuditKind::SignInFailed,
        details: json!({"reason": "unknown_account", "n": n}),
    }
}

/// Successful and refused sign-ins are recorded with the right kind, practice, actor and
/// details, and nothing stored holds a password, an email in clear or a token.
async fn sign_ins_and_refusals_are_audited_without_secrets(backend: Backend) {
    let f = Fixture::new(backend).await;
    let store = f.server.store.clone();
    let demo = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let stranger = "Nobody.Here@example.test";
    let (wrong_pw, stranger_pw) = ("wrong-password-xyzzy", "stranger-password-plugh");

    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    assert_eq!(f.sign_in(seed::DEMO_EMAIL, wrong_pw).await.status(), 401);
    assert_eq!(f.sign_in(stranger, stranger_pw).await.status(), 401);
    // Turned away before any check: not a sign-in attempt, nothing recorded.
    assert_eq!(f.sign_in("no-at-sign", "x").await.status(), 400);

    let entries = store.audit_entries(None, 0, 100).await.unwrap();
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    assert_eq!(ids, [1, 2, 3], "{entries:#?}");
    let demo_practice = Some(demo.practice_id.0.to_string());
    let demo_actor = Some(Actor::User(demo.id).stored());

    let ok = &entries[0];
    assert_eq!(ok.kind(), Some(AuditKind::SignIn));
    assert_eq!((&ok.practice_id, &ok.actor), (&demo_practice, &demo_actor));
    assert_eq!(
        ok.details_json().unwrap(),
        json!({"device_name": "test", "ip": "127.0.0.1"})
    );

    let wrong = &entries[1];
    assert_eq!(wrong.kind(), Some(AuditKind::SignInFailed));
    assert_eq!(
        (&wrong.practice_id, &wrong.actor),
        (&demo_practice, &demo_actor)
    );
    assert_eq!(
        wrong.details_json().unwrap(),
        json!({"reason": "wrong_password", "device_name": "test", "ip": "127.0.0.1"})
    );

    let unknown = &entries[2];
    assert_eq!(unknown.kind(), Some(AuditKind::SignInFailed));
    assert_eq!((&unknown.practice_id, &unknown.actor), (&None, &None));
    assert_eq!(
        unknown.details_json().unwrap(),
        json!({
            "reason": "unknown_account",
            "email_sha256": email_sha256("nobody.here@example.test"),
            "device_name": "test",
            "ip": "127.0.0.1",
        })
    );

    // A practice's own view holds only its entries.
    let own = store
        .audit_entries(Some(demo.practice_id), 0, 100)
        .await
        .unwrap();
    assert_eq!(own, entries[..2].to_vec());
    assert_eq!(
        store.audit_entries(None, 1, 1).await.unwrap(),
        entries[1..2]
    );

    // No secret in any stored entry, whichever field.
    let token_hash = auth::token_hash(&token);
    let secrets = [
        seed::DEMO_PASSWORD,
        wrong_pw,
        stranger_pw,
        seed::DEMO_EMAIL,
        "nobody.here",
        "Nobody.Here",
        token.as_str(),
        token_hash.as_str(),
    ];
    let stored = serde_json::to_string(&entries).unwrap();
    for secret in secrets {
        assert!(!stored.contains(secret), "an entry holds {secret}");
    }
    // Nor anywhere in the database: the passwords and the stranger's email were never
    // stored at all.
    match backend {
        Backend::Sqlite => {
            let dir = f._dir.path();
            let mut bytes = std::fs::read(dir.join("server.db")).unwrap();
            bytes.extend(std::fs::read(dir.join("server.db-wal")).unwrap_or_default());
            for secret in [seed::DEMO_PASSWORD, wrong_pw, stranger_pw, "obody.here"] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "the database holds {secret}"
                );
            }
        }
        Backend::Postgres => {
            let rows = f
                .pg_client()
                .await
                .query("SELECT to_jsonb(t)::text FROM audit_log t", &[])
                .await
                .unwrap();
            assert_eq!(rows.len(), 3);
            for r in rows {
                let text: String = r.get(0);
                for secret in secrets {
                    assert!(!text.contains(secret), "audit_log holds {secret}");
                }
            }
        }
    }

    // The verifier, three ways.
    assert_eq!(
        store.verify_audit().await.unwrap(),
        Verdict::Intact { entries: 3 }
    );
    let resp = f.verify_endpoint(&token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"status": "intact", "entries": 3})
    );
    assert_eq!(f.verify_cli().await, (0, "intact (3 entries)".to_owned()));
    // Only for a live session, and in problem details otherwise.
    for bad in ["", "garbage"] {
        let resp = f.verify_endpoint(bad).await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
    }
    f.server.stop().await;
}

/// While the triggers stand, the database itself refuses to change or remove an entry, to
/// move the head anywhere but onto a new entry, or to take an entry out of turn.
async fn the_audit_log_refuses_changes_while_its_triggers_stand(backend: Backend) {
    let f = Fixture::new(backend).await;
    let store = f.server.store.clone();
    for n in 0..3 {
        store.append_audit(filler(n)).await.unwrap();
    }
    let before = store.audit_entries(None, 0, 100).await.unwrap();
    let mut refused = vec![
        "UPDATE audit_log SET details = '{}' WHERE id = 2",
        "UPDATE audit_log SET id = 9 WHERE id = 3",
        "DELETE FROM audit_log WHERE id = 2",
        "DELETE FROM audit_log",
        "UPDATE audit_head SET last_id = 0",
        "DELETE FROM audit_head",
        // Out of turn, and chained from the wrong entry.
        "INSERT INTO audit_log (id, occurred_at, kind, details, prev_hash, hash)
         VALUES (9, 't', 'sign_in', '{}', 'x', 'y')",
        "INSERT INTO audit_log (id, occurred_at, kind, details, prev_hash, hash)
         VALUES (4, 't', 'sign_in', '{}', 'x', 'y')",
    ];
    if backend == Backend::Postgres {
        refused.extend(["TRUNCATE audit_log", "TRUNCATE audit_head"]);
    }
    for sql in refused {
        let err = f.raw_sql(sql).await.expect_err(sql);
        assert!(
            err.contains("append-only") || err.contains("audit head") || err.contains("follow"),
            "{sql}: {err}"
        );
    }
    assert_eq!(store.audit_entries(None, 0, 100).await.unwrap(), before);
    assert_eq!(
        store.verify_audit().await.unwrap(),
        Verdict::Intact { entries: 3 }
    );
    // The triggers do not stand in the way of the store's own appends.
    let e = store.append_audit(filler(3)).await.unwrap();
    assert_eq!((e.id, e.prev_hash.as_str()), (4, before[2].hash.as_str()));
    f.server.stop().await;
}

/// Five entries: a real sign-in (whose token is returned) and four more.
async fn five_entries(f: &Fixture) -> String {
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    for n in 0..4 {
        f.server.store.append_audit(filler(n)).await.unwrap();
    }
    assert_eq!(
        f.server.store.verify_audit().await.unwrap(),
        Verdict::Intact { entries: 5 }
    );
    token
}

/// The store, the endpoint and the CLI all report the log broken at `entry_id`.
async fn assert_broken_at(f: &Fixture, token: &str, entry_id: i64, reason: BrokenReason) {
    assert_eq!(
        f.server.store.verify_audit().await.unwrap(),
        Verdict::Broken { entry_id, reason }
    );
    let resp = f.verify_endpoint(token).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (&body["status"], &body["entry_id"], &body["reason"]),
        (&json!("broken"), &json!(entry_id), &json!(reason.code())),
        "{body}"
    );
    let (code, out) = f.verify_cli().await;
    assert_eq!(
        (code, out),
        (1, format!("broken at entry {entry_id}: {reason}"))
    );
}

async fn an_edited_audit_entry_is_found(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = five_entries(&f).await;
    f.drop_append_only_triggers().await;
    f.raw_sql(r#"UPDATE audit_log SET details = '{"reason":"forged"}' WHERE id = 3"#)
        .await
        .unwrap();
    let third = &f.server.store.audit_entries(None, 2, 1).await.unwrap()[0];
    assert_eq!(third.details, r#"{"reason":"forged"}"#, "the edit took");
    assert_broken_at(&f, &token, 3, BrokenReason::Edited).await;
    f.server.stop().await;
}

/// An edit whose author also recomputes the entry's hash breaks the next entry's link.
async fn a_rehashed_audit_entry_is_found(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = five_entries(&f).await;
    f.drop_append_only_triggers().await;
    let e = f.server.store.audit_entries(None, 2, 1).await.unwrap()[0].clone();
    let forged = r#"{"reason":"forged"}"#;
    let hash = entry_hash(
        e.id,
        &e.occurred_at,
        e.practice_id.as_deref(),
        e.actor.as_deref(),
        &e.kind,
        forged,
        &e.prev_hash,
    );
    match backend {
        Backend::Sqlite => {
            let c = rusqlite::Connection::open(f._dir.path().join("server.db")).unwrap();
            c.execute(
                "UPDATE audit_log SET details = ?1, hash = ?2 WHERE id = 3",
                rusqlite::params![forged, hash],
            )
            .unwrap();
        }
        Backend::Postgres => {
            f.pg_client()
                .await
                .execute(
                    "UPDATE audit_log SET details = $1, hash = $2 WHERE id = 3",
                    &[&forged, &hash],
                )
                .await
                .unwrap();
        }
    }
    assert_broken_at(&f, &token, 4, BrokenReason::WrongPredecessor).await;
    f.server.stop().await;
}

async fn a_deleted_audit_entry_is_found(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = five_entries(&f).await;
    f.drop_append_only_triggers().await;
    f.raw_sql("DELETE FROM audit_log WHERE id = 3")
        .await
        .unwrap();
    assert_eq!(
        f.server
            .store
            .audit_entries(None, 0, 10)
            .await
            .unwrap()
            .len(),
        4
    );
    assert_broken_at(&f, &token, 3, BrokenReason::Missing).await;
    f.server.stop().await;
}

/// The head still names the last entry, so cutting it off the end is found too.
async fn a_deleted_last_audit_entry_is_found(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = five_entries(&f).await;
    f.drop_append_only_triggers().await;
    f.raw_sql("DELETE FROM audit_log WHERE id = 5")
        .await
        .unwrap();
    assert_eq!(
        f.server
            .store
            .audit_entries(None, 0, 10)
            .await
            .unwrap()
            .len(),
        4
    );
    assert_broken_at(&f, &token, 5, BrokenReason::Missing).await;
    f.server.stop().await;
}

/// Entries 2 and 4 trade ids, so each sits in the other's place.
async fn swapped_audit_entries_are_found(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = five_entries(&f).await;
    let before = f.server.store.audit_entries(None, 0, 10).await.unwrap();
    f.drop_append_only_triggers().await;
    f.raw_sql(
        "UPDATE audit_log SET id = -4 WHERE id = 4;
         UPDATE audit_log SET id = 4 WHERE id = 2;
         UPDATE audit_log SET id = 2 WHERE id = -4;",
    )
    .await
    .unwrap();
    let after = f.server.store.audit_entries(None, 0, 10).await.unwrap();
    assert_eq!((after[1].id, &after[1].hash), (2, &before[3].hash));
    assert_eq!((after[3].id, &after[3].hash), (4, &before[1].hash));
    assert_broken_at(&f, &token, 2, BrokenReason::Reordered).await;
    f.server.stop().await;
}

/// Appends from two stores on one database (two SQLite connections, two PostgreSQL pools)
/// and from refused sign-ins, all at once: every append lands, each once, on one chain.
async fn concurrent_appends_keep_one_intact_chain(backend: Backend) {
    const TASKS: u32 = 8;
    const EACH: u32 = 15;
    const SIGN_INS: usize = 20;
    let f = Fixture::new(backend).await;
    let config = match &f.pg {
        None => StoreConfig::Sqlite,
        Some(pg) => StoreConfig::Postgres {
            url: pg.url.clone(),
        },
    };
    let second = strongroom_server::open_existing_store(f._dir.path(), config)
        .await
        .unwrap();
    let stores = [f.server.store.clone(), second];
    let appenders: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = stores[t as usize % 2].clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..EACH {
                    ids.push(store.append_audit(filler(t * 100 + i)).await.unwrap().id);
                }
                ids
            })
        })
        .collect();
    let sign_ins: Vec<_> = (0..SIGN_INS)
        .map(|_| {
            let http = f.http.clone();
            let url = f.url("/v1/auth/sign-in");
            tokio::spawn(async move {
                http.post(url)
                    .json(&json!({"email": seed::DEMO_EMAIL, "password": "a-wrong-guess", "device_name": "x"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut ids = Vec::new();
    for a in appenders {
        let mine = a.await.unwrap();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "{mine:?}");
        ids.extend(mine);
    }
    let mut refused = 0;
    for s in sign_ins {
        match s.await.unwrap() {
            401 => refused += 1,
            429 => {}
            other => panic!("sign-in answered {other}"),
        }
    }
    assert!(refused > 0, "some sign-ins were checked");

    let total = (TASKS * EACH) as usize + refused;
    let entries = stores[1].audit_entries(None, 0, 1000).await.unwrap();
    assert_eq!(entries.len(), total);
    let all_ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    assert_eq!(
        all_ids,
        (1..=total as i64).collect::<Vec<_>>(),
        "consecutive"
    );
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        (TASKS * EACH) as usize,
        "each append got its own id"
    );
    let failed_sign_ins = entries
        .iter()
        .filter(|e| e.details_json().unwrap()["reason"] == "wrong_password")
        .count();
    assert_eq!(failed_sign_ins, refused, "each refusal recorded once");
    for w in entries.windows(2) {
        assert_eq!(
            w[1].prev_hash, w[0].hash,
            "entry {} chains from {}",
            w[1].id, w[0].id
        );
    }
    for s in &stores {
        assert_eq!(
            s.verify_audit().await.unwrap(),
            Verdict::Intact {
                entries: total as u64
            }
        );
    }
    f.server.stop().await;
}

// ---- Batch writes and the operator commands ----

/// `bulk_put` takes one block of numbers after what the practice had, in slice order,
/// bumps the version of a matter it rewrites, and writes nothing for an unknown practice.
async fn bulk_put_takes_a_block_of_seqs_in_slice_order(backend: Backend) {
    use strongroom_server::store::PracticeId;
    let f = Fixture::new(backend).await;
    let store = f.server.store.clone();
    let p = store.create_practice("Batch & Co").await.unwrap();
    let first = sample_matter("B-0");
    assert_eq!(store.put_matter(p, &first).await.unwrap(), 1);
    assert_eq!(store.bulk_put(p, &[]).await.unwrap(), Vec::<i64>::new());
    let mut again = first.clone();
    again.title = "Renamed".into();
    let batch: Vec<ChangeRecord> = [sample_matter("B-1"), again.clone(), sample_matter("B-3")]
        .into_iter()
        .map(|matter| ChangeRecord::Matter { matter })
        .collect();
    assert_eq!(store.bulk_put(p, &batch).await.unwrap(), vec![2, 3, 4]);
    let page = store
        .changes_after(p, Viewer::Service, 0, 100)
        .await
        .unwrap();
    let got: Vec<(i64, i64, String)> = page
        .changes
        .iter()
        .map(|c| match &c.record {
            ChangeRecord::Matter { matter } => (c.seq, c.version, matter.title.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (2, 1, "Matter B-1".to_owned()),
            (3, 2, "Renamed".to_owned()),
            (4, 1, "Matter B-3".to_owned()),
        ]
    );
    // The next single write follows the block.
    assert_eq!(store.put_matter(p, &sample_matter("B-5")).await.unwrap(), 5);
    let nowhere = PracticeId(Uuid::new_v4());
    assert!(matches!(
        store.bulk_put(nowhere, &batch).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .changes_after(nowhere, Viewer::Service, 0, 10)
            .await
            .unwrap()
            .changes
            .is_empty()
    );
    f.server.stop().await;
}

/// What a run of the server binary gave: exit code, stdout, stderr.
struct CliRun {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Fixture {
    /// Runs `strongroom-server ARGS` on this fixture's store, with `stdin` as its input.
    async fn cli(&self, args: &[&str], stdin: &str) -> CliRun {
        use tokio::io::AsyncWriteExt;
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom-server"));
        cmd.args(args)
            .arg("--data-dir")
            .arg(self._dir.path())
            .env_remove("STRONGROOM_DATABASE_URL")
            .env_remove("STRONGROOM_SERVER_DATA")
            .env("RUST_LOG", "off")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(pg) = &self.pg {
            cmd.arg("--database-url").arg(&pg.url);
        }
        let mut child = cmd.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        // The command may refuse before reading; a closed pipe is not this test's failure.
        let _ = input.write_all(stdin.as_bytes()).await;
        drop(input);
        let out = child.wait_with_output().await.unwrap();
        CliRun {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        }
    }
}

/// `create-practice` and `create-member` (password on stdin) make a member who signs in
/// over TLS; a taken email, a short password and an unknown practice are refused with
/// exit code 1, a clear message, and nothing written.
async fn operator_commands_create_a_practice_and_a_member_who_can_sign_in(backend: Backend) {
    let f = Fixture::new(backend).await;
    let store = f.server.store.clone();
    let run = f
        .cli(&["create-practice", "--name", "Quayside Legal"], "")
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let practice: Uuid = run.stdout.parse().unwrap();
    let practice_id = strongroom_server::store::PracticeId(practice);
    assert_eq!(
        store.practice(practice_id).await.unwrap().name,
        "Quayside Legal"
    );

    let password = "a long enough passphrase, with spaces ";
    let member = |email: &'static str| {
        [
            "create-member",
            "--practice",
            &practice.to_string(),
            "--email",
            email,
            "--name",
            "Tui Fletcher",
        ]
        .map(str::to_owned)
    };
    let args = member("tui@quayside.example");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = f.cli(&args, &format!("{password}\r\n")).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let user: Uuid = run.stdout.parse().unwrap();
    assert!(!run.stdout.contains(password) && !run.stderr.contains(password));

    let resp = f.sign_in("tui@quayside.example", password).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user"]["id"], user.to_string());
    assert_eq!(body["practice"]["id"], practice.to_string());
    assert_eq!(body["practice"]["name"], "Quayside Legal");
    let stored = store
        .user_by_email("tui@quayside.example")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"));

    // The same email in other case: refused, and the member keeps their password.
    let args = member("TUI@quayside.example");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = f.cli(&args, "lantern quibble orchard 58\n").await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("exists already"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let after = store
        .user_by_email("tui@quayside.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.id, after.password_hash),
        (stored.id, stored.password_hash)
    );
    assert_eq!(
        f.sign_in("tui@quayside.example", "lantern quibble orchard 58")
            .await
            .status(),
        401
    );

    // Too short (11 characters), none at all, common, or made of the member's own details:
    // refused, no member.
    let args = member("new@quayside.example");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for input in [
        "eleven-char\n",
        "",
        "\n",
        "password1234\n",
        "quaysidelegal2026\n",
    ] {
        let run = f.cli(&args, input).await;
        assert_eq!(run.code, 1, "{input:?}");
        assert!(run.stderr.contains("password"), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    assert!(
        f.cli(&args, "eleven-char\n")
            .await
            .stderr
            .contains("at least 12 characters")
    );
    assert!(
        f.cli(&args, "password1234\n")
            .await
            .stderr
            .contains("too easy to guess")
    );
    assert!(
        store
            .user_by_email("new@quayside.example")
            .await
            .unwrap()
            .is_none()
    );

    // An unknown practice.
    let run = f
        .cli(
            &[
                "create-member",
                "--practice",
                &Uuid::new_v4().to_string(),
                "--email",
                "new@quayside.example",
                "--name",
                "N",
            ],
            "a long enough passphrase\n",
        )
        .await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no practice"), "{}", run.stderr);
    assert!(
        store
            .user_by_email("new@quayside.example")
            .await
            .unwrap()
            .is_none()
    );
    f.server.stop().await;
}

/// `seed --matters 2500 --related 5000` makes a practice whose member signs in with the
/// printed password and pulls exactly 2500 matters and 5000 records on them, numbered
/// 1..=7500 in order, every record on a matter of the feed; progress is counted on stderr.
async fn seed_makes_a_practice_whose_feed_has_every_matter_in_order(backend: Backend) {
    let f = Fixture::new(backend).await;
    let run = f
        .cli(&["seed", "--matters", "5", "--related", "1000001"], "")
        .await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("at most 1000000"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let run = f.cli(&["seed", "--matters", "100001"], "").await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("1 to 100000"), "{}", run.stderr);

    let run = f
        .cli(&["seed", "--matters", "2500", "--related", "5000"], "")
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(" of 7500 records")
            && run.stderr.ends_with("seeded 7500 of 7500 records"),
        "{}",
        run.stderr
    );
    let field = |name: &str| {
        run.stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {}", run.stdout))
            .trim()
            .to_owned()
    };
    let (email, password) = (field("email:"), field("password:"));
    assert!(field("practice:").starts_with("Benchmark practice "));
    let token = f.token(&email, &password).await;
    let mut seqs = Vec::new();
    let mut numbers = std::collections::BTreeSet::new();
    let mut matter_ids = std::collections::BTreeSet::new();
    let mut on_matters = Vec::new();
    let mut cursor = 0;
    loop {
        let page: ChangesPage = f
            .changes(&token, &format!("?after={cursor}&limit=1000"))
            .await
            .json()
            .await
            .unwrap();
        for c in &page.changes {
            match &c.record {
                ChangeRecord::Matter { matter } => {
                    assert!(!matter.title.is_empty() && !matter.client_name.is_empty());
                    numbers.insert(matter.number.clone());
                    matter_ids.insert(matter.id);
                }
                ChangeRecord::Deleted { .. } => panic!("a tombstone in a fresh seed: {c:?}"),
                other => {
                    strongroom_protocol::validate::record(other).unwrap();
                    if let Some(m) = other.matter_id() {
                        on_matters.push(m);
                    }
                }
            }
            seqs.push(c.seq);
        }
        cursor = page.cursor;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seqs.len(), 7500);
    assert_eq!(seqs, (1..=7500).collect::<Vec<i64>>());
    assert_eq!(numbers.len(), 2500, "every matter has its own number");
    assert!(on_matters.iter().all(|m| matter_ids.contains(m)));
    // The demo practice sees none of it.
    let demo = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let page: ChangesPage = f
        .changes(&demo, "?after=0&limit=5000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.changes.len(), seed::demo_change_count());
    f.server.stop().await;
}

// ---- The OpenAPI document ----

/// `/v1/openapi.json` is an OpenAPI 3 document that names exactly the routes the router
/// serves (from its table, `api::served_routes`); each documented operation is answered
/// (never 404 or 405), a session is documented exactly where one is demanded, problems are
/// `application/problem+json`, and the tagged change record has one variant per kind.
#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    use std::collections::BTreeSet;
    use strongroom_protocol::RecordKind;
    use strongroom_server::api;
    let f = Fixture::new(Backend::Sqlite).await;
    let resp = f.http.get(f.url("/v1/openapi.json")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: Value = resp.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );

    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (key, op) in item.as_object().unwrap() {
            if METHODS.contains(&key.as_str()) {
                documented.push((key.clone(), path.clone(), op.clone()));
            }
        }
    }
    let documented_routes: BTreeSet<(String, String)> = documented
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    let served: BTreeSet<(String, String)> = api::served_routes()
        .into_iter()
        .map(|(verb, path)| (verb.as_str().to_owned(), path.to_owned()))
        .collect();
    assert!(served.len() >= 5, "{served:?}");
    assert_eq!(documented_routes, served);

    let scheme = &doc["components"]["securitySchemes"]["session"];
    assert_eq!(
        (&scheme["type"], &scheme["scheme"]),
        (&json!("http"), &json!("bearer"))
    );
    for (method, path, op) in &documented {
        let req = match method.as_str() {
            "get" => f.http.get(f.url(path)),
            "post" | "put" | "patch" => f
                .http
                .request(method.to_uppercase().parse().unwrap(), f.url(path))
                .header("content-type", "application/json")
                .body("{}"),
            "delete" => f.http.delete(f.url(path)),
            other => panic!("no request for {other}"),
        };
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        // The router's own 404 (`not_found`) or a 405 means no such route; a 404 with a
        // code of its own (a forged unsubscribe link) is the route answering.
        let no_route = status == 405 || (status == 404 && body["code"] == "not_found");
        assert!(!no_route, "{method} {path} answered {status}: {body}");
        let secured = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("session").is_some()));
        assert_eq!(
            status == 401,
            secured,
            "{method} {path}: answered {status} without a session, documented secured: {secured}"
        );
        // A form body is fields, so its schema is an object (a fuzzer cannot send a bare
        // string as a form: it throws such cases away, and gives up when most are).
        if let Some(form) =
            op["requestBody"]["content"]["application/x-www-form-urlencoded"].get("schema")
        {
            let schema = form["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .map_or(form, |name| &doc["components"]["schemas"][name]);
            assert_eq!(
                schema["type"], "object",
                "{method} {path}: the form body's schema is {schema}"
            );
        }
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|k| k.starts_with('2')),
            "{method} {path} documents no success"
        );
        for (code, r) in responses {
            if code.starts_with('4') || code.starts_with('5') {
                assert_eq!(
                    r["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {code}"
                );
            }
        }
    }

    // The internally tagged record: one variant per kind, each requiring its `kind`.
    let schemas = &doc["components"]["schemas"];
    let mut kinds = BTreeSet::new();
    for variant in schemas["ChangeRecord"]["oneOf"].as_array().unwrap() {
        assert!(
            variant["required"]
                .as_array()
                .unwrap()
                .contains(&json!("kind"))
        );
        let tag = variant["properties"]["kind"]["enum"].as_array().unwrap();
        assert_eq!(tag.len(), 1, "{variant}");
        kinds.insert(tag[0].as_str().unwrap().to_owned());
    }
    let expected: BTreeSet<String> = RecordKind::ALL
        .iter()
        .map(|k| k.as_str().to_owned())
        .chain(["deleted".to_owned(), "revoked".to_owned()])
        .collect();
    assert_eq!(kinds, expected);
    // A change is its numbers and the record, flattened.
    let change = schemas["Change"]["allOf"].as_array().unwrap();
    assert!(change.contains(&json!({"$ref": "#/components/schemas/ChangeRecord"})));
    assert_eq!(
        schemas["Problem"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<BTreeSet<_>>(),
        ["code", "detail", "status", "title", "type"]
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>()
            .iter()
            .collect()
    );
    f.server.stop().await;
}

/// Tests of the PostgreSQL store alone.
mod postgres_only {
    use super::*;
    use strongroom_server::store::postgres::PostgresStore;

    /// 8 writers × 50 writes to one practice while a reader pulls by cursor: the numbers
    /// are exactly 1..=400, and the reader sees every write at its number, in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_get_gap_free_seqs_and_a_reader_misses_nothing() {
        const WRITERS: usize = 8;
        const EACH: usize = 50;
        let f = Fixture::new(Backend::Postgres).await;
        let store = f.server.store.clone();
        let practice = store.create_practice("Busy & Co").await.unwrap();
        let done = Arc::new(AtomicBool::new(false));

        let reader = {
            let store = store.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut seen: Vec<(i64, Uuid)> = Vec::new();
                let mut cursor = 0;
                let mut pages_while_writing = 0;
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    let page = store
                        .changes_after(practice, Viewer::Service, cursor, 7)
                        .await
                        .unwrap();
                    for c in &page.changes {
                        let ChangeRecord::Matter { matter } = &c.record else {
                            panic!("no deletes were written: {c:?}")
                        };
                        assert_eq!(c.version, 1);
                        seen.push((c.seq, matter.id));
                    }
                    assert_eq!(page.cursor, page.changes.last().map_or(cursor, |c| c.seq));
                    if !finished && !page.changes.is_empty() {
                        pages_while_writing += 1;
                    }
                    cursor = page.cursor;
                    if !page.has_more {
                        if finished {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                (seen, pages_while_writing)
            })
        };

        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    for i in 0..EACH {
                        let m = sample_matter(&format!("W{w}-{i}"));
                        mine.push((store.put_matter(practice, &m).await.unwrap(), m.id));
                    }
                    mine
                })
            })
            .collect();
        let mut written = Vec::new();
        for w in writers {
            let mine = w.await.unwrap();
            assert!(
                mine.windows(2).all(|p| p[0].0 < p[1].0),
                "one writer's numbers grow"
            );
            written.extend(mine);
        }
        done.store(true, Ordering::SeqCst);
        let (seen, pages_while_writing) = reader.await.unwrap();

        written.sort();
        let seqs: Vec<i64> = written.iter().map(|(s, _)| *s).collect();
        let expected: Vec<i64> = (1..=(WRITERS * EACH) as i64).collect();
        assert_eq!(seqs, expected, "numbers are unique and gap-free");
        assert!(
            seen.windows(2).all(|p| p[0].0 < p[1].0),
            "the reader saw numbers in order"
        );
        assert_eq!(seen.len(), written.len(), "the reader saw every write once");
        assert_eq!(seen, written, "the reader saw each write at its number");
        assert!(
            pages_while_writing > 0,
            "the reader pulled while the writers were committing"
        );
        f.server.stop().await;
    }

    /// Migrations are recorded, applied once, and servers starting together on an empty
    /// schema do not trip over each other.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrations_are_recorded_and_applied_once() {
        let schema = PgSchema::create().await;
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let url = schema.url.clone();
                tokio::spawn(async move { PostgresStore::open(&url).await })
            })
            .collect();
        let mut stores = Vec::new();
        for o in opens {
            stores.push(o.await.unwrap().expect("every concurrent open succeeds"));
        }
        let p = stores[0].create_practice("Kept").await.unwrap();
        drop(stores);
        // Reopening keeps the data and applies nothing twice.
        let again = PostgresStore::open(&schema.url).await.unwrap();
        assert_eq!(again.practice(p).await.unwrap().name, "Kept");
        let c = pg_connect(&schema.url).await.unwrap();
        let versions: Vec<i32> = c
            .query(
                "SELECT version FROM schema_migrations ORDER BY version",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(versions, (1..=14).collect::<Vec<i32>>());
        // The tables are in this test's schema, not elsewhere.
        let tables: Vec<String> = c
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema() ORDER BY table_name",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(
            tables,
            [
                "access_reviews",
                "access_revocations",
                "audit_head",
                "audit_log",
                "audit_practice_links",
                "consent_records",
                "devices",
                "incident_practices",
                "incident_recipients",
                "incidents",
                "integrations",
                "invitations",
                "mail_outbox",
                "matter_access",
                "matter_restrictions",
                "mutation_results",
                "notices",
                "notification_choices",
                "policy_acknowledgements",
                "policy_versions",
                "practices",
                "records",
                "recovery_codes",
                "schema_migrations",
                "sessions",
                "sign_in_failures",
                "support_grants",
                "support_sessions",
                "support_staff",
                "sync_conflicts",
                "users"
            ]
        );
        // A database migrated by a newer server is refused, not used.
        c.execute("INSERT INTO schema_migrations (version) VALUES (999)", &[])
            .await
            .unwrap();
        let err = PostgresStore::open(&schema.url).await.unwrap_err();
        assert!(err.to_string().contains("999"), "{err}");
    }

    /// A database that does not answer stops the server with a message naming where it
    /// looked, and never leaks the URL's password.
    #[tokio::test]
    async fn an_unreachable_database_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        // Port 1 on loopback: nothing listens there.
        let url = "postgres://someone:sekrit-password@127.0.0.1:1/nowhere";
        let err = match strongroom_server::start_with_store(
            ServeOptions {
                data_dir: dir.path().to_owned(),
                listen: "127.0.0.1:0".parse().unwrap(),
                seed_demo: false,
            },
            StoreConfig::Postgres { url: url.into() },
        )
        .await
        {
            Ok(_) => panic!("started without a database"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains("127.0.0.1:1/nowhere"), "{err}");
        assert!(!err.contains("sekrit"), "{err}");
        let config = StoreConfig::Postgres { url: url.into() };
        assert!(!format!("{config:?}").contains("sekrit"));
    }
}

async fn signing_out_ends_that_session_at_once_and_no_other(backend: Backend) {
    let f = Fixture::new(backend).await;
    let laptop = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let phone = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let sign_out = |token: String| {
        let http = f.http.clone();
        let url = f.url("/v1/auth/sign-out");
        async move {
            http.post(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(f.changes(&laptop, "").await.status(), 200);
    assert_eq!(sign_out(laptop.clone()).await, 204);
    // The next request with that token fails; the other session goes on.
    assert_eq!(f.changes(&laptop, "").await.status(), 401);
    assert_eq!(f.changes(&phone, "").await.status(), 200);
    assert_eq!(
        sign_out(laptop.clone()).await,
        401,
        "a revoked token cannot sign out again"
    );
    assert_eq!(sign_out("not-a-token".into()).await, 401);
    let kinds: Vec<Option<AuditKind>> = f
        .server
        .store
        .audit_entries(None, 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == Some(AuditKind::SignOut))
            .count(),
        1,
        "{kinds:?}"
    );
    f.server.stop().await;
}

async fn sign_in_status(f: &Fixture, email: &str, password: &str) -> (u16, Option<String>) {
    let resp = f.sign_in(email, password).await;
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (resp.status().as_u16(), retry)
}

async fn repeated_failures_make_that_account_wait_and_no_other(backend: Backend) {
    let f = Fixture::new(backend).await;
    for i in 0..strongroom_server::api::FREE_FAILURES {
        let (status, _) = sign_in_status(&f, seed::DEMO_EMAIL, "wrong-password-guess").await;
        assert_eq!(status, 401, "failure {i} is answered normally");
    }
    // Now even the right password must wait, and is told for how long.
    let (status, retry) = sign_in_status(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    assert_eq!(status, 429);
    let secs: u64 = retry.expect("a Retry-After header").parse().unwrap();
    assert!((1..=30).contains(&secs), "{secs}");
    // An unknown account is limited the same way (no hint of which exist).
    for _ in 0..strongroom_server::api::FREE_FAILURES {
        assert_eq!(
            sign_in_status(&f, "nobody@example.test", "whatever-guess")
                .await
                .0,
            401
        );
    }
    assert_eq!(
        sign_in_status(&f, "nobody@example.test", "whatever-guess")
            .await
            .0,
        429
    );
    // Another account is untouched.
    let store = f.server.store.clone();
    let other = store.create_practice("Other & Partners").await.unwrap();
    let hash = auth::hash_password("other-practice-password").unwrap();
    store
        .create_user(
            other,
            "lawyer@other.example",
            "Other Lawyer",
            &hash,
            Role::Lawyer,
        )
        .await
        .unwrap();
    assert_eq!(
        sign_in_status(&f, "lawyer@other.example", "other-practice-password")
            .await
            .0,
        200
    );
    f.server.stop().await;
}

async fn a_successful_sign_in_forgets_the_failures(backend: Backend) {
    let f = Fixture::new(backend).await;
    for _ in 0..2 {
        for _ in 1..strongroom_server::api::FREE_FAILURES {
            assert_eq!(
                sign_in_status(&f, seed::DEMO_EMAIL, "wrong-password-guess")
                    .await
                    .0,
                401
            );
        }
        assert_eq!(
            sign_in_status(&f, seed::DEMO_EMAIL, seed::DEMO_PASSWORD)
                .await
                .0,
            200
        );
    }
    f.server.stop().await;
}

#[test]
fn backoff_doubles_from_thirty_seconds_and_is_capped() {
    use strongroom_server::api::{MAX_BACKOFF_SECS, backoff_remaining};
    assert_eq!(backoff_remaining(4, 0), None);
    assert_eq!(backoff_remaining(5, 0), Some(30));
    assert_eq!(backoff_remaining(5, 10), Some(20));
    assert_eq!(backoff_remaining(5, 30), None);
    assert_eq!(backoff_remaining(6, 0), Some(60));
    assert_eq!(backoff_remaining(50, 0), Some(MAX_BACKOFF_SECS));
    assert_eq!(backoff_remaining(50, 4000), None, "outside the window");
    assert_eq!(
        backoff_remaining(7, -5),
        Some(120),
        "a clock step back never lengthens it"
    );
}

// ---- Second factors and re-authentication ----

impl Fixture {
    /// A JSON request to `path` with `token`'s session (none when empty).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.http.request(method, self.url(path));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// Signs in with `extra` fields (a code) added to the request.
    async fn sign_in_with(&self, email: &str, password: &str, extra: Value) -> reqwest::Response {
        let mut body = json!({"email": email, "password": password, "device_name": "test"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.post("/v1/auth/sign-in", "", body).await
    }

    /// Every value of a one-column text query, past the store.
    async fn texts(&self, sql: &str) -> Vec<String> {
        match &self.pg {
            None => {
                let c = rusqlite::Connection::open(self._dir.path().join("server.db")).unwrap();
                let mut stmt = c.prepare(sql).unwrap();
                stmt.query_map([], |r| r.get::<_, Option<String>>(0))
                    .unwrap()
                    .map(|r| r.unwrap().unwrap_or_default())
                    .collect()
            }
            Some(_) => self
                .pg_client()
                .await
                .query(sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<_, Option<String>>(0).unwrap_or_default())
                .collect(),
        }
    }

    /// A new member of the demo practice, and their password.
    async fn demo_member(&self, email: &str, role: Role) -> &'static str {
        const PASSWORD: &str = "a member's own passphrase 2026";
        let store = &self.server.store;
        let demo = store
            .user_by_email(seed::DEMO_EMAIL)
            .await
            .unwrap()
            .unwrap();
        let hash = auth::hash_password(PASSWORD).unwrap();
        store
            .create_user(demo.practice_id, email, "A Member", &hash, role)
            .await
            .unwrap();
        PASSWORD
    }
}

/// The problem code of an answer.
async fn problem_code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// An authenticator app for the base32 secret from setup.
fn authenticator(secret: &str) -> totp_rs::Totp {
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The app's code `steps` steps from now. Now and the next step stay acceptable even if
/// a step boundary passes before the server checks.
fn code(app: &totp_rs::Totp, steps: u64) -> String {
    app.generate(unix_now() + 30 * steps).to_string()
}

/// A six-digit code that is none of the app's for two steps either side of now.
fn wrong_code(app: &totp_rs::Totp) -> String {
    let now = unix_now();
    let near: Vec<String> = (0..5)
        .map(|i| app.generate(now + i * 30 - 60).to_string())
        .collect();
    (0..)
        .map(|n| format!("{:06}", 123_456 + n))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// Sets up and confirms an authenticator for `token`'s member: the app, the code the
/// confirmation used, and the recovery codes.
async fn enroll(f: &Fixture, token: &str) -> (totp_rs::Totp, String, Vec<String>) {
    let resp = f.post("/v1/auth/mfa/totp/setup", token, json!({})).await;
    assert_eq!(resp.status(), 200);
    let setup: Value = resp.json().await.unwrap();
    let app = authenticator(setup["secret"].as_str().unwrap());
    let used = code(&app, 0);
    let resp = f
        .post("/v1/auth/mfa/totp/confirm", token, json!({ "code": used }))
        .await;
    assert_eq!(resp.status(), 200);
    let codes: Vec<String> =
        serde_json::from_value(resp.json::<Value>().await.unwrap()["codes"].clone()).unwrap();
    (app, used, codes)
}

/// The kinds and details of every audit entry.
async fn audit_trail(f: &Fixture) -> Vec<(Option<AuditKind>, Value)> {
    f.server
        .store
        .audit_entries(None, 0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|e| (e.kind(), e.details_json().unwrap()))
        .collect()
}

/// Setup gives a secret and its otpauth URI, kept pending (sign-in still needs only the
/// password) until a right code confirms it; then sign-in answers `mfa_required` without
/// a code and a session with one. The secret is sealed at rest, the recovery codes hashed.
async fn enrolling_an_authenticator_makes_sign_in_ask_for_its_code(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let resp = f.post("/v1/auth/mfa/totp/setup", &token, json!({})).await;
    assert_eq!(resp.status(), 200);
    let setup: Value = resp.json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "160 bits, base32");
    let uri = setup["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Strongroom:demo%40harbourvine.example?"),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={secret}")) && uri.contains("issuer=Strongroom"));
    let app = authenticator(&secret);

    // Pending only: the password alone still signs in, and nothing is confirmed yet.
    assert_eq!(
        f.sign_in(seed::DEMO_EMAIL, seed::DEMO_PASSWORD)
            .await
            .status(),
        200
    );
    let resp = f
        .post(
            "/v1/auth/mfa/totp/confirm",
            &token,
            json!({ "code": wrong_code(&app) }),
        )
        .await;
    assert_eq!(problem_code(resp).await, (400, "wrong_code".into()));
    assert_eq!(
        f.sign_in(seed::DEMO_EMAIL, seed::DEMO_PASSWORD)
            .await
            .status(),
        200
    );

    let resp = f
        .post(
            "/v1/auth/mfa/totp/confirm",
            &token,
            json!({ "code": code(&app, 0) }),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let codes: Vec<String> =
        serde_json::from_value(resp.json::<Value>().await.unwrap()["codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    assert_eq!(
        codes
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        10
    );
    for c in &codes {
        let groups: Vec<&str> = c.split('-').collect();
        assert_eq!(groups.len(), 3, "{c}");
        assert!(groups.iter().all(|g| {
            g.len() == 4
                && g.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit())
        }));
    }
    // Nothing left to confirm.
    let resp = f
        .post(
            "/v1/auth/mfa/totp/confirm",
            &token,
            json!({ "code": code(&app, 1) }),
        )
        .await;
    assert_eq!(problem_code(resp).await, (409, "no_pending_factor".into()));

    // Without the code: no token, and the client is told to ask for it.
    let resp = f.sign_in(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "mfa_required");
    assert!(body.get("token").is_none());
    let resp = f
        .sign_in_with(
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            json!({ "totp_code": code(&app, 1) }),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let signed_in: Value = resp.json().await.unwrap();
    assert!(!signed_in["token"].as_str().unwrap().is_empty());
    // The wrong password with a right code is still the wrong password.
    let resp = f
        .sign_in_with(
            seed::DEMO_EMAIL,
            "wrong-password",
            json!({ "totp_code": code(&app, 1) }),
        )
        .await;
    assert_eq!(
        problem_code(resp).await,
        (401, "invalid_credentials".into())
    );

    // At rest: the secret sealed, no pending one, the codes as hashes only.
    let sealed = f
        .texts("SELECT totp_secret FROM users WHERE totp_secret IS NOT NULL")
        .await;
    assert_eq!(sealed.len(), 1);
    assert!(
        sealed[0].starts_with("v1.") && !sealed[0].contains(&secret),
        "{}",
        sealed[0]
    );
    assert!(
        f.texts("SELECT totp_pending FROM users WHERE totp_pending IS NOT NULL")
            .await
            .is_empty()
    );
    let hashes = f.texts("SELECT code_hash FROM recovery_codes").await;
    assert_eq!(hashes.len(), 10);
    for c in &codes {
        let bare = c.replace('-', "");
        assert!(
            hashes
                .iter()
                .all(|h| !h.contains(&bare) && !h.contains(c.as_str()))
        );
    }

    // Audited, without the secret or a code.
    let trail = audit_trail(&f).await;
    let enabled: Vec<&Value> = trail
        .iter()
        .filter(|(k, _)| *k == Some(AuditKind::MfaEnabled))
        .map(|(_, d)| d)
        .collect();
    assert_eq!(enabled, [&json!({"factor": "totp", "replaced": false})]);
    assert_eq!(
        trail.last().unwrap(),
        &(
            Some(AuditKind::SignInFailed),
            json!({"reason": "wrong_password", "device_name": "test", "ip": "127.0.0.1"})
        )
    );
    assert!(
        trail
            .iter()
            .any(|(k, d)| *k == Some(AuditKind::SignIn) && d["second_factor"] == "totp")
    );
    // The password alone got as far as the second factor: recorded, so someone knowing the
    // password shows.
    assert!(trail.contains(&(
        Some(AuditKind::SignInFailed),
        json!({"reason": "second_factor_missing", "device_name": "test", "ip": "127.0.0.1"})
    )));
    let all = serde_json::to_string(&trail).unwrap();
    assert!(!all.contains(&secret));
    for c in &codes {
        assert!(!all.contains(c.as_str()));
    }
    f.server.stop().await;
}

/// A wrong code with the right password is refused like a wrong password: counted toward
/// the account's back-off (so even the right code must then wait) and audited as
/// `wrong_second_factor`.
async fn a_wrong_second_factor_is_refused_counted_and_audited(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let (app, _, _) = enroll(&f, &token).await;
    let wrong = wrong_code(&app);
    for (i, extra) in [
        json!({ "totp_code": wrong }),
        json!({ "recovery_code": "aaaa-bbbb-cccc" }),
        json!({ "totp_code": "12" }),
    ]
    .into_iter()
    .cycle()
    .take(strongroom_server::api::FREE_FAILURES as usize)
    .enumerate()
    {
        let resp = f
            .sign_in_with(seed::DEMO_EMAIL, seed::DEMO_PASSWORD, extra)
            .await;
        assert_eq!(
            problem_code(resp).await,
            (401, "invalid_credentials".into()),
            "attempt {i}"
        );
    }
    let resp = f
        .sign_in_with(
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            json!({ "totp_code": code(&app, 1) }),
        )
        .await;
    assert_eq!(
        resp.status(),
        429,
        "the account must wait, right code or not"
    );
    assert!(resp.headers().get("retry-after").is_some());
    let refusals: Vec<Value> = audit_trail(&f)
        .await
        .into_iter()
        .filter(|(k, _)| *k == Some(AuditKind::SignInFailed))
        .map(|(_, d)| d)
        .collect();
    assert_eq!(
        refusals,
        vec![
            json!({"reason": "wrong_second_factor", "device_name": "test", "ip": "127.0.0.1"});
            strongroom_server::api::FREE_FAILURES as usize
        ]
    );
    // Both codes at once is a malformed request, turned away before any check.
    let resp = f
        .sign_in_with(
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            json!({ "totp_code": "123456", "recovery_code": "aaaa-bbbb-cccc" }),
        )
        .await;
    assert_eq!(problem_code(resp).await, (400, "bad_request".into()));
    f.server.stop().await;
}

/// The code that confirmed the app, and every code once accepted, is refused afterwards,
/// at sign-in and at re-authentication alike; the store accepts a time step once even
/// under concurrent attempts.
async fn an_authenticator_code_is_never_accepted_twice(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let (app, confirmed_with, _) = enroll(&f, &token).await;
    let with_code = |c: &str| json!({ "totp_code": c });
    let resp = f
        .sign_in_with(
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            with_code(&confirmed_with),
        )
        .await;
    assert_eq!(
        problem_code(resp).await,
        (401, "invalid_credentials".into())
    );
    let next = code(&app, 1);
    let resp = f
        .sign_in_with(seed::DEMO_EMAIL, seed::DEMO_PASSWORD, with_code(&next))
        .await;
    assert_eq!(resp.status(), 200);
    let resp = f
        .sign_in_with(seed::DEMO_EMAIL, seed::DEMO_PASSWORD, with_code(&next))
        .await;
    assert_eq!(
        problem_code(resp).await,
        (401, "invalid_credentials".into())
    );
    // Re-authentication wants the factor too, and the same code will not do.
    let resp = f
        .post(
            "/v1/auth/reauth",
            &token,
            json!({ "password": seed::DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(problem_code(resp).await, (401, "mfa_required".into()));
    let resp = f
        .post(
            "/v1/auth/reauth",
            &token,
            json!({ "password": seed::DEMO_PASSWORD, "totp_code": next }),
        )
        .await;
    assert_eq!(
        problem_code(resp).await,
        (401, "invalid_credentials".into())
    );

    // The store's own rule: a step once, only forward, one winner in a race.
    let store = f.server.store.clone();
    let demo = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let far = 4_000_000_000;
    assert!(store.accept_totp_step(demo.id, far).await.unwrap());
    assert!(!store.accept_totp_step(demo.id, far).await.unwrap());
    assert!(!store.accept_totp_step(demo.id, far - 1).await.unwrap());
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.accept_totp_step(demo.id, far + 1).await.unwrap() })
        })
        .collect();
    let mut winners = 0;
    for r in racers {
        winners += usize::from(r.await.unwrap());
    }
    assert_eq!(winners, 1);
    f.server.stop().await;
}

/// A recovery code signs in once, typed in any case; then it is refused. New codes retire
/// every old one. Each use is audited with the count left.
async fn a_recovery_code_works_once_and_regenerating_retires_the_old_ones(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let (_, _, codes) = enroll(&f, &token).await;
    let with = |c: &str| json!({ "recovery_code": c });
    let resp = f
        .sign_in_with(
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            with(&codes[0].to_uppercase()),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = f
        .sign_in_with(seed::DEMO_EMAIL, seed::DEMO_PASSWORD, with(&codes[0]))
        .await;
    assert_eq!(
        problem_code(resp).await,
        (401, "invalid_credentials".into())
    );
    let resp = f
        .sign_in_with(seed::DEMO_EMAIL, seed::DEMO_PASSWORD, with(&codes[1]))
        .await;
    assert_eq!(resp.status(), 200);
    let session: Value = resp.json().await.unwrap();
    let fresh = session["token"].as_str().unwrap();

    let resp = f
        .post("/v1/auth/mfa/recovery-codes", fresh, json!({}))
        .await;
    assert_eq!(resp.status(), 200);
    let new: Vec<String> =
        serde_json::from_value(resp.json::<Value>().await.unwrap()["codes"].clone()).unwrap();
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|c| !codes.contains(c)));
    let resp = f
        .sign_in_with(seed::DEMO_EMAIL, seed::DEMO_PASSWORD, with(&codes[2]))
        .await;
    assert_eq!(
        problem_code(resp).await,
        (401, "invalid_credentials".into())
    );
    let resp = f
        .sign_in_with(seed::DEMO_EMAIL, seed::DEMO_PASSWORD, with(&new[0]))
        .await;
    assert_eq!(resp.status(), 200);

    let trail = audit_trail(&f).await;
    let used: Vec<&Value> = trail
        .iter()
        .filter(|(k, _)| *k == Some(AuditKind::RecoveryCodeUsed))
        .map(|(_, d)| d)
        .collect();
    assert_eq!(
        used,
        [
            &json!({"during": "sign_in", "remaining": 9}),
            &json!({"during": "sign_in", "remaining": 8}),
            &json!({"during": "sign_in", "remaining": 9}),
        ]
    );
    assert!(trail.contains(&(
        Some(AuditKind::RecoveryCodesRegenerated),
        json!({"count": 10})
    )));
    let all = serde_json::to_string(&trail).unwrap();
    for c in codes.iter().chain(&new) {
        assert!(!all.contains(c.as_str()));
    }
    f.server.stop().await;
}

/// Once the practice requires a second factor, a member without one still signs in, but
/// the session reaches nothing except setting one up, re-authenticating and signing out;
/// enrolling frees that very session.
async fn a_practice_requiring_mfa_admits_only_enrollment_until_enrolled(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let password = f
        .demo_member("lawyer@harbourvine.example", Role::Lawyer)
        .await;
    let lawyer = f.token("lawyer@harbourvine.example", password).await;
    assert_eq!(f.changes(&lawyer, "").await.status(), 200);

    enroll(&f, &admin).await;
    let resp = f
        .call(
            reqwest::Method::PUT,
            "/v1/practice/settings",
            &admin,
            Some(json!({ "mfa_required": true })),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({ "mfa_required": true })
    );
    // The enrolled admin goes on as before.
    assert_eq!(f.changes(&admin, "").await.status(), 200);

    // The lawyer's session, and a new one, reach nothing else.
    let later = f.token("lawyer@harbourvine.example", password).await;
    for token in [&lawyer, &later] {
        assert_eq!(
            problem_code(f.changes(token, "").await).await,
            (403, "mfa_enrollment_required".into())
        );
        for (method, path) in [
            (reqwest::Method::GET, "/v1/audit/verify"),
            (reqwest::Method::GET, "/v1/practice/settings"),
            (reqwest::Method::POST, "/v1/auth/mfa/recovery-codes"),
            (reqwest::Method::POST, "/v1/auth/mfa/totp/disable"),
        ] {
            let resp = f.call(method.clone(), path, token, Some(json!({}))).await;
            assert_eq!(
                problem_code(resp).await,
                (403, "mfa_enrollment_required".into()),
                "{method} {path}"
            );
        }
    }
    // Re-authenticating and signing out are open to it.
    let resp = f
        .post("/v1/auth/reauth", &lawyer, json!({ "password": password }))
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        f.post("/v1/auth/sign-out", &lawyer, json!({}))
            .await
            .status(),
        204
    );
    assert_eq!(f.changes(&lawyer, "").await.status(), 401);

    // Enrolling frees the session at once.
    enroll(&f, &later).await;
    assert_eq!(f.changes(&later, "").await.status(), 200);
    let resp = f
        .call(reqwest::Method::GET, "/v1/practice/settings", &later, None)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({ "mfa_required": true })
    );
    f.server.stop().await;
}

/// A sensitive action wants a sign-in or re-authentication within five minutes: refused
/// (`reauth_required`) on an older session, allowed after `POST /v1/auth/reauth`. A wrong
/// password there is refused, audited, and counts toward the same back-off as sign-in.
async fn sensitive_routes_need_a_recent_reauthentication(backend: Backend) {
    let f = Fixture::new(backend).await;
    let store = f.server.store.clone();
    let demo = store
        .user_by_email(seed::DEMO_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    // Six minutes on.
    f.raw_sql("UPDATE sessions SET reauth_at = reauth_at - 360")
        .await
        .unwrap();
    let put = |on: bool| {
        f.call(
            reqwest::Method::PUT,
            "/v1/practice/settings",
            &token,
            Some(json!({ "mfa_required": on })),
        )
    };
    assert_eq!(
        problem_code(put(true).await).await,
        (403, "reauth_required".into())
    );
    assert!(!store.mfa_required(demo.practice_id).await.unwrap());
    for path in ["/v1/auth/mfa/totp/setup", "/v1/auth/mfa/totp/disable"] {
        assert_eq!(
            problem_code(f.post(path, &token, json!({})).await).await,
            (403, "reauth_required".into()),
            "{path}"
        );
    }
    // Everyday routes do not care.
    assert_eq!(f.changes(&token, "").await.status(), 200);

    let resp = f
        .post(
            "/v1/auth/reauth",
            &token,
            json!({ "password": "not-the-password" }),
        )
        .await;
    assert_eq!(
        problem_code(resp).await,
        (401, "invalid_credentials".into())
    );
    assert_eq!(
        problem_code(put(true).await).await,
        (403, "reauth_required".into())
    );
    let resp = f
        .post(
            "/v1/auth/reauth",
            &token,
            json!({ "password": seed::DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let resp = put(true).await;
    assert_eq!(resp.status(), 200);
    assert!(store.mfa_required(demo.practice_id).await.unwrap());
    // Put back past the API: the admin, without a factor, may now only enroll.
    store
        .set_mfa_required(demo.practice_id, false)
        .await
        .unwrap();

    let trail = audit_trail(&f).await;
    let session_id = f.texts("SELECT public_id FROM sessions").await;
    assert_eq!(session_id.len(), 1);
    let kinds: Vec<(Option<AuditKind>, Value)> = trail
        .into_iter()
        .filter(|(k, _)| *k != Some(AuditKind::SignIn))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                Some(AuditKind::ReauthFailed),
                json!({"reason": "wrong_password", "session_id": session_id[0], "ip": "127.0.0.1"})
            ),
            (
                Some(AuditKind::Reauthenticated),
                json!({"session_id": session_id[0], "ip": "127.0.0.1"})
            ),
            (
                Some(AuditKind::PracticeSettingsChanged),
                json!({"mfa_required": {"from": false, "to": true}})
            ),
        ]
    );

    // Wrong passwords at re-authentication make the account wait, for sign-in too.
    for _ in 0..strongroom_server::api::FREE_FAILURES {
        let resp = f
            .post(
                "/v1/auth/reauth",
                &token,
                json!({ "password": "not-the-password" }),
            )
            .await;
        assert_eq!(resp.status(), 401);
    }
    let resp = f
        .post(
            "/v1/auth/reauth",
            &token,
            json!({ "password": seed::DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(resp.status(), 429);
    assert_eq!(
        f.sign_in(seed::DEMO_EMAIL, seed::DEMO_PASSWORD)
            .await
            .status(),
        429
    );
    f.server.stop().await;
}

/// Any member reads the settings; only an admin changes them.
async fn only_an_admin_changes_the_practice_settings(backend: Backend) {
    let f = Fixture::new(backend).await;
    for (email, role) in [
        ("lawyer@harbourvine.example", Role::Lawyer),
        ("reader@harbourvine.example", Role::ReadOnly),
    ] {
        let password = f.demo_member(email, role).await;
        let token = f.token(email, password).await;
        let resp = f
            .call(
                reqwest::Method::PUT,
                "/v1/practice/settings",
                &token,
                Some(json!({ "mfa_required": true })),
            )
            .await;
        assert_eq!(
            problem_code(resp).await,
            (403, "forbidden".into()),
            "{role:?}"
        );
        let resp = f
            .call(reqwest::Method::GET, "/v1/practice/settings", &token, None)
            .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.json::<Value>().await.unwrap(),
            json!({ "mfa_required": false })
        );
    }
    assert!(
        !audit_trail(&f)
            .await
            .iter()
            .any(|(k, _)| *k == Some(AuditKind::PracticeSettingsChanged))
    );
    let admin = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let resp = f
        .call(
            reqwest::Method::PUT,
            "/v1/practice/settings",
            &admin,
            Some(json!({ "mfa_required": true })),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({ "mfa_required": true })
    );
    // The admin has no factor either, and must now enroll like everyone else.
    let resp = f
        .call(reqwest::Method::GET, "/v1/practice/settings", &admin, None)
        .await;
    assert_eq!(
        problem_code(resp).await,
        (403, "mfa_enrollment_required".into())
    );
    f.server.stop().await;
}

/// While the practice requires a second factor, a member cannot remove theirs; once it
/// does not, they can, and the password alone signs in again.
async fn a_mandatory_second_factor_cannot_be_disabled(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let (app, _, _) = enroll(&f, &token).await;
    let settings = |on: bool| {
        f.call(
            reqwest::Method::PUT,
            "/v1/practice/settings",
            &token,
            Some(json!({ "mfa_required": on })),
        )
    };
    assert_eq!(settings(true).await.status(), 200);
    let resp = f.post("/v1/auth/mfa/totp/disable", &token, json!({})).await;
    assert_eq!(problem_code(resp).await, (409, "mfa_mandatory".into()));
    let resp = f.sign_in(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    assert_eq!(problem_code(resp).await, (401, "mfa_required".into()));

    assert_eq!(settings(false).await.status(), 200);
    let resp = f.post("/v1/auth/mfa/totp/disable", &token, json!({})).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        f.sign_in(seed::DEMO_EMAIL, seed::DEMO_PASSWORD)
            .await
            .status(),
        200
    );
    let resp = f
        .sign_in_with(
            seed::DEMO_EMAIL,
            seed::DEMO_PASSWORD,
            json!({ "totp_code": code(&app, 1) }),
        )
        .await;
    assert_eq!(
        resp.status(),
        200,
        "a code for no factor is simply not needed"
    );
    assert!(
        f.texts("SELECT code_hash FROM recovery_codes")
            .await
            .is_empty()
    );
    let resp = f.post("/v1/auth/mfa/totp/disable", &token, json!({})).await;
    assert_eq!(problem_code(resp).await, (409, "mfa_not_enrolled".into()));
    assert!(
        audit_trail(&f)
            .await
            .contains(&(Some(AuditKind::MfaDisabled), json!({"factor": "totp"})))
    );
    f.server.stop().await;
}
