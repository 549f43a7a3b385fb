//! The OpenAPI document against the service, where Schemathesis found them apart
//! (`scripts/security-scans`, docs/SECURITY-SCANS.md): query parameters documented as path
//! parameters, a protocol header documented as any number, an event stream documented as
//! one string, an undocumented 404, lengths counted in bytes where the document and the
//! messages say characters; and what testssl.sh found: no HSTS or other security headers,
//! and the client's cipher order taking precedence over the server's.
//! The behaviour is checked on both stores from `on_both_stores!` in `api.rs`; the document
//! itself once, by `the_document_describes_parameters_where_they_are_read`.

use reqwest::Method;
use serde_json::{Value, json};
use strongroom_protocol::PROTOCOL_VERSION;
use strongroom_server::seed;

use super::{Backend, Fixture};

/// The problem code of a problem body.
fn code(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `GET /v1/audit/entries` and `GET /v1/members/review` read their numbers from the query
/// (the document said path), and refuse numbers out of the documented range with 400
/// instead of quietly clamping them.
pub(crate) async fn query_numbers_out_of_range_are_refused(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    for path in [
        "/v1/audit/entries?limit=0",
        "/v1/audit/entries?limit=1001",
        "/v1/audit/entries?after_seq=-1",
        "/v1/audit/entries?limit=4294967296",
        "/v1/members/review?dormant_days=0",
        "/v1/members/review?dormant_days=3651",
    ] {
        let (status, body) = f.request(Some(&token), Method::GET, path, None).await;
        assert_eq!(
            (status.as_u16(), code(&body)),
            (400, "bad_request".into()),
            "{path}"
        );
    }
    for path in [
        "/v1/audit/entries",
        "/v1/audit/entries?after_seq=0&limit=1000",
        "/v1/audit/entries?limit=1",
        "/v1/members/review?dormant_days=1",
        "/v1/members/review?dormant_days=3650",
    ] {
        let (status, body) = f.request(Some(&token), Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    f.server.stop().await;
}

/// Emails and passwords are measured in characters, as the document and the refusals say:
/// 254 and 1024 characters of a script that takes two bytes each are well-formed (a wrong
/// password, 401), where they were refused as malformed (400).
pub(crate) async fn lengths_are_counted_in_characters(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let email = format!("{}@{}", "é".repeat(200), "ü".repeat(53));
    assert_eq!(email.chars().count(), 254);
    let password = "ø".repeat(1024);
    for (path, who) in [
        ("/v1/auth/sign-in", None),
        ("/v1/support/auth/sign-in", None),
    ] {
        let (status, body) = f
            .request(
                who,
                Method::POST,
                path,
                Some(json!({"email": email, "password": password, "device_name": "t"})),
            )
            .await;
        assert_eq!(status, 401, "{path}: {body}");
    }
    // A wrong password on re-authentication: 401, not a malformed request.
    let (status, body) = f
        .request(
            Some(&token),
            Method::POST,
            "/v1/auth/reauth",
            Some(json!({"password": password})),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    // One character more is malformed.
    let (status, _) = f
        .request(
            None,
            Method::POST,
            "/v1/auth/sign-in",
            Some(json!({"email": email, "password": format!("{password}ø"), "device_name": "t"})),
        )
        .await;
    assert_eq!(status, 400);
    f.server.stop().await;
}

/// A support staff write to a malformed path is 404 `not_found`, as now documented.
pub(crate) async fn a_staff_write_to_a_malformed_path_is_not_found(backend: Backend) {
    let f = Fixture::new(backend).await;
    let staff = f.staff("sam@support.strongroom.example").await;
    let practice = f.demo_practice().await;
    for path in [
        format!("/v1/support/practices/{practice}/records/matter/null%2Cnull"),
        "/v1/support/practices/not-a-practice/records/matter/00000000-0000-0000-0000-000000000001"
            .to_owned(),
        format!(
            "/v1/support/practices/{practice}/records/nothing/00000000-0000-0000-0000-000000000001"
        ),
    ] {
        let (status, body) = f
            .request(Some(&staff), Method::PUT, &path, Some(json!({})))
            .await;
        assert_eq!(
            (status.as_u16(), code(&body)),
            (404, "not_found".into()),
            "{path}"
        );
    }
    f.server.stop().await;
}

/// Every answer, the fallback's 404 and problems included, says: HTTPS only (HSTS), no
/// sniffing, no framing, no active content, no referrer, and keep nothing in a cache
/// (unless the handler said otherwise: the event stream keeps its own `no-cache`).
pub(crate) async fn every_answer_carries_the_security_headers(backend: Backend) {
    let f = Fixture::new(backend).await;
    let token = f.token(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await;
    let answers = [
        f.http.get(f.url("/v1/health")).send().await.unwrap(),
        f.http.get(f.url("/")).send().await.unwrap(),
        f.http.get(f.url("/v1/sessions")).send().await.unwrap(),
        f.http
            .get(f.url("/v1/sessions"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        f.http.get(f.url("/v1/openapi.json")).send().await.unwrap(),
    ];
    for resp in &answers {
        let h = resp.headers();
        let strict = h["strict-transport-security"].to_str().unwrap();
        let max_age: u64 = strict
            .strip_prefix("max-age=")
            .and_then(|s| s.split(';').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(max_age >= 180 * 24 * 3600, "{strict}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(
            h["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'"
        );
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store", "{}", resp.url());
    }
    let live = f
        .http
        .get(f.url("/v1/sync/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    assert_eq!(live.headers()["cache-control"], "no-cache");
    assert!(live.headers().contains_key("strict-transport-security"));
    drop(live);
    f.server.stop().await;
}

/// On TLS 1.2 the server picks the cipher suite by its own order (AES-256-GCM first), not
/// by the client's: a client that lists ChaCha20-Poly1305 first still gets AES-256-GCM.
pub(crate) async fn the_server_chooses_the_cipher_suite(backend: Backend) {
    use std::io::{Read, Write};
    use std::sync::Arc;

    use rustls::crypto::aws_lc_rs::{cipher_suite, default_provider};
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let f = Fixture::new(backend).await;
    let ca = std::fs::read(&f.server.ca_pem_path).unwrap();
    let addr = f.server.addr;
    let negotiated = tokio::task::spawn_blocking(move || {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(&ca) {
            roots.add(c.unwrap()).unwrap();
        }
        let provider = rustls::crypto::CryptoProvider {
            cipher_suites: vec![
                cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            ],
            ..default_provider()
        };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name: rustls::pki_types::ServerName<'static> = "127.0.0.1".try_into().unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let sock = std::net::TcpStream::connect(addr).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, sock);
        tls.write_all(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = Vec::new();
        let _ = tls.read_to_end(&mut answer);
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
        tls.conn.negotiated_cipher_suite().unwrap().suite()
    })
    .await
    .unwrap();
    assert_eq!(
        negotiated,
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    );
    f.server.stop().await;
}

/// Each operation's parameters are described where the service reads them: a path
/// parameter names a `{placeholder}` of its path, and no optional parameter is nullable
/// (a header or query value cannot be JSON `null`). The protocol header admits only this
/// service's version; the live stream describes its two events; the staff's record write
/// documents its 404 and 413.
#[tokio::test]
async fn the_document_describes_parameters_where_they_are_read() {
    let f = Fixture::new(Backend::Sqlite).await;
    let doc: Value = f
        .http
        .get(f.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut protocol_headers = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let place = p["in"].as_str().unwrap();
                let at = format!("{method} {path}: {name}");
                if place == "path" {
                    assert!(path.contains(&format!("{{{name}}}")), "{at} is in no path");
                    assert_eq!(p["required"], true, "{at}");
                } else {
                    assert!(matches!(place, "query" | "header"), "{at} in {place}");
                    let types = &p["schema"]["type"];
                    assert!(
                        !types.as_array().is_some_and(|t| t.contains(&json!("null"))),
                        "{at} is nullable"
                    );
                }
                if name == "strongroom-protocol" {
                    protocol_headers += 1;
                    assert_eq!(p["in"], "header", "{at}");
                    assert_eq!(p["required"], false, "{at}");
                    assert_eq!(
                        p["schema"],
                        json!({"type": "integer", "enum": [PROTOCOL_VERSION]}),
                        "{at}"
                    );
                }
            }
        }
    }
    assert!(protocol_headers >= 18, "{protocol_headers}");

    let audit = &doc["paths"]["/v1/audit/entries"]["get"]["parameters"];
    let limit = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(
        (
            &limit["in"],
            &limit["schema"]["minimum"],
            &limit["schema"]["maximum"]
        ),
        (&json!("query"), &json!(1), &json!(1000))
    );

    let events = &doc["paths"]["/v1/sync/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
        ["schema"];
    assert_eq!(events["$ref"], "#/components/schemas/LiveEvent");
    let names: Vec<&Value> = doc["components"]["schemas"]["LiveEvent"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["properties"]["event"]["enum"][0])
        .collect();
    assert_eq!(names, [&json!("changed"), &json!("ended")]);

    let staff_put = &doc["paths"]["/v1/support/practices/{practice_id}/records/{kind}/{id}"]["put"]
        ["responses"];
    for code in ["404", "413"] {
        assert!(staff_put.get(code).is_some(), "{code}");
    }
    f.server.stop().await;
}
