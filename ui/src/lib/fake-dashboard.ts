// The privacy dashboard's half of the fake backend: a small law practice's sessions,
// members, invitations, support grants, connected apps and a hash-chained audit log, held
// in memory and changed by the same actions the real commands take. The FakeBackend owns
// one and forwards the dashboard's methods to it.
//
// It keeps the contract's rules: reads answer the vault's copy with `offline: true` when
// there is no connection (and every action fails `offline`); admin-only reads and actions
// fail `forbidden` for a lawyer; approving a grant needs a re-authentication first
// (`reauth_required` until `reauthenticate` with the password "correct horse"); the audit
// chain is checked here with SHA-256 each time it is read, as the app does.
//
// Cookies, notifications and usage keep the service's rules (crates/server/src/consent.rs,
// notifications.rs, usage.rs): strictly necessary cookies cannot be refused
// (`strictly_necessary_locked`, nothing recorded); accept all and reject all take no
// categories or items; an item not in the catalogue is refused; Global Privacy Control
// (`gpc`, which the tests turn on) writes a `gpc` record for a member with none and turns
// analytics off for every request while it is sent; essential notification categories are
// on in every channel and turning one off is refused (`essential_category`, all or none);
// the usage preview is for administrators, emits no week summed over fewer than five
// practices, and counts this practice only while the member allows analytics.
//
// Breach notices and policy updates keep the service's rules too (crates/server/src/
// incidents.rs and policies.rs): a recorded incident affecting the practice reaches every
// enabled member (a notice, and an email that leaves a few seconds later); acknowledging is
// idempotent (the first time counts, and is audited); the acknowledgement table is for
// administrators (`forbidden` for others); an unknown incident is `not_found`. Each policy
// kind has versions; the member's view carries the line diff from the version they last
// acknowledged (lib/fake-policies.ts computes it as the service does), and acknowledging
// anything but the current version is refused with `policy_version_not_current`.
import { matchesAuditFilter } from "./dashboard";
import type {
  AccessReview,
  AuditFilter,
  AuditLogView,
  AuditRow,
  Cached,
  ChainCheck,
  DeviceSession,
  ExportProgress,
  ExportResult,
  GrantMatter,
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
import { BackendError } from "./errors";
import {
  MAX_PREFERENCE_CHANGES,
  MIN_GROUP_PRACTICES,
  type Category,
  type CategoryPreferences,
  type Channel,
  type ChannelChoice,
  type ChoiceSource,
  type ConsentChange,
  type ConsentChoices,
  type ConsentRecord,
  type ConsentState,
  type CookieCatalogue,
  type EffectiveConsent,
  type IncidentAcknowledgement,
  type IncidentAcknowledgements,
  type MemberIncident,
  type MemberPolicy,
  type Notice,
  type NotificationPreferences,
  type PolicyDocument,
  type PolicyKind,
  type PolicySummary,
  type PreferencesUpdate,
  type UsageBucket,
  type UsageReport,
} from "./preference-types";
import { FIRST_VERSION, lineDiff, seededPolicies, type PolicyVersion } from "./fake-policies";
import { isEmailAddress } from "./records";

export const FAKE_DASHBOARD = {
  /** The password `reauthenticate` accepts. */
  password: "correct horse",
  /** The authenticator code it accepts when one is given. */
  oneTimeCode: "123456",
  /** The audit entry the broken-chain scenario tampers with. */
  brokenSeq: 57,
  auditEntries: 200,
};

export type DashboardMode = {
  /** The signed-in member is an administrator. */
  admin: boolean;
  /** The audit chain has a tampered entry. */
  brokenChain: boolean;
  /** Whether the service can be reached just now (asked on every call). */
  online: () => boolean;
  /** When the vault's copy of each read was fetched, for a practice that starts offline. */
  copyAgeHours: number;
};

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(Date.now() + ms).toISOString();
const hoursAgo = (h: number) => at(-h * HOUR);
const daysAgo = (d: number) => at(-d * DAY);
const uuid = (prefix: string, n: number) => `${prefix}000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

export const ME = uuid("a1", 1);

function members(): MemberView[] {
  const m = (n: number, display_name: string, email: string, role: Role, mfa: boolean, lastDays: number | null, sessions: number, disabled = false): MemberView => ({
    id: uuid("a1", n),
    email,
    display_name,
    role,
    disabled,
    mfa_enabled: mfa,
    last_sign_in_at: lastDays === null ? null : daysAgo(lastDays),
    session_count: sessions,
  });
  return [
    m(1, "Priya Raman", "demo@harbourvine.example", "admin", true, 0.05, 4),
    m(2, "Daniel Achterberg", "daniel.achterberg@harbourvine.example", "admin", true, 1, 2),
    m(3, "Mei-Lin Cho", "mei-lin.cho@harbourvine.example", "lawyer", false, 3, 1),
    m(4, "Tom Whitfield", "tom.whitfield@harbourvine.example", "lawyer", true, 90, 1),
    m(5, "Aisha Karim", "aisha.karim@harbourvine.example", "read_only", false, null, 0),
    m(6, "Sofia Lindahl", "sofia.lindahl@harbourvine.example", "lawyer", true, 0.4, 2),
    m(7, "Rhys Morgan", "rhys.morgan@harbourvine.example", "lawyer", true, 140, 0, true),
  ];
}

function invitations(): InvitationView[] {
  const inv = (n: number, email: string, role: Role, by: string, createdDays: number, status: InvitationView["status"]): InvitationView => ({
    id: uuid("b1", n),
    email,
    role,
    invited_by_name: by,
    created_at: daysAgo(createdDays),
    expires_at: daysAgo(createdDays - 14),
    status,
  });
  return [
    inv(1, "ben.okonkwo@harbourvine.example", "lawyer", "Priya Raman", 2, "pending"),
    inv(2, "locum.fremantle@gmail.example", "read_only", "Daniel Achterberg", 75, "expired"),
    inv(3, "aisha.karim@harbourvine.example", "read_only", "Priya Raman", 40, "accepted"),
    inv(4, "bookkeeper@swanledger.example", "read_only", "Daniel Achterberg", 20, "revoked"),
  ];
}

function sessions(): DeviceSession[] {
  const s = (
    n: number,
    device_name: string,
    platform: string,
    app_version: string,
    ips: [string | null, string | null],
    createdDays: number,
    seenHours: number,
    current: boolean,
    holdings: { matters: number; records: number; syncHours: number } | null,
  ): DeviceSession => ({
    id: uuid("c1", n),
    device_name,
    platform,
    app_version,
    first_ip: ips[0],
    last_ip: ips[1],
    created_at: daysAgo(createdDays),
    last_seen_at: hoursAgo(seenHours),
    idle_expires_at: at(14 * DAY - seenHours * HOUR),
    expires_at: at((90 - createdDays) * DAY),
    current,
    holdings: holdings && { matters: holdings.matters, records: holdings.records, last_sync_at: hoursAgo(holdings.syncHours) },
  });
  return [
    s(1, "Priya's ThinkPad X1", "Linux (Debian 13)", "0.1.0", ["10.0.0.14", "10.0.0.14"], 12, 0.01, true, { matters: 1204, records: 48_310, syncHours: 0.02 }),
    s(2, "MacBook Air (home)", "macOS 15.4", "0.1.0", ["203.0.113.45", "203.0.113.61"], 40, 3, false, { matters: 1204, records: 48_122, syncHours: 3 }),
    s(3, "Surface Go (court bag)", "Windows 11", "0.0.9", ["10.0.0.31", "198.51.100.7"], 63, 50, false, { matters: 212, records: 6_480, syncHours: 50 }),
    s(4, "Old Dell Latitude", "Windows 10", "0.0.7", ["10.0.0.22", null], 81, 240, false, null),
  ];
}

const MATTERS: GrantMatter[] = [
  { id: "00000000-0000-4000-8000-000000000001", number: "HV-2026-0137", title: "Lindqvist v Coastal Freight Pty Ltd" },
  { id: "00000000-0000-4000-8000-000000000002", number: "HV-2026-0129", title: "Purchase of 14 Wattle Grove, Fremantle" },
];

function grants(): SupportGrant[] {
  const g = (n: number, rest: Omit<SupportGrant, "id" | "staff_email">): SupportGrant => ({
    id: uuid("d1", n),
    staff_email: `${rest.staff_name.toLowerCase().replace(/[^a-z]+/g, ".")}@support.strongroom.example`,
    ...rest,
  });
  return [
    g(1, {
      staff_name: "Sam Ellery",
      reason: "Time entries on one matter do not reach the practice's other devices; we need to read its sync history to find the stuck change.",
      ticket: "SUP-4821",
      scope: { kind: "matters", matters: MATTERS },
      access: "read",
      duration_hours: 24,
      status: "requested",
      requested_at: hoursAgo(2),
      decided_at: null,
      decided_by_name: null,
      expires_at: null,
      revoked_at: null,
    }),
    g(2, {
      staff_name: "Jo Tamaki",
      reason: "Merge about 40 duplicated contacts created by the CSV import on 20 November, as the practice asked.",
      ticket: "SUP-4830",
      scope: { kind: "practice" },
      access: "read_write",
      duration_hours: 72,
      status: "requested",
      requested_at: hoursAgo(0.5),
      decided_at: null,
      decided_by_name: null,
      expires_at: null,
      revoked_at: null,
    }),
    g(3, {
      staff_name: "Sam Ellery",
      reason: "Check why the matter list shows 1,204 matters on one laptop and 1,198 on another.",
      ticket: "SUP-4790",
      scope: { kind: "practice" },
      access: "read",
      duration_hours: 48,
      status: "active",
      requested_at: hoursAgo(7),
      decided_at: hoursAgo(6),
      decided_by_name: "Daniel Achterberg",
      expires_at: at(42 * HOUR),
      revoked_at: null,
    }),
    g(4, {
      staff_name: "Alex Murray",
      reason: "Export all documents to look into slow downloads.",
      ticket: "SUP-4702",
      scope: { kind: "practice" },
      access: "read_write",
      duration_hours: 168,
      status: "declined",
      requested_at: daysAgo(12),
      decided_at: daysAgo(12),
      decided_by_name: "Priya Raman",
      expires_at: null,
      revoked_at: null,
    }),
    g(5, {
      staff_name: "Jo Tamaki",
      reason: "A file note on the Okafor estate shows garbled characters after an edit on Windows.",
      ticket: "SUP-4655",
      scope: { kind: "matters", matters: [{ id: "00000000-0000-4000-8000-000000000000", number: "HV-2026-0142", title: "Estate of Margaret Okafor: grant of probate" }] },
      access: "read",
      duration_hours: 24,
      status: "expired",
      requested_at: daysAgo(20),
      decided_at: daysAgo(20),
      decided_by_name: "Priya Raman",
      expires_at: daysAgo(19),
      revoked_at: null,
    }),
    g(6, {
      staff_name: "Alex Murray",
      reason: "Restore a task list deleted by mistake.",
      ticket: "SUP-4610",
      scope: { kind: "practice" },
      access: "read_write",
      duration_hours: 48,
      status: "revoked",
      requested_at: daysAgo(31),
      decided_at: daysAgo(31),
      decided_by_name: "Daniel Achterberg",
      expires_at: daysAgo(29),
      revoked_at: daysAgo(30.5),
    }),
  ];
}

function accessLog(): SupportAccessEntry[] {
  const active = uuid("d1", 3);
  const expired = uuid("d1", 5);
  const revoked = uuid("d1", 6);
  const e = (id: number, hours: number, staff_name: string, grant_id: string, request: string, what: string, records: number, allowed = true): SupportAccessEntry => ({
    id,
    at: hoursAgo(hours),
    staff_name,
    grant_id,
    request,
    what,
    records,
    allowed,
  });
  const p = "/v1/support/practices/5e1f…/";
  return [
    e(1, 30.4 * 24, "Alex Murray", revoked, `GET ${p}records/task?matter=HV-2025-0877`, "12 tasks on HV-2025-0877", 12),
    e(2, 30.3 * 24, "Alex Murray", revoked, `PUT ${p}records/task/7f3a…`, "task “Send termination letter” restored", 1),
    e(3, 19.6 * 24, "Jo Tamaki", expired, `GET ${p}records/file_note?matter=HV-2026-0142`, "4 file notes on HV-2026-0142", 4),
    e(4, 19.5 * 24, "Jo Tamaki", expired, `GET ${p}records/matter/HV-2026-0137`, "matter HV-2026-0137 (outside the grant)", 0, false),
    e(5, 5.5, "Sam Ellery", active, `GET ${p}records/matter?limit=500`, "500 matters (numbers and titles)", 500),
    e(6, 5.4, "Sam Ellery", active, `GET ${p}records/matter?limit=500&after=500`, "500 matters (numbers and titles)", 500),
    e(7, 5.3, "Sam Ellery", active, `GET ${p}records/matter?limit=500&after=1000`, "204 matters (numbers and titles)", 204),
    e(8, 5.1, "Sam Ellery", active, `GET ${p}sync/devices`, "sync state of 4 devices", 4),
    e(9, 4.8, "Sam Ellery", active, `PUT ${p}records/matter/HV-2025-0702`, "change to matter HV-2025-0702 (the grant is read only)", 0, false),
    e(10, 1.2, "Sam Ellery", active, `GET ${p}records/file_note?matter=HV-2026-0129`, "file note “Contract review”", 1),
  ];
}

function integrations(): Integration[] {
  return [
    {
      id: uuid("e1", 1),
      app_name: "Xero (billing)",
      scopes: ["records:read"],
      created_by_name: "Priya Raman",
      created_at: daysAgo(210),
      last_used_at: hoursAgo(2),
      records_read: 18_442,
      revoked_at: null,
    },
    {
      id: uuid("e1", 2),
      app_name: "InfoTrack searches",
      scopes: ["records:read", "records:write"],
      created_by_name: "Daniel Achterberg",
      created_at: daysAgo(95),
      last_used_at: daysAgo(6),
      records_read: 1_310,
      revoked_at: null,
    },
    {
      id: uuid("e1", 3),
      app_name: "Zapier (old intake form)",
      scopes: ["records:read", "records:write"],
      created_by_name: "Rhys Morgan",
      created_at: daysAgo(400),
      last_used_at: daysAgo(150),
      records_read: 5_027,
      revoked_at: daysAgo(120),
    },
  ];
}

/** Deterministic pseudo-random numbers (mulberry32), so the log is the same every time. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Entry = Omit<AuditRow, "seq" | "occurred_at"> & { occurred_at?: string };

/** The practice's history as audit entries, oldest first, over the last 60 days. */
function history(count: number, people: MemberView[]): Entry[] {
  const rand = prng(20261128);
  // Only people who signed in within the log's 60 days act in it.
  const active = people.filter((p) => !p.disabled && p.last_sign_in_at !== null && Date.now() - new Date(p.last_sign_in_at).getTime() < 60 * DAY);
  const pick = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)] as T;
  const devices = ["ThinkPad X1", "MacBook Air", "Surface Go", "office iMac", "Dell Latitude"];
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const p = pick(active);
    const r = rand();
    const who = { actor_id: p.id, actor_name: p.display_name };
    const ip = `10.0.0.${10 + Math.floor(rand() * 40)}`;
    if (r < 0.45) out.push({ ...who, kind: "sign_in", summary: `Signed in on ${pick(devices)} from ${ip}`, details: JSON.stringify({ ip, mfa: p.mfa_enabled }) });
    else if (r < 0.6) out.push({ ...who, kind: "sign_out", summary: `Signed out on ${pick(devices)}`, details: JSON.stringify({ ip }) });
    else if (r < 0.75) {
      const n = 1 + Math.floor(rand() * 300);
      out.push({ ...who, kind: "export_vault", summary: `Exported this device's copy (${n} matters)`, details: JSON.stringify({ matters: n }) });
    } else if (r < 0.85) out.push({ ...who, kind: "password_changed", summary: "Changed their password", details: JSON.stringify({ ip }) });
    else if (r < 0.93) out.push({ ...who, kind: "session_revoked", summary: `Signed out ${pick(devices)} remotely`, details: JSON.stringify({ by: p.id }) });
    else out.push({ actor_id: null, actor_name: null, kind: "session_expired", summary: `A session on ${pick(devices)} ended after 14 days idle`, details: JSON.stringify({ idle_days: 14 }) });
  }
  // A few landmark entries, spread through the history.
  const landmarks: [number, Entry][] = [
    [10, { actor_id: ME, actor_name: "Priya Raman", kind: "member_disabled", summary: "Disabled Rhys Morgan (left the practice)", details: JSON.stringify({ member: uuid("a1", 7) }) }],
    [97, { actor_id: uuid("a1", 2), actor_name: "Daniel Achterberg", kind: "support_access_approved", summary: "Approved support access SUP-4610 for Alex Murray (48 hours, read and write)", details: JSON.stringify({ grant: uuid("d1", 6) }) }],
    [98, { actor_id: uuid("a1", 2), actor_name: "Daniel Achterberg", kind: "support_access_revoked", summary: "Revoked support access SUP-4610 early", details: JSON.stringify({ grant: uuid("d1", 6) }) }],
    [133, { actor_id: ME, actor_name: "Priya Raman", kind: "support_access_approved", summary: "Approved support access SUP-4655 for Jo Tamaki (24 hours, read)", details: JSON.stringify({ grant: uuid("d1", 5) }) }],
    [66, { actor_id: ME, actor_name: "Priya Raman", kind: "member_invited", summary: "Invited aisha.karim@harbourvine.example as read only", details: JSON.stringify({ invitation: uuid("b1", 3) }) }],
    [160, { actor_id: ME, actor_name: "Priya Raman", kind: "support_access_declined", summary: "Declined support access SUP-4702 for Alex Murray", details: JSON.stringify({ grant: uuid("d1", 4) }) }],
    [199, { actor_id: uuid("a1", 2), actor_name: "Daniel Achterberg", kind: "support_access_approved", summary: "Approved support access SUP-4790 for Sam Ellery (48 hours, read)", details: JSON.stringify({ grant: uuid("d1", 3) }) }],
  ];
  for (const [i, e] of landmarks) if (i < out.length) out[i] = e;
  return out;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What an entry's hash covers: its place, its contents, and the hash before it. */
function chainInput(row: AuditRow, prev: string): string {
  return JSON.stringify([prev, row.seq, row.occurred_at, row.actor_id, row.kind, row.summary, row.details]);
}

type Chained = { row: AuditRow; prev: string; hash: string };

const GENESIS = "0".repeat(64);

/** The app's own check of a chain: every entry follows the one before it and matches its hash. */
export async function verifyChain(entries: Chained[]): Promise<ChainCheck> {
  let prev = GENESIS;
  for (const [i, e] of entries.entries()) {
    if (e.row.seq !== i + 1) return { status: "broken", seq: e.row.seq, reason: `entry ${i + 1} is missing (the next one is numbered ${e.row.seq})` };
    if (e.prev !== prev) return { status: "broken", seq: e.row.seq, reason: "it does not follow the entry before it (the chain was cut or reordered)" };
    if ((await sha256Hex(chainInput(e.row, e.prev))) !== e.hash) return { status: "broken", seq: e.row.seq, reason: "its contents do not match the hash recorded for it (it was changed after it was written)" };
    prev = e.hash;
  }
  return { status: "verified", entries: entries.length };
}


// --- Cookies and consent: the service's catalogue and rules (crates/server/src/consent.rs) ---

export const SESSION_COOKIE = "__Host-strongroom-session";
export const DISPLAY_COOKIE = "__Host-strongroom-display";
export const ANALYTICS_COOKIE = "__Host-strongroom-aid";
export const POLICY_VERSION = "2026-11-28";

/** `consent::catalogue()`, word for word. */
export function cookieCatalogue(): CookieCatalogue {
  return {
    policy_version: POLICY_VERSION,
    categories: [
      {
        category: "strictly_necessary",
        title: "Strictly necessary",
        description:
          "Needed for signing in and keeping your session safe. They cannot be turned off: without them the service cannot work. They are never used for anything else.",
        locked: true,
      },
      {
        category: "functional",
        title: "Functional",
        description: "Remember choices that make the pages nicer to use. Off until you turn them on.",
        locked: false,
      },
      {
        category: "analytics",
        title: "Analytics",
        description: "Count use in aggregate, never tied to you. Off until you turn them on, and always off while your browser sends Global Privacy Control.",
        locked: false,
      },
    ],
    items: [
      {
        name: SESSION_COOKIE,
        kind: "cookie",
        category: "strictly_necessary",
        purpose: "Keeps you signed in to the web pages: it is how the service knows each request is yours. Without it you could not sign in.",
        lifetime: "Until you sign out, or at most 30 days (14 days unused)",
        max_age_secs: 30 * 24 * 3600,
        set_by: "service",
        holds: "An opaque random token; the service keeps only its hash. HttpOnly, so the page's script cannot read it.",
      },
      {
        name: DISPLAY_COOKIE,
        kind: "cookie",
        category: "functional",
        purpose: "Remembers how you like the web pages shown (colour scheme and list density), so they look the same next time.",
        lifetime: "1 year, or until you withdraw consent",
        max_age_secs: 365 * 24 * 3600,
        set_by: "service",
        holds: "Your display choices, such as `dark.compact`. Nothing that identifies you.",
      },
      {
        name: ANALYTICS_COOKIE,
        kind: "cookie",
        category: "analytics",
        purpose: "Lets the service count, in aggregate, how many browsers use the web pages each week. Never set while your browser sends Global Privacy Control.",
        lifetime: "390 days, or until you withdraw consent",
        max_age_secs: 390 * 24 * 3600,
        set_by: "service",
        holds: "A random id, not linked to your account, your practice or your records.",
      },
    ],
  };
}

/** `consent::effective`: what `choices` allow for a request, with GPC or without. */
export function effectiveConsent(choices: ConsentChoices, gpc: boolean): EffectiveConsent {
  const items: Record<string, boolean> = {};
  for (const i of cookieCatalogue().items) {
    const own = choices.items[i.name];
    items[i.name] =
      i.category === "strictly_necessary" ? true : i.category === "functional" ? (own ?? choices.functional) : !gpc && (own ?? choices.analytics);
  }
  return { strictly_necessary: true, functional: choices.functional, analytics: choices.analytics && !gpc, items };
}

const noCategories = (c: ConsentChange) =>
  [c.categories.strictly_necessary, c.categories.functional, c.categories.analytics].every((x) => x === null || x === undefined) &&
  Object.keys(c.items).length === 0;

/** `consent::apply_change`: the choices after `change`, or the service's refusal. */
export function applyConsentChange(current: ConsentChoices, change: ConsentChange): ConsentChoices {
  const locked = () => new BackendError("strictly_necessary_locked", "strictly necessary cookies cannot be turned off: without them you cannot sign in");
  if (change.categories.strictly_necessary === false) throw locked();
  const catalogue = cookieCatalogue().items;
  const items = { ...current.items };
  for (const [name, choice] of Object.entries(change.items)) {
    const it = catalogue.find((i) => i.name === name);
    if (!it) throw new BackendError("invalid_input", "items names something that is not in the catalogue (GET /v1/cookies)");
    if (it.category === "strictly_necessary") {
      if (choice === false) throw locked();
      continue;
    }
    if (choice === null) delete items[name];
    else items[name] = choice;
  }
  switch (change.action) {
    case "accept_all":
    case "reject_all": {
      if (!noCategories(change)) throw new BackendError("invalid_input", `${change.action} takes no categories or items; use custom`);
      const on = change.action === "accept_all";
      return { functional: on, analytics: on, items: {} };
    }
    case "custom":
      return {
        functional: change.categories.functional ?? current.functional,
        analytics: change.categories.analytics ?? current.analytics,
        items,
      };
    default:
      throw new BackendError("invalid_input", `${JSON.stringify(change.action)} is not a consent action`);
  }
}

// --- Notifications (crates/protocol/src/notifications.rs) ---

export const CATEGORIES: Category[] = ["security_alerts", "breach_notices", "billing", "service_notices", "policy_changes", "product_news", "tips", "usage_suggestions"];
export const CHANNELS: Channel[] = ["email", "in_app", "desktop"];

/** `Category::essential_reason`, word for word; null for a non-essential category. */
export function essentialReason(c: Category): string | null {
  switch (c) {
    case "security_alerts":
      return "Security alerts tell you about sign-ins, second factors and sessions on your account, so you can act if someone else is using it.";
    case "breach_notices":
      return "The law (GDPR articles 33 and 34, Australia's Notifiable Data Breaches scheme, New Zealand's Privacy Act 2020) requires us to tell you about a breach that affects your data.";
    case "billing":
      return "Billing messages concern your subscription and payments; without them an account could lapse unnoticed.";
    case "service_notices":
      return "Service notices tell you about outages and maintenance that affect your access to your practice's data.";
    case "policy_changes":
      return "We must tell you when the privacy policy or the terms change, so you can read the change before it applies to you.";
    default:
      return null;
  }
}

/** `Category::default_on`: essential ones everywhere; the others in the app's inbox only. */
export function defaultOn(c: Category, ch: Channel): boolean {
  return essentialReason(c) !== null || ch === "in_app";
}

type StoredChoice = { enabled: boolean; source: ChoiceSource; changed_at: string };

/** `notifications::preferences_from`. */
function preferencesFrom(stored: Map<string, StoredChoice>): NotificationPreferences {
  const choice = (c: Category, ch: Channel): ChannelChoice => {
    const s = essentialReason(c) === null ? stored.get(`${c}:${ch}`) : undefined;
    return s ? { ...s } : { enabled: defaultOn(c, ch), source: "default", changed_at: null };
  };
  return {
    categories: CATEGORIES.map(
      (category): CategoryPreferences => ({
        category,
        essential: essentialReason(category) !== null,
        reason: essentialReason(category),
        email: choice(category, "email"),
        in_app: choice(category, "in_app"),
        desktop: choice(category, "desktop"),
      }),
    ),
  };
}

function notices(): Notice[] {
  const n = (i: number, category: Category, hours: number, title: string, body: string, read: number | null, in_app = true, desktop = false): Notice => ({
    id: uuid("e1", i),
    category,
    title,
    body,
    created_at: hoursAgo(hours),
    read_at: read === null ? null : hoursAgo(read),
    in_app,
    desktop,
  });
  return [
    n(1, "security_alerts", 0.3, "New sign-in on Firefox on Windows", "Your account signed in from a new browser at 203.0.113.61. If this was not you, sign that session out on the Devices page and change your password.", null, true, true),
    n(2, "policy_changes", 26, "Our privacy policy changes on 1 January 2027", "We have clarified how long support access lasts and how the usage report is aggregated. Read the changes before they apply.", null),
    n(3, "service_notices", 74, "Maintenance on Sunday 30 November, 02:00–02:30 AEDT", "The service may be slow to answer during this window. Your offline copy keeps working.", 60),
    n(4, "product_news", 200, "Conflicts now show field by field", "When two devices change the same record, Strongroom now shows each field side by side.", 150),
    n(5, "tips", 320, "Search matters by client, number or note text", "Type in the search box at the top: it searches matters and their notes as you type.", null, false),
  ];
}

// --- Usage data (crates/server/src/usage.rs) ---

const WEEK = 7 * DAY;
/** 1970-01-05, the first Monday after the Unix epoch. */
const FIRST_MONDAY = 4 * DAY;
export const REPORT_WEEKS = 4;

/** The time the week holding `t` starts (Monday 00:00 UTC), in milliseconds. */
export function weekStart(t: number): number {
  return FIRST_MONDAY + Math.floor((t - FIRST_MONDAY) / WEEK) * WEEK;
}

export type UsageEvent = { practice: string; user: string; at: number };

/** `usage::aggregate`: per week, sums over the practices with any event in it, emitted
 * only when they are at least MIN_GROUP_PRACTICES. */
export function aggregateUsage(events: UsageEvent[], now: number, thisPractice: string): UsageReport {
  const first = weekStart(now) - (REPORT_WEEKS - 1) * WEEK;
  const weeks = new Map<number, UsageEvent[]>();
  for (let i = 0; i < REPORT_WEEKS; i++) weeks.set(first + i * WEEK, []);
  for (const e of events) weeks.get(weekStart(e.at))?.push(e);
  const buckets: UsageBucket[] = [];
  const suppressed_weeks: string[] = [];
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  for (const [start, inWeek] of weeks) {
    const practices = new Set(inWeek.map((e) => e.practice));
    if (practices.size < MIN_GROUP_PRACTICES) {
      suppressed_weeks.push(day(start));
      continue;
    }
    buckets.push({
      week_start: day(start),
      practices: practices.size,
      active_members: new Set(inWeek.map((e) => `${e.practice}/${e.user}`)).size,
      sign_ins: inWeek.length,
    });
  }
  return {
    generated_at: new Date(Math.floor(now / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    min_group_practices: MIN_GROUP_PRACTICES,
    buckets,
    suppressed_weeks,
    this_practice_counted: events.some((e) => e.practice === thisPractice && e.at >= first),
  };
}

export const THIS_PRACTICE = uuid("f0", 1);

/** Other practices' sign-ins by members who allow analytics, over the report's weeks: 8,
 * 3, 11 and 6 practices (the second week too few to leave, with or without this one). */
function otherPracticesUsage(now: number): UsageEvent[] {
  const rand = prng(5);
  const first = weekStart(now) - (REPORT_WEEKS - 1) * WEEK;
  const perWeek = [8, 3, 11, 6];
  const events: UsageEvent[] = [];
  perWeek.forEach((count, w) => {
    const start = first + w * WEEK;
    const span = Math.max(1, Math.min(WEEK, now - start));
    for (let p = 0; p < count; p++) {
      const members = 1 + Math.floor(rand() * 4);
      for (let m = 0; m < members; m++) {
        const signIns = 1 + Math.floor(rand() * 5);
        for (let k = 0; k < signIns; k++) events.push({ practice: uuid("f1", p + 1), user: uuid("f2", (p + 1) * 10 + m), at: start + Math.floor(rand() * span) });
      }
    }
  });
  return events;
}

// --- Breach notices (crates/server/src/incidents.rs) ---

/** RFC 3339 as the service writes a time kept in milliseconds (`ms_time`). */
const msTime = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");
/** RFC 3339 to the second (`rfc3339`). */
const secTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");

/** An incident as recorded, and each member's delivery and acknowledgement. */
type IncidentKept = {
  incident: Omit<MemberIncident, "notice_created_at" | "email_delivered_at" | "acknowledged_at">;
  /** Member id → their notice (null: joined later or disabled, not notified), email and acknowledgement. */
  recipients: Map<string, { notified: boolean; notice_at: string | null; email_at: string | null; ack_at: string | null }>;
};

export const INCIDENT_IDS = [uuid("e3", 1), uuid("e3", 2)];

export type IncidentInput = Omit<MemberIncident, "id" | "recorded_at" | "notice_created_at" | "email_delivered_at" | "acknowledged_at">;

function seededIncidents(): (IncidentInput & { recordedMs: number; acks: Record<number, number | null> })[] {
  const now = Date.now();
  return [
    {
      title: "Unauthorised access to a support mailbox",
      description:
        "An attacker signed in to one of Strongroom's support mailboxes with a password stolen from a staff member's personal account. The mailbox held support conversations with your practice, some with matter numbers and client names in them.\nThe attacker could read the mailbox for about ten hours. They could not reach the service itself or any practice's data in it.",
      occurred_at: hoursAgo(40),
      detected_at: hoursAgo(30),
      data_kinds: ["Names of members", "Email addresses", "Matter numbers and client names quoted in support requests"],
      steps_taken:
        "We locked the mailbox, ended every session to it, and reset the staff member's credentials. Support mailboxes now require a hardware security key. We are reviewing every message the attacker could have read.",
      recommendations:
        "Be wary of emails that claim to come from Strongroom support and ask you to sign in or pay: we never ask for your password. Tell your clients whose matters you discussed with support, if your duties to them require it.",
      contact: "privacy@strongroom.example, +61 2 5550 0100 (weekdays 8:00–18:00 AEST)",
      regulator: { notified: true, regulator: "Office of the Australian Information Commissioner", notified_at: secTime(now - 25 * HOUR) },
      recorded_by: "Morgan Hale, Strongroom security",
      recordedMs: now - 26 * HOUR + 250,
      acks: { 2: 20, 6: 9 },
    },
    {
      title: "Invoice email sent to the wrong practice",
      description: "One monthly invoice email for your practice was sent to another practice's billing address by a fault in our billing system.",
      occurred_at: null,
      detected_at: daysAgo(46),
      data_kinds: ["Practice name", "Billing address", "Invoice amount"],
      steps_taken: "We asked the other practice to delete the email, which they confirmed, and fixed the fault.",
      recommendations: "Nothing is needed from you. Check that your billing contact details are right.",
      contact: "billing@strongroom.example",
      regulator: { notified: false, regulator: null, notified_at: null },
      recorded_by: "Jules Okafor, Strongroom billing",
      recordedMs: now - 45 * DAY,
      acks: { 1: 44 * 24, 2: 44 * 24, 3: 43 * 24, 6: 40 * 24 },
    },
  ];
}

export class FakeDashboard {
  private sessionList = sessions();
  private memberList = members();
  private invitationList = invitations();
  private grantList = grants();
  private log = accessLog();
  private integrationList = integrations();
  private lastReview: ReviewRecord | null = {
    completed_at: daysAgo(95),
    by_name: "Priya Raman",
    dormant_days: 60,
    disabled: 1,
    invitations_revoked: 0,
  };
  private chain: Chained[] = [];
  /** Appends run one after another (each needs the hash before it). */
  private chainReady: Promise<void>;
  private reauthUntil = 0;
  /** The member signed in long ago: the actions the service guards need a fresh password
   * (as `approveGrant` always does here). Tests set it. */
  staleSignIn = false;
  private nextNumber = 100;
  /** When each read was last answered by the service (the vault's copy is from then). */
  private fetched = new Map<string, string>();
  /** Milliseconds between an export's progress reports (the tests shorten or lengthen it). */
  exportStepMs = 120;
  /** Whether the service emails invitations (a self-hosted server may have no mail set up). */
  emailsInvitations = false;
  /** The requests carry Global Privacy Control (`Sec-GPC: 1`), as a browser may send it. */
  gpc = false;
  /** Where choices are made: the fake stands in for the desktop app. */
  surface: "desktop" | "web" = "desktop";
  /** The member's consent records, newest first; none: the default holds. */
  private consentHistory: ConsentRecord[] = [];
  private notificationChoices = new Map<string, StoredChoice>();
  private noticeList = notices();
  private nextRecord = 1;
  private incidentList: IncidentKept[] = [];
  private policyVersions: PolicyVersion[] = seededPolicies(daysAgo);
  /** The member's acknowledgements: kind → the version and when. */
  private policyAcks = new Map<PolicyKind, { version: string; at: string }>([
    ["privacy", { version: FIRST_VERSION, at: secTime(Date.now() - 20 * DAY) }],
    ["terms", { version: FIRST_VERSION, at: secTime(Date.now() - 20 * DAY) }],
  ]);

  constructor(private readonly mode: DashboardMode) {
    this.chainReady = this.buildChain();
    seededIncidents().forEach((i, n) => {
      const { recordedMs, acks, ...input } = i;
      this.keepIncident(INCIDENT_IDS[n], input, recordedMs, (member) => {
        const hours = acks[member];
        return hours === undefined || hours === null ? null : secTime(Date.now() - hours * HOUR);
      });
    });
  }

  private async buildChain(): Promise<void> {
    const entries = history(FAKE_DASHBOARD.auditEntries, this.memberList);
    const start = Date.now() - 60 * DAY;
    const step = (60 * DAY - 2 * HOUR) / entries.length;
    for (const [i, e] of entries.entries()) await this.push({ ...e, occurred_at: new Date(start + i * step).toISOString() });
    if (this.mode.brokenChain) {
      const bad = this.chain[FAKE_DASHBOARD.brokenSeq - 1];
      if (bad) bad.row = { ...bad.row, summary: `${bad.row.summary} (edited)`, details: JSON.stringify({ ip: "10.0.0.99" }) };
    }
  }

  private async push(e: Entry): Promise<void> {
    const prev = this.chain.at(-1)?.hash ?? GENESIS;
    const row: AuditRow = {
      seq: this.chain.length + 1,
      occurred_at: e.occurred_at ?? new Date().toISOString(),
      actor_id: e.actor_id,
      actor_name: e.actor_name,
      kind: e.kind,
      summary: e.summary,
      details: e.details,
    };
    this.chain.push({ row, prev, hash: await sha256Hex(chainInput(row, prev)) });
  }

  /** Records what the signed-in member did (after the chain so far). */
  private record(kind: string, summary: string, details: Record<string, unknown> = {}): void {
    const e: Entry = { actor_id: ME, actor_name: "Priya Raman", kind, summary, details: JSON.stringify(details), occurred_at: new Date().toISOString() };
    this.chainReady = this.chainReady.then(() => this.push(e));
  }

  // --- Rules every call keeps ---

  private online(): boolean {
    return this.mode.online();
  }

  /** A read: the service's answer, or offline the vault's copy from when it last answered. */
  private cached<T>(key: string, value: T): Cached<T> {
    if (this.online()) {
      const now = new Date().toISOString();
      this.fetched.set(key, now);
      return { value: structuredClone(value), fetched_at: now, offline: false };
    }
    const then = this.fetched.get(key) ?? hoursAgo(this.mode.copyAgeHours);
    this.fetched.set(key, then);
    return { value: structuredClone(value), fetched_at: then, offline: true };
  }

  private admin(): void {
    if (!this.mode.admin) throw new BackendError("forbidden", "only the practice's administrators can do this");
  }

  private action(): void {
    if (!this.online()) throw new BackendError("offline", "the service cannot be reached");
  }

  private member(id: string): MemberView {
    const m = this.memberList.find((x) => x.id === id);
    if (!m) throw new BackendError("not_found", `no member ${id}`);
    return m;
  }

  private grant(id: string): SupportGrant {
    const g = this.grantList.find((x) => x.id === id);
    if (!g) throw new BackendError("not_found", `no support grant ${id}`);
    return g;
  }

  /** Grants whose time ran out become expired (as the service does at each read). */
  private expireGrants(): void {
    const now = Date.now();
    for (const g of this.grantList) if (g.status === "active" && g.expires_at && new Date(g.expires_at).getTime() <= now) g.status = "expired";
  }

  // --- Sessions and devices ---

  async sessions(): Promise<Cached<DeviceSession[]>> {
    return this.cached("sessions", this.sessionList);
  }

  async revokeSession(id: string): Promise<void> {
    this.action();
    const s = this.sessionList.find((x) => x.id === id);
    if (!s) throw new BackendError("not_found", `no session ${id}`);
    if (s.current) throw new BackendError("conflict", "this is the session of this app: sign out instead");
    this.sessionList = this.sessionList.filter((x) => x.id !== id);
    this.mine().session_count = this.sessionList.length;
    this.record("session_revoked", `Signed out ${s.device_name} remotely`, { session: id });
  }

  async revokeOtherSessions(): Promise<number> {
    this.action();
    const others = this.sessionList.filter((s) => !s.current);
    this.sessionList = this.sessionList.filter((s) => s.current);
    this.mine().session_count = this.sessionList.length;
    if (others.length) this.record("session_revoked", `Signed out ${others.length} other device${others.length === 1 ? "" : "s"} remotely`, { sessions: others.map((s) => s.id) });
    return others.length;
  }

  private mine(): MemberView {
    return this.member(ME);
  }

  // --- Members, invitations, access review ---

  async members(): Promise<Cached<MemberView[]>> {
    this.admin();
    return this.cached("members", this.memberList);
  }

  async invitations(): Promise<Cached<InvitationView[]>> {
    this.admin();
    const now = Date.now();
    for (const i of this.invitationList) if (i.status === "pending" && new Date(i.expires_at).getTime() <= now) i.status = "expired";
    return this.cached("invitations", this.invitationList);
  }

  async invite(email: string, role: Role): Promise<InvitationSent> {
    this.admin();
    this.action();
    const e = email.trim().toLowerCase();
    if (!isEmailAddress(e)) throw new BackendError("invalid_input", "email: must be an email address");
    if (!["admin", "lawyer", "read_only"].includes(role)) throw new BackendError("invalid_input", "role: must be admin, lawyer or read_only");
    if (this.memberList.some((m) => m.email === e)) throw new BackendError("conflict", `${e} is already a member of the practice`);
    if (this.invitationList.some((i) => i.email === e && i.status === "pending")) throw new BackendError("conflict", `${e} already has an invitation waiting`);
    const invitation: InvitationView = {
      id: uuid("b1", this.nextNumber++),
      email: e,
      role,
      invited_by_name: "Priya Raman",
      created_at: new Date().toISOString(),
      expires_at: at(14 * DAY),
      status: "pending",
    };
    this.invitationList.unshift(invitation);
    this.record("member_invited", `Invited ${e} as ${role.replace("_", " ")}`, { invitation: invitation.id });
    return { invitation: { ...invitation }, token: `INV-${invitation.id.slice(-6).toUpperCase()}-7QX4-M2KD`, emailed: this.emailsInvitations };
  }

  async revokeInvitation(id: string): Promise<void> {
    this.admin();
    this.action();
    const i = this.invitationList.find((x) => x.id === id);
    if (!i) throw new BackendError("not_found", `no invitation ${id}`);
    if (i.status !== "pending" && i.status !== "expired") throw new BackendError("conflict", `the invitation is already ${i.status}`);
    i.status = "revoked";
    this.record("invitation_revoked", `Withdrew the invitation to ${i.email}`, { invitation: id });
  }

  /** What the service answers an action it guards when the last sign-in is old. */
  private fresh(what: string) {
    if (this.staleSignIn && Date.now() > this.reauthUntil) throw new BackendError("reauth_required", `${what} needs a fresh sign-in`);
  }

  async updateMember(id: string, change: { role?: Role; disabled?: boolean }): Promise<MemberView> {
    this.admin();
    this.action();
    this.fresh("changing a member");
    const m = this.member(id);
    if (id === ME && (change.disabled || (change.role && change.role !== "admin")))
      throw new BackendError("conflict", "you cannot disable yourself or give up your own administrator role; ask another administrator");
    if (change.role && change.role !== m.role) {
      const admins = this.memberList.filter((x) => x.role === "admin" && !x.disabled);
      if (m.role === "admin" && admins.length === 1) throw new BackendError("conflict", "the practice needs at least one administrator");
      this.record("member_role_changed", `Changed ${m.display_name}'s role from ${m.role.replace("_", " ")} to ${change.role.replace("_", " ")}`, { member: id, role: change.role });
      m.role = change.role;
    }
    if (change.disabled !== undefined && change.disabled !== m.disabled) {
      m.disabled = change.disabled;
      if (m.disabled) {
        const ended = m.session_count;
        m.session_count = 0;
        this.record("member_disabled", `Disabled ${m.display_name} (${ended} session${ended === 1 ? "" : "s"} ended)`, { member: id, sessions_ended: ended });
      } else this.record("member_enabled", `Enabled ${m.display_name} again`, { member: id });
    }
    return { ...m };
  }

  async removeCredentials(id: string): Promise<void> {
    this.admin();
    this.action();
    this.fresh("removing a member's credentials");
    const m = this.member(id);
    if (id === ME) throw new BackendError("invalid_input", "you cannot remove your own credentials; another admin can");
    this.memberList = this.memberList.filter((x) => x.id !== id);
    this.record("member_credentials_removed", `Removed the credentials of ${m.display_name} (${m.session_count} session${m.session_count === 1 ? "" : "s"} ended)`, { member: id });
  }

  private review(dormantDays: number): Omit<AccessReview, "last_review"> {
    const cutoff = Date.now() - dormantDays * DAY;
    const dormant = this.memberList
      .filter((m) => !m.disabled && (m.last_sign_in_at === null || new Date(m.last_sign_in_at).getTime() < cutoff))
      .map((member) => ({
        member: { ...member },
        days_idle: member.last_sign_in_at === null ? null : Math.floor((Date.now() - new Date(member.last_sign_in_at).getTime()) / DAY),
      }));
    const unused_invitations = this.invitationList
      .filter((i) => i.status === "expired" || (i.status === "pending" && new Date(i.created_at).getTime() < cutoff))
      .map((i) => ({ ...i }));
    return { dormant_days: dormantDays, generated_at: new Date().toISOString(), dormant, unused_invitations };
  }

  async accessReview(dormantDays: number): Promise<AccessReview> {
    this.admin();
    if (!Number.isInteger(dormantDays) || dormantDays < 1 || dormantDays > 3650) throw new BackendError("invalid_input", "dormant_days: must be a whole number of days from 1 to 3650");
    return { ...this.review(dormantDays), last_review: this.lastReview && { ...this.lastReview } };
  }

  async completeAccessReview(dormantDays: number, disable: string[], revokeInvitations: string[]): Promise<ReviewRecord> {
    this.admin();
    this.action();
    this.fresh("completing a review");
    if (disable.includes(ME)) throw new BackendError("conflict", "you cannot disable yourself");
    for (const id of disable) this.member(id);
    for (const id of revokeInvitations) if (!this.invitationList.some((i) => i.id === id)) throw new BackendError("not_found", `no invitation ${id}`);
    let disabled = 0;
    for (const id of disable) {
      const m = this.member(id);
      if (!m.disabled) {
        m.disabled = true;
        m.session_count = 0;
        disabled++;
      }
    }
    let revoked = 0;
    for (const id of revokeInvitations) {
      const i = this.invitationList.find((x) => x.id === id) as InvitationView;
      if (i.status === "pending" || i.status === "expired") {
        i.status = "revoked";
        revoked++;
      }
    }
    this.lastReview = { completed_at: new Date().toISOString(), by_name: "Priya Raman", dormant_days: dormantDays, disabled, invitations_revoked: revoked };
    this.record("access_review_completed", `Completed an access review (${dormantDays} days): ${disabled} disabled, ${revoked} invitation${revoked === 1 ? "" : "s"} withdrawn`, {
      dormant_days: dormantDays,
      disabled: disable,
      invitations_revoked: revokeInvitations,
    });
    return { ...this.lastReview };
  }

  async reauthenticate(password: string, oneTimeCode?: string): Promise<void> {
    this.action();
    if (password !== FAKE_DASHBOARD.password) throw new BackendError("wrong_password", "the password is not this account's");
    if (oneTimeCode !== undefined && oneTimeCode.replace(/\s+/g, "") !== FAKE_DASHBOARD.oneTimeCode) throw new BackendError("wrong_code", "the code was not accepted");
    this.reauthUntil = Date.now() + 5 * 60_000;
  }

  // --- Support access ---

  async supportGrants(): Promise<Cached<SupportGrant[]>> {
    this.admin();
    this.expireGrants();
    return this.cached("grants", this.grantList);
  }

  async approveGrant(id: string): Promise<SupportGrant> {
    this.admin();
    this.action();
    const g = this.grant(id);
    if (g.status !== "requested") throw new BackendError("conflict", `the request is already ${g.status}`);
    if (Date.now() > this.reauthUntil) throw new BackendError("reauth_required", "approving support access needs a fresh sign-in");
    const now = new Date();
    g.status = "active";
    g.decided_at = now.toISOString();
    g.decided_by_name = "Priya Raman";
    g.expires_at = new Date(now.getTime() + g.duration_hours * HOUR).toISOString();
    this.record("support_access_approved", `Approved support access ${g.ticket} for ${g.staff_name} (${g.duration_hours} hours, ${g.access === "read" ? "read" : "read and write"})`, { grant: id });
    return structuredClone(g);
  }

  async declineGrant(id: string): Promise<SupportGrant> {
    this.admin();
    this.action();
    const g = this.grant(id);
    if (g.status !== "requested") throw new BackendError("conflict", `the request is already ${g.status}`);
    g.status = "declined";
    g.decided_at = new Date().toISOString();
    g.decided_by_name = "Priya Raman";
    this.record("support_access_declined", `Declined support access ${g.ticket} for ${g.staff_name}`, { grant: id });
    return structuredClone(g);
  }

  async revokeGrant(id: string): Promise<SupportGrant> {
    this.admin();
    this.action();
    this.expireGrants();
    const g = this.grant(id);
    if (g.status !== "active") throw new BackendError("conflict", `the grant is ${g.status}, not active`);
    g.status = "revoked";
    g.revoked_at = new Date().toISOString();
    this.record("support_access_revoked", `Revoked support access ${g.ticket} for ${g.staff_name}`, { grant: id });
    return structuredClone(g);
  }

  async supportAccessLog(grantId?: string): Promise<Cached<SupportAccessEntry[]>> {
    this.admin();
    const rows = this.log.filter((e) => !grantId || e.grant_id === grantId).sort((a, b) => b.at.localeCompare(a.at));
    return this.cached(`access-log:${grantId ?? ""}`, rows);
  }

  /** A staff request under a grant, as the service logs it (the tests play one). */
  staffRequest(grantId: string, request: string, what: string, records: number): SupportAccessEntry {
    const g = this.grant(grantId);
    const allowed = g.status === "active" && (!g.expires_at || new Date(g.expires_at).getTime() > Date.now());
    const e: SupportAccessEntry = { id: this.log.length + 1, at: new Date().toISOString(), staff_name: g.staff_name, grant_id: grantId, request, what, records: allowed ? records : 0, allowed };
    this.log.push(e);
    return { ...e };
  }

  // --- Third-party apps ---

  async integrations(): Promise<Cached<Integration[]>> {
    this.admin();
    return this.cached("integrations", this.integrationList);
  }

  async createIntegration(appName: string, scopes: IntegrationScope[]): Promise<IntegrationCreated> {
    this.admin();
    this.action();
    const name = appName.trim();
    if (!name) throw new BackendError("invalid_input", "app_name: must not be empty");
    if ([...name].length > 100) throw new BackendError("invalid_input", "app_name: must be at most 100 characters");
    if (scopes.length === 0) throw new BackendError("invalid_input", "scopes: choose at least one");
    for (const s of scopes) if (s !== "records:read" && s !== "records:write") throw new BackendError("invalid_input", `scopes: unknown scope ${String(s)}`);
    const integration: Integration = {
      id: uuid("e1", this.nextNumber++),
      app_name: name,
      scopes: [...new Set(scopes)],
      created_by_name: "Priya Raman",
      created_at: new Date().toISOString(),
      last_used_at: null,
      records_read: 0,
      revoked_at: null,
    };
    this.integrationList.unshift(integration);
    this.record("integration_created", `Connected ${name} (${scopes.join(", ")})`, { integration: integration.id });
    const token = `sr_live_${integration.id.replace(/-/g, "").slice(0, 12)}${"9f2c7d1e4b8a6035".slice(0, 16)}`;
    return { integration: { ...integration }, token };
  }

  async revokeIntegration(id: string): Promise<Integration> {
    this.admin();
    this.action();
    const i = this.integrationList.find((x) => x.id === id);
    if (!i) throw new BackendError("not_found", `no integration ${id}`);
    if (i.revoked_at) throw new BackendError("conflict", "the token is already revoked");
    i.revoked_at = new Date().toISOString();
    this.record("integration_revoked", `Revoked the token of ${i.app_name}`, { integration: id });
    return { ...i };
  }

  // --- Audit log ---

  async auditLog(filter: AuditFilter): Promise<AuditLogView> {
    await this.chainReady;
    const check = await verifyChain(this.chain);
    const rows = this.chain.map((c) => c.row);
    const matching = rows.filter((r) => matchesAuditFilter(r, filter)).reverse();
    const actors = new Map<string, string>();
    for (const r of rows) if (r.actor_id && r.actor_name) actors.set(r.actor_id, r.actor_name);
    const c = this.cached("audit", null);
    return {
      rows: matching.slice(0, 500).map((r) => ({ ...r })),
      total: matching.length,
      check,
      actors: [...actors].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name)),
      kinds: [...new Set(rows.map((r) => r.kind))].sort(),
      fetched_at: c.fetched_at,
      offline: c.offline,
    };
  }

  async exportAuditLog(filter: AuditFilter, format: "csv" | "json"): Promise<string> {
    if (format !== "csv" && format !== "json") throw new BackendError("invalid_input", "format: must be csv or json");
    await this.chainReady;
    const day = new Date().toISOString().slice(0, 10);
    const narrowed = Object.values(filter).some(Boolean) ? "-filtered" : "";
    return `/home/priya/Downloads/strongroom-audit-log-${day}${narrowed}.${format}`;
  }

  /** The entries as the chain holds them (for tests). */
  async auditRows(): Promise<AuditRow[]> {
    await this.chainReady;
    return this.chain.map((c) => ({ ...c.row }));
  }

  // --- Export ---

  private async exportRun(kind: "practice" | "vault", onProgress: (p: ExportProgress) => void): Promise<ExportResult> {
    const total = kind === "practice" ? 48_310_000 : 31_406_000;
    const steps = 6;
    const wait = () => new Promise((ok) => setTimeout(ok, this.exportStepMs));
    onProgress({ stage: "preparing", done_bytes: 0, total_bytes: null });
    await wait();
    for (let i = 1; i <= steps; i++) {
      if (kind === "practice" && !this.online()) throw new BackendError("offline", "the connection was lost during the export");
      onProgress({ stage: "downloading", done_bytes: Math.round((total * i) / steps), total_bytes: total });
      await wait();
    }
    onProgress({ stage: "checking", done_bytes: total, total_bytes: total });
    await wait();
    onProgress({ stage: "done", done_bytes: total, total_bytes: total });
    const day = new Date().toISOString().slice(0, 10);
    this.record(kind === "practice" ? "export_practice" : "export_vault", kind === "practice" ? "Exported the whole practice" : "Exported this device's copy", { bytes: total });
    return {
      path: kind === "practice" ? `/home/priya/Downloads/harbour-vine-practice-export-${day}.zip` : `/home/priya/Downloads/strongroom-this-device-${day}.zip`,
      bytes: total,
      // JSON and CSV for each of the seven record kinds.
      files: 14,
      records: kind === "practice" ? 48_310 : 31_406,
      sha256: kind === "practice" ? "9b1d4c0e7f3a2b6d8e5c1f0a4d7b3e9c2a6f8d1b5e0c3a7f9d2b4e6c8a0f1d3b" : "3e7a9c1f5b2d8e0a4c6f1b3d5e7a9c2f4b6d8e0a1c3f5b7d9e2a4c6f8b0d1e3a",
      verified: true,
    };
  }

  async exportPractice(onProgress: (p: ExportProgress) => void): Promise<ExportResult> {
    this.admin();
    this.action();
    this.fresh("exporting the practice");
    return this.exportRun("practice", onProgress);
  }

  async exportVault(onProgress: (p: ExportProgress) => void): Promise<ExportResult> {
    // This device's copy needs no network.
    return this.exportRun("vault", onProgress);
  }

  // --- Cookies and consent ---

  async cookieCatalogue(): Promise<Cached<CookieCatalogue>> {
    return this.cached("cookies", cookieCatalogue());
  }

  /** `consent::consent_state`: GPC with no record writes the `gpc` record first. */
  private consentState(write = true): ConsentState {
    if (write && this.gpc && this.consentHistory.length === 0) this.recordConsent({ functional: false, analytics: false, items: {} }, "gpc");
    const current: ConsentRecord = this.consentHistory[0] ?? {
      id: null,
      strictly_necessary: true,
      choices: { functional: false, analytics: false, items: {} },
      source: "default",
      surface: null,
      policy_version: POLICY_VERSION,
      recorded_at: null,
    };
    return {
      current: structuredClone(current),
      effective: effectiveConsent(current.choices, this.gpc),
      gpc: this.gpc,
      policy_version: POLICY_VERSION,
      choice_needed: current.source !== "user" || current.policy_version !== POLICY_VERSION,
      history: structuredClone(this.consentHistory),
    };
  }

  private recordConsent(choices: ConsentChoices, source: "user" | "gpc"): void {
    this.consentHistory.unshift({
      id: uuid("e2", this.nextRecord++),
      strictly_necessary: true,
      choices: structuredClone(choices),
      source,
      surface: this.surface,
      policy_version: POLICY_VERSION,
      recorded_at: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    });
    this.consentHistory.splice(100);
    this.record("consent_changed", source === "gpc" ? "Global Privacy Control refused analytics" : "Changed cookie choices", {
      source,
      surface: this.surface,
      functional: choices.functional,
      analytics: choices.analytics,
    });
  }

  async consent(): Promise<Cached<ConsentState>> {
    // Offline, the vault's copy (no GPC record is written: the request never left).
    if (!this.online()) return this.cached("consent", this.lastConsent ?? this.consentState(false));
    this.lastConsent = this.consentState();
    return this.cached("consent", this.lastConsent);
  }
  private lastConsent: ConsentState | null = null;

  async changeConsent(change: ConsentChange): Promise<ConsentState> {
    this.action();
    const choices = applyConsentChange(this.consentHistory[0]?.choices ?? { functional: false, analytics: false, items: {} }, change);
    this.recordConsent(choices, "user");
    this.lastConsent = this.consentState();
    return structuredClone(this.lastConsent);
  }

  // --- Notifications ---

  async notificationPreferences(): Promise<Cached<NotificationPreferences>> {
    return this.cached("notification-preferences", preferencesFrom(this.notificationChoices));
  }

  async updateNotificationPreferences(update: PreferencesUpdate): Promise<NotificationPreferences> {
    this.action();
    if (update.changes.length > MAX_PREFERENCE_CHANGES) throw new BackendError("invalid_input", `at most ${MAX_PREFERENCE_CHANGES} changes at once`);
    for (const c of update.changes) {
      if (!CATEGORIES.includes(c.category) || !CHANNELS.includes(c.channel)) throw new BackendError("invalid_input", "the body is not understood");
    }
    const refused = update.changes.find((c) => essentialReason(c.category) !== null && !c.enabled);
    if (refused) {
      throw new BackendError("essential_category", `${refused.category.replace(/_/g, " ")} cannot be turned off: ${essentialReason(refused.category)}`);
    }
    const changes = update.changes.filter((c) => essentialReason(c.category) === null);
    if (changes.length) {
      const source: ChoiceSource = update.source === "web" ? "web" : "user";
      const at = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
      for (const c of changes) this.notificationChoices.set(`${c.category}:${c.channel}`, { enabled: c.enabled, source, changed_at: at });
      this.record("notification_preferences_changed", "Changed notification preferences", { source, changes });
    }
    return preferencesFrom(this.notificationChoices);
  }

  async notices(): Promise<Cached<Notice[]>> {
    const newestFirst = [...this.noticeList].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    return this.cached("notices", newestFirst);
  }

  async markNoticeRead(id: string): Promise<void> {
    this.action();
    const n = this.noticeList.find((x) => x.id === id);
    if (!n) throw new BackendError("not_found", "no such notice");
    n.read_at ??= new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  /** A notice arrives (the tests play one). */
  addNotice(category: Category, title: string, body: string): Notice {
    const choices = preferencesFrom(this.notificationChoices).categories.find((c) => c.category === category)!;
    const n: Notice = {
      id: uuid("e1", 100 + this.noticeList.length),
      category,
      title,
      body,
      created_at: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      read_at: null,
      in_app: choices.in_app.enabled,
      desktop: choices.desktop.enabled,
    };
    this.noticeList.push(n);
    return structuredClone(n);
  }

  // --- Usage data ---

  async usageReportPreview(): Promise<Cached<UsageReport>> {
    this.admin();
    const now = Date.now();
    const events = otherPracticesUsage(now);
    // This practice takes part through its members who allow analytics: here, the member
    // signed in (the others have not chosen), by their latest record.
    if (this.consentHistory[0]?.choices.analytics) {
      const first = weekStart(now) - (REPORT_WEEKS - 1) * WEEK;
      for (let w = 0; w < REPORT_WEEKS; w++) {
        for (let k = 0; k < 3; k++) events.push({ practice: THIS_PRACTICE, user: ME, at: Math.min(now, first + w * WEEK + (k + 1) * DAY) });
      }
    }
    return this.cached("usage", aggregateUsage(events, now, THIS_PRACTICE));
  }

  // --- Breach notices ---

  /** Records an incident affecting the practice: every enabled member is notified at once
   * (in the transaction that records it), and their emails leave a few seconds later. */
  private keepIncident(id: string, input: IncidentInput, recordedMs: number, ackOf: (memberNumber: number) => string | null): IncidentKept {
    const recipients: IncidentKept["recipients"] = new Map();
    this.memberList.forEach((m, n) => {
      const notified = !m.disabled;
      const ack = ackOf(n + 1);
      recipients.set(m.id, {
        notified,
        notice_at: notified ? secTime(recordedMs) : null,
        email_at: notified ? msTime(recordedMs + 3_000 + 1_100 * (n % 4) + 17 * n) : null,
        ack_at: ack,
      });
    });
    const kept: IncidentKept = { incident: { id, ...input, recorded_at: msTime(recordedMs) }, recipients };
    this.incidentList.push(kept);
    return kept;
  }

  private incidentKept(id: string): IncidentKept {
    const k = this.incidentList.find((x) => x.incident.id === id);
    if (!k) throw new BackendError("not_found", "no such incident affects your practice");
    return k;
  }

  private memberIncident(k: IncidentKept): MemberIncident {
    const mine = k.recipients.get(ME);
    return structuredClone({
      ...k.incident,
      notice_created_at: mine?.notice_at ?? null,
      email_delivered_at: mine?.email_at ?? null,
      acknowledged_at: mine?.ack_at ?? null,
    });
  }

  /** The incidents that affect the practice, newest first (`GET /v1/me/incidents`). */
  async incidents(): Promise<Cached<MemberIncident[]>> {
    const list = [...this.incidentList].sort((a, b) => (a.incident.recorded_at < b.incident.recorded_at ? 1 : -1));
    return this.cached("incidents", list.map((k) => this.memberIncident(k)));
  }

  async acknowledgeIncident(id: string): Promise<MemberIncident> {
    this.action();
    const k = this.incidentKept(id);
    const mine = k.recipients.get(ME) ?? { notified: false, notice_at: null, email_at: null, ack_at: null };
    if (mine.ack_at === null) {
      mine.ack_at = msTime(Date.now());
      k.recipients.set(ME, mine);
      this.record("incident_acknowledged", "Acknowledged a breach notice", { incident: id });
    }
    return this.memberIncident(k);
  }

  async incidentAcknowledgements(id: string): Promise<Cached<IncidentAcknowledgements>> {
    this.admin();
    const k = this.incidentKept(id);
    const members: IncidentAcknowledgement[] = this.memberList.map((m) => {
      const r = k.recipients.get(m.id);
      return {
        member_id: m.id,
        display_name: m.display_name,
        email: m.email,
        notified: r?.notified ?? false,
        email_delivered_at: r?.email_at ?? null,
        acknowledged_at: r?.ack_at ?? null,
      };
    });
    return this.cached(`incident-acks:${id}`, { incident_id: id, members, acknowledged: members.filter((m) => m.acknowledged_at !== null).length });
  }

  /** The operator records an incident (the tests play one): answers its id. */
  recordIncident(input: IncidentInput): string {
    const id = uuid("e3", 10 + this.incidentList.length);
    this.keepIncident(id, input, Date.now(), () => null);
    this.addNotice("breach_notices", `Data breach notice: ${input.title}`, input.description);
    return id;
  }

  // --- Policy updates ---

  private currentVersion(kind: PolicyKind): PolicyVersion {
    const v = this.policyVersions.filter((p) => p.kind === kind).at(-1);
    if (!v) throw new BackendError("not_found", "no such policy");
    return v;
  }

  private memberPolicy(kind: PolicyKind): MemberPolicy {
    const current = this.currentVersion(kind);
    const ack = this.policyAcks.get(kind) ?? null;
    const acked = ack ? this.policyVersions.find((p) => p.kind === kind && p.version === ack.version) ?? null : null;
    const summary: PolicySummary = { kind, version: current.version, published_at: current.published_at, summary: current.summary };
    return {
      kind,
      current: summary,
      acknowledged_version: ack?.version ?? null,
      acknowledged_at: ack?.at ?? null,
      up_to_date: ack?.version === current.version,
      diff: lineDiff(acked?.version ?? null, acked?.text ?? "", current.version, current.text),
    };
  }

  /** `GET /v1/me/policies`: the privacy policy, then the terms. */
  async policies(): Promise<Cached<MemberPolicy[]>> {
    return this.cached("policies", (["privacy", "terms"] as PolicyKind[]).map((k) => this.memberPolicy(k)));
  }

  async policyDocument(kind: PolicyKind, version: string): Promise<PolicyDocument> {
    this.action();
    const v = this.policyVersions.find((p) => p.kind === kind && p.version === version);
    if (!v) throw new BackendError("not_found", "no such policy version");
    return { kind, version, published_at: v.published_at, summary: v.summary, text: v.text, current: v === this.currentVersion(kind) };
  }

  async acknowledgePolicy(kind: PolicyKind, version: string): Promise<MemberPolicy> {
    this.action();
    const current = this.currentVersion(kind);
    if (version.trim() !== current.version) {
      const what = kind === "privacy" ? "the privacy policy" : "the terms of use";
      throw new BackendError("policy_version_not_current", `that is not the current version of ${what}: the current one is ${current.version}`);
    }
    if (this.policyAcks.get(kind)?.version !== current.version) {
      this.policyAcks.set(kind, { version: current.version, at: secTime(Date.now()) });
      this.record("policy_acknowledged", `Acknowledged ${kind === "privacy" ? "the privacy policy" : "the terms of use"} ${current.version}`, { kind, version: current.version });
    }
    return this.memberPolicy(kind);
  }

  /** The member has acknowledged no version of anything (a new member; the tests set it). */
  forgetPolicyAcknowledgements(): void {
    this.policyAcks.clear();
  }

  /** The operator publishes a version (the tests play one); everyone is told. */
  publishPolicy(kind: PolicyKind, version: string, summary: string, text: string): void {
    if (this.policyVersions.some((p) => p.kind === kind && p.version === version)) throw new BackendError("conflict", `${kind} has a version ${version} already`);
    this.policyVersions.push({ kind, version, published_at: secTime(Date.now()), summary, text: text.trimEnd() + "\n" });
    this.addNotice("policy_changes", `Strongroom's ${kind === "privacy" ? "privacy policy" : "terms of use"} has changed (version ${version})`, summary);
  }
}
