// The privacy dashboard's backend in a browser: the service's `/v1` routes called over the
// cookie session (lib/http.ts), answers mapped into the same view types the desktop core
// gives the UI (crates/client/src/dashboard.rs and support.rs are the reference).
//
// Invariants:
// - Nothing is kept in browser storage: no localStorage, sessionStorage, IndexedDB or
//   cookie this code can read. Every read is the service's answer just now
//   (`Cached.offline` is always false); the only thing kept is in memory, for the page's
//   life: the audit chain this page has checked (so a later answer that rewrites it is
//   caught, as on the desktop) and members' names. Both are forgotten at sign-in and out.
// - The audit log is checked here, in the browser, with the same hashes the service
//   writes it with (crates/protocol/src/audit.rs); it is never shown as verified unless
//   every link checked out.
// - A practice export is offered for download only after the zip was checked against its
//   own manifest (every file's SHA-256, size and record count), as on the desktop.
// - `exportVault` has no meaning here (a browser holds no copy): it fails `invalid_input`
//   with words saying so, and the web entry does not offer it.
import type { DashboardBackend } from "./backend";
import type {
  AccessReview,
  AuditFilter,
  AuditLogView,
  AuditRow,
  Cached,
  ChainCheck,
  DeviceHoldings,
  DeviceSession,
  ExportProgress,
  ExportResult,
  GrantAccess,
  GrantScope,
  GrantStatus,
  Integration,
  IntegrationCreated,
  IntegrationScope,
  InvitationSent,
  InvitationStatus,
  InvitationView,
  MemberView,
  ReviewRecord,
  Role,
  SupportAccessEntry,
  SupportGrant,
} from "./dashboard-types";
import { BackendError } from "./errors";
import { Http, type HttpOptions } from "./http";
import {
  MAX_PREFERENCE_CHANGES,
  type ConsentChange,
  type ConsentState,
  type CookieCatalogue,
  type IncidentAcknowledgements,
  type MemberIncident,
  type MemberPolicy,
  type Notice,
  type NotificationPreferences,
  type PolicyDocument,
  type PolicyKind,
  type PreferencesUpdate,
  type UsageReport,
} from "./preference-types";

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
/** A policy version's label as the service allows it (`policies::check_version`). */
const POLICY_VERSION = /^[A-Za-z0-9._-]{1,40}$/;

function incidentId(id: string): string {
  if (!UUID.test(id)) throw new BackendError("invalid_input", "that is not an incident id");
  return id;
}

function policyPath(kind: PolicyKind, version?: string): string {
  if (kind !== "privacy" && kind !== "terms") throw new BackendError("invalid_input", "there are two policies: privacy and terms");
  if (version !== undefined && !POLICY_VERSION.test(version)) throw new BackendError("invalid_input", "that is not a policy version");
  return version === undefined ? kind : `${kind}/${version}`;
}

// --- The service's wire shapes (crates/protocol) ---

export type WireMember = {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  disabled: boolean;
  mfa_enabled: boolean;
  last_sign_in_at?: string | null;
  session_count?: number;
  joined_at?: string | null;
};
export type WireInvitation = {
  id: string;
  email: string;
  role: Role;
  invited_by: string;
  /** Unix seconds. */
  created_at: number;
  expires_at: number;
  status: InvitationStatus;
};
export type WireSession = Omit<DeviceSession, "holdings"> & { holdings?: DeviceHoldings | null };
export type WireReviewRecord = {
  id: string;
  completed_at: string;
  by: string;
  by_name: string;
  dormant_days: number;
  disabled: string[];
  invitations_revoked: string[];
};
export type WireReview = {
  dormant_days: number;
  generated_at: string;
  dormant: { member: WireMember; days_idle: number | null }[];
  unused_invitations: WireInvitation[];
  last_review: WireReviewRecord | null;
};
type StaffInfo = { id: string; email: string; display_name: string };
type MemberRef = { id: string; display_name: string };
export type WireGrant = {
  id: string;
  practice_id: string;
  staff: StaffInfo;
  reason: string;
  ticket: string;
  scope: { kind: "practice" } | { kind: "matters"; matters: { id: string; number: string | null; title: string | null }[] };
  access: GrantAccess;
  duration_hours: number;
  status: GrantStatus;
  requested_at: number;
  decided_at: number | null;
  decided_by: MemberRef | null;
  expires_at: number | null;
  revoked_at: number | null;
  revoked_by?: MemberRef | null;
};
export type WireAccessEntry = {
  id: number;
  at: string;
  staff: StaffInfo;
  grant_id: string | null;
  allowed: boolean;
  refusal: string | null;
  method: string;
  path: string;
  record_kind: string;
  record_ids: string[];
  count: number;
};
export type WireIntegration = {
  id: string;
  app_name: string;
  scopes: IntegrationScope[];
  created_by: MemberRef;
  created_at: number;
  last_used_at: number | null;
  records_read: number;
  revoked_at: number | null;
};
export type WireAuditEntry = {
  id: number;
  seq: number;
  occurred_at: string;
  practice_id: string | null;
  actor: string | null;
  kind: string;
  details: string;
  prev_hash: string;
  hash: string;
  prev_link: string;
  link: string;
};
export type WireAuditPage = {
  entries: WireAuditEntry[];
  head_seq: number;
  head_link: string;
  actors: { actor: string; name: string }[];
};

/** Who is signed in, as the service tells it (`UserInfo` and `PracticeInfo`). */
export type WebUser = { id: string; email: string; display_name: string; role: Role };
export type WebPractice = { id: string; name: string };
export type WebSession = { user: WebUser | null; practice: WebPractice | null };

// --- Mapping into the UI's views ---

/** Unix seconds as RFC 3339, UTC, whole seconds: what the desktop core's `rfc3339_of` gives. */
export function rfc3339Of(secs: number): string {
  return new Date(secs * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function nowRfc3339(): string {
  return rfc3339Of(Math.floor(Date.now() / 1000));
}

function fresh<T>(value: T): Cached<T> {
  return { value, fetched_at: nowRfc3339(), offline: false };
}

export function memberView(m: WireMember): MemberView {
  return {
    id: m.id,
    email: m.email,
    display_name: m.display_name,
    role: m.role,
    disabled: m.disabled,
    mfa_enabled: m.mfa_enabled,
    last_sign_in_at: m.last_sign_in_at ?? null,
    session_count: m.session_count ?? 0,
  };
}

export function sessionView(s: WireSession): DeviceSession {
  return { ...s, holdings: s.holdings ?? null };
}

export function invitationView(i: WireInvitation, names: ReadonlyMap<string, string>): InvitationView {
  return {
    id: i.id,
    email: i.email,
    role: i.role,
    invited_by_name: names.get(i.invited_by) ?? "An admin",
    created_at: rfc3339Of(i.created_at),
    expires_at: rfc3339Of(i.expires_at),
    status: i.status,
  };
}

export function reviewRecordView(r: WireReviewRecord): ReviewRecord {
  return {
    completed_at: r.completed_at,
    by_name: r.by_name,
    dormant_days: r.dormant_days,
    disabled: r.disabled.length,
    invitations_revoked: r.invitations_revoked.length,
  };
}

export function grantView(g: WireGrant): SupportGrant {
  const scope: GrantScope =
    g.scope.kind === "practice"
      ? { kind: "practice" }
      : { kind: "matters", matters: g.scope.matters.map((m) => ({ id: m.id, number: m.number ?? "", title: m.title ?? "" })) };
  return {
    id: g.id,
    staff_name: g.staff.display_name,
    staff_email: g.staff.email,
    reason: g.reason,
    ticket: g.ticket,
    scope,
    access: g.access,
    duration_hours: g.duration_hours,
    status: g.status,
    requested_at: rfc3339Of(g.requested_at),
    decided_at: g.decided_at === null ? null : rfc3339Of(g.decided_at),
    decided_by_name: g.decided_by?.display_name ?? null,
    expires_at: g.expires_at === null ? null : rfc3339Of(g.expires_at),
    revoked_at: g.revoked_at === null ? null : rfc3339Of(g.revoked_at),
  };
}

const KIND_WORDS: Record<string, string> = {
  matter: "matter",
  contact: "contact",
  participant: "participant",
  file_note: "file note",
  task: "task",
  time_entry: "time entry",
  document: "document record",
};

function kindWords(kind: string, n: number): string {
  const one = KIND_WORDS[kind] ?? kind;
  return n === 1 ? `1 ${one}` : `${n} ${one}s`;
}

export function accessEntryView(e: WireAccessEntry): SupportAccessEntry {
  const verb = e.method === "PUT" ? "Wrote" : "Read";
  let what: string;
  if (e.allowed) what = `${verb} ${kindWords(e.record_kind, e.count)}`;
  else if (e.refusal) {
    const words = kindWords(e.record_kind, Math.max(e.count, 1));
    what = `Refused (${e.refusal.replaceAll("_", " ")}): ${words.startsWith("1 ") ? words.slice(2) : words}`;
  } else what = "Refused";
  return {
    id: e.id,
    at: e.at,
    staff_name: e.staff.display_name,
    grant_id: e.grant_id ?? "",
    request: `${e.method} ${e.path}`,
    what,
    records: e.count,
    allowed: e.allowed,
  };
}

export function integrationView(i: WireIntegration): Integration {
  return {
    id: i.id,
    app_name: i.app_name,
    scopes: i.scopes,
    created_by_name: i.created_by.display_name,
    created_at: rfc3339Of(i.created_at),
    last_used_at: i.last_used_at === null ? null : rfc3339Of(i.last_used_at),
    records_read: Math.max(0, i.records_read),
    revoked_at: i.revoked_at === null ? null : rfc3339Of(i.revoked_at),
  };
}

// --- The audit chain (crates/protocol/src/audit.rs) ---

export const GENESIS_HASH = "0".repeat(64);

/** Why a chain does not check out, in the words `ChainBreak::describe` uses. */
const BREAK = {
  entryAltered: "the entry was changed after it was written",
  linkAltered: "the entry's link in the chain was changed",
  outOfSequence: "an entry is missing, inserted or out of order here",
  foreignEntry: "the entry belongs to another practice",
  headMismatch: "entries are missing at the end of the log",
  historyRewritten: "the log no longer matches what this device checked before",
} as const;

const utf8 = new TextEncoder();

/** Bytes in the hashes' encoding: a domain tag, an 8-byte big-endian number, then each text
 * field as a presence byte and, when present, its UTF-8 length (8 bytes) and bytes. */
function encode(tag: string, n: number, fields: (string | null)[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [utf8.encode(tag + "\0")];
  const num = new Uint8Array(8);
  new DataView(num.buffer).setBigInt64(0, BigInt(n));
  parts.push(num);
  for (const f of fields) {
    if (f === null) {
      parts.push(new Uint8Array([0]));
      continue;
    }
    const bytes = utf8.encode(f);
    const head = new Uint8Array(9);
    head[0] = 1;
    new DataView(head.buffer).setBigUint64(1, BigInt(bytes.length));
    parts.push(head, bytes);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An entry's hash from its fields (`entry_hash`). */
export function entryHash(e: Omit<WireAuditEntry, "seq" | "hash" | "prev_link" | "link">): Promise<string> {
  return sha256Hex(
    encode("strongroom-audit-v1", e.id, [e.occurred_at, e.practice_id, e.actor, e.kind, e.details, e.prev_hash]),
  );
}

/** A practice's link for entry number `seq` (`practice_link`). */
export function practiceLink(seq: number, hash: string, prevLink: string): Promise<string> {
  return sha256Hex(encode("strongroom-audit-practice-v1", seq, [hash, prevLink]));
}

/** The chain this page has fetched, and the head the service last announced. */
type AuditKept = {
  practiceId: string | null;
  entries: WireAuditEntry[];
  headSeq: number;
  headLink: string;
  names: Map<string, string>;
  fetchedAt: string;
};

/** Checks a practice's chain from its first entry, and that it ends at the announced head
 * (`PracticeChainVerifier` and the desktop's `check_chain`). */
export async function checkChain(
  practiceId: string,
  entries: readonly WireAuditEntry[],
  headSeq: number,
  headLink: string,
): Promise<ChainCheck> {
  const last = entries.length ? entries[entries.length - 1].seq : 0;
  if (headSeq < last) return { status: "broken", seq: headSeq + 1, reason: BREAK.historyRewritten };
  let seq = 0;
  let link = GENESIS_HASH;
  for (const e of entries) {
    const expected = seq + 1;
    let reason: string | null = null;
    if (e.practice_id !== practiceId) reason = BREAK.foreignEntry;
    else if (e.seq !== expected || e.prev_link !== link) reason = BREAK.outOfSequence;
    else if ((await entryHash(e)) !== e.hash) reason = BREAK.entryAltered;
    else if ((await practiceLink(e.seq, e.hash, e.prev_link)) !== e.link) reason = BREAK.linkAltered;
    if (reason) return { status: "broken", seq: expected, reason };
    seq = e.seq;
    link = e.link;
  }
  if (seq !== headSeq || link !== headLink) return { status: "broken", seq: seq + 1, reason: BREAK.headMismatch };
  return { status: "verified", entries: seq };
}

function actorName(actor: string, names: ReadonlyMap<string, string>): string {
  return names.get(actor) ?? (actor.startsWith("staff:") ? "Support staff" : "A former member");
}

type Details = Record<string, unknown>;

/** A policy document's kind in words. */
function policyWords(kind: string): string {
  return kind === "terms" ? "terms of use" : "privacy policy";
}

/** An entry in words: the desktop core's `summary`, word for word. */
export function auditSummary(kind: string, d: Details, names: ReadonlyMap<string, string>): string {
  const s = (k: string) => (typeof d[k] === "string" ? (d[k] as string) : "");
  const n = (k: string) => (typeof d[k] === "number" ? (d[k] as number) : 0);
  const len = (k: string) => (Array.isArray(d[k]) ? (d[k] as unknown[]).length : 0);
  const words = (k: string) => s(k).replaceAll("_", " ");
  const device = s("device_name");
  const from = typeof d.ip === "string" ? ` from ${d.ip}` : "";
  const member = (k: string) => names.get(`user:${s(k)}`) ?? "a member";
  switch (kind) {
    case "sign_in":
      return `Signed in on ${device}${from}`;
    case "sign_in_failed":
      return `Sign-in refused (${words("reason")})${from}`;
    case "sign_out":
      return "Signed out";
    case "member_role_changed":
      return `Made ${member("member")} ${words("role")}`;
    case "member_disabled":
      return `Disabled ${member("member")}`;
    case "member_enabled":
      return `Enabled ${member("member")}`;
    case "member_credentials_removed":
      return `Removed the credentials of ${member("member")}`;
    case "matter_access_changed":
      return "Changed who may open a matter";
    case "member_invited":
      return `Invited someone as ${words("role")}`;
    case "invitation_revoked":
      return "Withdrew an invitation";
    case "invitation_accepted":
      return `Accepted an invitation and joined as ${words("role")}`;
    case "mfa_enabled":
      return "Turned on an authenticator app";
    case "mfa_disabled":
      return "Turned off the second factor";
    case "recovery_codes_regenerated":
      return "Made new recovery codes";
    case "recovery_code_used":
      return "Used a recovery code";
    case "reauthenticated":
      return `Confirmed their password${from}`;
    case "reauth_failed":
      return `Password confirmation refused${from}`;
    case "practice_settings_changed":
      return "Changed the practice's settings";
    case "session_revoked":
      return `Signed out ${device} remotely`;
    case "device_wiped":
      return `${device} erased its offline copy`;
    case "access_review_completed":
      return `Completed an access review (${len("disabled")} disabled, ${len("invitations_revoked")} invitations withdrawn)`;
    case "practice_exported":
      return `Exported the practice (${n("records")} records)`;
    case "support_access_requested":
      return `Asked for ${s("access").replaceAll("_", "-")} access (${s("ticket")}): ${s("reason")}`;
    case "support_access_approved":
      return "Approved support access";
    case "support_access_declined":
      return "Declined support access";
    case "support_access_revoked":
      return "Ended support access";
    case "support_data_accessed":
      return `Support ${s("method") === "PUT" ? "wrote" : "read"} ${n("count")} ${words("record_kind")} record(s) under a grant`;
    case "support_access_refused":
      return `Support was refused ${words("record_kind")} records (${words("reason")})`;
    case "integration_created":
      return `Connected the app ${s("app_name")}`;
    case "integration_revoked":
      return `Disconnected the app ${s("app_name")}`;
    case "consent_changed": {
      const on = (k: string) => d[k] === true;
      const allowed =
        on("functional") && on("analytics")
          ? "functional and analytics allowed"
          : on("functional")
            ? "functional allowed, analytics off"
            : on("analytics")
              ? "analytics allowed, functional off"
              : "only strictly necessary";
      const by = s("source") === "gpc" ? " by Global Privacy Control" : "";
      const surface = s("surface") === "web" ? "in a browser" : "in the desktop app";
      return `Changed cookie choices ${surface}${by}: ${allowed}`;
    }
    case "notification_preferences_changed":
      return `Changed notification preferences (${len("changes")} change(s))`;
    case "incident_recorded":
      return `A security incident was recorded: ${s("title")}`;
    case "incident_acknowledged":
      return "Acknowledged a security incident notice";
    case "policy_published":
      return `A new version of the ${policyWords(s("kind"))} was published (${s("version")})`;
    case "policy_acknowledged":
      return `Acknowledged the ${policyWords(s("kind"))}, version ${s("version")}`;
    default:
      return kind.replaceAll("_", " ");
  }
}

function parseDetails(text: string): Details {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Details) : {};
  } catch {
    return {};
  }
}

function matchesFilter(e: WireAuditEntry, f: AuditFilter): boolean {
  const day = e.occurred_at.slice(0, 10);
  return (
    (!f.actor_id || e.actor === f.actor_id) &&
    (!f.kind || e.kind === f.kind) &&
    (!f.from || day >= f.from) &&
    (!f.to || day <= f.to)
  );
}

/** Rows as CSV (the desktop's `to_csv`): every field any row has, in first-seen order;
 * text as is, null empty, anything else as JSON; RFC 4180 quoting. */
export function toCsv(rows: readonly Record<string, unknown>[]): string {
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  const cell = (v: unknown) => {
    const text = v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns.map(cell), ...rows.map((r) => columns.map((c) => cell(r[c])))].map((l) => l.join(",") + "\r\n").join("");
}

// --- The export archive (crates/export) ---

/** The archive format the service writes (`FORMAT`). */
export const EXPORT_FORMAT = "strongroom-export/1";
const MANIFEST = "manifest.json";

type ManifestFile = { name: string; sha256: string; bytes: number; kind: string; records: number };
type Manifest = { format: string; files: ManifestFile[] };

/** The files of a zip, by name, decompressed (stored and deflated entries; no zip64). */
export async function readZip(zip: Uint8Array<ArrayBuffer>): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const bad = (why: string) => new BackendError("malformed_response", `the export is not a zip archive this page can read: ${why}`);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad("no end of central directory");
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  if (at === 0xffffffff || count === 0xffff) throw bad("zip64 archives are not supported here");
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  const names = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (at + 46 > zip.length || view.getUint32(at, true) !== 0x02014b50) throw bad("a broken central directory");
    const method = view.getUint16(at + 10, true);
    const size = view.getUint32(at + 20, true);
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = names.decode(zip.subarray(at + 46, at + 46 + nameLen));
    at += 46 + nameLen + extraLen + commentLen;
    if (local + 30 > zip.length || view.getUint32(local, true) !== 0x04034b50) throw bad(`no local header for ${name}`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + size > zip.length) throw bad(`${name} runs past the end`);
    const raw = zip.slice(start, start + size);
    if (method === 0) files.set(name, raw);
    else if (method === 8) {
      const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
      files.set(name, new Uint8Array(await new Response(stream).arrayBuffer()));
    } else throw bad(`${name} uses compression method ${method}`);
  }
  return files;
}

/** Records in a CSV file: its rows after the header, blank lines left out. */
function csvRecords(text: string): number {
  let rows = 0;
  let quoted = false;
  let filled = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === "\n") {
      if (filled) rows++;
      filled = false;
    } else if (ch !== "\r") filled = true;
  }
  if (filled) rows++;
  return Math.max(0, rows - 1);
}

/** Checks an archive against its manifest (the desktop's `check_archive`): every listed
 * file is there with its size, SHA-256 and record count, and nothing unlisted. Answers the
 * files and records it holds, or throws what is wrong. */
export async function checkArchive(zip: Uint8Array<ArrayBuffer>): Promise<{ files: number; records: number }> {
  const wrong = (why: string) => new BackendError("malformed_response", `the export does not match its manifest, so it was not saved: ${why}`);
  const files = await readZip(zip);
  const text = files.get(MANIFEST);
  if (!text) throw wrong("the archive has no manifest");
  let manifest: Manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(text)) as Manifest;
  } catch (e) {
    throw wrong(`the manifest does not parse: ${String(e)}`);
  }
  if (manifest.format !== EXPORT_FORMAT) throw wrong(`an unknown format ${JSON.stringify(manifest.format)}`);
  const listed = new Set(manifest.files.map((f) => f.name));
  for (const name of files.keys()) if (name !== MANIFEST && !listed.has(name)) throw wrong(`${name} is in the archive but not in the manifest`);
  let records = 0;
  for (const f of manifest.files) {
    const bytes = files.get(f.name);
    if (!bytes) throw wrong(`${f.name} is listed in the manifest but not in the archive`);
    if (bytes.length !== f.bytes || (await sha256Hex(bytes)) !== f.sha256) throw wrong(`${f.name} does not match its SHA-256 in the manifest`);
    const body = new TextDecoder().decode(bytes);
    let found: number;
    if (f.name.endsWith(".json")) {
      let list: unknown;
      try {
        list = JSON.parse(body);
      } catch (e) {
        throw wrong(`${f.name} does not parse: ${String(e)}`);
      }
      if (!Array.isArray(list)) throw wrong(`${f.name} is not a list of records`);
      found = list.length;
      records += found;
    } else if (f.name.endsWith(".csv")) found = csvRecords(body);
    else throw wrong(`${f.name} is neither JSON nor CSV`);
    if (found !== f.records) throw wrong(`${f.name} holds ${found} records, the manifest says ${f.records}`);
  }
  return { files: manifest.files.length, records };
}

// --- Saving a file through the browser ---

/** Hands a file to the browser's downloads; answers the name it was offered under. */
export type SaveFile = (name: string, data: Blob) => string;

/** The browser's way: a link to the data, clicked, then let go. */
export const browserSave: SaveFile = (name, data) => {
  const url = URL.createObjectURL(data);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.rel = "noopener";
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
};

/** The largest export this page downloads into memory. */
export const MAX_EXPORT_BYTES = 2 ** 31;

function fileStamp(): string {
  return nowRfc3339().replaceAll(":", "-");
}

export type WebBackendOptions = HttpOptions & { save?: SaveFile };

// --- The backend ---

export class WebBackend implements DashboardBackend {
  private readonly http: Http;
  private readonly save: SaveFile;
  /** Members' names by id, from the last members list this page read. */
  private names = new Map<string, string>();
  private audit: AuditKept | null = null;

  constructor(options: WebBackendOptions = {}) {
    const ended = options.onSessionEnded;
    this.http = new Http({
      ...options,
      onSessionEnded: () => {
        this.forget();
        ended?.();
      },
    });
    this.save = options.save ?? browserSave;
  }

  private forget() {
    this.names = new Map();
    this.audit = null;
  }

  // --- The cookie session ---

  /** Signs in: the service sets the HttpOnly session cookie. `oneTimeCode` is the
   * authenticator's six digits or a recovery code, asked for after `mfa_required`. */
  async signIn(email: string, password: string, oneTimeCode?: string): Promise<WebSession> {
    this.forget();
    const answer = await this.http.json<unknown>("POST", "/v1/web/session", {
      email: email.trim(),
      password,
      ...secondFactor(oneTimeCode),
    });
    return sessionOf(answer);
  }

  /** Who is signed in (`GET /v1/web/session`); `null` when nobody is. While the service
   * has no such route (404 from its fallback, or 405 where only POST and DELETE are
   * served), the sessions list answers whether the cookie is live, and who it is stays
   * unknown. */
  async currentSession(): Promise<WebSession | null> {
    try {
      return sessionOf(await this.http.json<unknown>("GET", "/v1/web/session"));
    } catch (e) {
      const code = e instanceof BackendError ? e.code : "internal";
      if (code === "session_expired") return null;
      if (code !== "not_found" && !(e instanceof BackendError && e.detail.startsWith("405"))) throw e;
    }
    try {
      await this.http.json<unknown>("GET", "/v1/sessions");
      return { user: null, practice: null };
    } catch (e) {
      if (e instanceof BackendError && e.code === "session_expired") return null;
      throw e;
    }
  }

  /** Ends the session: the service clears the cookie. */
  async signOut(): Promise<void> {
    this.forget();
    await this.http.empty("DELETE", "/v1/web/session");
  }

  // --- Sessions and devices ---

  async sessions(): Promise<Cached<DeviceSession[]>> {
    const l = await this.http.json<{ sessions: WireSession[] }>("GET", "/v1/sessions");
    return fresh(l.sessions.map(sessionView));
  }

  async revokeSession(id: string): Promise<void> {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) throw new BackendError("invalid_input", "that is not a session id");
    await this.http.empty("DELETE", `/v1/sessions/${id}`);
  }

  async revokeOtherSessions(): Promise<number> {
    const r = await this.http.json<{ revoked: number }>("POST", "/v1/sessions/revoke-others", {});
    return r.revoked;
  }

  // --- Members and invitations ---

  async members(): Promise<Cached<MemberView[]>> {
    const list = await this.http.json<WireMember[]>("GET", "/v1/members");
    this.names = new Map(list.map((m) => [m.id, m.display_name]));
    return fresh(list.map(memberView));
  }

  async invitations(): Promise<Cached<InvitationView[]>> {
    const list = await this.http.json<WireInvitation[]>("GET", "/v1/invitations");
    return fresh(list.map((i) => invitationView(i, this.names)));
  }

  async invite(email: string, role: Role): Promise<InvitationSent> {
    const e = email.trim();
    if (!e || !e.includes("@") || e.length > 254) throw new BackendError("invalid_input", "enter the person's email address");
    const made = await this.http.json<{ invitation: WireInvitation; token: string; emailed?: boolean }>("POST", "/v1/invitations", {
      email: e,
      role,
    });
    return { invitation: invitationView(made.invitation, this.names), token: made.token, emailed: made.emailed ?? false };
  }

  async revokeInvitation(id: string): Promise<void> {
    await this.http.empty("DELETE", `/v1/invitations/${encodeURIComponent(id)}`);
  }

  async updateMember(id: string, change: { role?: Role; disabled?: boolean }): Promise<MemberView> {
    const body: { role?: Role; disabled?: boolean } = {};
    if (change.role !== undefined) body.role = change.role;
    if (change.disabled !== undefined) body.disabled = change.disabled;
    return memberView(await this.http.json<WireMember>("PATCH", `/v1/members/${encodeURIComponent(id)}`, body));
  }

  async removeCredentials(id: string): Promise<void> {
    await this.http.empty("DELETE", `/v1/members/${encodeURIComponent(id)}/credentials`);
  }

  async accessReview(dormantDays: number): Promise<AccessReview> {
    const r = await this.http.json<WireReview>("GET", `/v1/members/review?dormant_days=${dormantDays}`);
    return {
      dormant_days: r.dormant_days,
      generated_at: r.generated_at,
      dormant: r.dormant.map((d) => ({ member: memberView(d.member), days_idle: d.days_idle })),
      unused_invitations: r.unused_invitations.map((i) => invitationView(i, this.names)),
      last_review: r.last_review ? reviewRecordView(r.last_review) : null,
    };
  }

  async completeAccessReview(dormantDays: number, disable: string[], revokeInvitations: string[]): Promise<ReviewRecord> {
    const r = await this.http.json<WireReviewRecord>("POST", "/v1/members/review", {
      dormant_days: dormantDays,
      disable,
      revoke_invitations: revokeInvitations,
    });
    return reviewRecordView(r);
  }

  // --- Re-authentication ---

  async reauthenticate(password: string, oneTimeCode?: string): Promise<void> {
    const body = { password, ...secondFactor(oneTimeCode) };
    try {
      await this.http.empty("POST", "/v1/auth/reauth", body);
    } catch (e) {
      if (e instanceof BackendError && e.code === "invalid_credentials") {
        throw new BackendError(oneTimeCode?.trim() ? "wrong_code" : "wrong_password", e.detail);
      }
      throw e;
    }
  }

  // --- Support access ---

  async supportGrants(): Promise<Cached<SupportGrant[]>> {
    return fresh((await this.http.json<WireGrant[]>("GET", "/v1/support/grants")).map(grantView));
  }

  private async decide(id: string, what: "approve" | "decline" | "revoke"): Promise<SupportGrant> {
    return grantView(await this.http.json<WireGrant>("POST", `/v1/support/grants/${encodeURIComponent(id)}/${what}`, {}));
  }

  approveGrant(id: string) {
    return this.decide(id, "approve");
  }
  declineGrant(id: string) {
    return this.decide(id, "decline");
  }
  revokeGrant(id: string) {
    return this.decide(id, "revoke");
  }

  async supportAccessLog(grantId?: string): Promise<Cached<SupportAccessEntry[]>> {
    const path = grantId ? `/v1/support/access-log?grant=${encodeURIComponent(grantId)}&limit=500` : "/v1/support/access-log?limit=500";
    const l = await this.http.json<{ entries: WireAccessEntry[] }>("GET", path);
    return fresh(l.entries.map(accessEntryView));
  }

  // --- Connected apps ---

  async integrations(): Promise<Cached<Integration[]>> {
    return fresh((await this.http.json<WireIntegration[]>("GET", "/v1/integrations")).map(integrationView));
  }

  async createIntegration(appName: string, scopes: IntegrationScope[]): Promise<IntegrationCreated> {
    const made = await this.http.json<{ integration: WireIntegration; token: string }>("POST", "/v1/integrations", {
      app_name: appName.trim(),
      scopes,
    });
    return { integration: integrationView(made.integration), token: made.token };
  }

  /** Revokes an app's token, then answers its ledger row as listed now (the route answers
   * nothing), as the desktop does. */
  async revokeIntegration(id: string): Promise<Integration> {
    await this.http.empty("DELETE", `/v1/integrations/${encodeURIComponent(id)}`);
    const row = (await this.integrations()).value.find((i) => i.id === id);
    if (!row) throw new BackendError("not_found", "that app is no longer listed");
    return row;
  }

  // --- The audit log ---

  /** Brings this page's copy of the chain up to date: the entries after those it holds. */
  private async refreshAudit(): Promise<AuditKept> {
    const kept: AuditKept = this.audit ?? {
      practiceId: null,
      entries: [],
      headSeq: 0,
      headLink: GENESIS_HASH,
      names: new Map(),
      fetchedAt: "",
    };
    for (;;) {
      const after = kept.entries.length ? kept.entries[kept.entries.length - 1].seq : 0;
      const page = await this.http.json<WireAuditPage>("GET", `/v1/audit/entries?after_seq=${after}&limit=1000`);
      for (const a of page.actors) kept.names.set(a.actor, a.name);
      const last = page.entries.length ? page.entries[page.entries.length - 1].seq : null;
      const more = last !== null && last < page.head_seq;
      if (kept.practiceId === null) kept.practiceId = page.entries[0]?.practice_id ?? null;
      kept.entries.push(...page.entries);
      kept.headSeq = page.head_seq;
      kept.headLink = page.head_link;
      if (!more) break;
    }
    kept.fetchedAt = nowRfc3339();
    this.audit = kept;
    return kept;
  }

  async auditLog(filter: AuditFilter): Promise<AuditLogView> {
    const kept = await this.refreshAudit();
    const check = await checkChain(kept.practiceId ?? "", kept.entries, kept.headSeq, kept.headLink);
    const actors = new Map<string, string>();
    const kinds = new Set<string>();
    for (const e of kept.entries) {
      kinds.add(e.kind);
      if (e.actor) actors.set(e.actor, actorName(e.actor, kept.names));
    }
    const rows: AuditRow[] = kept.entries
      .filter((e) => matchesFilter(e, filter))
      .reverse()
      .map((e) => ({
        seq: e.seq,
        occurred_at: e.occurred_at,
        actor_id: e.actor,
        actor_name: e.actor ? actorName(e.actor, kept.names) : null,
        kind: e.kind,
        summary: auditSummary(e.kind, parseDetails(e.details), kept.names),
        details: e.details,
      }));
    return {
      rows,
      total: rows.length,
      check,
      actors: [...actors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, name]) => ({ id, name })),
      kinds: [...kinds].sort(),
      fetched_at: kept.fetchedAt,
      offline: false,
    };
  }

  /** Offers the filtered log as a download; answers the file's name. */
  async exportAuditLog(filter: AuditFilter, format: "csv" | "json"): Promise<string> {
    if (format !== "csv" && format !== "json") throw new BackendError("invalid_input", `${JSON.stringify(format)} is not an export format: csv or json`);
    const view = await this.auditLog(filter);
    const stamp = fileStamp();
    if (format === "json") {
      const text = JSON.stringify({ exported_at: nowRfc3339(), check: view.check, entries: view.rows }, null, 2);
      return this.save(`strongroom-audit-${stamp}.json`, new Blob([text], { type: "application/json" }));
    }
    return this.save(`strongroom-audit-${stamp}.csv`, new Blob([toCsv(view.rows)], { type: "text/csv" }));
  }

  // --- Exports ---

  /** Downloads the practice's archive with its progress, checks it against its manifest,
   * and only then offers it to the browser's downloads. */
  async exportPractice(onProgress: (p: ExportProgress) => void): Promise<ExportResult> {
    onProgress({ stage: "preparing", done_bytes: 0, total_bytes: null });
    const resp = await this.http.send("GET", "/v1/export", undefined, "application/zip");
    const length = Number(resp.headers.get("Content-Length"));
    const total = Number.isFinite(length) && length > 0 ? length : null;
    if (total !== null && total > MAX_EXPORT_BYTES) throw new BackendError("malformed_response", "the export is larger than a browser can hold");
    const chunks: Uint8Array[] = [];
    let done = 0;
    try {
      if (resp.body) {
        const reader = resp.body.getReader();
        for (;;) {
          const { done: end, value } = await reader.read();
          if (end) break;
          chunks.push(value);
          done += value.length;
          if (done > MAX_EXPORT_BYTES) {
            await reader.cancel();
            throw new BackendError("malformed_response", "the export is larger than a browser can hold");
          }
          onProgress({ stage: "downloading", done_bytes: done, total_bytes: total });
        }
      } else {
        const all = new Uint8Array(await resp.arrayBuffer());
        chunks.push(all);
        done = all.length;
      }
    } catch (e) {
      if (e instanceof BackendError) throw e;
      throw new BackendError("offline", `the download stopped: ${String(e)}`);
    }
    const zip = new Uint8Array(done);
    let at = 0;
    for (const c of chunks) {
      zip.set(c, at);
      at += c.length;
    }
    onProgress({ stage: "checking", done_bytes: done, total_bytes: done });
    const checked = await checkArchive(zip);
    const sha256 = await sha256Hex(zip);
    const path = this.save(`strongroom-export-${fileStamp()}.zip`, new Blob([zip], { type: "application/zip" }));
    onProgress({ stage: "done", done_bytes: done, total_bytes: done });
    return { path, bytes: done, files: checked.files, records: checked.records, sha256, verified: true };
  }

  // --- Cookies and consent ---

  /** Every cookie and storage item the service and these pages set (no sign-in needed). */
  async cookieCatalogue(): Promise<Cached<CookieCatalogue>> {
    return fresh(await this.http.json<CookieCatalogue>("GET", "/v1/cookies"));
  }

  /** The member's consent as this browser's requests see it (Global Privacy Control, when
   * the browser sends it, turns analytics off in `effective`). */
  async consent(): Promise<Cached<ConsentState>> {
    return fresh(await this.http.json<ConsentState>("GET", "/v1/me/consent"));
  }

  /** Records a choice; the answer is the consent as it now is. The service expires, in the
   * same answer, any cookie the new choice no longer allows. */
  async changeConsent(change: ConsentChange): Promise<ConsentState> {
    return this.http.json<ConsentState>("PUT", "/v1/me/consent", change);
  }

  // --- Notifications ---

  async notificationPreferences(): Promise<Cached<NotificationPreferences>> {
    return fresh(await this.http.json<NotificationPreferences>("GET", "/v1/me/notifications/preferences"));
  }

  /** Changes the member's choices, all or none. Made in a browser, so recorded as `web`
   * whatever the caller says. */
  async updateNotificationPreferences(update: PreferencesUpdate): Promise<NotificationPreferences> {
    if (update.changes.length > MAX_PREFERENCE_CHANGES) {
      throw new BackendError("invalid_input", `at most ${MAX_PREFERENCE_CHANGES} changes at once`);
    }
    return this.http.json<NotificationPreferences>("PATCH", "/v1/me/notifications/preferences", {
      changes: update.changes,
      source: "web",
    });
  }

  /** The member's notices, newest first. */
  async notices(): Promise<Cached<Notice[]>> {
    return fresh(await this.http.json<Notice[]>("GET", "/v1/me/notices"));
  }

  async markNoticeRead(id: string): Promise<void> {
    if (!/^[0-9A-Fa-f-]{1,64}$/.test(id)) throw new BackendError("invalid_input", "that is not a notice id");
    await this.http.empty("POST", `/v1/me/notices/${id}/read`);
  }

  // --- Usage data ---

  /** Exactly what the aggregated usage report would send (administrators only). */
  async usageReportPreview(): Promise<Cached<UsageReport>> {
    return fresh(await this.http.json<UsageReport>("GET", "/v1/practice/usage-report/preview"));
  }

  // --- Breach notices ---

  /** The incidents that affect the member's practice, newest first, every statutory field
   * with the member's own notice, email and acknowledgement. */
  async incidents(): Promise<Cached<MemberIncident[]>> {
    return fresh(await this.http.json<MemberIncident[]>("GET", "/v1/me/incidents"));
  }

  /** Records that the member read the notice (again changes nothing); answers it as it now is. */
  async acknowledgeIncident(id: string): Promise<MemberIncident> {
    return this.http.json<MemberIncident>("POST", `/v1/me/incidents/${incidentId(id)}/acknowledge`);
  }

  /** Every member of the practice and the notice to them (administrators only). */
  async incidentAcknowledgements(id: string): Promise<Cached<IncidentAcknowledgements>> {
    return fresh(await this.http.json<IncidentAcknowledgements>("GET", `/v1/practice/incidents/${incidentId(id)}/acknowledgements`));
  }

  // --- Policy updates ---

  /** Per kind: the current version, the one the member last acknowledged, and the service's
   * line diff between them. */
  async policies(): Promise<Cached<MemberPolicy[]>> {
    return fresh(await this.http.json<MemberPolicy[]>("GET", "/v1/me/policies"));
  }

  async policyDocument(kind: PolicyKind, version: string): Promise<PolicyDocument> {
    return this.http.json<PolicyDocument>("GET", `/v1/policies/${policyPath(kind, version)}`);
  }

  /** Only the current version is accepted (else `policy_version_not_current`, nothing recorded). */
  async acknowledgePolicy(kind: PolicyKind, version: string): Promise<MemberPolicy> {
    return this.http.json<MemberPolicy>("POST", `/v1/me/policies/${policyPath(kind)}/acknowledge`, { version });
  }

  /** A browser holds no copy of the practice's data: there is nothing to export. */
  async exportVault(): Promise<ExportResult> {
    throw new BackendError(
      "invalid_input",
      "A browser holds no copy of your practice's data, so there is no device copy to export. Export the whole practice instead, or use the desktop app.",
    );
  }
}

/** A one-time code as the service's requests name it: six digits are the authenticator's
 * (`totp_code`), anything else a recovery code (`recovery_code`); nothing when empty. */
export function secondFactor(oneTimeCode?: string): { totp_code?: string; recovery_code?: string } {
  const code = oneTimeCode?.trim();
  if (!code) return {};
  return /^\d{6}$/.test(code) ? { totp_code: code } : { recovery_code: code };
}

/** Who signed in, from the service's answer (`{ user, practice }`), as far as it says. */
function sessionOf(answer: unknown): WebSession {
  const a = answer && typeof answer === "object" ? (answer as { user?: unknown; practice?: unknown }) : {};
  const user = a.user && typeof a.user === "object" && typeof (a.user as WebUser).email === "string" ? (a.user as WebUser) : null;
  const practice =
    a.practice && typeof a.practice === "object" && typeof (a.practice as WebPractice).name === "string" ? (a.practice as WebPractice) : null;
  return { user, practice };
}
