// The privacy pages are typed with the desktop's whole `Backend`, though they call only its
// dashboard part. In the browser they get a `DashboardBackend` with the desktop's own
// commands answering that only the desktop app has them; the web entry never offers
// anything that calls one.
import type { Backend, DashboardBackend } from "../../lib/backend";
import { BackendError } from "../../lib/errors";

/** The desktop-only commands of `Backend`. */
type DesktopOnly = Exclude<keyof Backend, keyof DashboardBackend>;

/** Every desktop-only command: the type makes a new one in `Backend` a compile error here. */
const DESKTOP_ONLY: Record<DesktopOnly, true> = {
  start: true,
  status: true,
  signIn: true,
  unlock: true,
  lock: true,
  signOut: true,
  syncNow: true,
  listMatters: true,
  matterFilters: true,
  search: true,
  matter: true,
  findContacts: true,
  saveRecord: true,
  deleteRecord: true,
  conflicts: true,
  resolveConflict: true,
  rejectedEdits: true,
  dismissRejectedEdit: true,
  timer: true,
  startTimer: true,
  pauseTimer: true,
  resumeTimer: true,
  stopTimer: true,
  onChange: true,
};

/** `dashboard` as the pages' `Backend`: its own methods, and the desktop's failing. */
export function asPageBackend(dashboard: DashboardBackend): Backend {
  return new Proxy(dashboard, {
    get(target, prop, receiver) {
      if (typeof prop === "string" && Object.hasOwn(DESKTOP_ONLY, prop)) {
        return () => {
          throw new BackendError("invalid_input", "Only the desktop app can do this.");
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Backend;
}
