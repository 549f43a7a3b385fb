// The browser's calls to the hosted service: same-origin `fetch` with the cookie session,
// the protocol header on every request and the CSRF header on every one that changes
// something, and the service's problem details (RFC 9457) turned into the UI's error codes.
// Nothing is stored in the browser here: the session is the HttpOnly cookie, which this
// code never sees.
import { BackendError, type ErrorCode } from "./errors";

/** The protocol version this UI speaks (`PROTOCOL_VERSION` in crates/protocol). */
export const PROTOCOL_VERSION = 1;
/** The header it is sent in (`PROTOCOL_HEADER` in crates/protocol). */
export const PROTOCOL_HEADER = "strongroom-protocol";
/** The header the cookie session's CSRF defence wants on every state-changing request. */
export const CSRF_HEADER = "X-Strongroom-CSRF";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A problem details body as the service sends it (`Problem` in crates/protocol). */
export type Problem = { type?: string; title?: string; status?: number; detail?: string; code?: string };

/** What a failed answer means to the UI, as the desktop core maps it (crates/sync's
 * `problem` and crates/client's `From<SyncError>`), less what only a device has: a revoked
 * session is an ended one here (there is no offline copy to erase). */
export function problemError(status: number, problem: Problem | null): BackendError {
  const code = problem?.code;
  const detail = problem?.detail ?? problem?.title ?? "";
  const as = (c: ErrorCode, d = detail) => new BackendError(c, d);
  if (status === 408 || status === 429) {
    return as("server_error", detail || "the service is busy just now; try again in a moment");
  }
  switch (code) {
    case "invalid_credentials":
      return as("invalid_credentials");
    case "mfa_required":
      return as("mfa_required");
    case "wrong_code":
      return as("wrong_code");
    case "mfa_enrollment_required":
      return as("mfa_enrollment_required");
    case "incompatible_protocol":
      return as("incompatible_server");
    case "reauth_required":
      return as("reauth_required");
    case "essential_category":
      return as("essential_category");
    case "strictly_necessary_locked":
      return as("strictly_necessary_locked");
    case "csrf_refused":
      return as("csrf_refused");
    case "policy_version_not_current":
      return as("policy_version_not_current");
  }
  if (status === 400 && code === "essential_category") return as("essential_category");
  if (status === 400 && code === "strictly_necessary_locked") return as("strictly_necessary_locked");
  if (status === 401) return as("session_expired");
  if (code !== undefined) {
    if (status === 403) return as("forbidden");
    if (status === 404) return as("not_found");
    if (status === 409) return as("conflict");
    if (status === 400 || status === 422) return as("invalid_input");
  }
  if (status === 502 || status === 503 || status === 504) {
    return code === undefined ? as("offline", `the service answered ${status}`) : as("server_error");
  }
  return as("server_error", `${status}: ${detail || "the service refused the request"}`);
}

/** Whether an answer means the session is gone (not a wrong password at a sign-in or a
 * re-authentication, which are 401 too). */
export function endsSession(status: number, problem: Problem | null): boolean {
  return status === 401 && (problem?.code === "unauthenticated" || problem?.code === "session_revoked" || !problem?.code);
}

export type HttpOptions = {
  /** The `fetch` to use (tests give a double); the browser's by default. */
  fetch?: typeof fetch;
  /** Called when an answer says the session is gone: the UI returns to the sign-in form. */
  onSessionEnded?: () => void;
};

/** One same-origin request to the service. */
export class Http {
  private readonly doFetch: typeof fetch;
  private readonly onSessionEnded: () => void;

  constructor(options: HttpOptions = {}) {
    this.doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.onSessionEnded = options.onSessionEnded ?? (() => {});
  }

  /** Sends a request; answers the response when it succeeded, else throws its error. */
  async send(method: Method, path: string, body?: unknown, accept = "application/json"): Promise<Response> {
    const headers: Record<string, string> = { Accept: accept, [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
    if (method !== "GET") headers[CSRF_HEADER] = "1";
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let resp: Response;
    try {
      resp = await this.doFetch(path, {
        method,
        headers,
        credentials: "same-origin",
        cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new BackendError("offline", e instanceof Error ? e.message : String(e));
    }
    if (resp.ok) return resp;
    const problem = await readProblem(resp);
    if (endsSession(resp.status, problem)) this.onSessionEnded();
    throw problemError(resp.status, problem);
  }

  /** A request whose answer is JSON; answers it decoded. */
  async json<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const resp = await this.send(method, path, body);
    try {
      return (await resp.json()) as T;
    } catch (e) {
      throw new BackendError("malformed_response", `the answer to ${method} ${path} is not JSON: ${String(e)}`);
    }
  }

  /** A request whose answer is empty (or ignored). */
  async empty(method: Method, path: string, body?: unknown): Promise<void> {
    await this.send(method, path, body);
  }
}

async function readProblem(resp: Response): Promise<Problem | null> {
  try {
    const body: unknown = await resp.json();
    return body && typeof body === "object" ? (body as Problem) : null;
  } catch {
    return null;
  }
}
