// The one interface the UI talks through. The desktop app uses TauriBackend; tests and,
// later, the web surface provide their own implementations.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
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

export interface Backend {
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

export { BackendError };

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toBackendError(e as ErrorDto | string);
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
