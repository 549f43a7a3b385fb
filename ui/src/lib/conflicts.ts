// Words for the conflicts view: field names, values as a person reads them, and what each
// kind of conflict means and what each choice will do.
import type { ConflictKind, RecordKind } from "./types";

/** Each wire field as a person reads it (shared with the forms' messages, `records.ts`). */
export const FIELD_LABELS: Record<string, string> = {
  number: "Number",
  title: "Title",
  matter_type: "Type",
  status: "Status",
  client_name: "Client",
  responsible: "Responsible",
  opened_on: "Opened",
  closed_on: "Closed",
  description: "Description",
  custom_fields: "Custom fields",
  kind: "Kind",
  name: "Name",
  email: "Email",
  phone: "Phone",
  address: "Address",
  contact_id: "Contact",
  role: "Role",
  author: "Author",
  written_at: "Written",
  subject: "Subject",
  body: "Text",
  due_on: "Due",
  assignee: "Assignee",
  done: "Done",
  worked_on: "Date worked",
  minutes: "Minutes",
  rate_cents: "Rate (cents per hour)",
  billable: "Billable",
  narrative: "Narrative",
  folder: "Folder",
  size_bytes: "Size (bytes)",
};

export function fieldLabel(field: string): string {
  return FIELD_LABELS[field] ?? field.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

const KIND_WORDS: Record<RecordKind, string> = {
  matter: "matter",
  contact: "contact",
  participant: "participant",
  file_note: "file note",
  task: "task",
  time_entry: "time entry",
  document: "document",
};

export function kindWord(kind: RecordKind): string {
  return KIND_WORDS[kind];
}

/**
 * A conflicting value as text: strings as they are, booleans as Yes/No, null as
 * "(deleted)" on the side that deleted the record and "(empty)" otherwise, objects as
 * "key: value" pairs.
 */
export function formatConflictValue(value: unknown, deletedSide = false): string {
  if (value === null || value === undefined) return deletedSide ? "(deleted)" : "(empty)";
  if (typeof value === "string") return value === "" ? "(empty)" : value;
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (typeof value === "number") return value.toLocaleString("en-AU");
  if (Array.isArray(value)) return value.length === 0 ? "(empty)" : value.map((v) => formatConflictValue(v)).join(", ");
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return "(empty)";
    return entries.map(([k, v]) => `${k}: ${formatConflictValue(v)}`).join("; ");
  }
  return String(value);
}

/** Which side deleted the record, if any. */
export function deletedSide(kind: ConflictKind): "mine" | "theirs" | null {
  return kind === "edit_against_delete" ? "theirs" : kind === "delete_against_edit" ? "mine" : null;
}

/** What happened, in plain words. */
export function explainConflict(kind: ConflictKind, record: RecordKind): string {
  const w = kindWord(record);
  switch (kind) {
    case "same_field":
      return `You and someone else changed the same details of this ${w} before either change reached the other.`;
    case "edit_against_delete":
      return `You changed this ${w}, but someone else deleted it in the meantime.`;
    case "delete_against_edit":
      return `You deleted this ${w}, but someone else changed it in the meantime.`;
  }
}

/** What each choice will do, for the buttons' descriptions. */
export function choiceWords(kind: ConflictKind, record: RecordKind): { mine: string; theirs: string } {
  const w = kindWord(record);
  switch (kind) {
    case "same_field":
      return { mine: "Your values replace theirs.", theirs: "Their values stay; your changes are dropped." };
    case "edit_against_delete":
      return { mine: `The ${w} is restored, with your changes.`, theirs: `The ${w} stays deleted; your changes are dropped.` };
    case "delete_against_edit":
      return { mine: `The ${w} is deleted after all.`, theirs: `The ${w} is kept, with their changes.` };
  }
}

/** An edited value typed as text, back to the type the field held (number, boolean, null). */
export function parseEditedValue(text: string, like: unknown): unknown {
  if (typeof like === "boolean") return text === "true";
  if (typeof like === "number") {
    const n = Number(text);
    return Number.isFinite(n) && text.trim() !== "" ? n : like;
  }
  if (like !== null && typeof like === "object") {
    try {
      return JSON.parse(text);
    } catch {
      return like;
    }
  }
  if (like === null && text === "") return null;
  return text;
}

/** A value as an edit field's starting text. */
export function editText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

const STATUS_WORDS: Record<string, string> = { open: "Open", on_hold: "On hold", closed: "Closed" };

/** A field's value as a person reads it: statuses in words, rates as money, minutes as h:mm. */
export function formatFieldValue(field: string, value: unknown, deletedSide = false): string {
  if (value === null || value === undefined) return formatConflictValue(value, deletedSide);
  if (field === "status" && typeof value === "string") return STATUS_WORDS[value] ?? value;
  if (field === "kind" && typeof value === "string") return value === "organisation" ? "Organisation" : value === "person" ? "Person" : value;
  if (field === "rate_cents" && typeof value === "number")
    return `${(value / 100).toLocaleString("en-AU", { style: "currency", currency: "AUD" })} per hour`;
  if (field === "minutes" && typeof value === "number") return `${Math.floor(value / 60)}:${String(value % 60).padStart(2, "0")}`;
  return formatConflictValue(value, deletedSide);
}
