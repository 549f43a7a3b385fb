// Small formatting helpers, pure so that they are unit-tested.
import type { MatterStatus } from "./types";

export function statusLabel(s: MatterStatus): string {
  return s === "open" ? "Open" : s === "on_hold" ? "On hold" : "Closed";
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", or the date. */
export function relativeTime(iso: string | null, now: Date = new Date()): string {
  if (!iso) return "never";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return "unknown";
  const secs = Math.round((now.getTime() - t.getTime()) / 1000);
  if (secs < 45) return "just now";
  const mins = Math.round(secs / 60);
  if (mins < 60) return `${mins} min ago`;
  const hours = Math.round(mins / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 14) return `${days} day${days === 1 ? "" : "s"} ago`;
  return t.toISOString().slice(0, 10);
}

/** Beyond this many seconds either way, the device's clock is called off. */
export const CLOCK_SKEW_LIMIT_SECS = 120;

/**
 * A warning when the device's clock is off from the service's by more than two minutes
 * (`skew` is the service's clock minus the device's), else null. Sync never depends on
 * the clock; times shown on this device would be wrong.
 */
export function clockSkewWarning(skew: number | null | undefined): string | null {
  if (skew === null || skew === undefined || Math.abs(skew) <= CLOCK_SKEW_LIMIT_SECS) return null;
  const mins = Math.round(Math.abs(skew) / 60);
  const amount = mins >= 120 ? `${Math.round(mins / 60)} hours` : `${mins} minutes`;
  return `This computer's clock is ${amount} ${skew > 0 ? "behind" : "ahead"}: check its date and time`;
}

/** A sync's progress in words: "1,200 of 5,000 changes (24%), 3.1 MB". */
export function progressLabel(p: { done: number; total: number | null; bytes: number }): string {
  const n = (x: number) => x.toLocaleString("en-AU");
  const size =
    p.bytes >= 1024 * 1024
      ? `${(p.bytes / (1024 * 1024)).toFixed(1)} MB`
      : p.bytes >= 1024
        ? `${Math.round(p.bytes / 1024)} KB`
        : `${p.bytes} bytes`;
  if (p.total === null || p.total === 0) return `${n(p.done)} changes, ${size}`;
  const pct = Math.min(100, Math.floor((p.done / p.total) * 100));
  return `${n(p.done)} of ${n(p.total)} changes (${pct}%), ${size}`;
}

