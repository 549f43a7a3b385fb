// Pure helpers for the forms that create or change matters and contacts: defaults, the
// checks made before the backend is called (the same rules the service keeps, so most
// mistakes are caught at once), the wire fields sent, and the backend's refusals in words.
import { FIELD_LABELS } from "./conflicts";
import { localDate } from "./format";
import type { ContactKind, Matter, MatterStatus } from "./types";

/** Whether `s` is a calendar date `YYYY-MM-DD` that exists (leap years included), as the
 * service checks it. */
export function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1] as number;
  return d <= days;
}

/** Whether `s` looks like an email address as the service takes one: one `@` with text on
 * both sides, no spaces. */
export function isEmailAddress(s: string): boolean {
  const parts = s.split("@");
  return parts.length === 2 && parts[0] !== "" && parts[1] !== "" && !/\s/.test(s) && s.length >= 3 && s.length <= 254;
}

// --- A new matter ---

export interface NewMatterForm {
  number: string;
  title: string;
  matter_type: string;
  status: MatterStatus;
  client_name: string;
  responsible: string;
  opened_on: string;
  description: string;
}

/** An empty new matter: open, opened today, the signed-in lawyer responsible. */
export function newMatterDefaults(userName: string | null, now: Date = new Date()): NewMatterForm {
  return {
    number: "",
    title: "",
    matter_type: "",
    status: "open",
    client_name: "",
    responsible: userName ?? "",
    opened_on: localDate(now),
    description: "",
  };
}

/** The fields a new matter must have, with the words the form uses for them. */
const REQUIRED: readonly (readonly [keyof NewMatterForm, string])[] = [
  ["number", "a number"],
  ["title", "a title"],
  ["matter_type", "a type"],
  ["client_name", "a client"],
  ["responsible", "a responsible lawyer"],
  ["opened_on", "an opening date"],
];

/** A problem with a form: the field (its wire name) and what to say. */
export interface FormProblem {
  field: string;
  message: string;
}

/** What is wrong with a new matter before it is sent, or null. Missing fields are named
 * together, in the form's order. */
export function checkNewMatter(f: NewMatterForm): FormProblem | null {
  const missing = REQUIRED.filter(([k]) => !String(f[k]).trim());
  if (missing.length > 0) {
    const words = missing.map(([, w]) => w);
    const list = words.length === 1 ? words[0] : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
    return { field: (missing[0] as (typeof REQUIRED)[number])[0], message: `The matter needs ${list}.` };
  }
  if (!isCalendarDate(f.opened_on.trim())) return { field: "opened_on", message: "The opening date must be a real date (YYYY-MM-DD)." };
  return null;
}

/** The wire fields of a new matter (every required one, trimmed; closed_on follows the status). */
export function newMatterFields(f: NewMatterForm, today: string = localDate()): Record<string, unknown> {
  return {
    number: f.number.trim(),
    title: f.title.trim(),
    matter_type: f.matter_type.trim(),
    status: f.status,
    client_name: f.client_name.trim(),
    responsible: f.responsible.trim(),
    opened_on: f.opened_on.trim(),
    closed_on: f.status === "closed" ? closingDate(f.opened_on.trim(), today) : null,
    description: f.description,
    custom_fields: {},
  };
}

// --- Closing and reopening ---

/** The date a matter closes on by default: today, or the day it opened if that is later. */
export function closingDate(openedOn: string, today: string = localDate()): string {
  return openedOn > today ? openedOn : today;
}

/** What is wrong with a closing date, or null. */
export function checkClosingDate(openedOn: string, closedOn: string): string | null {
  if (!closedOn.trim()) return "Enter the date the matter closed.";
  if (!isCalendarDate(closedOn)) return "The closing date must be a real date (YYYY-MM-DD).";
  if (closedOn < openedOn) return "The matter cannot close before it opened.";
  return null;
}

/** The fields that move a matter to `status`: closing sets closed_on, any other status
 * clears it. Answers only what changes. */
export function statusChange(
  m: Pick<Matter, "status" | "closed_on" | "opened_on">,
  status: MatterStatus,
  closedOn: string | null = null,
  today: string = localDate(),
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (status !== m.status) out.status = status;
  const closed = status === "closed" ? (closedOn ?? m.closed_on ?? closingDate(m.opened_on, today)) : null;
  if (closed !== m.closed_on) out.closed_on = closed;
  return out;
}

// --- A contact's details ---

export interface ContactForm {
  kind: ContactKind;
  name: string;
  email: string;
  phone: string;
  address: string;
}

/** What is wrong with a contact before it is sent, or null. */
export function checkContact(f: ContactForm): FormProblem | null {
  if (!f.name.trim()) return { field: "name", message: "Enter the contact's name." };
  if (f.email.trim() && !isEmailAddress(f.email.trim())) return { field: "email", message: "The email must be an email address, such as name@example.com." };
  return null;
}

/** The fields of a contact that differ from `before` (empty text is null). */
export function contactChanges(
  before: { kind: ContactKind; name: string; email: string | null; phone: string | null; address: string | null },
  f: ContactForm,
): Record<string, unknown> {
  const after = {
    kind: f.kind,
    name: f.name.trim(),
    email: f.email.trim() || null,
    phone: f.phone.trim() || null,
    address: f.address.trim() || null,
  };
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(after) as (keyof typeof after)[]) if (after[k] !== before[k]) out[k] = after[k];
  return out;
}

// --- The backend's refusals ---

/** The fields the forms here edit, named as the forms name them (the words are the
 * conflicts view's, but for the responsible lawyer). */
const FORM_FIELDS = [
  "number", "title", "matter_type", "status", "client_name", "responsible", "opened_on", "closed_on",
  "description", "custom_fields", "kind", "name", "email", "phone", "address",
];
const LABELS: Record<string, string> = Object.fromEntries(
  FORM_FIELDS.map((f) => [f, f === "responsible" ? "Responsible lawyer" : (FIELD_LABELS[f] ?? f)]),
);

/** The field an `invalid_input` message is about ("email: must be…" or "`email` must…"), or null. */
export function invalidField(detail: string): string | null {
  const m = /^`?([a-z_]+)`?:?\s/.exec(detail);
  return m && m[1] && m[1] in LABELS ? m[1] : null;
}

/** An `invalid_input` message with the field named as the form names it:
 * "email: must be an email address" → "Email: must be an email address". */
export function explainInvalid(detail: string): string {
  const field = invalidField(detail);
  if (!field) return detail;
  const rest = detail
    .replace(/^`?[a-z_]+`?:?\s*/, "")
    .replace(/`([a-z_]+)`|\b([a-z]+_[a-z_]+)\b/g, (all, a?: string, b?: string) => LABELS[(a ?? b) as string] ?? all);
  return `${LABELS[field]}: ${rest}`;
}
