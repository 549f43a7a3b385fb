//! Tauri's build step: embeds the config and declares the app's own commands, so that each
//! needs an explicit permission in `capabilities/` (the allow-list).

fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "app_start",
            "app_status",
            "sign_in",
            "unlock",
            "lock",
            "sync_now",
            "list_matters",
            "search_matters",
        ]),
    ))
    .expect("tauri build step");
}
