// The privacy dashboard's words: how fresh a page is, how long a grant has left, what a
// device holds, scopes and roles; and the audit log's filter (checked before it is sent,
// and matched the same way the fake backend matches it). Pure, so unit-tested.
import type {
  AuditFilter,
  AuditRow,
  DeviceHoldings,
  ExportProgress,
  GrantAccess,
  GrantScope,
  GrantStatus,
  IntegrationScope,
  InvitationStatus,
  Role,
} from "./dashboard-types";
import { formatBytes, localDate, relativeTime } from "./format";
import type {
  CatalogueItem,
  Category,
  Channel,
  ChannelChoice,
  ConsentAction,
  ConsentChange,
  ConsentChoices,
  ConsentRecord,
  ConsentState,
  ConsentSurface,
  CookieCategory,
  Notice,
  SetBy,
  StorageKind,
} from "./preference-types";

/** The pages of "Privacy & access". */
export type PrivacyPage =
  | "devices"
  | "members"
  | "review"
  | "support"
  | "apps"
  | "audit"
  | "export"
  | "cookies"
  | "notifications"
  | "usage";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const n0 = (x: number) => x.toLocaleString("en-AU");
const two = (x: number) => String(x).padStart(2, "0");

/** "27 Nov, 14:02" in this device's time zone; the year is added when it is not this one. */
export function shortDateTime(iso: string, now: Date = new Date()): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const year = t.getFullYear() === now.getFullYear() ? "" : ` ${t.getFullYear()}`;
  return `${t.getDate()} ${MONTHS[t.getMonth()]}${year}, ${two(t.getHours())}:${two(t.getMinutes())}`;
}

/** How fresh a page is: "Updated 2 min ago", or offline "Offline — showing the copy from 27 Nov, 14:02". */
export function freshnessLabel(fetchedAt: string, offline: boolean, now: Date = new Date()): string {
  if (offline) return `Offline — showing the copy from ${shortDateTime(fetchedAt, now)}`;
  const rel = relativeTime(fetchedAt, now);
  return rel === "just now" ? "Updated just now" : /^\d{4}-/.test(rel) ? `Updated on ${shortDateTime(fetchedAt, now)}` : `Updated ${rel}`;
}

/** A span in words, largest two units: "2 days 3 h", "5 h 12 min", "12 min", "less than a minute". */
export function spanWords(ms: number): string {
  const mins = Math.floor(ms / 60_000);
  if (mins < 1) return "less than a minute";
  const days = Math.floor(mins / 1440);
  const hours = Math.floor((mins % 1440) / 60);
  const m = mins % 60;
  if (days > 0) return hours > 0 ? `${days} day${days === 1 ? "" : "s"} ${hours} h` : `${days} day${days === 1 ? "" : "s"}`;
  if (hours > 0) return m > 0 ? `${hours} h ${m} min` : `${hours} h`;
  return `${m} min`;
}

/** How long ago, for sessions and sign-ins: as the status line says it, but in days up to a
 * year ("90 days ago") rather than a bare date, since the gap is what matters here. */
export function sinceLabel(iso: string | null, now: Date = new Date()): string {
  if (!iso) return "Never";
  const rel = relativeTime(iso, now);
  if (!/^\d{4}-/.test(rel)) return rel;
  const days = Math.round((now.getTime() - new Date(iso).getTime()) / 86_400_000);
  return days < 365 ? `${days} days ago` : `on ${shortDateTime(iso, now)}`;
}

/** A grant's time left: "1 day 18 h left", "Expired" once past. */
export function timeLeftLabel(expiresAt: string | null, now: Date = new Date()): string {
  if (!expiresAt) return "";
  const ms = new Date(expiresAt).getTime() - now.getTime();
  if (Number.isNaN(ms)) return "";
  return ms <= 0 ? "Expired" : `${spanWords(ms)} left`;
}

/** A time to come: "in 5 h 12 min", "in 13 days"; "passed" once it has. */
export function untilLabel(iso: string, now: Date = new Date()): string {
  const ms = new Date(iso).getTime() - now.getTime();
  if (Number.isNaN(ms)) return "";
  return ms <= 0 ? "passed" : `in ${spanWords(ms)}`;
}

/** What a device holds offline: "1,204 matters · synced 3 h ago", or "Not reported". */
export function holdingsLabel(h: DeviceHoldings | null, now: Date = new Date()): string {
  if (!h) return "Not reported";
  return `${n0(h.matters)} matter${h.matters === 1 ? "" : "s"} · synced ${relativeTime(h.last_sync_at, now)}`;
}

/** A grant's length as asked: "24 hours", "3 days", "36 hours". */
export function durationLabel(hours: number): string {
  if (hours >= 24 && hours % 24 === 0) return `${hours / 24} day${hours === 24 ? "" : "s"}`;
  return `${hours} hour${hours === 1 ? "" : "s"}`;
}

export function roleLabel(r: Role): string {
  return r === "admin" ? "Administrator" : r === "lawyer" ? "Lawyer" : "Read only";
}

export const ROLES: Role[] = ["admin", "lawyer", "read_only"];

export function accessLabel(a: GrantAccess): string {
  return a === "read" ? "Read only" : "Read and write";
}

/** "Whole practice", or "2 matters: HV-2026-0137, HV-2026-0129". */
export function scopeLabel(s: GrantScope): string {
  if (s.kind === "practice") return "Whole practice";
  const numbers = s.matters.map((m) => m.number).join(", ");
  return `${s.matters.length} matter${s.matters.length === 1 ? "" : "s"}: ${numbers}`;
}

export function grantStatusLabel(s: GrantStatus): string {
  return { requested: "Waiting for approval", active: "Active", declined: "Declined", expired: "Expired", revoked: "Revoked" }[s];
}

export function invitationStatusLabel(s: InvitationStatus): string {
  return { pending: "Pending", accepted: "Accepted", expired: "Expired", revoked: "Withdrawn" }[s];
}

export function scopeWords(s: IntegrationScope): string {
  return s === "records:read" ? "Read records" : "Change records";
}

/** A member's idle time in a review: "90 days without signing in", or "Never signed in". */
export function idleLabel(days: number | null): string {
  if (days === null) return "Never signed in";
  return `${n0(days)} day${days === 1 ? "" : "s"} without signing in`;
}

/** An audit kind in words: "support_access_approved" → "Support access approved". */
export function kindLabel(kind: string): string {
  const t = kind.replace(/_/g, " ").trim();
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** An export's progress in words: "Preparing…", "1.2 MB of 4.8 MB (25%)", "Checking against its manifest…". */
export function exportProgressLabel(p: ExportProgress): string {
  if (p.stage === "preparing") return "Preparing…";
  if (p.stage === "checking") return "Checking against its manifest…";
  if (p.stage === "done") return `Done: ${formatBytes(p.done_bytes)}`;
  if (p.total_bytes === null || p.total_bytes <= 0) return `${formatBytes(p.done_bytes)} so far`;
  return `${formatBytes(p.done_bytes)} of ${formatBytes(p.total_bytes)} (${exportPercent(p)}%)`;
}

/** The whole percentage of an export, null while the total is unknown. */
export function exportPercent(p: ExportProgress): number | null {
  if (p.stage === "done") return 100;
  if (p.total_bytes === null || p.total_bytes <= 0) return null;
  return Math.max(0, Math.min(100, Math.floor((p.done_bytes / p.total_bytes) * 100)));
}

// --- The audit log's filter ---

/** What the filter form holds: "" for "any". */
export type AuditFilterForm = { actor: string; kind: string; from: string; to: string };

export const EMPTY_FILTER_FORM: AuditFilterForm = { actor: "", kind: "", from: "", to: "" };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isDate(s: string): boolean {
  const m = s.match(DATE);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** The form as the backend's filter: only what is set; or the problem, in words. */
export function auditFilterFrom(form: AuditFilterForm): { filter: AuditFilter; problem: null } | { filter: null; problem: string } {
  const from = form.from.trim();
  const to = form.to.trim();
  if (from && !isDate(from)) return { filter: null, problem: "The “from” date is not a calendar date (YYYY-MM-DD)." };
  if (to && !isDate(to)) return { filter: null, problem: "The “to” date is not a calendar date (YYYY-MM-DD)." };
  if (from && to && from > to) return { filter: null, problem: "The “from” date is after the “to” date." };
  const filter: AuditFilter = {};
  if (form.actor) filter.actor_id = form.actor;
  if (form.kind) filter.kind = form.kind;
  if (from) filter.from = from;
  if (to) filter.to = to;
  return { filter, problem: null };
}

/** Whether a filter narrows anything. */
export function filterIsEmpty(f: AuditFilter): boolean {
  return !f.actor_id && !f.kind && !f.from && !f.to;
}

/** Whether an entry passes the filter: dates are inclusive local calendar days. */
export function matchesAuditFilter(row: AuditRow, f: AuditFilter): boolean {
  if (f.actor_id && row.actor_id !== f.actor_id) return false;
  if (f.kind && row.kind !== f.kind) return false;
  if (f.from || f.to) {
    const day = localDate(new Date(row.occurred_at));
    if (f.from && day < f.from) return false;
    if (f.to && day > f.to) return false;
  }
  return true;
}

/** The filter in words, for the export's note and the count line: "Dana Lee · sign in · 1–7 Nov". */
export function filterWords(f: AuditFilter, actors: { id: string; name: string }[]): string {
  const parts: string[] = [];
  if (f.actor_id) parts.push(actors.find((a) => a.id === f.actor_id)?.name ?? "one person");
  if (f.kind) parts.push(kindLabel(f.kind).toLowerCase());
  if (f.from && f.to) parts.push(`${f.from} to ${f.to}`);
  else if (f.from) parts.push(`from ${f.from}`);
  else if (f.to) parts.push(`up to ${f.to}`);
  return parts.length ? parts.join(" · ") : "all entries";
}

// --- Cookies and consent ---

/** Where a choice was made, in a sentence: "in the desktop app", "in a browser". */
export function surfaceWords(s: ConsentSurface | null): string {
  return s === "desktop" ? "in the desktop app" : s === "web" ? "in a browser" : "";
}

/** Who made the current record, briefly: "You", "Global Privacy Control", "The default". */
export function consentSourceLabel(r: ConsentRecord): string {
  return r.source === "user" ? "You" : r.source === "gpc" ? "Global Privacy Control" : "The default";
}

/** The current record in a sentence: who, where, when, and under which policy. */
export function consentRecordWords(r: ConsentRecord, now: Date = new Date()): string {
  const when = r.recorded_at ? ` on ${shortDateTime(r.recorded_at, now)}` : "";
  const policy = `cookie policy of ${r.policy_version}`;
  switch (r.source) {
    case "user":
      return `Chosen by you ${surfaceWords(r.surface)}${when}, under the ${policy}.`.replace("  ", " ");
    case "gpc":
      return `Set by Global Privacy Control${when}: your browser asked that nothing be used for analytics, so only strictly necessary cookies are on (${policy}). You have not chosen yourself yet.`;
    case "default":
      return `Nothing chosen yet, so the default holds: only strictly necessary cookies are on (${policy}).`;
  }
}

/** Whether a record's choices allow `category` (strictly necessary always). */
export function categoryChosen(choices: ConsentChoices, category: CookieCategory): boolean {
  return category === "strictly_necessary" ? true : choices[category];
}

/** An item's choice in a record: its own, or else its category's. */
export function itemChosen(choices: ConsentChoices, item: CatalogueItem): { on: boolean; own: boolean } {
  if (item.category === "strictly_necessary") return { on: true, own: false };
  const own = choices.items[item.name];
  return own === undefined ? { on: choices[item.category], own: false } : { on: own, own: true };
}

/** A change of one kind: accept all, reject all, or custom categories and items. */
export function consentChange(
  action: ConsentAction,
  categories: { functional?: boolean; analytics?: boolean } = {},
  items: Record<string, boolean | null> = {},
): ConsentChange {
  return {
    action,
    categories: { strictly_necessary: null, functional: categories.functional ?? null, analytics: categories.analytics ?? null },
    items: { ...items },
  };
}

/** What the current choice allows, in short: "Functional on · Analytics off". */
export function consentSummary(choices: ConsentChoices): string {
  return `Functional ${choices.functional ? "on" : "off"} · Analytics ${choices.analytics ? "on" : "off"}`;
}

/** Whether the browser's banner should ask: no choice of the member's under this policy. */
export function bannerNeeded(s: ConsentState | null): boolean {
  return s !== null && s.choice_needed;
}

export function setByLabel(s: SetBy): string {
  return s === "service" ? "The Strongroom service" : "These pages' own script";
}

export function storageKindLabel(k: StorageKind): string {
  return k === "cookie" ? "Cookie" : "Local storage";
}

// --- Notifications ---

const CATEGORY_LABELS: Record<Category, string> = {
  security_alerts: "Security alerts",
  breach_notices: "Breach notices",
  billing: "Billing",
  service_notices: "Service notices",
  policy_changes: "Policy changes",
  product_news: "Product news",
  tips: "Tips",
  usage_suggestions: "Usage suggestions",
};

const CATEGORY_WHAT: Record<Category, string> = {
  security_alerts: "Sign-ins, second factors and sessions ended.",
  breach_notices: "A personal-data breach that affects your practice.",
  billing: "Invoices, payment problems and the subscription.",
  service_notices: "Outages, maintenance and changes to how the service runs.",
  policy_changes: "A new version of the privacy policy or the terms.",
  product_news: "New features and announcements.",
  tips: "How to get more from Strongroom.",
  usage_suggestions: "Suggestions drawn from how your practice uses Strongroom.",
};

export function notificationCategoryLabel(c: Category): string {
  return CATEGORY_LABELS[c] ?? c;
}

/** What a category is about, in a sentence. */
export function notificationCategoryWhat(c: Category): string {
  return CATEGORY_WHAT[c] ?? "";
}

export const CHANNEL_ORDER: Channel[] = ["email", "in_app", "desktop"];

export function channelLabel(c: Channel): string {
  return c === "email" ? "Email" : c === "in_app" ? "In app" : "Desktop notification";
}

/** How a channel's choice was last made: "Default", "You, in the app, 27 Nov, 14:02", ... */
export function choiceSourceWords(c: ChannelChoice, now: Date = new Date()): string {
  const when = c.changed_at ? `, ${shortDateTime(c.changed_at, now)}` : "";
  switch (c.source) {
    case "default":
      return "Default";
    case "user":
      return `You, in the desktop app${when}`;
    case "web":
      return `You, in a browser${when}`;
    case "unsubscribe_link":
      return `An email's unsubscribe link${when}`;
  }
}

/** The inbox's order: unread first, then newest first; only notices meant for the inbox. */
export function inboxOrder(notices: Notice[]): Notice[] {
  return notices
    .filter((n) => n.in_app)
    .sort((a, b) => {
      if ((a.read_at === null) !== (b.read_at === null)) return a.read_at === null ? -1 : 1;
      return a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0;
    });
}

export function unreadLabel(notices: Notice[]): string {
  const n = notices.filter((x) => x.in_app && x.read_at === null).length;
  return n === 0 ? "Nothing unread" : `${n} unread`;
}

// --- Usage data ---

/** A report week: "Week of 23 Nov 2026" (its Monday, a UTC date). */
export function weekLabel(weekStart: string): string {
  const m = weekStart.match(/^(\d{4})-(\d{2})-(\d{2})$/);
  if (!m) return weekStart;
  return `Week of ${Number(m[3])} ${MONTHS[Number(m[2]) - 1] ?? m[2]} ${m[1]}`;
}
