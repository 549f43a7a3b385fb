// The types that cross the backend boundary are generated from the Rust types
// (bindings.ts, checked by a test in crates/client); this module re-exports them and
// adds the UI's own names.
export type {
  AppStatus,
  Connection,
  ErrorCode,
  ErrorDto,
  KeyMode,
  MatterSummary,
  SearchHit,
  SearchRequest,
  SyncProgress,
  SyncReport,
} from "./bindings";
import type { MatterSummary } from "./bindings";

export type MatterStatus = MatterSummary["status"];
