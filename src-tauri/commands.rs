//! The app's commands: one line each into the core.

use serde_json::{Map, Value};
use strongroom_client::{
    AccessReview, AppStatus, AuditFilter, AuditLogView, Cached, ConflictChoice, ConflictView,
    ConsentChange, ConsentState, Contact, CookieCatalogue, DeviceSession, ErrorDto, ExportResult,
    IncidentAcknowledgements, IntegrationCreatedView, IntegrationScope, IntegrationView,
    InvitationSent, InvitationView, MatterDetail, MatterFilterOptions, MatterListQuery, MatterPage,
    MemberChange, MemberIncident, MemberPolicy, MemberView, Notice, NotificationPreferences,
    PolicyDocument, PolicyKind, PreferencesUpdate, RecordKind, RejectedEditView, ReviewRecord,
    Role, SearchHitDto, SearchRequest, SupportAccessView, SupportGrantView, SyncReport, TimerState,
    UsageReport,
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
    one_time_code: Option<String>,
) -> CmdResult<AppStatus> {
    // The first sync runs after, through `sync_now` and the live loop, so the window can
    // show its progress.
    state
        .0
        .lock()
        .await
        .sign_in_with_code(
            &server_url,
            &email,
            &password,
            passphrase.as_deref(),
            one_time_code.as_deref(),
        )
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn sign_out(state: State<'_, CoreState>) -> CmdResult<AppStatus> {
    state
        .0
        .lock()
        .await
        .sign_out()
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
pub async fn list_matters(
    state: State<'_, CoreState>,
    query: MatterListQuery,
) -> CmdResult<MatterPage> {
    state
        .0
        .lock()
        .await
        .matters_page(&query)
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn matter_filters(state: State<'_, CoreState>) -> CmdResult<MatterFilterOptions> {
    state
        .0
        .lock()
        .await
        .matter_filters()
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn matter_detail(state: State<'_, CoreState>, id: String) -> CmdResult<MatterDetail> {
    state
        .0
        .lock()
        .await
        .matter_detail(&id)
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn find_contacts(
    state: State<'_, CoreState>,
    text: String,
    limit: u32,
) -> CmdResult<Vec<Contact>> {
    state
        .0
        .lock()
        .await
        .find_contacts(&text, limit)
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn save_record(
    state: State<'_, CoreState>,
    kind: RecordKind,
    id: Option<String>,
    fields: Map<String, Value>,
) -> CmdResult<String> {
    state
        .0
        .lock()
        .await
        .save_record(kind, id.as_deref(), fields)
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn delete_record(
    state: State<'_, CoreState>,
    kind: RecordKind,
    id: String,
) -> CmdResult<()> {
    state
        .0
        .lock()
        .await
        .delete_record(kind, &id)
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn list_conflicts(state: State<'_, CoreState>) -> CmdResult<Vec<ConflictView>> {
    state
        .0
        .lock()
        .await
        .conflict_views()
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn resolve_conflict(
    state: State<'_, CoreState>,
    id: String,
    choice: ConflictChoice,
) -> CmdResult<()> {
    state
        .0
        .lock()
        .await
        .resolve_conflict_choice(&id, choice)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn rejected_edits(state: State<'_, CoreState>) -> CmdResult<Vec<RejectedEditView>> {
    state
        .0
        .lock()
        .await
        .rejected_views()
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn timer_state(state: State<'_, CoreState>) -> CmdResult<Option<TimerState>> {
    state.0.lock().await.timer().map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn timer_start(state: State<'_, CoreState>, matter_id: String) -> CmdResult<TimerState> {
    state
        .0
        .lock()
        .await
        .start_timer(&matter_id)
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn timer_pause(state: State<'_, CoreState>) -> CmdResult<TimerState> {
    state.0.lock().await.pause_timer().map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn timer_resume(state: State<'_, CoreState>) -> CmdResult<TimerState> {
    state.0.lock().await.resume_timer().map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn timer_stop(state: State<'_, CoreState>) -> CmdResult<TimerState> {
    state.0.lock().await.stop_timer().map_err(|e| e.to_dto())
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

#[tauri::command]
pub async fn dismiss_rejected_edit(
    state: State<'_, CoreState>,
    mutation_seq: i64,
) -> CmdResult<()> {
    state
        .0
        .lock()
        .await
        .dismiss_rejected_edit(mutation_seq)
        .map_err(|e| e.to_dto())
}

// The privacy dashboard.

fn parse_id(id: &str) -> CmdResult<uuid::Uuid> {
    uuid::Uuid::parse_str(id).map_err(|_| {
        strongroom_client::ClientError::InvalidInput("that is not a valid id".into()).to_dto()
    })
}

fn parse_ids(ids: &[String]) -> CmdResult<Vec<uuid::Uuid>> {
    ids.iter().map(|id| parse_id(id)).collect()
}

#[tauri::command]
pub async fn list_sessions(state: State<'_, CoreState>) -> CmdResult<Cached<Vec<DeviceSession>>> {
    state
        .0
        .lock()
        .await
        .sessions()
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn revoke_session(state: State<'_, CoreState>, id: String) -> CmdResult<()> {
    state
        .0
        .lock()
        .await
        .revoke_session(&id)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn revoke_other_sessions(state: State<'_, CoreState>) -> CmdResult<u32> {
    state
        .0
        .lock()
        .await
        .revoke_other_sessions()
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn list_members(state: State<'_, CoreState>) -> CmdResult<Cached<Vec<MemberView>>> {
    state.0.lock().await.members().await.map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn list_invitations(
    state: State<'_, CoreState>,
) -> CmdResult<Cached<Vec<InvitationView>>> {
    state
        .0
        .lock()
        .await
        .invitations()
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn invite_member(
    state: State<'_, CoreState>,
    email: String,
    role: Role,
) -> CmdResult<InvitationSent> {
    state
        .0
        .lock()
        .await
        .invite(&email, role)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn revoke_invitation(state: State<'_, CoreState>, id: String) -> CmdResult<()> {
    let id = parse_id(&id)?;
    state
        .0
        .lock()
        .await
        .revoke_invitation(id)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn update_member(
    state: State<'_, CoreState>,
    id: String,
    change: MemberChange,
) -> CmdResult<MemberView> {
    let id = parse_id(&id)?;
    state
        .0
        .lock()
        .await
        .update_member(id, change)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn remove_credentials(state: State<'_, CoreState>, id: String) -> CmdResult<()> {
    let id = parse_id(&id)?;
    state
        .0
        .lock()
        .await
        .remove_credentials(id)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn access_review(
    state: State<'_, CoreState>,
    dormant_days: u32,
) -> CmdResult<AccessReview> {
    state
        .0
        .lock()
        .await
        .access_review(dormant_days)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn complete_access_review(
    state: State<'_, CoreState>,
    dormant_days: u32,
    disable: Vec<String>,
    revoke_invitations: Vec<String>,
) -> CmdResult<ReviewRecord> {
    let disable = parse_ids(&disable)?;
    let revoke = parse_ids(&revoke_invitations)?;
    state
        .0
        .lock()
        .await
        .complete_access_review(dormant_days, &disable, &revoke)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn reauthenticate(
    state: State<'_, CoreState>,
    password: String,
    one_time_code: Option<String>,
) -> CmdResult<()> {
    state
        .0
        .lock()
        .await
        .reauthenticate(&password, one_time_code.as_deref())
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn audit_log(
    state: State<'_, CoreState>,
    filter: AuditFilter,
) -> CmdResult<AuditLogView> {
    state
        .0
        .lock()
        .await
        .audit_log(&filter)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn export_audit_log(
    state: State<'_, CoreState>,
    filter: AuditFilter,
    format: String,
) -> CmdResult<String> {
    state
        .0
        .lock()
        .await
        .export_audit_log(&filter, &format)
        .await
        .map_err(|e| e.to_dto())
}

/// The event that carries an export's progress to the window.
pub const EXPORT_PROGRESS_EVENT: &str = "strongroom://export-progress";

/// Downloads the whole practice without holding the core, so the app stays usable.
#[tauri::command]
pub async fn export_practice(
    app: tauri::AppHandle,
    state: State<'_, CoreState>,
) -> CmdResult<ExportResult> {
    use tauri::Emitter;
    let session = state
        .0
        .lock()
        .await
        .export_session()
        .map_err(|e| e.to_dto())?;
    strongroom_client::export_practice(session, &mut |p| {
        let _ = app.emit(EXPORT_PROGRESS_EVENT, p);
    })
    .await
    .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn export_vault(
    app: tauri::AppHandle,
    state: State<'_, CoreState>,
) -> CmdResult<ExportResult> {
    use tauri::Emitter;
    state
        .0
        .lock()
        .await
        .export_vault(&mut |p| {
            let _ = app.emit(EXPORT_PROGRESS_EVENT, p);
        })
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn support_grants(
    state: State<'_, CoreState>,
) -> CmdResult<Cached<Vec<SupportGrantView>>> {
    state
        .0
        .lock()
        .await
        .support_grants()
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn approve_grant(state: State<'_, CoreState>, id: String) -> CmdResult<SupportGrantView> {
    let id = parse_id(&id)?;
    state
        .0
        .lock()
        .await
        .approve_grant(id)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn decline_grant(state: State<'_, CoreState>, id: String) -> CmdResult<SupportGrantView> {
    let id = parse_id(&id)?;
    state
        .0
        .lock()
        .await
        .decline_grant(id)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn revoke_grant(state: State<'_, CoreState>, id: String) -> CmdResult<SupportGrantView> {
    let id = parse_id(&id)?;
    state
        .0
        .lock()
        .await
        .revoke_grant(id)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn support_access_log(
    state: State<'_, CoreState>,
    grant_id: Option<String>,
) -> CmdResult<Cached<Vec<SupportAccessView>>> {
    let grant = grant_id
        .filter(|g| !g.is_empty())
        .map(|g| parse_id(&g))
        .transpose()?;
    state
        .0
        .lock()
        .await
        .support_access_log(grant)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn list_integrations(
    state: State<'_, CoreState>,
) -> CmdResult<Cached<Vec<IntegrationView>>> {
    state
        .0
        .lock()
        .await
        .integrations()
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn create_integration(
    state: State<'_, CoreState>,
    app_name: String,
    scopes: Vec<IntegrationScope>,
) -> CmdResult<IntegrationCreatedView> {
    state
        .0
        .lock()
        .await
        .create_integration(&app_name, &scopes)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn revoke_integration(
    state: State<'_, CoreState>,
    id: String,
) -> CmdResult<IntegrationView> {
    let id = parse_id(&id)?;
    state
        .0
        .lock()
        .await
        .revoke_integration(id)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn cookie_catalogue(state: State<'_, CoreState>) -> CmdResult<Cached<CookieCatalogue>> {
    state
        .0
        .lock()
        .await
        .cookie_catalogue()
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn consent_state(state: State<'_, CoreState>) -> CmdResult<Cached<ConsentState>> {
    state.0.lock().await.consent().await.map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn change_consent(
    state: State<'_, CoreState>,
    change: ConsentChange,
) -> CmdResult<ConsentState> {
    state
        .0
        .lock()
        .await
        .change_consent(&change)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn notification_preferences(
    state: State<'_, CoreState>,
) -> CmdResult<Cached<NotificationPreferences>> {
    state
        .0
        .lock()
        .await
        .notification_preferences()
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn update_notification_preferences(
    state: State<'_, CoreState>,
    update: PreferencesUpdate,
) -> CmdResult<NotificationPreferences> {
    state
        .0
        .lock()
        .await
        .update_notification_preferences(&update)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn list_notices(state: State<'_, CoreState>) -> CmdResult<Cached<Vec<Notice>>> {
    state.0.lock().await.notices().await.map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn mark_notice_read(state: State<'_, CoreState>, id: String) -> CmdResult<()> {
    let id = parse_id(&id)?;
    state
        .0
        .lock()
        .await
        .mark_notice_read(id)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn usage_report_preview(state: State<'_, CoreState>) -> CmdResult<Cached<UsageReport>> {
    state
        .0
        .lock()
        .await
        .usage_report_preview()
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn incidents(state: State<'_, CoreState>) -> CmdResult<Cached<Vec<MemberIncident>>> {
    state
        .0
        .lock()
        .await
        .incidents()
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn acknowledge_incident(
    state: State<'_, CoreState>,
    id: String,
) -> CmdResult<MemberIncident> {
    let id = parse_id(&id)?;
    state
        .0
        .lock()
        .await
        .acknowledge_incident(id)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn incident_acknowledgements(
    state: State<'_, CoreState>,
    id: String,
) -> CmdResult<Cached<IncidentAcknowledgements>> {
    let id = parse_id(&id)?;
    state
        .0
        .lock()
        .await
        .incident_acknowledgements(id)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn policies(state: State<'_, CoreState>) -> CmdResult<Cached<Vec<MemberPolicy>>> {
    state
        .0
        .lock()
        .await
        .policies()
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn policy_document(
    state: State<'_, CoreState>,
    kind: PolicyKind,
    version: String,
) -> CmdResult<PolicyDocument> {
    state
        .0
        .lock()
        .await
        .policy_document(kind, &version)
        .await
        .map_err(|e| e.to_dto())
}

#[tauri::command]
pub async fn acknowledge_policy(
    state: State<'_, CoreState>,
    kind: PolicyKind,
    version: String,
) -> CmdResult<MemberPolicy> {
    state
        .0
        .lock()
        .await
        .acknowledge_policy(kind, &version)
        .await
        .map_err(|e| e.to_dto())
}
