// A Backend that answers from memory, for browser tests of the UI (no Tauri, no server).
// It keeps the real backend's contract: the same types, errors as BackendError codes, and
// the vault's validation (a new record needs its required fields; unknown fields are
// refused). Scenarios (chosen by the page's URL) set up the states the tests need:
// signed out, MFA, a first sync, a 100,000-matter practice, conflicts, offline, locked;
// and for the privacy dashboard (fake-dashboard.ts): offline with the vault's older copy,
// a broken audit chain, and a member who is not an administrator.
import type { Backend } from "./backend";
import type { AuditFilter, ExportProgress, IntegrationScope, Role } from "./dashboard-types";
import { FakeDashboard } from "./fake-dashboard";
import type { ConsentChange, PolicyKind, PreferencesUpdate } from "./preference-types";
import { BackendError } from "./errors";
import { isCalendarDate, isEmailAddress } from "./records";
import type {
  AppStatus,
  ConflictChoice,
  ConflictKind,
  ConflictView,
  Contact,
  Document,
  FileNote,
  Matter,
  MatterDetail,
  MatterFilterOptions,
  MatterListQuery,
  MatterPage,
  MatterStatus,
  MatterSummary,
  Participant,
  RecordKind,
  RejectedEditView,
  SearchHit,
  SearchRequest,
  SyncReport,
  Task,
  TimeEntry,
  TimerState,
} from "./types";

export type Scenario =
  | "signed-out"
  | "no-keyring"
  | "locked"
  | "signed-in"
  | "offline"
  | "mfa"
  | "first-sync"
  | "large"
  | "conflicts"
  /** Signed in, no connection: the dashboard's reads answer the vault's copy, actions fail `offline`. */
  | "dashboard-offline"
  /** Signed in; the audit log's chain was tampered with at entry 57. */
  | "dashboard-broken-chain"
  /** Signed in as a lawyer: admin reads and actions answer `forbidden`. */
  | "dashboard-lawyer";

type Row = Record<string, unknown> & { id: string };

const DEMO: MatterSummary[] = [
  ["HV-2026-0142", "Estate of Margaret Okafor: grant of probate", "Probate", "open", "Chinedu Okafor", "Priya Raman", "2026-11-02"],
  ["HV-2026-0137", "Lindqvist v Coastal Freight Pty Ltd", "Litigation", "open", "Ingrid Lindqvist", "Daniel Achterberg", "2026-10-21"],
  ["HV-2026-0129", "Purchase of 14 Wattle Grove, Fremantle", "Conveyancing", "open", "Aroha Nowak", "Priya Raman", "2026-10-08"],
  ["HV-2025-0877", "Walker unfair dismissal claim", "Employment", "on_hold", "Hemi Walker", "Priya Raman", "2025-10-01"],
  ["HV-2025-0702", "Vasquez wills and enduring powers of attorney", "Wills and estates", "closed", "Elena Vasquez", "Mei-Lin Cho", "2025-07-22"],
].map(([number, title, matter_type, status, client_name, responsible, opened_on], i) => ({
  id: `00000000-0000-4000-8000-00000000000${i}`,
  number,
  title,
  matter_type,
  status: status as MatterStatus,
  client_name,
  responsible,
  opened_on,
}));

export const FAKE = {
  email: "demo@harbourvine.example",
  password: "Harbour-Vine-demo-2026",
  passphrase: "a long enough vault passphrase",
  oneTimeCode: "123456",
  recoveryCode: "RCVR-7K2M-Q9TX",
  userName: "Priya Raman",
  matters: DEMO,
};

/** The wire fields of each record kind: required ones, then optional ones (nullable). */
const FIELDS: Record<RecordKind, { required: string[]; optional: string[] }> = {
  matter: {
    required: ["number", "title", "matter_type", "status", "client_name", "responsible", "opened_on"],
    optional: ["closed_on", "description", "custom_fields"],
  },
  contact: { required: ["kind", "name"], optional: ["email", "phone", "address"] },
  participant: { required: ["matter_id", "contact_id", "role"], optional: [] },
  file_note: { required: ["matter_id", "author", "written_at", "subject", "body"], optional: [] },
  task: { required: ["matter_id", "title", "done"], optional: ["due_on", "assignee"] },
  time_entry: {
    required: ["matter_id", "worked_on", "minutes", "rate_cents", "billable", "narrative", "author"],
    optional: [],
  },
  document: { required: ["matter_id", "name", "folder", "size_bytes", "content_hash"], optional: [] },
};
const NOT_EMPTY = new Set(["number", "title", "client_name", "name", "subject", "matter_type", "responsible", "role"]);
/** The service's longest short texts, in characters. */
const MAX_CHARS: Record<string, number> = { number: 64, title: 500, matter_type: 100, client_name: 300, responsible: 200, name: 300, phone: 50, role: 100, subject: 500 };
const BOOLEANS = new Set(["done", "billable"]);
const INTEGERS = new Set(["minutes", "rate_cents", "size_bytes"]);
const DATES = new Set(["opened_on", "closed_on", "due_on", "worked_on"]);
const KINDS = Object.keys(FIELDS) as RecordKind[];

function daysFromToday(days: number): string {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function hoursAgo(h: number): string {
  return new Date(Date.now() - h * 3600_000).toISOString();
}

/** Deterministic pseudo-random numbers (mulberry32), so the large practice is the same every time. */
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

const SURNAMES = ["Okafor", "Lindqvist", "Nowak", "Walker", "Vasquez", "Tane", "Whitlock", "Nguyen", "Patel", "O'Brien", "Kowalski", "Haddad", "Moreau", "Fitzgerald", "Tanaka", "Mbeki", "Sørensen", "Costa", "Petrov", "MacLeod"];
const FIRST = ["Margaret", "Ingrid", "Aroha", "Hemi", "Elena", "Mere", "Sarah", "Minh", "Anika", "Declan", "Zofia", "Rami", "Camille", "Liam", "Yuki", "Thabo", "Astrid", "Inês", "Dmitri", "Fiona"];
const COMPANIES = ["Coastal Freight Pty Ltd", "Harbour City Council", "Swan Valley Wines", "Meridian Insurance", "Bluegum Developments", "Westline Rail", "Karri Timber Co", "Sandgate Holdings"];
const STREETS = ["Wattle Grove", "Banksia Road", "Marine Parade", "Hampton Street", "Jacaranda Way", "Harbour Terrace"];
const SUBURBS = ["Fremantle", "Cottesloe", "Subiaco", "Mosman Park", "Leederville", "Claremont"];
const LAWYERS = ["Priya Raman", "Daniel Achterberg", "Mei-Lin Cho", "Tom Whitfield", "Aisha Karim", "Rhys Morgan", "Sofia Lindahl", "Ben Okonkwo"];
const TYPES = ["Litigation", "Conveyancing", "Probate", "Employment", "Family", "Commercial", "Wills and estates"];

/** 100,000 matters, numbered in the order they were opened (2012 onwards). */
function largePractice(count: number): Matter[] {
  const rand = prng(20261127);
  const pick = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)] as T;
  const start = Date.UTC(2012, 0, 2);
  const span = Date.UTC(2026, 10, 20) - start;
  const out: Matter[] = [];
  for (let i = 0; i < count; i++) {
    const opened = new Date(start + Math.floor((i / count) * span)).toISOString().slice(0, 10);
    const type = pick(TYPES);
    const sur = pick(SURNAMES);
    const first = pick(FIRST);
    let title: string;
    switch (type) {
      case "Litigation":
        title = `${sur} v ${pick(COMPANIES)}`;
        break;
      case "Conveyancing":
        title = `${rand() < 0.5 ? "Purchase" : "Sale"} of ${1 + Math.floor(rand() * 200)} ${pick(STREETS)}, ${pick(SUBURBS)}`;
        break;
      case "Probate":
        title = `Estate of ${first} ${sur}: grant of probate`;
        break;
      case "Employment":
        title = `${sur} unfair dismissal claim`;
        break;
      case "Family":
        title = `${sur} property settlement`;
        break;
      case "Commercial":
        title = `${pick(COMPANIES)}: supply agreement review`;
        break;
      default:
        title = `${sur} wills and enduring powers of attorney`;
    }
    const age = count - i;
    const status: MatterStatus = age < count * 0.08 ? (rand() < 0.85 ? "open" : "on_hold") : rand() < 0.9 ? "closed" : "on_hold";
    out.push({
      id: `10000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      number: `HV-${opened.slice(0, 4)}-${String(i + 1).padStart(6, "0")}`,
      title,
      matter_type: type,
      status,
      client_name: type === "Commercial" ? pick(COMPANIES) : `${first} ${sur}`,
      responsible: pick(LAWYERS),
      opened_on: opened,
      closed_on: status === "closed" ? opened : null,
      description: "",
      custom_fields: {},
    });
  }
  return out;
}

/** The five demo matters with everything on them. */
function demoRecords(): Record<RecordKind, Row[]> {
  const m = DEMO.map((s) => s.id);
  const matters: Matter[] = DEMO.map((s, i) => ({
    ...s,
    closed_on: s.status === "closed" ? "2025-09-30" : null,
    description: [
      "Application for a grant of probate of the will dated 4 March 2019. Executor: Chinedu Okafor.",
      "Claim for damages after a container fell from a truck at North Quay. Defendant's insurer is Meridian.",
      "Purchase of a residential property; settlement booked with Fremantle Settlements.",
      "Unfair dismissal application to the Fair Work Commission; on hold pending conciliation.",
      "New wills for Elena and Marco Vasquez with enduring powers of attorney and guardianship.",
    ][i] as string,
    custom_fields: (i === 0
        ? { "Date of death": "2026-09-14", "Estate value": "$1.2m" }
        : i === 1
          ? { Court: "District Court of WA", "Claim number": "CIV 2231/2026" }
          : i === 2
            ? { "Settlement date": "2026-12-12", "Purchase price": "$865,000" }
            : {}) as Record<string, string>,
  }));
  const c = (n: number) => `20000000-0000-4000-8000-00000000000${n}`;
  const contacts: Contact[] = [
    { id: c(0), kind: "person", name: "Chinedu Okafor", email: "chinedu.okafor@example.com", phone: "0412 555 019", address: "8 Rose Street, Subiaco WA 6008" },
    { id: c(1), kind: "person", name: "Ingrid Lindqvist", email: "ingrid@lindqvist.example", phone: "0433 555 201", address: null },
    { id: c(2), kind: "organisation", name: "Coastal Freight Pty Ltd", email: "legal@coastalfreight.example", phone: "08 9555 0100", address: "North Quay, Fremantle WA 6160" },
    { id: c(3), kind: "person", name: "Aroha Nowak", email: "aroha.nowak@example.com", phone: null, address: null },
    { id: c(4), kind: "organisation", name: "Fremantle Settlements", email: "bookings@fremsettle.example", phone: "08 9555 0477", address: null },
    { id: c(5), kind: "person", name: "Hemi Walker", email: "hemi.walker@example.com", phone: "0401 555 888", address: null },
    { id: c(6), kind: "person", name: "Elena Vasquez", email: "elena.v@example.com", phone: null, address: "22 Marine Parade, Cottesloe WA 6011" },
    { id: c(7), kind: "organisation", name: "Meridian Insurance", email: "claims@meridian.example", phone: "1300 555 300", address: null },
    { id: c(8), kind: "person", name: "Dr Sarah Whitlock", email: "s.whitlock@example.com", phone: "08 9555 7212", address: null },
  ];
  let pn = 0;
  const p = (matter: number, contact: number, role: string): Participant => ({
    id: `30000000-0000-4000-8000-0000000000${String(pn++).padStart(2, "0")}`,
    matter_id: m[matter] as string,
    contact_id: c(contact),
    role,
  });
  const participants = [
    p(0, 0, "Executor (client)"),
    p(0, 8, "Witness to the will"),
    p(1, 1, "Plaintiff (client)"),
    p(1, 2, "Defendant"),
    p(1, 7, "Defendant's insurer"),
    p(2, 3, "Purchaser (client)"),
    p(2, 4, "Settlement agent"),
    p(3, 5, "Applicant (client)"),
    p(4, 6, "Testator (client)"),
  ];
  let nn = 0;
  const note = (matter: number, ago: number, subject: string, body: string, author = "Priya Raman"): FileNote => ({
    id: `40000000-0000-4000-8000-0000000000${String(nn++).padStart(2, "0")}`,
    matter_id: m[matter] as string,
    author,
    written_at: hoursAgo(ago),
    subject,
    body,
  });
  const file_notes = [
    note(0, 200, "First meeting with executor", "Met Chinedu. Original will located in the firm's safe custody. Death certificate to follow."),
    note(0, 30, "Call with the Registry", "Registry confirms the application can be filed electronically. Affidavit of executor to be sworn."),
    note(1, 120, "Site inspection", "Inspected North Quay with the client. Photographs taken; asbestos sheeting near the loading bay noted.", "Daniel Achterberg"),
    note(1, 6, "Without-prejudice offer", "Meridian's solicitors offered $85,000 inclusive of costs. Client to consider; advised it is low.", "Daniel Achterberg"),
    note(2, 50, "Contract review", "Special condition 4 (finance approval) expires on 5 December. Building inspection report is clean."),
    note(3, 700, "Conciliation adjourned", "The Commission adjourned conciliation at the employer's request. Matter on hold until a new date is set."),
  ];
  let tn = 0;
  const task = (matter: number, title: string, due: number | null, done = false, assignee: string | null = "Priya Raman"): Task => ({
    id: `50000000-0000-4000-8000-0000000000${String(tn++).padStart(2, "0")}`,
    matter_id: m[matter] as string,
    title,
    due_on: due === null ? null : daysFromToday(due),
    assignee,
    done,
  });
  const tasks = [
    task(0, "Obtain death certificate", -12, true),
    task(0, "Swear executor's affidavit", -2),
    task(0, "File probate application", 9),
    task(1, "Serve statement of claim", -20, true, "Daniel Achterberg"),
    task(1, "Reply to settlement offer", 3, false, "Daniel Achterberg"),
    task(2, "Confirm finance approval", 5),
    task(2, "Book settlement", 14, false, null),
    task(3, "Diary new conciliation date", null),
  ];
  let en = 0;
  const time = (matter: number, ago: number, minutes: number, narrative: string, billable = true, author = "Priya Raman", rate = 45000): TimeEntry => ({
    id: `60000000-0000-4000-8000-0000000000${String(en++).padStart(2, "0")}`,
    matter_id: m[matter] as string,
    worked_on: daysFromToday(-ago),
    minutes,
    rate_cents: rate,
    billable,
    narrative,
    author,
  });
  const time_entries = [
    time(0, 9, 60, "First meeting with the executor; review of the will"),
    time(0, 2, 18, "Call with the Probate Registry"),
    time(0, 1, 24, "Draft executor's affidavit"),
    time(1, 5, 150, "Site inspection at North Quay with the client", true, "Daniel Achterberg", 52000),
    time(1, 0, 12, "Consider without-prejudice offer", true, "Daniel Achterberg", 52000),
    time(2, 3, 42, "Review contract of sale and special conditions"),
    time(2, 3, 6, "Internal file review", false),
  ];
  let dn = 0;
  const doc = (matter: number, name: string, folder: string, size: number): Document => ({
    id: `70000000-0000-4000-8000-0000000000${String(dn++).padStart(2, "0")}`,
    matter_id: m[matter] as string,
    name,
    folder,
    size_bytes: size,
    content_hash: `sha256:${(dn * 7919).toString(16).padStart(8, "0")}`,
  });
  const documents = [
    doc(0, "Will of Margaret Okafor (scanned).pdf", "Originals", 2_411_520),
    doc(0, "Death certificate.pdf", "Originals", 318_204),
    doc(0, "Executor's affidavit (draft).docx", "Drafts", 48_900),
    doc(1, "Statement of claim.pdf", "Pleadings", 402_113),
    doc(1, "Site photographs.zip", "Evidence", 48_772_001),
    doc(2, "Contract of sale.pdf", "Contract", 1_208_330),
  ];
  return {
    matter: matters as unknown as Row[],
    contact: contacts as unknown as Row[],
    participant: participants as unknown as Row[],
    file_note: file_notes as unknown as Row[],
    task: tasks as unknown as Row[],
    time_entry: time_entries as unknown as Row[],
    document: documents as unknown as Row[],
  };
}

interface FakeConflict {
  view: ConflictView;
  /** The record as the other side left it (null: they deleted it). */
  theirs: Row | null;
}

interface FakeTimer {
  matter_id: string;
  matter_number: string;
  matter_title: string;
  running: boolean;
  accumulated: number;
  since: number;
}

const STATUS_RANK: Record<MatterStatus, number> = { open: 0, on_hold: 1, closed: 2 };

export class FakeBackend implements Backend {
  private state: AppStatus;
  private readonly listeners = new Set<() => void>();
  private tables: Record<RecordKind, Map<string, Row>> = emptyTables();
  private unsynced = new Set<string>();
  private pending = 0;
  private conflictsById = new Map<string, FakeConflict>();
  private rejected: RejectedEditView[] = [];
  private timerState: FakeTimer | null = null;
  private sortCache = new Map<string, Matter[]>();
  private nextId = 1;
  private firstSyncDone = true;
  /** Milliseconds between the steps of a first sync (the tests shorten or lengthen it). */
  firstSyncStepMs = 150;
  /** The privacy dashboard's state (the tests reach it to play staff requests, slow exports). */
  readonly dashboard: FakeDashboard;

  constructor(private readonly scenario: Scenario) {
    const signedIn = ["signed-in", "offline", "locked", "large", "conflicts", "dashboard-offline", "dashboard-broken-chain", "dashboard-lawyer"].includes(
      scenario,
    );
    this.dashboard = new FakeDashboard({
      admin: scenario !== "dashboard-lawyer",
      brokenChain: scenario === "dashboard-broken-chain",
      online: () => this.state.connection === "online" || (this.state.connection === "unknown" && !this.noConnection()),
      copyAgeHours: 26,
    });
    this.state = {
      signed_in: signedIn,
      locked: scenario === "locked",
      key_mode: signedIn ? (scenario === "locked" ? "passphrase" : "keyring") : null,
      keyring_available: scenario !== "no-keyring" && scenario !== "locked",
      set_aside: null,
      pending_edits: 0,
      open_conflicts: 0,
      rejected_edits: 0,
      clock_skew_secs: 0,
      default_server_url: "https://127.0.0.1:8443/",
      server_url: signedIn ? "https://127.0.0.1:8443/" : null,
      user_email: signedIn ? FAKE.email : null,
      user_name: signedIn ? FAKE.userName : null,
      practice_name: signedIn ? "Harbour & Vine Lawyers" : null,
      connection: "unknown",
      last_sync_at: signedIn ? new Date().toISOString() : null,
      matter_count: 0,
      last_error: null,
      sync_progress: null,
    };
    if (signedIn) this.load();
  }

  private load(): void {
    const demo = demoRecords();
    for (const k of KINDS) this.tables[k] = new Map(demo[k].map((r) => [r.id, r]));
    if (this.scenario === "large") {
      this.tables.matter = new Map(largePractice(100_000).map((r) => [r.id, r as unknown as Row]));
    }
    if (this.scenario === "conflicts") this.makeConflicts();
    this.sortCache.clear();
  }

  private makeConflicts(): void {
    const lindqvist = DEMO[1]?.id as string;
    const matter = this.tables.matter.get(lindqvist) as Row;
    const at = hoursAgo(1);
    const add = (view: Omit<ConflictView, "created_at">, theirs: Row | null) =>
      this.conflictsById.set(view.id, { view: { ...view, created_at: at }, theirs });
    const mineDescription = "Claim for damages after a container fell from a truck at North Quay. Trial listed for March.";
    const theirsDescription = "Claim for damages after a container fell from a truck at North Quay. Mediation agreed for February.";
    matter.description = mineDescription;
    add(
      {
        id: "c0000000-0000-4000-8000-000000000001",
        kind: "same_field",
        record_kind: "matter",
        record_id: lindqvist,
        matter_id: lindqvist,
        matter_number: "HV-2026-0137",
        label: "Lindqvist v Coastal Freight Pty Ltd",
        fields: [
          { field: "description", mine: mineDescription, theirs: theirsDescription },
          { field: "status", mine: "open", theirs: "on_hold" },
        ],
      },
      { ...matter, description: theirsDescription, status: "on_hold" },
    );
    const task = [...this.tables.task.values()].find((t) => t.title === "Swear executor's affidavit") as Row;
    task.due_on = daysFromToday(4);
    add(
      {
        id: "c0000000-0000-4000-8000-000000000002",
        kind: "edit_against_delete",
        record_kind: "task",
        record_id: task.id,
        matter_id: task.matter_id as string,
        matter_number: "HV-2026-0142",
        label: "Swear executor's affidavit",
        fields: [{ field: "due_on", mine: task.due_on, theirs: null }],
      },
      null,
    );
    const note = [...this.tables.file_note.values()].find((n) => n.subject === "Contract review") as Row;
    this.tables.file_note.delete(note.id);
    const theirsNote = { ...note, body: "Special condition 4 (finance approval) now expires on 12 December, by agreement with the vendor." };
    add(
      {
        id: "c0000000-0000-4000-8000-000000000003",
        kind: "delete_against_edit",
        record_kind: "file_note",
        record_id: note.id,
        matter_id: note.matter_id as string,
        matter_number: "HV-2026-0129",
        label: "Contract review",
        fields: [{ field: "body", mine: null, theirs: theirsNote.body }],
      },
      theirsNote,
    );
    this.rejected.push({
      mutation_seq: 41,
      record_kind: "time_entry",
      record_id: "60000000-0000-4000-8000-0000000000ff",
      label: "Letter to client confirming instructions",
      code: "matter_closed",
      detail: "HV-2025-0702 was closed before this time entry reached the service; time cannot be recorded on a closed matter.",
      edited_at: hoursAgo(30),
      rejected_at: hoursAgo(2),
    });
  }

  private snapshot(): AppStatus {
    return {
      ...this.state,
      matter_count: this.tables.matter.size,
      pending_edits: this.pending,
      open_conflicts: this.conflictsById.size,
      rejected_edits: this.rejected.length,
    };
  }

  /** The scenarios without a connection to the service. */
  private noConnection(): boolean {
    return this.scenario === "offline" || this.scenario === "dashboard-offline";
  }

  private open(): void {
    if (!this.state.signed_in) throw new BackendError("not_signed_in", "not signed in");
    if (this.state.locked) throw new BackendError("vault_locked", "the vault is locked");
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  async start() {
    return this.snapshot();
  }
  async status() {
    return this.snapshot();
  }
  async signIn(serverUrl: string, email: string, password: string, passphrase?: string, oneTimeCode?: string) {
    if (this.state.signed_in) throw new BackendError("already_signed_in", "");
    if (!serverUrl.startsWith("https://")) throw new BackendError("invalid_address", `"${serverUrl}" does not start with https://`);
    if (!this.state.keyring_available && !passphrase) throw new BackendError("passphrase_required", "");
    if (passphrase !== undefined && passphrase.length < 10) throw new BackendError("passphrase_too_short", "");
    if (email !== FAKE.email || password !== FAKE.password) throw new BackendError("invalid_credentials", "");
    if (this.scenario === "mfa") {
      if (!oneTimeCode) throw new BackendError("mfa_required", "a one-time code is required");
      const code = oneTimeCode.replace(/\s+/g, "").toUpperCase();
      if (code !== FAKE.oneTimeCode && code !== FAKE.recoveryCode) throw new BackendError("wrong_code", "the code was not accepted");
    }
    this.state = {
      ...this.state,
      signed_in: true,
      locked: false,
      key_mode: passphrase ? "passphrase" : "keyring",
      server_url: serverUrl,
      user_email: email,
      user_name: FAKE.userName,
      practice_name: "Harbour & Vine Lawyers",
      connection: "online",
      last_sync_at: null,
    };
    if (this.scenario === "first-sync") this.firstSyncDone = false;
    else {
      this.load();
      this.state.last_sync_at = new Date().toISOString();
    }
    return this.snapshot();
  }
  async unlock(passphrase?: string) {
    if (this.state.key_mode === "passphrase" && passphrase !== FAKE.passphrase) throw new BackendError("wrong_passphrase", "");
    this.state = { ...this.state, locked: false };
    return this.snapshot();
  }
  async lock() {
    this.state = { ...this.state, locked: true };
    return this.snapshot();
  }
  async signOut() {
    this.tables = emptyTables();
    this.unsynced.clear();
    this.pending = 0;
    this.conflictsById.clear();
    this.rejected = [];
    this.timerState = null;
    this.sortCache.clear();
    this.state = {
      ...this.state,
      signed_in: false,
      locked: false,
      key_mode: null,
      server_url: null,
      user_email: null,
      user_name: null,
      practice_name: null,
      connection: "unknown",
      last_sync_at: null,
      sync_progress: null,
    };
    return this.snapshot();
  }
  async syncNow(): Promise<SyncReport> {
    this.open();
    if (this.noConnection() || this.state.connection === "offline") {
      this.state = { ...this.state, connection: "offline" };
      throw new BackendError("server_unreachable", "connection refused");
    }
    if (!this.firstSyncDone) return this.firstSync();
    const pushed = this.pending;
    this.pending = 0;
    this.unsynced.clear();
    this.state = { ...this.state, connection: "online", last_sync_at: new Date().toISOString() };
    return { pages: 1, applied: 0, pushed, conflicts: 0, rejected: 0, bytes: 0 };
  }

  /** A first sync of 4,800 records in steps, reporting progress as the real one does. */
  private async firstSync(): Promise<SyncReport> {
    const total = 4800;
    const step = 300;
    this.state = { ...this.state, sync_progress: { done: 0, total: null, bytes: 0 } };
    for (let done = step; done <= total; done += step) {
      await new Promise((ok) => setTimeout(ok, this.firstSyncStepMs));
      if (!this.state.signed_in) throw new BackendError("not_signed_in", "signed out during the sync");
      this.state = { ...this.state, sync_progress: { done, total, bytes: done * 410 } };
    }
    this.load();
    this.firstSyncDone = true;
    this.state = { ...this.state, sync_progress: null, last_sync_at: new Date().toISOString() };
    return { pages: total / step, applied: total, pushed: 0, conflicts: 0, rejected: 0, bytes: total * 410 };
  }

  private sorted(query: MatterListQuery): Matter[] {
    const key = JSON.stringify([query.sort, query.descending, query.status ?? null, query.matter_type ?? null, query.responsible ?? null]);
    const hit = this.sortCache.get(key);
    if (hit) return hit;
    const all = [...this.tables.matter.values()] as unknown as Matter[];
    const rows = all.filter(
      (m) =>
        (!query.status || m.status === query.status) &&
        (!query.matter_type || m.matter_type === query.matter_type) &&
        (!query.responsible || m.responsible === query.responsible),
    );
    const keyOf = (m: Matter): string | number => {
      switch (query.sort) {
        case "opened":
          return m.opened_on;
        case "number":
          return m.number;
        case "title":
          return m.title.toLowerCase();
        case "client":
          return m.client_name.toLowerCase();
        case "responsible":
          return m.responsible.toLowerCase();
        case "status":
          return STATUS_RANK[m.status];
      }
    };
    const dir = query.descending ? -1 : 1;
    const keyed = rows.map((m) => ({ m, k: keyOf(m) }));
    keyed.sort((a, b) => {
      if (a.k < b.k) return -dir;
      if (a.k > b.k) return dir;
      // Ties: by number, in the same direction, so the order is total.
      return a.m.number < b.m.number ? -dir : a.m.number > b.m.number ? dir : 0;
    });
    const out = keyed.map((x) => x.m);
    this.sortCache.set(key, out);
    return out;
  }

  async listMatters(query: MatterListQuery): Promise<MatterPage> {
    this.open();
    if (!Number.isInteger(query.offset) || query.offset < 0) throw new BackendError("invalid_input", "`offset` must be 0 or more");
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 1000)
      throw new BackendError("invalid_input", "`limit` must be between 1 and 1000");
    const rows = this.sorted(query);
    return { total: rows.length, offset: query.offset, rows: rows.slice(query.offset, query.offset + query.limit).map(summary) };
  }

  async matterFilters(): Promise<MatterFilterOptions> {
    this.open();
    const types = new Set<string>();
    const people = new Set<string>();
    for (const m of this.tables.matter.values()) {
      types.add(m.matter_type as string);
      people.add(m.responsible as string);
    }
    return { matter_types: [...types].sort(), responsible: [...people].sort() };
  }

  onChange(handler: () => void) {
    this.listeners.add(handler);
    return () => {
      this.listeners.delete(handler);
    };
  }

  async search(request: SearchRequest): Promise<SearchHit[]> {
    this.open();
    const words = request.text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    if (words.length === 0) return [];
    const limit = request.limit ?? 50;
    const matches = (text: string) => {
      const tokens = text.toLowerCase().split(/[^\p{L}\p{N}]+/u);
      return words.every((w) => tokens.some((t) => t.startsWith(w)));
    };
    const allowed = (m: Row) =>
      (!request.status || m.status === request.status) &&
      (!request.matter_type || m.matter_type === request.matter_type) &&
      (!request.responsible || m.responsible === request.responsible);
    const hits: SearchHit[] = [];
    const seen = new Set<string>();
    for (const m of this.tables.matter.values()) {
      if (hits.length >= limit) break;
      if (allowed(m) && matches(`${m.number} ${m.title} ${m.client_name}`)) {
        hits.push(hit(m as unknown as Matter, "matter", null));
        seen.add(m.id);
      }
    }
    for (const n of this.tables.file_note.values()) {
      if (hits.length >= limit) break;
      const m = this.tables.matter.get(n.matter_id as string);
      if (!m || seen.has(m.id) || !allowed(m)) continue;
      if (matches(`${n.subject} ${n.body}`)) {
        hits.push(hit(m as unknown as Matter, "file_note", n.id));
        seen.add(m.id);
      }
    }
    return hits;
  }

  async matter(id: string): Promise<MatterDetail> {
    this.open();
    const matter = this.tables.matter.get(id) as unknown as Matter | undefined;
    if (!matter) throw new BackendError("not_found", `no matter ${id} on this device`);
    const on = <T,>(kind: RecordKind) => [...this.tables[kind].values()].filter((r) => r.matter_id === id) as unknown as T[];
    const participants = on<Participant>("participant").map((participant) => ({
      participant: { ...participant },
      contact: (this.tables.contact.get(participant.contact_id) as unknown as Contact | undefined) ?? null,
    }));
    const file_notes = on<FileNote>("file_note");
    const tasks = on<Task>("task");
    const time_entries = on<TimeEntry>("time_entry");
    const documents = on<Document>("document");
    const ids = new Set<string>([id, ...[file_notes, tasks, time_entries, documents].flat().map((r) => r.id)]);
    for (const p of participants) {
      ids.add(p.participant.id);
      if (p.contact) ids.add(p.contact.id);
    }
    const conflicted = [...this.conflictsById.values()].filter((c) => c.view.matter_id === id).map((c) => c.view.record_id);
    return {
      matter: { ...matter, custom_fields: { ...matter.custom_fields } },
      participants,
      file_notes: file_notes.map((r) => ({ ...r })),
      tasks: tasks.map((r) => ({ ...r })),
      time_entries: time_entries.map((r) => ({ ...r })),
      documents: documents.map((r) => ({ ...r })),
      unsynced: [...ids].filter((x) => this.unsynced.has(x)),
      conflicted,
    };
  }

  async findContacts(text: string, limit = 20): Promise<Contact[]> {
    this.open();
    const t = text.trim().toLowerCase();
    if (!t) return [];
    return ([...this.tables.contact.values()] as unknown as Contact[])
      .filter((c) => c.name.toLowerCase().split(/\s+/).some((w) => w.startsWith(t)) || c.name.toLowerCase().startsWith(t))
      .sort((a, b) => a.name.localeCompare(b.name))
      .slice(0, limit)
      .map((c) => ({ ...c }));
  }

  private validate(kind: RecordKind, fields: Record<string, unknown>, creating: boolean): void {
    const spec = FIELDS[kind];
    if (!spec) throw new BackendError("invalid_input", `unknown record kind \`${kind}\``);
    for (const [f, v] of Object.entries(fields)) {
      if (!spec.required.includes(f) && !spec.optional.includes(f)) throw new BackendError("invalid_input", `unknown field \`${f}\` for a ${kind.replace("_", " ")}`);
      if (spec.required.includes(f) && (v === null || v === undefined)) throw new BackendError("invalid_input", `\`${f}\` is required`);
      // The service's own words ("field: problem") where its rules are played here.
      if (NOT_EMPTY.has(f) && (typeof v !== "string" || v.trim() === "")) throw new BackendError("invalid_input", `${f}: must not be empty`);
      if (f in MAX_CHARS && typeof v === "string" && [...v].length > (MAX_CHARS[f] as number))
        throw new BackendError("invalid_input", `${f}: must be at most ${MAX_CHARS[f]} characters`);
      if (BOOLEANS.has(f) && typeof v !== "boolean") throw new BackendError("invalid_input", `\`${f}\` must be true or false`);
      if (INTEGERS.has(f) && (!Number.isInteger(v) || (v as number) < 0)) throw new BackendError("invalid_input", `\`${f}\` must be a whole number, 0 or more`);
      if (DATES.has(f) && v !== null && (typeof v !== "string" || !isCalendarDate(v)))
        throw new BackendError("invalid_input", `${f}: must be a calendar date, YYYY-MM-DD`);
      if (f === "email" && v !== null && (typeof v !== "string" || !isEmailAddress(v))) throw new BackendError("invalid_input", "email: must be an email address");
      if (f === "minutes" && (v as number) < 1) throw new BackendError("invalid_input", "`minutes` must be at least 1");
      if (f === "status" && !["open", "on_hold", "closed"].includes(v as string)) throw new BackendError("invalid_input", "`status` must be open, on_hold or closed");
      if (f === "kind" && !["person", "organisation"].includes(v as string)) throw new BackendError("invalid_input", "`kind` must be person or organisation");
      if (f === "matter_id" && !this.tables.matter.has(v as string)) throw new BackendError("not_found", `no matter ${String(v)}`);
      if (f === "contact_id" && !this.tables.contact.has(v as string)) throw new BackendError("not_found", `no contact ${String(v)}`);
    }
    if (creating) {
      for (const f of spec.required) if (!(f in fields)) throw new BackendError("invalid_input", `\`${f}\` is required`);
    }
  }

  async saveRecord(kind: RecordKind, id: string | null, fields: Record<string, unknown>): Promise<string> {
    this.open();
    if ("id" in fields) throw new BackendError("invalid_input", "`id` cannot be set; the vault makes it");
    const table = this.tables[kind];
    if (!table) throw new BackendError("invalid_input", `unknown record kind \`${kind}\``);
    this.validate(kind, fields, id === null);
    if (kind === "matter") {
      // The record as it would be saved keeps the rules across fields.
      const after = { ...(id === null ? {} : table.get(id)), ...fields };
      if (typeof after.closed_on === "string" && typeof after.opened_on === "string" && after.closed_on < after.opened_on)
        throw new BackendError("invalid_input", "closed_on: must not be before opened_on");
    }
    let rid: string;
    if (id === null) {
      rid = `f0000000-0000-4000-8000-${String(this.nextId++).padStart(12, "0")}`;
      const row: Row = { id: rid };
      for (const f of FIELDS[kind].optional) row[f] = f === "description" ? "" : f === "custom_fields" ? {} : null;
      table.set(rid, { ...row, ...structuredClone(fields) });
    } else {
      const row = table.get(id);
      if (!row) throw new BackendError("not_found", `no ${kind} ${id} on this device`);
      Object.assign(row, structuredClone(fields));
      rid = id;
    }
    if (kind === "matter") this.sortCache.clear();
    this.unsynced.add(rid);
    this.pending++;
    return rid;
  }

  async deleteRecord(kind: RecordKind, id: string): Promise<void> {
    this.open();
    const table = this.tables[kind];
    if (!table?.has(id)) throw new BackendError("not_found", `no ${kind} ${id} on this device`);
    table.delete(id);
    if (kind === "matter") this.sortCache.clear();
    this.unsynced.delete(id);
    this.pending++;
  }

  async conflicts(): Promise<ConflictView[]> {
    this.open();
    return [...this.conflictsById.values()].map((c) => structuredClone(c.view));
  }

  async resolveConflict(id: string, choice: ConflictChoice): Promise<void> {
    this.open();
    const c = this.conflictsById.get(id);
    if (!c) throw new BackendError("not_found", `no conflict ${id}`);
    const { view, theirs } = c;
    const table = this.tables[view.record_kind];
    const kind: ConflictKind = view.kind;
    if (choice.resolution === "keep_theirs") {
      if (theirs === null) table.delete(view.record_id);
      else table.set(view.record_id, structuredClone(theirs));
    } else if (choice.resolution === "keep_mine") {
      if (kind === "delete_against_edit") table.delete(view.record_id);
      else {
        const row = table.get(view.record_id) ?? (theirs ? structuredClone(theirs) : { id: view.record_id });
        for (const f of view.fields) row[f.field] = f.mine;
        table.set(view.record_id, row);
      }
      this.unsynced.add(view.record_id);
      this.pending++;
    } else {
      for (const f of Object.keys(choice.fields)) {
        if (!view.fields.some((x) => x.field === f)) throw new BackendError("invalid_input", `\`${f}\` is not one of the conflicting fields`);
      }
      const row = table.get(view.record_id) ?? (theirs ? structuredClone(theirs) : { id: view.record_id });
      Object.assign(row, structuredClone(choice.fields));
      table.set(view.record_id, row);
      this.unsynced.add(view.record_id);
      this.pending++;
    }
    if (view.record_kind === "matter") this.sortCache.clear();
    this.conflictsById.delete(id);
  }

  async rejectedEdits(): Promise<RejectedEditView[]> {
    this.open();
    return this.rejected.map((r) => ({ ...r }));
  }

  async dismissRejectedEdit(mutationSeq: number): Promise<void> {
    this.open();
    const before = this.rejected.length;
    this.rejected = this.rejected.filter((r) => r.mutation_seq !== mutationSeq);
    if (this.rejected.length === before) throw new BackendError("not_found", "that refused edit is not on this device");
    this.notify();
  }

  private timerView(): TimerState | null {
    const t = this.timerState;
    if (!t) return null;
    const elapsed = t.accumulated + (t.running ? (Date.now() - t.since) / 1000 : 0);
    return { matter_id: t.matter_id, matter_number: t.matter_number, matter_title: t.matter_title, running: t.running, elapsed_secs: Math.floor(elapsed) };
  }

  async timer(): Promise<TimerState | null> {
    this.open();
    return this.timerView();
  }
  async startTimer(matterId: string): Promise<TimerState> {
    this.open();
    if (this.timerState) throw new BackendError("timer_running", `a timer is running for ${this.timerState.matter_number}`);
    const m = this.tables.matter.get(matterId);
    if (!m) throw new BackendError("not_found", `no matter ${matterId}`);
    this.timerState = { matter_id: m.id, matter_number: m.number as string, matter_title: m.title as string, running: true, accumulated: 0, since: Date.now() };
    return this.timerView() as TimerState;
  }
  async pauseTimer(): Promise<TimerState> {
    this.open();
    const t = this.timerState;
    if (!t) throw new BackendError("no_timer", "no timer");
    if (t.running) {
      t.accumulated += (Date.now() - t.since) / 1000;
      t.running = false;
    }
    return this.timerView() as TimerState;
  }
  async resumeTimer(): Promise<TimerState> {
    this.open();
    const t = this.timerState;
    if (!t) throw new BackendError("no_timer", "no timer");
    if (!t.running) {
      t.running = true;
      t.since = Date.now();
    }
    return this.timerView() as TimerState;
  }
  async stopTimer(): Promise<TimerState> {
    this.open();
    if (!this.timerState) throw new BackendError("no_timer", "no timer");
    const final = { ...(this.timerView() as TimerState), running: false };
    this.timerState = null;
    return final;
  }

  // --- The privacy dashboard (fake-dashboard.ts keeps its state and rules) ---

  async sessions() {
    this.open();
    return this.dashboard.sessions();
  }
  async revokeSession(id: string) {
    this.open();
    return this.dashboard.revokeSession(id);
  }
  async revokeOtherSessions() {
    this.open();
    return this.dashboard.revokeOtherSessions();
  }
  async members() {
    this.open();
    return this.dashboard.members();
  }
  async invitations() {
    this.open();
    return this.dashboard.invitations();
  }
  async invite(email: string, role: Role) {
    this.open();
    return this.dashboard.invite(email, role);
  }
  async revokeInvitation(id: string) {
    this.open();
    return this.dashboard.revokeInvitation(id);
  }
  async updateMember(id: string, change: { role?: Role; disabled?: boolean }) {
    this.open();
    return this.dashboard.updateMember(id, change);
  }
  async removeCredentials(id: string) {
    this.open();
    return this.dashboard.removeCredentials(id);
  }
  async accessReview(dormantDays: number) {
    this.open();
    return this.dashboard.accessReview(dormantDays);
  }
  async completeAccessReview(dormantDays: number, disable: string[], revokeInvitations: string[]) {
    this.open();
    return this.dashboard.completeAccessReview(dormantDays, disable, revokeInvitations);
  }
  async reauthenticate(password: string, oneTimeCode?: string) {
    this.open();
    return this.dashboard.reauthenticate(password, oneTimeCode);
  }
  async supportGrants() {
    this.open();
    return this.dashboard.supportGrants();
  }
  async approveGrant(id: string) {
    this.open();
    return this.dashboard.approveGrant(id);
  }
  async declineGrant(id: string) {
    this.open();
    return this.dashboard.declineGrant(id);
  }
  async revokeGrant(id: string) {
    this.open();
    return this.dashboard.revokeGrant(id);
  }
  async supportAccessLog(grantId?: string) {
    this.open();
    return this.dashboard.supportAccessLog(grantId);
  }
  async integrations() {
    this.open();
    return this.dashboard.integrations();
  }
  async createIntegration(appName: string, scopes: IntegrationScope[]) {
    this.open();
    return this.dashboard.createIntegration(appName, scopes);
  }
  async revokeIntegration(id: string) {
    this.open();
    return this.dashboard.revokeIntegration(id);
  }
  async auditLog(filter: AuditFilter) {
    this.open();
    return this.dashboard.auditLog(filter);
  }
  async exportAuditLog(filter: AuditFilter, format: "csv" | "json") {
    this.open();
    return this.dashboard.exportAuditLog(filter, format);
  }
  async exportPractice(onProgress: (p: ExportProgress) => void) {
    this.open();
    return this.dashboard.exportPractice(onProgress);
  }
  async exportVault(onProgress: (p: ExportProgress) => void) {
    this.open();
    return this.dashboard.exportVault(onProgress);
  }
  async cookieCatalogue() {
    this.open();
    return this.dashboard.cookieCatalogue();
  }
  async consent() {
    this.open();
    return this.dashboard.consent();
  }
  async changeConsent(change: ConsentChange) {
    this.open();
    return this.dashboard.changeConsent(change);
  }
  async notificationPreferences() {
    this.open();
    return this.dashboard.notificationPreferences();
  }
  async updateNotificationPreferences(update: PreferencesUpdate) {
    this.open();
    return this.dashboard.updateNotificationPreferences(update);
  }
  async notices() {
    this.open();
    return this.dashboard.notices();
  }
  async markNoticeRead(id: string) {
    this.open();
    return this.dashboard.markNoticeRead(id);
  }
  async usageReportPreview() {
    this.open();
    return this.dashboard.usageReportPreview();
  }
  async incidents() {
    this.open();
    return this.dashboard.incidents();
  }
  async acknowledgeIncident(id: string) {
    this.open();
    return this.dashboard.acknowledgeIncident(id);
  }
  async incidentAcknowledgements(id: string) {
    this.open();
    return this.dashboard.incidentAcknowledgements(id);
  }
  async policies() {
    this.open();
    return this.dashboard.policies();
  }
  async policyDocument(kind: PolicyKind, version: string) {
    this.open();
    return this.dashboard.policyDocument(kind, version);
  }
  async acknowledgePolicy(kind: PolicyKind, version: string) {
    this.open();
    return this.dashboard.acknowledgePolicy(kind, version);
  }

  // --- Helpers the browser tests use to play the live loop and the clock. ---

  /** As the live loop does: a matter arrived from another device, then the app is told. */
  receiveMatter(matter: MatterSummary) {
    this.tables.matter.set(matter.id, { ...matter, closed_on: null, description: "", custom_fields: {} });
    this.sortCache.clear();
    this.state = { ...this.state, connection: "online", last_sync_at: new Date().toISOString() };
    this.notify();
  }
  /** A sync under way, as the status reports it while it runs. */
  setProgress(done: number, total: number | null, bytes: number) {
    this.state = { ...this.state, sync_progress: { done, total, bytes } };
    this.notify();
  }
  /** As the live loop does when the stream is lost. */
  goOffline() {
    this.state = { ...this.state, connection: "offline" };
    this.notify();
  }
  /** The connection is back. */
  goOnline() {
    this.state = { ...this.state, connection: "online" };
    this.notify();
  }
  /** Moves the running (or paused) timer on by `secs`, as if that much time had passed. */
  advanceTimer(secs: number) {
    if (this.timerState) this.timerState.accumulated += secs;
  }
  /** The number of edits waiting to be pushed. */
  pendingEdits(): number {
    return this.pending;
  }
  /** One record as the vault holds it (for tests to check what was saved). */
  record(kind: RecordKind, id: string): Row | null {
    const r = this.tables[kind].get(id);
    return r ? structuredClone(r) : null;
  }
  /** All records of a kind on a matter. */
  recordsOn(kind: RecordKind, matterId: string): Row[] {
    return [...this.tables[kind].values()].filter((r) => r.matter_id === matterId).map((r) => structuredClone(r));
  }
}

function emptyTables(): Record<RecordKind, Map<string, Row>> {
  return {
    matter: new Map(),
    contact: new Map(),
    participant: new Map(),
    file_note: new Map(),
    task: new Map(),
    time_entry: new Map(),
    document: new Map(),
  };
}

function summary(m: Matter): MatterSummary {
  return {
    id: m.id,
    number: m.number,
    title: m.title,
    matter_type: m.matter_type,
    status: m.status,
    client_name: m.client_name,
    responsible: m.responsible,
    opened_on: m.opened_on,
  };
}

function hit(m: Matter, found_in: "matter" | "file_note", note_id: string | null): SearchHit {
  return {
    matter_id: m.id,
    number: m.number,
    title: m.title,
    client_name: m.client_name,
    found_in,
    note_id,
    matter_type: m.matter_type,
    status: m.status,
    responsible: m.responsible,
    opened_on: m.opened_on,
  };
}
