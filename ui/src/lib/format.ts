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


const n0 = (x: number) => x.toLocaleString("en-AU");

/** A percentage of done over total, whole, never above 100; null without a total. */
export function percentDone(done: number, total: number | null): number | null {
  if (total === null || total <= 0) return null;
  return Math.max(0, Math.min(100, Math.floor((done / total) * 100)));
}

/**
 * Seconds left at the rate seen so far: `first` is the first progress seen (records done
 * and when), `now` the latest. Null until there is a total and some progress to measure.
 */
export function secondsLeft(
  first: { done: number; at: number },
  now: { done: number; at: number },
  total: number | null,
): number | null {
  if (total === null || total <= 0) return null;
  const doneSince = now.done - first.done;
  const ms = now.at - first.at;
  if (doneSince <= 0 || ms < 500) return null;
  const remaining = Math.max(0, total - now.done);
  return Math.ceil((remaining / doneSince) * (ms / 1000));
}

/** "Estimating time left…", "Less than a minute left", "About 4 minutes left", "About 1 h 20 min left". */
export function timeLeftLabel(secs: number | null): string {
  if (secs === null) return "Estimating time left…";
  if (secs < 60) return "Less than a minute left";
  const mins = Math.round(secs / 60);
  if (mins < 60) return `About ${mins} minute${mins === 1 ? "" : "s"} left`;
  const h = Math.floor(mins / 60);
  const m = mins % 60;
  return m === 0 ? `About ${h} h left` : `About ${h} h ${m} min left`;
}

/** First-sync words: "12,000 of 100,000 records (12%)". */
export function recordsLabel(done: number, total: number | null): string {
  const pct = percentDone(done, total);
  if (total === null || pct === null) return `${n0(done)} records`;
  return `${n0(done)} of ${n0(total)} records (${pct}%)`;
}

/** A timer's elapsed time as h:mm:ss. */
export function formatElapsed(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** Minutes for a time entry from a timer: rounded up to whole minutes, at least one. */
export function timerMinutes(elapsedSecs: number): number {
  return Math.max(1, Math.ceil(elapsedSecs / 60));
}

/** A duration in minutes as h:mm ("1:05"). */
export function formatMinutes(minutes: number): string {
  const m = Math.max(0, Math.round(minutes));
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}`;
}

/** "1:30" or "90" (minutes) or "1.5h" to minutes; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const t = text.trim().toLowerCase();
  let m: RegExpMatchArray | null;
  if ((m = t.match(/^(\d{1,3}):([0-5]\d)$/))) return Number(m[1]) * 60 + Number(m[2]);
  if ((m = t.match(/^(\d{1,5})\s*(m|min|mins|minutes)?$/))) return Number(m[1]);
  if ((m = t.match(/^(\d{1,3}(?:\.\d+)?)\s*(h|hr|hrs|hours?)$/))) return Math.round(Number(m[1]) * 60);
  return null;
}

/** Cents as Australian dollars: "$1,234.50". */
export function formatMoney(cents: number): string {
  return (cents / 100).toLocaleString("en-AU", { style: "currency", currency: "AUD" });
}

/** "$350.00" per hour, typed as dollars, to cents; null when it is not an amount. */
export function parseMoney(text: string): number | null {
  const t = text.trim().replace(/^\$/, "").replace(/,/g, "");
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return null;
  return Math.round(Number(t) * 100);
}

/** What a time entry is worth: minutes at the hourly rate, to the cent. */
export function entryValueCents(e: { minutes: number; rate_cents: number }): number {
  return Math.round((e.minutes * e.rate_cents) / 60);
}

/** The billable value of a set of time entries. */
export function billableTotalCents(entries: { minutes: number; rate_cents: number; billable: boolean }[]): number {
  return entries.reduce((sum, e) => sum + (e.billable ? entryValueCents(e) : 0), 0);
}

/** A size in bytes for people: "812 bytes", "14 KB", "3.2 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? "" : "s"}`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(1)} GB`;
}

/** The local calendar date as YYYY-MM-DD. */
export function localDate(d: Date = new Date()): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** A task is overdue when it is not done and its due date is before today. */
export function isOverdue(task: { due_on: string | null; done: boolean }, today: string): boolean {
  return !task.done && task.due_on !== null && task.due_on < today;
}

/** "27 Nov 2026" from YYYY-MM-DD (read as a calendar date, no time zone). */
export function formatDate(iso: string | null): string {
  if (!iso) return "";
  const m = iso.match(/^(\d{4})-(\d{2})-(\d{2})/);
  if (!m) return iso;
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  return `${Number(m[3])} ${months[Number(m[2]) - 1] ?? "?"} ${m[1]}`;
}

/** "27 Nov 2026, 14:05" in this device's time zone, from RFC 3339. */
export function formatDateTime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return `${formatDate(localDate(t))}, ${String(t.getHours()).padStart(2, "0")}:${String(t.getMinutes()).padStart(2, "0")}`;
}
