//! The web surface's files: the UI's browser entry (`web.html`, built by Vite into
//! `ui/dist`) and its hashed assets, served from a folder the operator names
//! (`web_root`), in front of the `/v1` API.
//!
//! `/` and `/web.html` answer the page; `/assets/*` its scripts, styles and fonts; every
//! other path goes on to the API router (whose own fallback answers a 404 problem).
//!
//! Invariant: the page and its assets carry a content security policy of their own,
//! `default-src 'self'` with no inline script or style, no framing, no `<base>` and forms
//! only to this origin; never the API's `default-src 'none'`, and never a looser one.
//! Held by `web::the_page_and_its_assets_are_served_under_their_own_policy`.
//! Invariant: only files inside the web root's `assets/` folder and `web.html` are
//! reachable: `..`, absolute and encoded paths find nothing outside (tower-http's
//! `ServeDir` refuses them), and the desktop's `index.html` is not served.
//! Invariant: the page is never cached (`no-cache`: checked each time, so a new release
//! shows at once); assets have content hashes in their names and are cached for a year.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The content security policy of the page and its assets.
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Why a web root cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum WebRootError {
    #[error("the web root {0} has no web.html: build the UI first (cd ui && npm run build)")]
    NoPage(PathBuf),
    #[error("the web root {0} has no assets folder: build the UI first (cd ui && npm run build)")]
    NoAssets(PathBuf),
}

/// Checks that `root` holds a built web entry.
pub fn check_root(root: &Path) -> Result<(), WebRootError> {
    if !root.join("web.html").is_file() {
        return Err(WebRootError::NoPage(root.to_owned()));
    }
    if !root.join("assets").is_dir() {
        return Err(WebRootError::NoAssets(root.to_owned()));
    }
    Ok(())
}

/// The page's routes in front of `api`: `/`, `/web.html`, `/assets/*`; everything else
/// goes to `api`.
pub fn in_front_of(api: Router, root: &Path) -> Router {
    let page = ServeFile::new(root.join("web.html"));
    let page_routes = Router::new()
        .route_service("/", page.clone())
        .route_service("/web.html", page)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ));
    let assets = Router::new()
        .nest_service(
            "/assets",
            ServeDir::new(root.join("assets")).fallback(get(not_found)),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ));
    let web = page_routes
        .merge(assets)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ));
    web.fallback_service(api)
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such file").into_response()
}
