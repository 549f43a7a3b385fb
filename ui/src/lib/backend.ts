// The one interface the UI talks through. The desktop app uses TauriBackend; tests and,
// later, the web surface provide their own implementations.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { AppStatus, ErrorDto, MatterSummary, SearchHit, SearchRequest, SyncReport } from "./types";
import { BackendError, toBackendError } from "./errors";

export interface Backend {
  start(): Promise<AppStatus>;
  status(): Promise<AppStatus>;
  signIn(serverUrl: string, email: string, password: string, passphrase?: string): Promise<AppStatus>;
  unlock(passphrase?: string): Promise<AppStatus>;
  lock(): Promise<AppStatus>;
  syncNow(): Promise<SyncReport>;
  listMatters(): Promise<MatterSummary[]>;
  search(request: SearchRequest): Promise<SearchHit[]>;
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
  signIn(serverUrl: string, email: string, password: string, passphrase?: string) {
    return call<AppStatus>("sign_in", { serverUrl, email, password, passphrase: passphrase ?? null });
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
  listMatters() {
    return call<MatterSummary[]>("list_matters");
  }
  search(request: SearchRequest) {
    return call<SearchHit[]>("search_matters", { request });
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
