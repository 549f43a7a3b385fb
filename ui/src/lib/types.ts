// Types that cross the backend boundary. They mirror the Rust types in
// crates/client/src/status.rs and crates/client/src/error.rs.

export type ErrorCode =
  | "keyring_unavailable"
  | "vault_key_missing"
  | "vault_unreadable"
  | "vault_failed"
  | "not_signed_in"
  | "already_signed_in"
  | "invalid_address"
  | "server_unreachable"
  | "certificate_refused"
  | "bad_ca_file"
  | "invalid_credentials"
  | "session_expired"
  | "incompatible_server"
  | "malformed_response"
  | "server_error"
  | "passphrase_required"
  | "passphrase_too_short"
  | "wrong_passphrase"
  | "vault_locked"
  | "index_not_ready"
  | "invalid_input"
  | "sync_in_progress"
  | "internal";

export interface ErrorDto {
  code: ErrorCode;
  message: string;
}

export type Connection = "unknown" | "online" | "offline";

export type KeyMode = "keyring" | "passphrase";

export interface AppStatus {
  signed_in: boolean;
  locked: boolean;
  key_mode: KeyMode | null;
  keyring_available: boolean;
  set_aside: string | null;
  pending_edits: number;
  default_server_url: string | null;
  server_url: string | null;
  user_email: string | null;
  user_name: string | null;
  practice_name: string | null;
  connection: Connection;
  last_sync_at: string | null;
  matter_count: number;
  last_error: ErrorDto | null;
}

export type MatterStatus = "open" | "on_hold" | "closed";

export interface MatterSummary {
  id: string;
  number: string;
  title: string;
  matter_type: string;
  status: MatterStatus;
  client_name: string;
  responsible: string;
  opened_on: string;
}

export interface SyncReport {
  pages: number;
  applied: number;
}

export interface SearchRequest {
  text: string;
  status?: MatterStatus | null;
  matter_type?: string | null;
  responsible?: string | null;
  limit?: number;
}

export interface SearchHit {
  matter_id: string;
  number: string;
  title: string;
  client_name: string;
  found_in: "matter" | "file_note";
  note_id: string | null;
}
