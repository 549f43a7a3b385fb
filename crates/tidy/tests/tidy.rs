//! Tidy checks: documentation on every module, no switch that weakens TLS or the keyring,
//! and landed migrations that never change.

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use strongroom_tidy::{
    MacroCall, files_with_ext, identifiers, macro_calls, repo_root, without_strings,
};

fn rust_sources() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["crates", "src-tauri", "tests"] {
        files.extend(files_with_ext(&root.join(dir), ".rs"));
    }
    assert!(files.len() > 10, "found too few sources: {files:?}");
    files
}

#[test]
fn every_rust_module_starts_with_a_doc_comment() {
    let mut missing = Vec::new();
    for f in rust_sources() {
        let text = std::fs::read_to_string(&f).unwrap();
        if !text.trim_start().starts_with("//!") {
            missing.push(f);
        }
    }
    assert!(
        missing.is_empty(),
        "modules without a `//!` doc: {missing:#?}"
    );
}

/// Text that must not appear in the product's sources (this file is exempt).
const FORBIDDEN: &[(&str, &str)] = &[
    (
        "danger_accept_invalid",
        "no switch may accept invalid certificates",
    ),
    (
        "dangerous()",
        "rustls' dangerous API bypasses certificate checks",
    ),
    (
        "keyring::mock",
        "the keyring's in-memory mock must never be used",
    ),
    (
        "set_default_credential_builder",
        "entries are built from the native backend only",
    ),
    ("http://127.0.0.1", "the client talks TLS only"),
];

#[test]
fn no_forbidden_switches() {
    let me = file!().rsplit('/').next().unwrap().to_owned();
    let mut hits = Vec::new();
    for f in rust_sources() {
        if f.ends_with(&me) || f.to_string_lossy().contains("/tests/e2e/driver.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let path = f.to_string_lossy().replace('\\', "/");
        for (needle, why) in FORBIDDEN {
            let allowed = ALLOWED
                .iter()
                .any(|(file, n, _)| path.ends_with(file) && n == needle);
            if text.contains(needle) && !allowed {
                hits.push(format!("{}: {needle}: {why}", f.display()));
            }
        }
    }
    assert!(hits.is_empty(), "{hits:#?}");
}

/// The one place a forbidden text is allowed, and why: (file, text, reason).
const ALLOWED: &[(&str, &str, &str)] = &[(
    "crates/sync/src/tls.rs",
    "dangerous()",
    "rustls takes a custom verifier only through its dangerous API; the pinning verifier \
     runs rustls' own WebPKI verifier first and only adds the pin check after it",
)];

/// The allowed use stays what it says: the pinning verifier returns nothing its WebPKI
/// verifier refused, and it is the only custom verifier.
#[test]
fn the_pinning_verifier_only_narrows_trust() {
    let text = std::fs::read_to_string(repo_root().join("crates/sync/src/tls.rs")).unwrap();
    assert_eq!(
        text.matches("dangerous()").count(),
        1,
        "one custom verifier"
    );
    assert!(text.contains(".with_custom_certificate_verifier(Arc::new(verifier))"));
    assert_eq!(text.matches("impl ServerCertVerifier for").count(), 1);
    let verify = text
        .split("fn verify_server_cert(")
        .nth(1)
        .expect("the pinning verifier's verify_server_cert");
    let body = &verify[..verify.find("fn verify_tls12_signature").unwrap()];
    let first_call = body
        .find("self.webpki.verify_server_cert(")
        .expect("WebPKI first");
    let first_ok = body.find("Ok(").unwrap();
    assert!(
        first_call < first_ok,
        "the WebPKI verifier runs before any Ok"
    );
    assert!(body.contains(")?;"), "and its refusal is returned");
    assert_eq!(
        body.matches("Ok(").count(),
        1,
        "one way to succeed: a pin matched"
    );
}

/// Every landed migration, with its SHA-256. A landed migration is never edited: add a new
/// one, and its line here.
const LANDED_MIGRATIONS: &[(&str, &str)] = &[
    (
        "crates/vault/migrations/0001_init.sql",
        "eecd2707dbc2069eabfce12a67a25a098322c66c41535e633f4f923c9b256014",
    ),
    (
        "crates/server/migrations/sqlite/0001_init.sql",
        "db9a2b49d2e06454f16fb96be0c279333c95e548321e740a49ae67971039df44",
    ),
    (
        "crates/vault/migrations/0002_full_model.sql",
        "95093c218dd306483286ea914ea7b686e2c7cf4b3592f0d92f411df7b175c37a",
    ),
    (
        "crates/server/migrations/sqlite/0002_matter_details.sql",
        "368e657c48e61698c85dde822eb74613803308b07de8e04714c24af0f019c968",
    ),
    (
        "crates/server/migrations/postgres/0001_init.sql",
        "c98d4c78060516d0b1738f7a3e61ccb20d3b004352e970823ead8da4e2f61e10",
    ),
    (
        "crates/server/migrations/sqlite/0003_audit_log.sql",
        "8a58951b442123c9c39739838933ef6d393b7d8fdd356bd0e20e7b10fef00048",
    ),
    (
        "crates/server/migrations/postgres/0002_audit_log.sql",
        "75fabbc3a2bdc06cbde33ed49ca61d561f6e49721bb0dadf5e67249b59f301cd",
    ),
    (
        "crates/server/migrations/sqlite/0004_sign_in_failures.sql",
        "96480e5fd0d058ebd8521acee0839fb009b9d8799fdc77caff73f47fedd90d6b",
    ),
    (
        "crates/server/migrations/postgres/0003_sign_in_failures.sql",
        "6fc39c0db7b674023d8ff6712faf9debec8bfb314b3fe9cc869822246b6302be",
    ),
    (
        "crates/server/migrations/sqlite/0005_members.sql",
        "cc36a546b01f80003f7e0afdedcc03c2ae91977914096c9f2eed18ce4dcac1e2",
    ),
    (
        "crates/server/migrations/postgres/0004_members.sql",
        "bc3770aa7d14af9bd9289df3955951b380ac7bbd07e3b73e8b9432a8bd77e792",
    ),
    (
        "crates/server/migrations/sqlite/0006_records.sql",
        "f165fd3723bb7f1023a12a949f57731721ccac429bd5d96b9d6a42df6bd6df63",
    ),
    (
        "crates/server/migrations/postgres/0005_records.sql",
        "abcb724f29ec5caf11adf429d5b47c00e1b4a08af26ee6b8587dc3d4d7f434f6",
    ),
    (
        "crates/vault/migrations/0003_push_results.sql",
        "c4d21e595f5fd9a37047a951edb27fd4a951e92084231393d2cb2e35e43f9f23",
    ),
    (
        "crates/server/migrations/sqlite/0007_push.sql",
        "8ba738e5d8cab0568cd9ae3f0cf18772d071187cd64e001fe61b409a7c385dc2",
    ),
    (
        "crates/server/migrations/postgres/0006_push.sql",
        "e6a94023df6785d6ec41902df7d6b4b90a8e3e2bc434ad76573fabf9e93d96a1",
    ),
    (
        "crates/server/migrations/sqlite/0008_access_revocations.sql",
        "79ecde38b8be9903f17b16a8f41f7fc1c2821f2a642518c179db3e818ece9dcf",
    ),
    (
        "crates/server/migrations/postgres/0007_access_revocations.sql",
        "1593d3b68d744d42aea7f0e5928a90271c40c18e37aa2441d94d9f994aae34e6",
    ),
    (
        "crates/server/migrations/sqlite/0009_device_wipes.sql",
        "80302574cb8e9ed4600d1c1ffcf164ab6bf758dabbcd5a0e43317a1d50118512",
    ),
    (
        "crates/server/migrations/postgres/0008_device_wipes.sql",
        "4aeb44109a9d79efd940a3f5e26c84482d706a89a4c8b6e43d86f2375dad96e4",
    ),
    (
        "crates/server/migrations/sqlite/0010_privacy_dashboard.sql",
        "fd2fa0e7e1b8cc9a43b8298357f3016eb252cfd0ef010c25b12cad391bd7a665",
    ),
    (
        "crates/server/migrations/postgres/0009_privacy_dashboard.sql",
        "742f37e795fe2550566f3ad627ce3abc1e63fe857a60708c9b82b87ba997a594",
    ),
    (
        "crates/server/migrations/sqlite/0011_support_and_integrations.sql",
        "b8de5344a23aa5fffb1f339415aa45ce46558f0abcb2a97bf18c1bad88dda0ca",
    ),
    (
        "crates/server/migrations/postgres/0010_support_and_integrations.sql",
        "ea0bbd82a54468f988e1fef67578b146a5dbcdce4e7d1fe0c80d132d58ac116f",
    ),
    (
        "crates/server/migrations/sqlite/0012_removed_credentials.sql",
        "bc202a219eb0c89eba7dfdf59568b05ad8cae0dd0eb072bca1b0cbb10e4f07b6",
    ),
    (
        "crates/server/migrations/postgres/0011_removed_credentials.sql",
        "cf4caa94ded9c60b1025d9530dd5154052267b2561a66445b1a82e729d904d4a",
    ),
    (
        "crates/server/migrations/sqlite/0013_notifications.sql",
        "c678acd229610afcf3f5ba570c991e51ec408c1532e5e403fc55ee766dc56b0e",
    ),
    (
        "crates/server/migrations/postgres/0012_notifications.sql",
        "729b152601c2ef9a6f78a24b6dc8c06ed0ac62bbb007b22e0e5c327f7e335b81",
    ),
    (
        "crates/server/migrations/sqlite/0014_consent.sql",
        "cc199e8c8606d6b2c2a103bb612971fe5b14a9a0f36d01894758b6f19971fe43",
    ),
    (
        "crates/server/migrations/postgres/0013_consent.sql",
        "4b03dd5247031d373090ce515a45562c0f066645a9f0eb51d2d42689f16bd9e6",
    ),
    (
        "crates/server/migrations/sqlite/0015_incidents_policies.sql",
        "c7a89122b2836113faa8a6b71bd53c4b0cdc28fde148ffda6eb406853a38e772",
    ),
    (
        "crates/server/migrations/postgres/0014_incidents_policies.sql",
        "ebe6db274ceaa60bdb9f6df9ff5b3ad09e662d5e556c5f9f2d6b385d5f3f88b0",
    ),
    (
        "crates/vault/migrations/0004_list_sorting.sql",
        "8002c7c0825656d70cd8a8dba9c203a6c7c9e02a28890ba64b81f29ba04e3717",
    ),
    (
        "crates/vault/migrations/0005_record_keys.sql",
        "574d189a62357f2b22acc2eccedc7ec465778815106f62892366791486cd9d52",
    ),
];

#[test]
fn landed_migrations_are_unchanged() {
    let root = repo_root();
    let mut changed = Vec::new();
    for (path, want) in LANDED_MIGRATIONS {
        let bytes = std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let got = hex::encode(Sha256::digest(&bytes));
        if got != *want {
            changed.push(format!("{path}: expected {want}, found {got}"));
        }
    }
    assert!(
        changed.is_empty(),
        "landed migrations were edited: {changed:#?}"
    );
    // And every migration on disk is listed.
    for dir in ["crates/vault/migrations", "crates/server/migrations"] {
        for f in files_with_ext(&root.join(dir), ".sql") {
            let rel = f
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            assert!(
                LANDED_MIGRATIONS.iter().any(|(p, _)| rel.ends_with(p)),
                "migration {rel} is not listed in LANDED_MIGRATIONS"
            );
        }
    }
}

/// The vault's `bench-baseline` feature opens an unencrypted database for the benchmark's
/// baseline. No package may turn it on: only the bench target asks for it.
#[test]
fn no_package_enables_the_unencrypted_baseline() {
    let root = repo_root();
    let mut manifests = files_with_ext(&root.join("crates"), "Cargo.toml");
    manifests.push(root.join("Cargo.toml"));
    let mut offenders = Vec::new();
    for m in manifests {
        let text = std::fs::read_to_string(&m).unwrap();
        for line in text.lines() {
            let line = line.trim();
            let declares =
                line.starts_with("bench-baseline = [") || line.starts_with("required-features");
            if line.contains("bench-baseline") && !declares && !line.starts_with('#') {
                offenders.push(format!("{}: {line}", m.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

/// SQL is never assembled with `format!` (or `write!`, `format_args!`): values are bound,
/// and the few shared fragments are joined with `concat!` at compile time. Calls are read
/// whole, however many lines they span.
#[test]
fn no_sql_built_with_format() {
    let mut hits = Vec::new();
    for f in product_sources() {
        let text = std::fs::read_to_string(&f).unwrap();
        for call in macro_calls(&text, FORMAT_MACROS) {
            if let Some(k) = sql_keyword(&call.args) {
                hits.push(format!(
                    "{}:{}: {}!(..) holds {k}",
                    f.display(),
                    call.line,
                    call.name
                ));
            }
        }
    }
    assert!(hits.is_empty(), "{hits:#?}");
}

const FORMAT_MACROS: &[&str] = &["format", "format_args", "write", "writeln"];

/// The SQL keyword in `text` that marks it as a statement, if any (upper case, as the
/// sources write SQL).
fn sql_keyword(text: &str) -> Option<&'static str> {
    [
        "SELECT ",
        "INSERT INTO",
        "UPDATE ",
        "DELETE FROM",
        "PRAGMA ",
        "CREATE TABLE",
        "CREATE INDEX",
        "CREATE VIRTUAL",
        "DROP ",
        "ALTER TABLE",
        " WHERE ",
    ]
    .into_iter()
    .find(|k| text.contains(k))
}

/// Every `.rs` file of the product (its crates' `src` and the Tauri shell), not tests.
fn product_sources() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = files_with_ext(&root.join("src-tauri"), ".rs");
    for f in files_with_ext(&root.join("crates"), ".rs") {
        let rel = f.strip_prefix(&root).unwrap_or(&f);
        let p = rel.to_string_lossy().replace('\\', "/");
        if p.contains("/src/") && !p.starts_with("crates/tidy/") {
            files.push(f);
        }
    }
    assert!(files.len() > 20, "found too few product sources: {files:?}");
    files
}

/// The logging macros (tracing's, which every crate logs with).
const LOG_MACROS: &[&str] = &[
    "trace",
    "debug",
    "info",
    "warn",
    "error",
    "event",
    "span",
    "trace_span",
    "debug_span",
    "info_span",
    "warn_span",
    "error_span",
];

/// Names that carry a secret or a record's content: none may reach a log line as a field
/// or an argument. Words inside the message text itself are not looked at.
const SECRET_OR_CONTENT: &[&str] = &[
    "password",
    "passphrase",
    "token",
    "session_token",
    "bearer",
    "secret",
    "totp",
    "recovery_code",
    "recovery_codes",
    "vault_key",
    "key_hex",
    "key_bytes",
    "private_key",
    "cookie",
    "body",
    "subject",
    "title",
    "description",
    "narrative",
    "fields",
    "email",
];

/// The identifiers of `call`'s arguments that name a secret or record content.
fn leaks(call: &MacroCall) -> Vec<String> {
    identifiers(&without_strings(&call.args))
        .filter(|w| SECRET_OR_CONTENT.contains(&w.to_ascii_lowercase().as_str()))
        .map(str::to_owned)
        .collect()
}

/// No log line carries a secret or a record's content: logging calls are read whole and
/// every identifier in their fields and arguments is checked.
#[test]
fn no_secret_or_record_content_is_logged() {
    let mut hits = Vec::new();
    let mut calls_read = 0;
    for f in product_sources() {
        let text = std::fs::read_to_string(&f).unwrap();
        for call in macro_calls(&text, LOG_MACROS) {
            calls_read += 1;
            let found = leaks(&call);
            if !found.is_empty() {
                hits.push(format!(
                    "{}:{}: {}!(..) logs {}",
                    f.display(),
                    call.line,
                    call.name,
                    found.join(", ")
                ));
            }
        }
    }
    assert!(
        calls_read > 20,
        "only {calls_read} logging calls found: the scan is broken"
    );
    assert!(hits.is_empty(), "{hits:#?}");
}

/// The rules above catch what they are for (each must be able to fail).
#[test]
fn the_static_rules_catch_their_cases() {
    let logged = "fn f() {\n    tracing::info!(\n        user = %id,\n        token = %t, \"signed in\"\n    );\n    warn!(\"bad password for {}\", who);\n    debug!(?note.body, \"note\");\n}\n";
    let calls = macro_calls(logged, LOG_MACROS);
    let found: Vec<Vec<String>> = calls.iter().map(leaks).collect();
    assert_eq!(
        found,
        [vec!["token".to_owned()], vec![], vec!["body".to_owned()]],
        "a token field and a record's body are caught; a word in the message is not"
    );
    let sql = "let q = format!(\n    \"SELECT id FROM matters WHERE title = '{}'\",\n    title\n);";
    let calls = macro_calls(sql, FORMAT_MACROS);
    assert_eq!(calls.len(), 1);
    assert_eq!(sql_keyword(&calls[0].args), Some("SELECT "));
    assert_eq!(sql_keyword("\"matter {} of {}\", a, b"), None);
}
