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
  DiffHunk,
  DiffTag,
  MemberIncident,
  MemberPolicy,
  Notice,
  PolicyDiff,
  PolicyKind,
  RegulatorReport,
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
  | "usage"
  | "incidents"
  | "policies";

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

// --- Breach notices ---

/** A short span, to the second: "less than a second", "4 s", "2 min 5 s", "3 h 12 min", "2 days 1 h". */
export function shortSpanWords(ms: number): string {
  if (!Number.isFinite(ms) || ms < 1000) return "less than a second";
  const secs = Math.floor(ms / 1000);
  if (secs < 60) return `${secs} s`;
  if (secs < 3600) {
    const m = Math.floor(secs / 60);
    const s = secs % 60;
    return s > 0 ? `${m} min ${s} s` : `${m} min`;
  }
  return spanWords(ms);
}

/** How long after the incident was recorded something reached the member: "4 s after it
 * was recorded"; "when it was recorded" within the second (or before it, by a clock's skew). */
export function afterRecordingWords(recordedAt: string, at: string): string {
  const ms = new Date(at).getTime() - new Date(recordedAt).getTime();
  if (Number.isNaN(ms)) return "";
  if (ms < 1000) return "within a second of its recording";
  return `${shortSpanWords(ms)} after it was recorded`;
}

/** Whether a regulator was told, in a sentence. */
export function regulatorWords(r: RegulatorReport, now: Date = new Date()): string {
  if (!r.notified) return "No regulator has been notified.";
  const who = r.regulator ?? "A regulator";
  return r.notified_at ? `${who} was notified on ${shortDateTime(r.notified_at, now)}.` : `${who} has been notified.`;
}

/** The incidents page's order: not yet acknowledged first, then the newest recorded first. */
export function incidentOrder(list: readonly MemberIncident[]): MemberIncident[] {
  return [...list].sort((a, b) => {
    if ((a.acknowledged_at === null) !== (b.acknowledged_at === null)) return a.acknowledged_at === null ? -1 : 1;
    return a.recorded_at < b.recorded_at ? 1 : a.recorded_at > b.recorded_at ? -1 : 0;
  });
}

// --- Policy updates ---

export const POLICY_ORDER: PolicyKind[] = ["privacy", "terms"];

export function policyKindLabel(k: PolicyKind): string {
  return k === "privacy" ? "Privacy policy" : "Terms of use";
}

/** In a sentence: "the privacy policy", "the terms of use". */
export function policyKindWords(k: PolicyKind): string {
  return k === "privacy" ? "the privacy policy" : "the terms of use";
}

/** The policies in the page's order: the privacy policy, then the terms. */
export function policyOrder(list: readonly MemberPolicy[]): MemberPolicy[] {
  return [...list].sort((a, b) => POLICY_ORDER.indexOf(a.kind) - POLICY_ORDER.indexOf(b.kind));
}

/** What a diff changes, in words: "3 lines added and 1 removed", "No changes". */
export function diffSummaryWords(d: PolicyDiff): string {
  const lines = (n: number) => `${n} line${n === 1 ? "" : "s"}`;
  if (d.inserted === 0 && d.deleted === 0) return "No changes";
  if (d.deleted === 0) return `${lines(d.inserted)} added`;
  if (d.inserted === 0) return `${lines(d.deleted)} removed`;
  return `${lines(d.inserted)} added and ${d.deleted} removed`;
}

/** A side of a hunk: "line 5", "lines 2–8", "no lines (before line 1)". */
export function hunkRangeWords(start: number, count: number): string {
  if (count === 0) return `no lines (after line ${start})`;
  if (count === 1) return `line ${start}`;
  return `lines ${start}–${start + count - 1}`;
}

/** A hunk's heading: where it is in each version, and its unified-diff header. */
export function hunkHeading(h: DiffHunk, fromVersion: string | null, toVersion: string): string {
  const from = fromVersion === null ? "Before (nothing)" : `Version ${fromVersion}`;
  const oldSide = fromVersion === null ? "nothing acknowledged" : hunkRangeWords(h.old_start, h.old_lines);
  return `${from}: ${oldSide}; version ${toVersion}: ${hunkRangeWords(h.new_start, h.new_lines)}`;
}

/** A unified diff's hunk header: "@@ -2,7 +2,7 @@". */
export function unifiedHeader(h: DiffHunk): string {
  return `@@ -${h.old_start},${h.old_lines} +${h.new_start},${h.new_lines} @@`;
}

/** How a diff line is marked, in a symbol and in words (never by colour alone). */
export function diffMark(tag: DiffTag): { symbol: string; words: string } {
  return tag === "insert" ? { symbol: "+", words: "Added" } : tag === "delete" ? { symbol: "−", words: "Removed" } : { symbol: "", words: "Unchanged" };
}

/** Unchanged lines between two hunks that the diff leaves out (0 when they touch). */
export function linesBetween(prev: DiffHunk, next: DiffHunk): number {
  return Math.max(0, next.new_start - (prev.new_start + prev.new_lines));
}

/** Blocks of a policy's Markdown, as the page shows them: headings, paragraphs and lists.
 * Only these: anything else is shown as the text it is (no HTML is ever interpreted). */
export type TextBlock = { kind: "heading"; level: 1 | 2 | 3; text: string } | { kind: "paragraph"; text: string } | { kind: "list"; items: string[] };

export function markdownBlocks(text: string): TextBlock[] {
  const blocks: TextBlock[] = [];
  let para: string[] = [];
  let list: string[] | null = null;
  const flush = () => {
    if (para.length) blocks.push({ kind: "paragraph", text: para.join(" ") });
    para = [];
    if (list) blocks.push({ kind: "list", items: list });
    list = null;
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    const item = line.match(/^[-*]\s+(.*)$/);
    if (!line) flush();
    else if (heading) {
      flush();
      blocks.push({ kind: "heading", level: Math.min(3, heading[1].length) as 1 | 2 | 3, text: heading[2].trim() });
    } else if (item) {
      if (para.length) {
        blocks.push({ kind: "paragraph", text: para.join(" ") });
        para = [];
      }
      (list ??= []).push(item[1]);
    } else if (list && !para.length && /^\s/.test(raw)) list[list.length - 1] += ` ${line}`;
    else {
      if (list) {
        blocks.push({ kind: "list", items: list });
        list = null;
      }
      para.push(line);
    }
  }
  flush();
  return blocks;
}

// --- What needs the member's attention ---

export type Attention = {
  /** Incidents affecting the practice that the member has not acknowledged. */
  incidents: number;
  /** Policies whose current version the member has not acknowledged, and whether they had
   * acknowledged an earlier one (a change) or none. */
  policies: { kind: PolicyKind; changed: boolean }[];
};

export const NOTHING_NEEDED: Attention = { incidents: 0, policies: [] };

export function attentionOf(incidents: readonly MemberIncident[] | null, policies: readonly MemberPolicy[] | null): Attention {
  return {
    incidents: (incidents ?? []).filter((i) => i.acknowledged_at === null).length,
    policies: policyOrder(policies ?? [])
      .filter((p) => !p.up_to_date)
      .map((p) => ({ kind: p.kind, changed: p.acknowledged_version !== null })),
  };
}

/** How many things need attention (the desktop's badge). */
export function attentionCount(a: Attention): number {
  return a.incidents + a.policies.length;
}

/** The breach-notice line of the attention region, or null. */
export function incidentAttentionWords(n: number): string | null {
  if (n === 0) return null;
  return n === 1
    ? "A security incident affecting your practice has been recorded, and you have not acknowledged its notice."
    : `${n} security incidents affecting your practice have been recorded, and you have not acknowledged their notices.`;
}

/** The policy line of the attention region, or null. */
export function policyAttentionWords(policies: Attention["policies"]): string | null {
  if (policies.length === 0) return null;
  const names = policies.map((p) => policyKindWords(p.kind));
  const both = names.join(" and ");
  const changed = policies.filter((p) => p.changed).length;
  const verb = policies.length === 1 && policies[0].kind === "privacy" ? "has" : "have";
  if (changed === policies.length) return `${capitalise(both)} ${verb} changed since you last acknowledged ${policies.length === 1 ? "it" : "them"}.`;
  if (changed === 0) return `You have not yet acknowledged ${both}.`;
  return `${capitalise(both)} need your acknowledgement: one has changed, and one you have not acknowledged yet.`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
