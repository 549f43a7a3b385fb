//! The web surface's files (`strongroom_server::web`): the browser entry and its assets
//! from a web root, under a policy of their own, with the API behind them unchanged.

use serde_json::Value;
use strongroom_server::web::PAGE_POLICY;

use super::{Backend, Fixture};

/// A built web root: the page, one hashed asset, and the desktop's entry (not to be served).
fn web_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("assets")).unwrap();
    std::fs::write(
        root.path().join("web.html"),
        "<!doctype html><title>Strongroom</title><script type=module src=/assets/web-1a2b.js></script>",
    )
    .unwrap();
    std::fs::write(
        root.path().join("assets/web-1a2b.js"),
        "console.log('strongroom web')",
    )
    .unwrap();
    std::fs::write(root.path().join("index.html"), "the desktop's entry").unwrap();
    std::fs::write(root.path().join("secret.txt"), "beside the assets").unwrap();
    root
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

pub async fn the_page_and_its_assets_are_served_under_their_own_policy(backend: Backend) {
    let root = web_root();
    let f = Fixture::configured(
        backend,
        strongroom_server::ServiceSettings {
            web_root: Some(root.path().to_owned()),
            ..Default::default()
        },
    )
    .await;

    for path in ["/", "/web.html"] {
        let resp = f.http.get(f.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(header(&resp, "content-security-policy"), PAGE_POLICY);
        assert_eq!(header(&resp, "cache-control"), "no-cache");
        assert_eq!(header(&resp, "x-frame-options"), "DENY");
        assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
        assert_eq!(
            header(&resp, "strict-transport-security"),
            "max-age=31536000"
        );
        assert!(header(&resp, "content-type").starts_with("text/html"));
        assert!(resp.text().await.unwrap().contains("/assets/web-1a2b.js"));
    }

    let resp = f
        .http
        .get(f.url("/assets/web-1a2b.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-security-policy"), PAGE_POLICY);
    assert_eq!(
        header(&resp, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(header(&resp, "content-type").contains("javascript"));

    // Nothing outside the page and the assets: not the desktop's entry, not a file beside
    // the assets, not by `..` in any spelling.
    for path in [
        "/index.html",
        "/secret.txt",
        "/assets/../secret.txt",
        "/assets/%2e%2e/secret.txt",
        "/assets/..%2fsecret.txt",
        "/assets/%2e%2e%2fsecret.txt",
        "/assets/missing.js",
    ] {
        let resp = f.http.get(f.url(path)).send().await.unwrap();
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert!(
            status == 404 || status == 400,
            "{path} answered {status}: {body}"
        );
        assert!(!body.contains("beside the assets"), "{path}: {body}");
        assert!(!body.contains("the desktop's entry"), "{path}: {body}");
    }

    // The API behind the page answers as before, under its own policy.
    let resp = f.http.get(f.url("/v1/health")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert!(resp.json::<Value>().await.is_ok());
    let resp = f.http.get(f.url("/v1/no-such-route")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(header(&resp, "content-type"), "application/problem+json");
}

#[tokio::test]
async fn a_web_root_without_a_built_page_is_refused_at_start() {
    let empty = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let started = strongroom_server::start_configured(
        strongroom_server::ServeOptions {
            data_dir: data.path().to_owned(),
            listen: "127.0.0.1:0".parse().unwrap(),
            seed_demo: false,
        },
        strongroom_server::StoreConfig::Sqlite,
        strongroom_server::ServiceSettings {
            web_root: Some(empty.path().to_owned()),
            ..Default::default()
        },
    )
    .await;
    let err = match started {
        Ok(_) => panic!("a web root with no web.html must be refused"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("no web.html"), "{err}");
    assert!(err.contains("npm run build"), "{err}");
}
