// Actions the service lets through only after a recent password confirmation answer
// `reauth_required`. The privacy area wraps its backend so that such an action asks for
// the password (the ReauthDialog), then runs once more; closing the dialog gives up with
// the original error. Approving support access asks in its own words on its page.
import type { DashboardBackend } from "./backend";
import { asBackendError } from "./errors";

/** The dialog's request: what it is for, and how to answer it. */
export type ReauthRequest = { purpose: string; answer: (confirmed: boolean) => void };

export class ReauthGate {
  // Raw: the request is compared by identity, so it must not be wrapped in a proxy.
  pending = $state.raw<ReauthRequest | null>(null);

  /** Shows the dialog for `purpose`; resolves true once the password was confirmed. */
  ask(purpose: string): Promise<boolean> {
    this.pending?.answer(false);
    return new Promise((resolve) => {
      const request: ReauthRequest = {
        purpose,
        answer: (confirmed) => {
          if (this.pending === request) this.pending = null;
          resolve(confirmed);
        },
      };
      this.pending = request;
    });
  }
}

/** The actions that may need a fresh password, and what the dialog says they are for. */
export const REAUTH_PURPOSES = {
  updateMember: "change a member's role or access",
  removeCredentials: "remove a member's credentials",
  completeAccessReview: "complete the access review",
  exportPractice: "export everything the practice holds",
  revokeGrant: "end support access",
  declineGrant: "decline support access",
  createIntegration: "connect an app",
  revokeIntegration: "disconnect an app",
  invite: "invite someone to the practice",
} as const satisfies Partial<Record<keyof DashboardBackend, string>>;

/** `backend`, with each action in REAUTH_PURPOSES asking for the password when the service
 * wants it, then trying once more. */
export function withReauth<B extends DashboardBackend>(backend: B, gate: ReauthGate): B {
  return new Proxy(backend, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      const purpose = (REAUTH_PURPOSES as Record<string, string>)[prop as string];
      if (!purpose) return value.bind(target);
      return async (...args: unknown[]) => {
        try {
          return await value.apply(target, args);
        } catch (e) {
          if (asBackendError(e).code !== "reauth_required") throw e;
          if (!(await gate.ask(purpose))) throw e;
          return await value.apply(target, args);
        }
      };
    },
  });
}
