// Error codes from the backend, mapped to words a lawyer can act on. The UI never matches
// on a message string: only on the code.
import type { ErrorCode as CoreErrorCode, ErrorDto } from "./types";

/** The core's codes (generated into bindings.ts), and the service's refusals of cookie and
 * notification changes and of a stale policy acknowledgement, which the web backend meets
 * directly (and the desktop core passes on once its bindings name them; the union then adds
 * nothing). */
export type ErrorCode =
  | CoreErrorCode
  | "essential_category"
  | "strictly_necessary_locked"
  | "csrf_refused"
  | "policy_version_not_current";

export class BackendError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const KNOWN: ReadonlySet<string> = new Set<ErrorCode>([
  "keyring_unavailable",
  "vault_key_missing",
  "vault_unreadable",
  "vault_failed",
  "not_signed_in",
  "already_signed_in",
  "invalid_address",
  "server_unreachable",
  "certificate_refused",
  "bad_ca_file",
  "invalid_credentials",
  "session_expired",
  "device_removed",
  "incompatible_server",
  "malformed_response",
  "server_error",
  "passphrase_required",
  "passphrase_too_short",
  "wrong_passphrase",
  "vault_locked",
  "index_not_ready",
  "invalid_input",
  "sync_in_progress",
  "mfa_required",
  "wrong_code",
  "mfa_enrollment_required",
  "not_found",
  "timer_running",
  "no_timer",
  "internal",
  "offline",
  "forbidden",
  "reauth_required",
  "wrong_password",
  "conflict",
  "essential_category",
  "strictly_necessary_locked",
  "csrf_refused",
  "policy_version_not_current",
]);

export function toBackendError(e: ErrorDto | string | unknown): BackendError {
  if (e && typeof e === "object" && "code" in e && KNOWN.has(String((e as ErrorDto).code))) {
    const dto = e as ErrorDto;
    return new BackendError(dto.code as ErrorCode, dto.message ?? "");
  }
  return new BackendError("internal", typeof e === "string" ? e : String(e));
}

/** Any thrown value as a BackendError (what a component catches may be anything). */
export function asBackendError(e: unknown): BackendError {
  return e instanceof BackendError ? e : new BackendError("internal", String(e));
}

/** A message for a person: what happened and what to do. */
export function humanMessage(code: ErrorCode, detail = ""): string {
  switch (code) {
    case "keyring_unavailable":
      return "Strongroom keeps its encryption key in your system keyring, and no keyring is available. Unlock or start your keyring (for example GNOME Keyring) and open Strongroom again. Your practice's data is never stored unencrypted.";
    case "vault_key_missing":
      return "The key to this device's encrypted copy is no longer in your system keyring, so the copy cannot be opened.";
    case "vault_unreadable":
      return "This device's encrypted copy cannot be read with the key in your keyring.";
    case "vault_failed":
      return `The encrypted copy on this device reported a problem: ${detail}`;
    case "not_signed_in":
      return "You are not signed in.";
    case "already_signed_in":
      return "This device is already signed in.";
    case "invalid_address":
      return `That server address won't work: ${detail}`;
    case "server_unreachable":
      return "Can't reach the server. Check the address and your connection; your offline copy is unchanged.";
    case "certificate_refused":
      return `Strongroom refused the server's certificate: ${stripPrefix(detail)}. It only connects to servers it can verify.`;
    case "bad_ca_file":
      return `The practice certificate authority file could not be used: ${detail}`;
    case "invalid_credentials":
      return "That email and password don't match an account on this server.";
    case "session_expired":
      return "Your session has ended. Sign in again to keep syncing.";
    case "device_removed":
      return "This device was signed out remotely, and its offline copy of your practice's data was erased from it. Sign in again if you should still have access.";
    case "incompatible_server":
      return "This server runs a version of Strongroom this app cannot talk to. Update the app or ask your administrator.";
    case "malformed_response":
      return "The server sent something this app could not read. Nothing on this device was changed.";
    case "server_error":
      return `The server refused the request: ${detail}`;
    case "passphrase_required":
      return "No system keyring is available on this computer, so choose a passphrase to protect this device's copy of your practice's data.";
    case "passphrase_too_short":
      return "Use a passphrase of at least 10 characters; a few words are easy to remember and hard to guess.";
    case "wrong_passphrase":
      return "That passphrase does not unlock this device's copy.";
    case "vault_locked":
      return "Strongroom is locked. Unlock it to continue.";
    case "index_not_ready":
      return "Search is available once the first sync finishes.";
    case "invalid_input":
      return detail;
    case "sync_in_progress":
      return "A sync is already under way.";
    case "mfa_required":
      return "This account uses two-step sign-in. Enter the six-digit code from your authenticator app, or one of your recovery codes.";
    case "wrong_code":
      return "That code was not accepted. Codes change every 30 seconds: type the newest one from your authenticator app, or a recovery code you have not used before.";
    case "mfa_enrollment_required":
      return "Your practice requires two-step sign-in, and your account has no authenticator yet. Set one up on the practice's web page, then sign in here.";
    case "not_found":
      return "That record is not on this device. It may have been deleted, or you may no longer have access to it.";
    case "timer_running":
      return "A timer is already running. Stop it before starting another.";
    case "no_timer":
      return "No timer is running.";
    case "internal":
      return `Something went wrong inside Strongroom: ${detail}`;
    case "offline":
      return "This needs a connection to the service, and there is none just now. Nothing was changed; try again when you are back online.";
    case "forbidden":
      return "Only your practice's administrators can do this. Ask one of them if you need it done.";
    case "reauth_required":
      return "For this, confirm it's you: enter your password again (and your authenticator code if you use one).";
    case "wrong_password":
      return "That password is not the one for your account. Nothing was changed.";
    case "essential_category":
      return detail
        ? `${detail.charAt(0).toUpperCase()}${detail.slice(1)} Nothing was changed.`
        : "Essential messages (security alerts, breach notices, billing, service notices and policy changes) cannot be turned off. Nothing was changed.";
    case "strictly_necessary_locked":
      return "Strictly necessary cookies cannot be turned off: without them you could not sign in. Nothing was changed.";
    case "conflict":
      return detail ? `This can't be done as things stand: ${detail}` : "This can't be done as things stand: it changed since the page loaded. Reload and look again.";
    case "essential_category":
      return `Essential notifications stay on in every channel, so nothing was changed.${detail ? ` ${sentence(detail)}` : ""}`;
    case "strictly_necessary_locked":
      return "Strictly necessary cookies can't be turned off: without them you could not sign in or keep your session safe. Nothing was changed.";
    case "csrf_refused":
      return "The service refused this change because it could not confirm that it came from its own page. Reload the page and try again; nothing was changed.";
    case "policy_version_not_current":
      return `A newer version was published while you were reading, so your acknowledgement was not recorded.${detail ? ` (${sentence(detail)})` : ""} The page now shows the newest version: read it, then acknowledge that one.`;
  }
}

/** `detail` as a sentence: a capital first letter and a full stop. */
function sentence(detail: string): string {
  const t = detail.trim();
  if (!t) return t;
  return `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? "" : "."}`;
}

function stripPrefix(detail: string): string {
  const marker = "certificate was refused: ";
  const i = detail.indexOf(marker);
  return i >= 0 ? detail.slice(i + marker.length) : detail;
}
