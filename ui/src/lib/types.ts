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
  | "internal";

export interface ErrorDto {
  code: ErrorCode;
  message: string;
}

export type Connection = "unknown" | "online" | "offline";

export interface AppStatus {
  signed_in: boolean;
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
