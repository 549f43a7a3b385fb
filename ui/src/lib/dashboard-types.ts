// The privacy dashboard's types. Those the Rust core already serves are generated into
// bindings.ts and re-exported here; the support-access and connected-app types follow the
// contract in the same shape until the core serves them too.
export type {
  Cached,
  DeviceHoldings,
  DeviceSession,
  Role,
  MemberView,
  InvitationStatus,
  InvitationView,
  InvitationSent,
  DormantMember,
  AccessReview,
  ReviewRecord,
  AuditRow,
  AuditFilter,
  ChainCheck,
  AuditLogView,
  ExportProgress,
  ExportResult,
} from "./bindings";

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
// ---- Export ----