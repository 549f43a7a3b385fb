// The one interface the UI talks through. The desktop app uses TauriBackend; tests and,
// later, the web surface provide their own implementations.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
  AccessReview,
  AuditFilter,
  AuditLogView,
  Cached,
  DeviceSession,
  ExportProgress,
  ExportResult,
  Integration,
  IntegrationCreated,
  IntegrationScope,
  InvitationSent,
  InvitationView,
  MemberView,
  ReviewRecord,
  Role,
  SupportAccessEntry,
  SupportGrant,
} from "./dashboard-types";
import type {
  ConsentChange,
  ConsentState,
  CookieCatalogue,
  IncidentAcknowledgements,
  MemberIncident,
  MemberPolicy,
  Notice,
  NotificationPreferences,
  PolicyDocument,
  PolicyKind,
  PreferencesUpdate,
  UsageReport,
} from "./preference-types";
import type {
  AppStatus,
  ConflictChoice,
  ConflictView,
  Contact,
  ErrorDto,
  MatterDetail,
  MatterFilterOptions,
  MatterListQuery,
  MatterPage,
  RecordKind,
  RejectedEditView,
  SearchHit,
  SearchRequest,
  SyncReport,
  TimerState,
} from "./types";
import { BackendError, toBackendError } from "./errors";

/** The privacy dashboard's commands (the contract in /work/notes/dashboard-spec.ts). Reads
 * answer the vault's copy when the service cannot be reached (`offline: true`); actions then
 * fail with `offline`. Admin-only reads and actions fail with `forbidden` for others. */
export interface DashboardBackend {
  sessions(): Promise<Cached<DeviceSession[]>>;
  revokeSession(id: string): Promise<void>;
  /** Answers how many were revoked. */
  revokeOtherSessions(): Promise<number>;

  members(): Promise<Cached<MemberView[]>>; // admins only; others get error code "forbidden"
  invitations(): Promise<Cached<InvitationView[]>>;
  invite(email: string, role: Role): Promise<InvitationSent>;
  revokeInvitation(id: string): Promise<void>;
  updateMember(id: string, change: { role?: Role; disabled?: boolean }): Promise<MemberView>;
  /** Ends the member's sessions, deletes their password and second factor, and frees their
   * email for a new invitation (admins only). */
  removeCredentials(id: string): Promise<void>;
  accessReview(dormantDays: number): Promise<AccessReview>;
  /** Disables the chosen members, withdraws the chosen invitations, and records the review. */
  completeAccessReview(dormantDays: number, disable: string[], revokeInvitations: string[]): Promise<ReviewRecord>;

  /** Proves who the user is again (password, and the authenticator code when they have one);
   * actions that answer error code "reauth_required" then succeed for a few minutes. */
  reauthenticate(password: string, oneTimeCode?: string): Promise<void>;

  supportGrants(): Promise<Cached<SupportGrant[]>>;
  approveGrant(id: string): Promise<SupportGrant>; // may fail "reauth_required"
  declineGrant(id: string): Promise<SupportGrant>;
  revokeGrant(id: string): Promise<SupportGrant>;
  supportAccessLog(grantId?: string): Promise<Cached<SupportAccessEntry[]>>;

  integrations(): Promise<Cached<Integration[]>>;
  createIntegration(appName: string, scopes: IntegrationScope[]): Promise<IntegrationCreated>;
  revokeIntegration(id: string): Promise<Integration>;

  /** Fetches the practice's log (new entries since the vault's copy), verifies the chain in
   * the app, then filters. Offline: the vault's copy, still verified. */
  auditLog(filter: AuditFilter): Promise<AuditLogView>;
  /** Saves the filtered log as CSV or JSON in the user's Downloads folder; answers the path. */
  exportAuditLog(filter: AuditFilter, format: "csv" | "json"): Promise<string>;

  /** Admins: the whole practice from the service, zipped with a SHA-256 manifest, saved in
   * Downloads and checked against its manifest. Progress is reported as it goes. */
  exportPractice(onProgress: (p: ExportProgress) => void): Promise<ExportResult>;
  /** Anyone: what this device's vault holds, in the same format, without the network. */
  exportVault(onProgress: (p: ExportProgress) => void): Promise<ExportResult>;

  // Cookies and consent (promise 6): one record per member, shared by the desktop and the browser.
  cookieCatalogue(): Promise<Cached<CookieCatalogue>>; // GET /v1/cookies
  consent(): Promise<Cached<ConsentState>>; // GET /v1/me/consent
  /** Refusing strictly necessary cookies fails with error code "strictly_necessary_locked". */
  changeConsent(change: ConsentChange): Promise<ConsentState>; // PUT /v1/me/consent
  // Notification preferences and the in-app inbox (promise 8).
  notificationPreferences(): Promise<Cached<NotificationPreferences>>; // GET /v1/me/notifications/preferences
  /** All the changes or none; turning an essential category off fails with error code
   * "essential_category". Each backend records its own surface, whatever `source` says. */
  updateNotificationPreferences(update: PreferencesUpdate): Promise<NotificationPreferences>; // PATCH same
  notices(): Promise<Cached<Notice[]>>; // GET /v1/me/notices
  markNoticeRead(id: string): Promise<void>; // POST /v1/me/notices/{id}/read
  // Usage data: administrators only; others fail with error code "forbidden".
  usageReportPreview(): Promise<Cached<UsageReport>>; // GET /v1/practice/usage-report/preview
  // Breach notices (promise 10).
  incidents(): Promise<Cached<MemberIncident[]>>; // GET /v1/me/incidents
  acknowledgeIncident(id: string): Promise<MemberIncident>; // POST /v1/me/incidents/{id}/acknowledge
  incidentAcknowledgements(id: string): Promise<Cached<IncidentAcknowledgements>>; // administrators; others "forbidden"
  // Policy updates (promises 11, 12).
  policies(): Promise<Cached<MemberPolicy[]>>; // GET /v1/me/policies
  policyDocument(kind: PolicyKind, version: string): Promise<PolicyDocument>; // GET /v1/policies/{kind}/{version}
  /** Only the current version: an older one fails "policy_version_not_current". */
  acknowledgePolicy(kind: PolicyKind, version: string): Promise<MemberPolicy>; // POST /v1/me/policies/{kind}/acknowledge
}

export interface Backend extends DashboardBackend {
  start(): Promise<AppStatus>;
  status(): Promise<AppStatus>;
  /** Signs in and creates the vault; the first sync then runs through `syncNow` (or the
   * live loop) so its progress shows. `oneTimeCode` is the authenticator's six digits or
   * a recovery code, asked for after a `mfa_required` error. */
  signIn(
    serverUrl: string,
    email: string,
    password: string,
    passphrase?: string,
    oneTimeCode?: string,
  ): Promise<AppStatus>;
  unlock(passphrase?: string): Promise<AppStatus>;
  lock(): Promise<AppStatus>;
  /** Ends the session on the service (when it answers) and wipes this device's vault and
   * key. Unsynced edits are lost: the UI warns first (`status.pending_edits`). */
  signOut(): Promise<AppStatus>;
  syncNow(): Promise<SyncReport>;
  /** One window of the matter list, sorted and filtered in the vault. */
  listMatters(query: MatterListQuery): Promise<MatterPage>;
  /** The values the list's filters offer (matter types, responsible lawyers). */
  matterFilters(): Promise<MatterFilterOptions>;
  search(request: SearchRequest): Promise<SearchHit[]>;
  /** A matter with everything on it; `not_found` when this device does not hold it. */
  matter(id: string): Promise<MatterDetail>;
  /** Contacts whose name starts with (or contains a word starting with) `text`. */
  findContacts(text: string, limit?: number): Promise<Contact[]>;
  /** Creates (`id` null) or changes a record offline; answers its id. `fields` are the
   * record's wire fields (e.g. `{subject, body}` for a file note); a new record needs all
   * its required fields. The edit is queued for sync in the same transaction. */
  saveRecord(kind: RecordKind, id: string | null, fields: Record<string, unknown>): Promise<string>;
  deleteRecord(kind: RecordKind, id: string): Promise<void>;
  conflicts(): Promise<ConflictView[]>;
  resolveConflict(id: string, choice: ConflictChoice): Promise<void>;
  rejectedEdits(): Promise<RejectedEditView[]>;
  /** Marks a refused edit as seen: it leaves the list and the status line's count. */
  dismissRejectedEdit(mutationSeq: number): Promise<void>;
  /** The running (or paused) timer, if any. Kept in the vault: it survives a restart. */
  timer(): Promise<TimerState | null>;
  startTimer(matterId: string): Promise<TimerState>;
  pauseTimer(): Promise<TimerState>;
  resumeTimer(): Promise<TimerState>;
  /** Stops the timer and answers its final state; the UI then offers a time entry with
   * the minutes filled in. */
  stopTimer(): Promise<TimerState>;
  /** Calls `handler` whenever what the app shows may have changed on its own (a live
   * sync brought changes, the connection came or went). Answers a function that stops it. */
  onChange(handler: () => void): () => void;
}

/** The event the desktop shell sends when the live loop changed something. */
export const CHANGED_EVENT = "strongroom://changed";
/** The event an export (of the practice or of this device's copy) reports progress with. */
export const EXPORT_PROGRESS_EVENT = "strongroom://export-progress";

export { BackendError };

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toBackendError(e as ErrorDto | string);
  }
}

/** Runs an export command with its progress events heard: listening starts before the
 * command is invoked (no early event is missed) and stops when it ends, either way. */
async function withProgress<T>(cmd: string, onProgress: (p: ExportProgress) => void): Promise<T> {
  let unlisten: (() => void) | null = null;
  try {
    unlisten = await listen<ExportProgress>(EXPORT_PROGRESS_EVENT, (e) => onProgress(e.payload));
  } catch {
    // Without events the export still runs; only its progress is not shown.
  }
  try {
    return await call<T>(cmd);
  } finally {
    unlisten?.();
  }
}

export class TauriBackend implements Backend {
  start() {
    return call<AppStatus>("app_start");
  }
  status() {
    return call<AppStatus>("app_status");
  }
  signIn(serverUrl: string, email: string, password: string, passphrase?: string, oneTimeCode?: string) {
    return call<AppStatus>("sign_in", {
      serverUrl,
      email,
      password,
      passphrase: passphrase ?? null,
      oneTimeCode: oneTimeCode ?? null,
    });
  }
  unlock(passphrase?: string) {
    return call<AppStatus>("unlock", { passphrase: passphrase ?? null });
  }
  lock() {
    return call<AppStatus>("lock");
  }
  syncNow() {
    return call<SyncReport>("sync_now");
  }
  signOut() {
    return call<AppStatus>("sign_out");
  }
  listMatters(query: MatterListQuery) {
    return call<MatterPage>("list_matters", { query });
  }
  matterFilters() {
    return call<MatterFilterOptions>("matter_filters");
  }
  search(request: SearchRequest) {
    return call<SearchHit[]>("search_matters", { request });
  }
  matter(id: string) {
    return call<MatterDetail>("matter_detail", { id });
  }
  findContacts(text: string, limit?: number) {
    return call<Contact[]>("find_contacts", { text, limit: limit ?? 20 });
  }
  saveRecord(kind: RecordKind, id: string | null, fields: Record<string, unknown>) {
    return call<string>("save_record", { kind, id, fields });
  }
  deleteRecord(kind: RecordKind, id: string) {
    return call<void>("delete_record", { kind, id });
  }
  conflicts() {
    return call<ConflictView[]>("list_conflicts");
  }
  resolveConflict(id: string, choice: ConflictChoice) {
    return call<void>("resolve_conflict", { id, choice });
  }
  rejectedEdits() {
    return call<RejectedEditView[]>("rejected_edits");
  }
  dismissRejectedEdit(mutationSeq: number) {
    return call<void>("dismiss_rejected_edit", { mutationSeq });
  }
  timer() {
    return call<TimerState | null>("timer_state");
  }
  startTimer(matterId: string) {
    return call<TimerState>("timer_start", { matterId });
  }
  pauseTimer() {
    return call<TimerState>("timer_pause");
  }
  resumeTimer() {
    return call<TimerState>("timer_resume");
  }
  stopTimer() {
    return call<TimerState>("timer_stop");
  }

  // --- The privacy dashboard ---

  sessions() {
    return call<Cached<DeviceSession[]>>("list_sessions");
  }
  revokeSession(id: string) {
    return call<void>("revoke_session", { id });
  }
  revokeOtherSessions() {
    return call<number>("revoke_other_sessions");
  }
  members() {
    return call<Cached<MemberView[]>>("list_members");
  }
  invitations() {
    return call<Cached<InvitationView[]>>("list_invitations");
  }
  invite(email: string, role: Role) {
    return call<InvitationSent>("invite_member", { email, role });
  }
  revokeInvitation(id: string) {
    return call<void>("revoke_invitation", { id });
  }
  removeCredentials(id: string) {
    return call<void>("remove_credentials", { id });
  }
  updateMember(id: string, change: { role?: Role; disabled?: boolean }) {
    return call<MemberView>("update_member", { id, change });
  }
  accessReview(dormantDays: number) {
    return call<AccessReview>("access_review", { dormantDays });
  }
  completeAccessReview(dormantDays: number, disable: string[], revokeInvitations: string[]) {
    return call<ReviewRecord>("complete_access_review", { dormantDays, disable, revokeInvitations });
  }
  reauthenticate(password: string, oneTimeCode?: string) {
    return call<void>("reauthenticate", { password, oneTimeCode: oneTimeCode ?? null });
  }
  supportGrants() {
    return call<Cached<SupportGrant[]>>("support_grants");
  }
  approveGrant(id: string) {
    return call<SupportGrant>("approve_grant", { id });
  }
  declineGrant(id: string) {
    return call<SupportGrant>("decline_grant", { id });
  }
  revokeGrant(id: string) {
    return call<SupportGrant>("revoke_grant", { id });
  }
  supportAccessLog(grantId?: string) {
    return call<Cached<SupportAccessEntry[]>>("support_access_log", { grantId: grantId ?? null });
  }
  integrations() {
    return call<Cached<Integration[]>>("list_integrations");
  }
  createIntegration(appName: string, scopes: IntegrationScope[]) {
    return call<IntegrationCreated>("create_integration", { appName, scopes });
  }
  revokeIntegration(id: string) {
    return call<Integration>("revoke_integration", { id });
  }
  auditLog(filter: AuditFilter) {
    return call<AuditLogView>("audit_log", { filter });
  }
  exportAuditLog(filter: AuditFilter, format: "csv" | "json") {
    return call<string>("export_audit_log", { filter, format });
  }
  exportPractice(onProgress: (p: ExportProgress) => void) {
    return withProgress<ExportResult>("export_practice", onProgress);
  }
  exportVault(onProgress: (p: ExportProgress) => void) {
    return withProgress<ExportResult>("export_vault", onProgress);
  }
  cookieCatalogue() {
    return call<Cached<CookieCatalogue>>("cookie_catalogue");
  }
  consent() {
    return call<Cached<ConsentState>>("consent_state");
  }
  changeConsent(change: ConsentChange) {
    return call<ConsentState>("change_consent", { change });
  }
  notificationPreferences() {
    return call<Cached<NotificationPreferences>>("notification_preferences");
  }
  updateNotificationPreferences(update: PreferencesUpdate) {
    return call<NotificationPreferences>("update_notification_preferences", { update });
  }
  notices() {
    return call<Cached<Notice[]>>("list_notices");
  }
  markNoticeRead(id: string) {
    return call<void>("mark_notice_read", { id });
  }
  usageReportPreview() {
    return call<Cached<UsageReport>>("usage_report_preview");
  }
  incidents() {
    return call<Cached<MemberIncident[]>>("incidents");
  }
  acknowledgeIncident(id: string) {
    return call<MemberIncident>("acknowledge_incident", { id });
  }
  incidentAcknowledgements(id: string) {
    return call<Cached<IncidentAcknowledgements>>("incident_acknowledgements", { id });
  }
  policies() {
    return call<Cached<MemberPolicy[]>>("policies");
  }
  policyDocument(kind: PolicyKind, version: string) {
    return call<PolicyDocument>("policy_document", { kind, version });
  }
  acknowledgePolicy(kind: PolicyKind, version: string) {
    return call<MemberPolicy>("acknowledge_policy", { kind, version });
  }

  onChange(handler: () => void) {
    let stopped = false;
    let stop: (() => void) | null = null;
    listen(CHANGED_EVENT, () => handler())
      .then((unlisten) => {
        if (stopped) unlisten();
        else stop = unlisten;
      })
      .catch(() => {
        // Without events the app still works: "Sync now" and the status still answer.
      });
    return () => {
      stopped = true;
      stop?.();
    };
  }
}
