// A Backend that answers from memory, for browser tests of the UI (no Tauri, no server).
// It keeps the real backend's contract: the same types, and errors as BackendError codes.
import type { Backend } from "./backend";
import { BackendError } from "./errors";
import type { AppStatus, MatterSummary, SearchHit, SearchRequest, SyncReport } from "./types";

export type Scenario = "signed-out" | "no-keyring" | "locked" | "signed-in" | "offline";

const MATTERS: MatterSummary[] = [
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
  status: status as MatterSummary["status"],
  client_name,
  responsible,
  opened_on,
}));

export const FAKE = {
  email: "demo@harbourvine.example",
  password: "Harbour-Vine-demo-2026",
  passphrase: "a long enough vault passphrase",
  matters: MATTERS,
};

export class FakeBackend implements Backend {
  private state: AppStatus;
  private readonly listeners = new Set<() => void>();
  private matters: MatterSummary[] = [...MATTERS];

  constructor(private readonly scenario: Scenario) {
    const signedIn = scenario === "signed-in" || scenario === "offline" || scenario === "locked";
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
      user_name: signedIn ? "Priya Raman" : null,
      practice_name: signedIn ? "Harbour & Vine Lawyers" : null,
      connection: "unknown",
      last_sync_at: signedIn ? new Date().toISOString() : null,
      matter_count: signedIn ? MATTERS.length : 0,
      last_error: null,
      sync_progress: null,
    };
  }

  private snapshot(): AppStatus {
    return { ...this.state };
  }

  private open(): void {
    if (this.state.locked) throw new BackendError("vault_locked", "the vault is locked");
  }

  async start() {
    return this.snapshot();
  }
  async status() {
    return this.snapshot();
  }
  async signIn(serverUrl: string, email: string, password: string, passphrase?: string) {
    if (!serverUrl.startsWith("https://")) throw new BackendError("invalid_address", `"${serverUrl}" does not start with https://`);
    if (!this.state.keyring_available && !passphrase) throw new BackendError("passphrase_required", "");
    if (passphrase !== undefined && passphrase.length < 10) throw new BackendError("passphrase_too_short", "");
    if (email !== FAKE.email || password !== FAKE.password) throw new BackendError("invalid_credentials", "");
    this.state = {
      ...this.state,
      signed_in: true,
      key_mode: passphrase ? "passphrase" : "keyring",
      server_url: serverUrl,
      user_email: email,
      practice_name: "Harbour & Vine Lawyers",
      connection: "online",
      last_sync_at: new Date().toISOString(),
      matter_count: MATTERS.length,
    };
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
  async syncNow(): Promise<SyncReport> {
    this.open();
    if (this.scenario === "offline") {
      this.state = { ...this.state, connection: "offline" };
      throw new BackendError("server_unreachable", "connection refused");
    }
    this.state = { ...this.state, connection: "online", last_sync_at: new Date().toISOString() };
    return { pages: 1, applied: 0, pushed: 0, conflicts: 0, rejected: 0, bytes: 0 };
  }
  async listMatters() {
    this.open();
    return this.matters;
  }
  onChange(handler: () => void) {
    this.listeners.add(handler);
    return () => {
      this.listeners.delete(handler);
    };
  }
  /** As the live loop does: a matter arrived from another device, then the app is told. */
  receiveMatter(matter: MatterSummary) {
    this.matters = [matter, ...this.matters];
    this.state = { ...this.state, matter_count: this.matters.length, connection: "online", last_sync_at: new Date().toISOString() };
    for (const l of this.listeners) l();
  }
  /** A sync under way, as the status reports it while it runs. */
  setProgress(done: number, total: number | null, bytes: number) {
    this.state = { ...this.state, sync_progress: { done, total, bytes } };
    for (const l of this.listeners) l();
  }
  /** As the live loop does when the stream is lost. */
  goOffline() {
    this.state = { ...this.state, connection: "offline" };
    for (const l of this.listeners) l();
  }
  async search(request: SearchRequest): Promise<SearchHit[]> {
    this.open();
    const words = request.text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    return this.matters.filter((m) => {
      const tokens = `${m.number} ${m.title} ${m.client_name}`.toLowerCase().split(/[^\p{L}\p{N}]+/u);
      return words.every((w) => tokens.some((t) => t.startsWith(w)));
    }).map((m) => ({ matter_id: m.id, number: m.number, title: m.title, client_name: m.client_name, found_in: "matter", note_id: null }));
  }
}
