//! Third-party apps (promise 9): integration tokens keep to their scopes and the records
//! routes, are counted in the ledger, and fail on the request after their revocation.
//! Registered in `on_both_stores!` in `api.rs`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use strongroom_protocol::{ChangesPage, Integration, IntegrationCreated, Role};

use super::access::{Who, file_of};
use super::support::code_of;
use super::{Backend, Fixture};

impl Fixture {
    /// An admin lets an app in with `scopes`; answers the ledger row and the token.
    pub(crate) async fn integration(
        &self,
        admin: &Who,
        app: &str,
        scopes: Value,
    ) -> IntegrationCreated {
        let (status, text) = self
            .request(
                Some(&admin.token),
                Method::POST,
                "/v1/integrations",
                Some(json!({"app_name": app, "scopes": scopes})),
            )
            .await;
        assert_eq!(status, 201, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn ledger(&self, who: &Who) -> Vec<Integration> {
        let (status, text) = self
            .request(Some(&who.token), Method::GET, "/v1/integrations", None)
            .await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }
}

pub async fn integration_tokens_keep_to_their_scopes_and_are_counted(backend: Backend) {
    let f = Fixture::new(backend).await;
    let admin = f.demo_admin().await;
    let lawyer = f
        .member(&admin, "lawyer@harbourvine.example", Role::Lawyer)
        .await;
    let a = file_of("Atacama");
    let b = file_of("Bora");
    for r in a.iter().chain(&b) {
        assert_eq!(f.put_record(&admin, r).await.0, 201);
    }
    // Bora's matter is walled off to the admin: no app sees it.
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::PUT,
            &format!("/v1/matters/{}/access", b[1].key().1),
            Some(json!({"restricted": true, "members": [admin.id]})),
        )
        .await;
    assert_eq!(status, 200);

    let reader = f
        .integration(&admin, "Ledgerly", json!(["records:read"]))
        .await;
    assert!(reader.token.starts_with("sri_"));
    assert_eq!(reader.integration.records_read, 0);
    assert_eq!(reader.integration.last_used_at, None);
    assert_eq!(reader.integration.created_by.id, admin.id);
    // Only its hash is stored.
    let hashes = f.texts("SELECT token_hash FROM integrations").await;
    assert_eq!(
        hashes,
        vec![strongroom_server::auth::token_hash(&reader.token)]
    );

    // Reads, counted.
    let (status, text) = f
        .request(Some(&reader.token), Method::GET, "/v1/records/matter", None)
        .await;
    assert_eq!(status, 200, "{text}");
    let page: ChangesPage = serde_json::from_str(&text).unwrap();
    assert!(
        text.contains("Atacama matter") && !text.contains("Bora"),
        "{text}"
    );
    let listed = page.changes.len() as i64;
    assert!(listed >= 1);
    let (kind, id) = a[3].key();
    let (status, _) = f
        .request(
            Some(&reader.token),
            Method::GET,
            &format!("/v1/records/{}/{id}", kind.as_str()),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (kind, id) = b[3].key();
    let (status, text) = f
        .request(
            Some(&reader.token),
            Method::GET,
            &format!("/v1/records/{}/{id}", kind.as_str()),
            None,
        )
        .await;
    assert_eq!(status, 404, "a restricted matter's note: {text}");
    let row = f.ledger(&lawyer).await;
    assert_eq!(row.len(), 1);
    assert_eq!(row[0].records_read, listed + 1);
    assert!(row[0].last_used_at.is_some());
    assert_eq!(row[0].app_name, "Ledgerly");

    // No writing without records:write.
    let body: Value = serde_json::from_str(&a[3].body_json().unwrap()).unwrap();
    let (kind, id) = a[3].key();
    let note = format!("/v1/records/{}/{id}", kind.as_str());
    let (status, text) = f
        .request(Some(&reader.token), Method::PUT, &note, Some(body.clone()))
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );
    let (status, text) = f
        .request(Some(&reader.token), Method::DELETE, &note, None)
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );

    // Nowhere but the records routes.
    for (method, path) in [
        (Method::GET, "/v1/sync/changes"),
        (Method::GET, "/v1/members"),
        (Method::GET, "/v1/sessions"),
        (Method::GET, "/v1/audit/verify"),
        (Method::GET, "/v1/integrations"),
        (Method::POST, "/v1/integrations"),
        (Method::GET, "/v1/support/grants"),
        (Method::GET, "/v1/support/my-grants"),
        (Method::GET, "/v1/practice/settings"),
        (Method::POST, "/v1/auth/sign-out"),
    ] {
        let body = (method == Method::POST).then(|| json!({}));
        let (status, text) = f.request(Some(&reader.token), method, path, body).await;
        assert_eq!(status, 401, "{path}: {text}");
    }

    // A writer without records:read writes and reads nothing.
    let writer = f
        .integration(&admin, "Docket sync", json!(["records:write"]))
        .await;
    let (status, text) = f
        .request(Some(&writer.token), Method::GET, "/v1/records/matter", None)
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );
    let mut edited = body.clone();
    edited["subject"] = json!("Edited by an app");
    let (status, text) = f
        .request(Some(&writer.token), Method::PUT, &note, Some(edited))
        .await;
    assert_eq!(status, 200, "{text}");
    // Not on a restricted matter.
    let (kind, id) = b[3].key();
    let bora_note: Value = serde_json::from_str(&b[3].body_json().unwrap()).unwrap();
    let (status, _) = f
        .request(
            Some(&writer.token),
            Method::PUT,
            &format!("/v1/records/{}/{id}", kind.as_str()),
            Some(bora_note),
        )
        .await;
    assert!(status == 404 || status == 422, "{status}");

    // Newest first.
    let ledger = f.ledger(&admin).await;
    let names: Vec<&str> = ledger.iter().map(|i| i.app_name.as_str()).collect();
    assert_eq!(names, ["Docket sync", "Ledgerly"]);

    // Revoked: the very next request fails, and the ledger says when.
    let (status, _) = f
        .request(
            Some(&lawyer.token),
            Method::DELETE,
            &format!("/v1/integrations/{}", reader.integration.id),
            None,
        )
        .await;
    assert_eq!(status, 403, "a lawyer revokes nothing");
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::DELETE,
            &format!("/v1/integrations/{}", reader.integration.id),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, text) = f
        .request(Some(&reader.token), Method::GET, "/v1/records/matter", None)
        .await;
    assert_eq!(
        (status, code_of(&text)),
        (StatusCode::UNAUTHORIZED, "unauthenticated".into())
    );
    let row = f
        .ledger(&admin)
        .await
        .into_iter()
        .find(|i| i.id == reader.integration.id)
        .unwrap();
    assert!(row.revoked_at.is_some());
    let (status, _) = f
        .request(
            Some(&admin.token),
            Method::DELETE,
            &format!("/v1/integrations/{}", reader.integration.id),
            None,
        )
        .await;
    assert_eq!(status, 404, "revoked once");
    // The other app still works.
    let (status, _) = f
        .request(Some(&writer.token), Method::DELETE, &note, None)
        .await;
    assert_eq!(status, 204);

    // Only admins make one; names and scopes are checked.
    let (status, _) = f
        .request(
            Some(&lawyer.token),
            Method::POST,
            "/v1/integrations",
            Some(json!({"app_name": "Sneaky", "scopes": ["records:read"]})),
        )
        .await;
    assert_eq!(status, 403);
    for body in [
        json!({"app_name": "", "scopes": ["records:read"]}),
        json!({"app_name": "x".repeat(101), "scopes": ["records:read"]}),
        json!({"app_name": "App", "scopes": []}),
        json!({"app_name": "App", "scopes": ["admin:all"]}),
        json!({"app_name": "App"}),
    ] {
        let (status, text) = f
            .request(
                Some(&admin.token),
                Method::POST,
                "/v1/integrations",
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 400, "{body}: {text}");
    }
    assert_eq!(f.ledger(&admin).await.len(), 2);

    // The audit log has the creations and the revocation, and no token.
    let kinds = f
        .texts("SELECT kind FROM audit_log WHERE kind LIKE 'integration_%' ORDER BY id")
        .await;
    assert_eq!(
        kinds,
        [
            "integration_created",
            "integration_created",
            "integration_revoked"
        ]
    );
    let details = f.texts("SELECT details FROM audit_log").await.join("\n");
    assert!(!details.contains(&reader.token) && !details.contains(&writer.token));
    f.server.stop().await;
}
