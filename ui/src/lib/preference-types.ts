// The wire types of cookies and consent, notification preferences, the in-app inbox, the
// usage report, breach notices and policy versions, written by hand: they mirror
// crates/protocol/src/consent.rs, incidents.rs, policies.rs and
// crates/protocol/src/notifications.rs exactly (the Rust names and fields, as serde
// serialises them: snake_case enums, `Option` as `null`, `Uuid` as a string, `BTreeMap`
// as an object; fields serde defaults are written out, as ts-rs writes them). When the desktop side generates them into bindings.ts (ts-rs), this file
// becomes re-exports from there. Import these types only from this file.

// --- crates/protocol/src/consent.rs ---

/** `CookieCategory`. */
export type CookieCategory = "strictly_necessary" | "functional" | "analytics";

/** `StorageKind`: where an item lives in the browser. */
export type StorageKind = "cookie" | "local_storage";

/** `SetBy`: who puts an item in the browser. */
export type SetBy = "service" | "web_ui";

/** `CatalogueItem`: one cookie or storage item. */
export type CatalogueItem = {
  /** The cookie's or key's exact name. */
  name: string;
  kind: StorageKind;
  category: CookieCategory;
  /** What it is for, in words a member can read. */
  purpose: string;
  /** How long it lasts, in words. */
  lifetime: string;
  /** Its longest life in seconds; null: until the browser closes or the item is removed. */
  max_age_secs: number | null;
  set_by: SetBy;
  /** What it holds, in words (never its value). */
  holds: string;
};

/** `CategoryInfo`: a category as the catalogue explains it. */
export type CategoryInfo = {
  category: CookieCategory;
  title: string;
  description: string;
  /** Always on (strictly necessary only). */
  locked: boolean;
};

/** `CookieCatalogue`: `GET /v1/cookies`. */
export type CookieCatalogue = {
  policy_version: string;
  categories: CategoryInfo[];
  items: CatalogueItem[];
};

/** `ConsentSource`: what made a consent record. */
export type ConsentSource = "user" | "gpc" | "default";

/** `ConsentSurface`: where a choice was made. */
export type ConsentSurface = "desktop" | "web";

/** `ConsentChoices`: strictly necessary is always on and not stored. */
export type ConsentChoices = {
  functional: boolean;
  analytics: boolean;
  /** Per-item choices that differ from their category's, by catalogue name. */
  items: { [key in string]: boolean };
};

/** `ConsentRecord`: one consent record, as kept. */
export type ConsentRecord = {
  /** null for the default (never stored). */
  id: string | null;
  /** Always true. */
  strictly_necessary: boolean;
  choices: ConsentChoices;
  source: ConsentSource;
  /** null for the default. */
  surface: ConsentSurface | null;
  policy_version: string;
  /** RFC 3339, UTC; null for the default. */
  recorded_at: string | null;
};

/** `EffectiveConsent`: what is allowed for the request that asked. */
export type EffectiveConsent = {
  strictly_necessary: boolean;
  functional: boolean;
  analytics: boolean;
  /** Every catalogue item by name. */
  items: { [key in string]: boolean };
};

/** `ConsentState`: `GET` and `PUT /v1/me/consent`. */
export type ConsentState = {
  current: ConsentRecord;
  /** The record, with analytics off when the request carries Global Privacy Control. */
  effective: EffectiveConsent;
  /** The request carried `Sec-GPC: 1`. */
  gpc: boolean;
  /** The cookie policy's current version. */
  policy_version: string;
  /** No choice of the member's under the current policy version yet: ask. */
  choice_needed: boolean;
  /** Every stored record, newest first (at most 100). */
  history: ConsentRecord[];
};

/** `ConsentAction`. */
export type ConsentAction = "accept_all" | "reject_all" | "custom";

/** `CategoryChoices`: a `null` category stays as it is. */
export type CategoryChoices = {
  /** Only `true` is accepted: strictly necessary is locked on. */
  strictly_necessary: boolean | null;
  functional: boolean | null;
  analytics: boolean | null;
};

/** `ConsentChange`: `PUT /v1/me/consent` request body. Accept all and reject all take
 * every category `null` and no items. */
export type ConsentChange = {
  action: ConsentAction;
  /** For `custom`: the categories to set. */
  categories: CategoryChoices;
  /** For `custom`: per-item choices by catalogue name (`null` clears an item's own choice,
   * so it follows its category again). */
  items: { [key in string]: boolean | null };
};

/** `Theme` (the web pages' colour scheme). */
export type Theme = "system" | "light" | "dark";

/** `Density`. */
export type Density = "comfortable" | "compact";

/** `DisplayPreferences`: `POST /v1/web/preferences`. */
export type DisplayPreferences = { theme: Theme; density: Density };

/** `PreferencesSaved`: its answer. */
export type PreferencesSaved = {
  remembered: boolean;
  /** `no_consent` or `not_a_browser`, when not remembered. */
  reason: string | null;
};

/** `MIN_GROUP_PRACTICES`: the fewest practices an aggregate of the usage report covers. */
export const MIN_GROUP_PRACTICES = 5;

/** `UsageBucket`: one week of the usage report. */
export type UsageBucket = {
  /** The Monday the week starts on (UTC), `YYYY-MM-DD`. */
  week_start: string;
  practices: number;
  active_members: number;
  sign_ins: number;
};

/** `UsageReport`: `GET /v1/practice/usage-report/preview`. */
export type UsageReport = {
  generated_at: string;
  min_group_practices: number;
  /** The weeks emitted, oldest first. */
  buckets: UsageBucket[];
  /** Weeks left out because fewer than the minimum of practices took part. */
  suppressed_weeks: string[];
  /** Whether any of this practice's usage is counted. */
  this_practice_counted: boolean;
};

// --- crates/protocol/src/notifications.rs ---

/** `Channel`. */
export type Channel = "email" | "in_app" | "desktop";

/** `Category`. */
export type Category =
  | "security_alerts"
  | "breach_notices"
  | "billing"
  | "service_notices"
  | "policy_changes"
  | "product_news"
  | "tips"
  | "usage_suggestions";

/** `ChoiceSource`: how a choice was last made. */
export type ChoiceSource = "default" | "user" | "web" | "unsubscribe_link";

/** `ChannelChoice`. */
export type ChannelChoice = {
  enabled: boolean;
  source: ChoiceSource;
  /** RFC 3339, UTC; null for a default. */
  changed_at: string | null;
};

/** `CategoryPreferences`. */
export type CategoryPreferences = {
  category: Category;
  /** Locked on in every channel. */
  essential: boolean;
  /** Why it is locked on; null for a non-essential category. */
  reason: string | null;
  email: ChannelChoice;
  in_app: ChannelChoice;
  desktop: ChannelChoice;
};

/** `NotificationPreferences`: every category, in `Category::ALL`'s order. */
export type NotificationPreferences = { categories: CategoryPreferences[] };

/** `PreferenceChange`. */
export type PreferenceChange = { category: Category; channel: Channel; enabled: boolean };

/** `UpdateSource`: where a member changed their preferences. */
export type UpdateSource = "user" | "web";

/** `PreferencesUpdate`: `PATCH /v1/me/notifications/preferences`, all or none. */
export type PreferencesUpdate = { changes: PreferenceChange[]; source: UpdateSource };

/** `MAX_PREFERENCE_CHANGES`. */
export const MAX_PREFERENCE_CHANGES = 64;

/** `Notice`: a notice in a member's in-app inbox. */
export type Notice = {
  id: string;
  category: Category;
  title: string;
  body: string;
  /** RFC 3339, UTC. */
  created_at: string;
  /** When the member marked it read; null: unread. */
  read_at: string | null;
  /** Whether it belongs in the in-app inbox. */
  in_app: boolean;
  /** Whether the desktop app also raises an operating-system notification. */
  desktop: boolean;
};

// --- crates/protocol/src/incidents.rs ---

/** `RegulatorReport`: whether, when and to whom the breach was reported to a regulator. */
export type RegulatorReport = {
  /** Whether a regulator was told. */
  notified: boolean;
  /** Which one; null when no regulator was told. */
  regulator: string | null;
  /** When it was told (RFC 3339, UTC), if known. */
  notified_at: string | null;
};

/** `MemberIncident`: a breach as a member of an affected practice reads it
 * (`GET /v1/me/incidents`, `POST /v1/me/incidents/{id}/acknowledge`). */
export type MemberIncident = {
  id: string;
  /** A short name of what happened. */
  title: string;
  /** What happened, in plain words: the nature of the breach. */
  description: string;
  /** When it happened (RFC 3339, UTC); null: not known (yet). */
  occurred_at: string | null;
  /** When the service became aware of it (RFC 3339, UTC). */
  detected_at: string;
  /** The kinds of personal information involved. */
  data_kinds: string[];
  /** What the service has done to contain it and reduce the harm. */
  steps_taken: string;
  /** What the member should do to protect themselves and their clients. */
  recommendations: string;
  /** Who to contact for more information. */
  contact: string;
  regulator: RegulatorReport;
  /** Who recorded the notice on the service's side. */
  recorded_by: string;
  /** When it was recorded and the notices went out (RFC 3339, UTC). */
  recorded_at: string;
  /** When this member's notice was put in their inbox; null: they joined after it. */
  notice_created_at: string | null;
  /** When this member's email left the service; null: not (yet) sent. */
  email_delivered_at: string | null;
  /** When this member acknowledged it; null: not yet. */
  acknowledged_at: string | null;
};

/** `IncidentAcknowledgement`: one member of the practice and an incident's notice to them. */
export type IncidentAcknowledgement = {
  member_id: string;
  display_name: string;
  email: string;
  /** Whether the member was notified when the incident was recorded (a later joiner was not). */
  notified: boolean;
  /** When their email left the service; null: not (yet) sent. */
  email_delivered_at: string | null;
  /** When they acknowledged it; null: not yet. */
  acknowledged_at: string | null;
};

/** `IncidentAcknowledgements`: `GET /v1/practice/incidents/{id}/acknowledgements` (admins). */
export type IncidentAcknowledgements = {
  incident_id: string;
  members: IncidentAcknowledgement[];
  /** Members who have acknowledged it, of `members`. */
  acknowledged: number;
};

// --- crates/protocol/src/policies.rs ---

/** `PolicyKind`: which document. Where the two disagree, the terms prevail. */
export type PolicyKind = "privacy" | "terms";

/** `PolicySummary`: a version of a document, without its text (`GET /v1/policies`). */
export type PolicySummary = {
  kind: PolicyKind;
  /** The version's label, unique per kind (e.g. `2026-12`). */
  version: string;
  /** When it was published (RFC 3339, UTC). */
  published_at: string;
  /** What changed in it, in a few words. */
  summary: string;
};

/** `PolicyDocument`: `GET /v1/policies/{kind}/{version}`, the summary's fields flattened in. */
export type PolicyDocument = PolicySummary & {
  /** The full text, Markdown. */
  text: string;
  /** Whether this is the current version of its kind. */
  current: boolean;
};

/** `DiffTag`. */
export type DiffTag = "equal" | "insert" | "delete";

/** `DiffLine`: one line of a hunk. */
export type DiffLine = {
  tag: DiffTag;
  /** Its number in the older version (from 1); null for an inserted line. */
  old_line: number | null;
  /** Its number in the newer version (from 1); null for a deleted line. */
  new_line: number | null;
  /** The line's text, without its line ending. */
  text: string;
};

/** `DiffHunk`: changed lines with up to `DIFF_CONTEXT` unchanged lines either side; starts
 * and counts as a unified diff's `@@ -a,b +c,d @@`. */
export type DiffHunk = {
  old_start: number;
  old_lines: number;
  new_start: number;
  new_lines: number;
  lines: DiffLine[];
};

/** `DIFF_CONTEXT`: unchanged lines shown either side of a change. */
export const DIFF_CONTEXT = 3;

/** `PolicyDiff`: what changed from one version to another. */
export type PolicyDiff = {
  /** The older version; null: none acknowledged, and the diff is against an empty document. */
  from_version: string | null;
  to_version: string;
  /** Empty when the two are the same version. */
  hunks: DiffHunk[];
  /** Lines inserted and deleted in all. */
  inserted: number;
  deleted: number;
};

/** `MemberPolicy`: one kind in `GET /v1/me/policies`. */
export type MemberPolicy = {
  kind: PolicyKind;
  current: PolicySummary;
  /** The version the member last acknowledged; null: none yet. */
  acknowledged_version: string | null;
  /** When they acknowledged it. */
  acknowledged_at: string | null;
  /** Whether the member has acknowledged the current version. */
  up_to_date: boolean;
  /** From the acknowledged version (or nothing) to the current one. */
  diff: PolicyDiff;
};

/** `PolicyAcknowledgement`: `POST /v1/me/policies/{kind}/acknowledge` request body. */
export type PolicyAcknowledgement = { version: string };
