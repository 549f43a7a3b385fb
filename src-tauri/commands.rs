//! The app's commands: one line each into the core.

use strongroom_client::{
    AppStatus, ErrorDto, MatterSummary, SearchHitDto, SearchRequest, SyncReport,
};
use tauri::State;

use crate::CoreState;

type CmdResult<T> = Result<T, ErrorDto>;

#[tauri::command]
pub async fn app_start(state: State<'_, CoreState>) -> CmdResult<AppStatus> {
    state.0.lock().await.start().map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn app_status(state: State<'_, CoreState>) -> CmdResult<AppStatus> {
    state.0.lock().await.status().map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn sign_in(
    state: State<'_, CoreState>,
    server_url: String,
    email: String,
    password: String,
    passphrase: Option<String>,
) -> CmdResult<AppStatus> {
    state
        .0
        .lock()
        .await
        .sign_in(&server_url, &email, &password, passphrase.as_deref())
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn unlock(
    state: State<'_, CoreState>,
    passphrase: Option<String>,
) -> CmdResult<AppStatus> {
    state
        .0
        .lock()
        .await
        .unlock(passphrase.as_deref())
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn lock(state: State<'_, CoreState>) -> CmdResult<AppStatus> {
    state.0.lock().await.lock().map_err(|e| e.to_dto())
}

/// Syncs without holding the core while waiting on the network, so the matters stay
/// readable during a long first sync.
#[tauri::command]
pub async fn sync_now(state: State<'_, CoreState>) -> CmdResult<SyncReport> {
    strongroom_client::sync_shared(&state.0)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn list_matters(state: State<'_, CoreState>) -> CmdResult<Vec<MatterSummary>> {
    state.0.lock().await.matters().map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn search_matters(
    state: State<'_, CoreState>,
    request: SearchRequest,
) -> CmdResult<Vec<SearchHitDto>> {
    state
        .0
        .lock()
        .await
        .search(&request)
        .map_err(|e| e.to_dto())
}
