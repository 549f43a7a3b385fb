// The privacy dashboard's types, as /work/notes/dashboard-spec.ts fixes them (the contract with the
// Rust core). The Rust side will generate the same types into bindings.ts; this module will then
// re-export them from there. Keep the names and fields exactly as they are.

/** What the dashboard shows when it may be showing a cached copy: the vault keeps the
 * last answer of each read so the page works offline, and says how fresh it is. */
export type Cached<T> = {
  value: T;
  /** When the service gave this answer. */
  fetched_at: string;
  /** true: the service could not be reached just now and this is the vault's copy. */
  offline: boolean;
};

// ---- Sessions and devices ----
export type DeviceHoldings = {
  /** Matters the device holds offline. */
  matters: number;
  /** Records of every kind it holds. */
  records: number;
  /** Its last completed sync. */
  last_sync_at: string;
};
export type DeviceSession = {
  id: string;
  device_name: string;
  platform: string;
  app_version: string;
  first_ip: string | null;
  last_ip: string | null;
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  expires_at: string;
  /** The session of this app. */
  current: boolean;
  /** What the device reported holding offline at its last sync; null if it never said. */
  holdings: DeviceHoldings | null;
};

// ---- Members and access review (admins) ----
export type Role = "admin" | "lawyer" | "read_only";
export type MemberView = {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  disabled: boolean;
  mfa_enabled: boolean;
  last_sign_in_at: string | null;
  /** Live sessions (signed-in devices). */
  session_count: number;
};
export type InvitationStatus = "pending" | "accepted" | "expired" | "revoked";
export type InvitationView = {
  id: string;
  email: string;
  role: Role;
  invited_by_name: string;
  created_at: string;
  expires_at: string;
  status: InvitationStatus;
};
export type InvitationSent = {
  invitation: InvitationView;
  /** The one-time acceptance code, shown once (the service also emails it when it can). */
  token: string;
  emailed: boolean;
};
export type DormantMember = {
  member: MemberView;
  /** Whole days since the last sign-in; null: never signed in. */
  days_idle: number | null;
};
export type AccessReview = {
  dormant_days: number;
  generated_at: string;
  /** Enabled members with no sign-in within dormant_days. */
  dormant: DormantMember[];
  /** Invitations never used: pending older than dormant_days, or expired unused. */
  unused_invitations: InvitationView[];
  /** The last completed review, if any. */
  last_review: ReviewRecord | null;
};
export type ReviewRecord = {
  completed_at: string;
  by_name: string;
  dormant_days: number;
  disabled: number;
  invitations_revoked: number;
};

// ---- Support access grants ----
export type GrantScope = { kind: "practice" } | { kind: "matters"; matters: GrantMatter[] };
export type GrantMatter = { id: string; number: string; title: string };
export type GrantAccess = "read" | "read_write";
export type GrantStatus = "requested" | "active" | "declined" | "expired" | "revoked";
export type SupportGrant = {
  id: string;
  staff_name: string;
  staff_email: string;
  reason: string;
  ticket: string;
  scope: GrantScope;
  access: GrantAccess;
  duration_hours: number;
  status: GrantStatus;
  requested_at: string;
  decided_at: string | null;
  decided_by_name: string | null;
  /** Set when approved: approval time + duration. */
  expires_at: string | null;
  revoked_at: string | null;
};
export type SupportAccessEntry = {
  id: number;
  at: string;
  staff_name: string;
  grant_id: string;
  /** e.g. "GET /v1/support/practices/…/records/matter" */
  request: string;
  /** What was read or written, in words: "3 matters", "file note 'Call with client'". */
  what: string;
  records: number;
  /** false: refused (outside the grant). */
  allowed: boolean;
};

// ---- Third-party apps ----
export type IntegrationScope = "records:read" | "records:write";
export type Integration = {
  id: string;
  app_name: string;
  scopes: IntegrationScope[];
  created_by_name: string;
  created_at: string;
  last_used_at: string | null;
  records_read: number;
  revoked_at: string | null;
};
export type IntegrationCreated = {
  integration: Integration;
  /** The token, shown once. */
  token: string;
};

// ---- Audit log ----
export type AuditRow = {
  /** The entry's number in the practice's own chain, from 1. */
  seq: number;
  occurred_at: string;
  /** The member or staff member who acted; null: the service itself or unknown account. */
  actor_id: string | null;
  actor_name: string | null;
  /** e.g. "sign_in", "session_revoked", "support_access_approved" */
  kind: string;
  /** One line in words, e.g. "Signed in on Dana's laptop from 10.0.0.4". */
  summary: string;
  /** The entry's details as compact JSON. */
  details: string;
};
export type AuditFilter = {
  actor_id?: string | null;
  kind?: string | null;
  /** Inclusive dates, YYYY-MM-DD, local calendar days. */
  from?: string | null;
  to?: string | null;
};
/** The app's own check of the practice's hash chain (done in the app, not trusted from the
 * service). */
export type ChainCheck =
  | { status: "verified"; entries: number }
  | { status: "broken"; seq: number; reason: string };
export type AuditLogView = {
  rows: AuditRow[];
  /** Entries matching the filter (rows may be the first page of them). */
  total: number;
  check: ChainCheck;
  /** For the filters: everyone who appears in the log, and every kind that appears. */
  actors: { id: string; name: string }[];
  kinds: string[];
  fetched_at: string;
  offline: boolean;
};

// ---- Export ----
export type ExportProgress = {
  stage: "preparing" | "downloading" | "checking" | "done";
  done_bytes: number;
  /** null while unknown. */
  total_bytes: number | null;
};
export type ExportResult = {
  /** Where the zip was saved. */
  path: string;
  bytes: number;
  /** Files in the zip, manifest excluded. */
  files: number;
  records: number;
  /** SHA-256 of the zip (hex). */
  sha256: string;
  /** Every file matched the manifest's SHA-256. */
  verified: boolean;
};

