// The privacy dashboard's types: generated from the Rust core into bindings.ts, re-exported
// here, with the UI's shorter names for the support and connected-app views.
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
  GrantMatter,
  GrantScope,
  IntegrationScope,
  // Cookies and consent, notification preferences and notices, the usage report: the
  // protocol's wire types, as the service sends them.
  CookieCatalogue,
  ConsentState,
  ConsentChange,
  NotificationPreferences,
  PreferencesUpdate,
  Notice,
  UsageReport,
} from "./bindings";
import type {
  IntegrationCreatedView,
  IntegrationView,
  SupportAccess,
  SupportAccessView,
  SupportGrantStatus,
  SupportGrantView,
} from "./bindings";

export type GrantAccess = SupportAccess;
export type GrantStatus = SupportGrantStatus;
export type SupportGrant = SupportGrantView;
export type SupportAccessEntry = SupportAccessView;
export type Integration = IntegrationView;
export type IntegrationCreated = IntegrationCreatedView;
