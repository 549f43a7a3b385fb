import { describe, expect, it } from "vitest";
import type { DiffHunk, MemberIncident, MemberPolicy, PolicyKind } from "./preference-types";
import {
  afterRecordingWords,
  attentionCount,
  attentionOf,
  diffMark,
  diffSummaryWords,
  hunkHeading,
  hunkRangeWords,
  incidentAttentionWords,
  incidentOrder,
  linesBetween,
  markdownBlocks,
  policyAttentionWords,
  policyKindLabel,
  policyKindWords,
  policyOrder,
  regulatorWords,
  shortSpanWords,
  unifiedHeader,
  auditFilterFrom,
  durationLabel,
  EMPTY_FILTER_FORM,
  exportPercent,
  exportProgressLabel,
  filterIsEmpty,
  filterWords,
  freshnessLabel,
  holdingsLabel,
  idleLabel,
  sinceLabel,
  kindLabel,
  matchesAuditFilter,
  scopeLabel,
  shortDateTime,
  spanWords,
  timeLeftLabel,
  untilLabel,
} from "./dashboard";
import type { AuditRow } from "./dashboard-types";
import {
  bannerNeeded,
  channelLabel,
  choiceSourceWords,
  consentChange,
  consentRecordWords,
  consentSourceLabel,
  consentSummary,
  inboxOrder,
  itemChosen,
  notificationCategoryLabel,
  notificationCategoryWhat,
  setByLabel,
  unreadLabel,
  weekLabel,
} from "./dashboard";
import type { CatalogueItem, ConsentRecord, ConsentState, Notice } from "./preference-types";

const NOW = new Date(2026, 10, 28, 15, 30); // 28 Nov 2026, 15:30 local
const ago = (mins: number) => new Date(NOW.getTime() - mins * 60_000).toISOString();
const ahead = (mins: number) => new Date(NOW.getTime() + mins * 60_000).toISOString();

describe("freshness", () => {
  it("online: how long ago the service answered", () => {
    expect(freshnessLabel(ago(0.2), false, NOW)).toBe("Updated just now");
    expect(freshnessLabel(ago(2), false, NOW)).toBe("Updated 2 min ago");
    expect(freshnessLabel(ago(180), false, NOW)).toBe("Updated 3 h ago");
    expect(freshnessLabel(ago(60 * 24 * 30), false, NOW)).toBe("Updated on 29 Oct, 15:30");
  });
  it("offline: which copy is shown, to the minute", () => {
    const copy = new Date(2026, 10, 27, 14, 2).toISOString();
    expect(freshnessLabel(copy, true, NOW)).toBe("Offline — showing the copy from 27 Nov, 14:02");
    const lastYear = new Date(2025, 11, 31, 9, 5).toISOString();
    expect(shortDateTime(lastYear, NOW)).toBe("31 Dec 2025, 09:05");
  });
});

describe("time left and spans", () => {
  it("words the two largest units", () => {
    expect(spanWords(30_000)).toBe("less than a minute");
    expect(spanWords(12 * 60_000)).toBe("12 min");
    expect(spanWords(5 * 3600_000 + 12 * 60_000)).toBe("5 h 12 min");
    expect(spanWords(3 * 3600_000)).toBe("3 h");
    expect(spanWords(42 * 3600_000)).toBe("1 day 18 h");
    expect(spanWords(7 * 24 * 3600_000)).toBe("7 days");
  });
  it("a grant's time left, and expired once past", () => {
    expect(timeLeftLabel(ahead(42 * 60), NOW)).toBe("1 day 18 h left");
    expect(timeLeftLabel(ahead(0.5), NOW)).toBe("less than a minute left");
    expect(timeLeftLabel(ago(1), NOW)).toBe("Expired");
    expect(timeLeftLabel(null, NOW)).toBe("");
  });
  it("an idle expiry to come", () => {
    expect(untilLabel(ahead(13 * 24 * 60), NOW)).toBe("in 13 days");
    expect(untilLabel(ago(5), NOW)).toBe("passed");
  });
  it("how long ago, in days past two weeks", () => {
    expect(sinceLabel(null, NOW)).toBe("Never");
    expect(sinceLabel(ago(180), NOW)).toBe("3 h ago");
    expect(sinceLabel(ago(90 * 24 * 60), NOW)).toBe("90 days ago");
    expect(sinceLabel(ago(400 * 24 * 60), NOW)).toMatch(/^on \d+ \w+ 2025, /);
  });
  it("a grant's length", () => {
    expect(durationLabel(24)).toBe("1 day");
    expect(durationLabel(72)).toBe("3 days");
    expect(durationLabel(36)).toBe("36 hours");
    expect(durationLabel(1)).toBe("1 hour");
  });
});

describe("holdings and other words", () => {
  it("what a device holds, or that it never said", () => {
    expect(holdingsLabel({ matters: 1204, records: 48_000, last_sync_at: ago(180) }, NOW)).toBe("1,204 matters · synced 3 h ago");
    expect(holdingsLabel({ matters: 1, records: 3, last_sync_at: ago(0) }, NOW)).toBe("1 matter · synced just now");
    expect(holdingsLabel(null, NOW)).toBe("Not reported");
  });
  it("scopes with their matter numbers", () => {
    expect(scopeLabel({ kind: "practice" })).toBe("Whole practice");
    expect(
      scopeLabel({
        kind: "matters",
        matters: [
          { id: "1", number: "HV-2026-0137", title: "a" },
          { id: "2", number: "HV-2026-0129", title: "b" },
        ],
      }),
    ).toBe("2 matters: HV-2026-0137, HV-2026-0129");
  });
  it("idle members and audit kinds", () => {
    expect(idleLabel(null)).toBe("Never signed in");
    expect(idleLabel(90)).toBe("90 days without signing in");
    expect(kindLabel("support_access_approved")).toBe("Support access approved");
  });
  it("an export's progress", () => {
    expect(exportProgressLabel({ stage: "preparing", done_bytes: 0, total_bytes: null })).toBe("Preparing…");
    const p = { stage: "downloading" as const, done_bytes: 1024 * 1024, total_bytes: 4 * 1024 * 1024 };
    expect(exportProgressLabel(p)).toBe("1.0 MB of 4.0 MB (25%)");
    expect(exportPercent(p)).toBe(25);
    expect(exportPercent({ stage: "downloading", done_bytes: 10, total_bytes: null })).toBeNull();
    expect(exportProgressLabel({ stage: "checking", done_bytes: 5, total_bytes: 5 })).toBe("Checking against its manifest…");
  });
});

describe("the audit log's filter", () => {
  const row = (occurred: Date, actor: string | null = "p1", kind = "sign_in"): AuditRow => ({
    seq: 1,
    occurred_at: occurred.toISOString(),
    actor_id: actor,
    actor_name: actor ? "Dana" : null,
    kind,
    summary: "",
    details: "{}",
  });

  it("sends only what is set", () => {
    expect(auditFilterFrom(EMPTY_FILTER_FORM)).toEqual({ filter: {}, problem: null });
    expect(auditFilterFrom({ actor: "p1", kind: "", from: "2026-11-01", to: "" })).toEqual({ filter: { actor_id: "p1", from: "2026-11-01" }, problem: null });
    expect(filterIsEmpty({})).toBe(true);
    expect(filterIsEmpty({ kind: "sign_in" })).toBe(false);
  });

  it("refuses dates that are not calendar days, or from after to", () => {
    expect(auditFilterFrom({ ...EMPTY_FILTER_FORM, from: "2026-02-30" }).problem).toMatch(/from.*not a calendar date/);
    expect(auditFilterFrom({ ...EMPTY_FILTER_FORM, to: "28/11/2026" }).problem).toMatch(/to.*not a calendar date/);
    expect(auditFilterFrom({ ...EMPTY_FILTER_FORM, from: "2026-11-10", to: "2026-11-01" }).problem).toMatch(/after/);
  });

  it("matches person, action and inclusive local days", () => {
    const late = new Date(2026, 10, 27, 23, 59);
    expect(matchesAuditFilter(row(late), {})).toBe(true);
    expect(matchesAuditFilter(row(late), { from: "2026-11-27", to: "2026-11-27" })).toBe(true);
    expect(matchesAuditFilter(row(late), { from: "2026-11-28" })).toBe(false);
    expect(matchesAuditFilter(row(late), { to: "2026-11-26" })).toBe(false);
    expect(matchesAuditFilter(row(late), { actor_id: "p2" })).toBe(false);
    expect(matchesAuditFilter(row(late, null), { actor_id: "p1" })).toBe(false);
    expect(matchesAuditFilter(row(late), { kind: "sign_out" })).toBe(false);
    expect(matchesAuditFilter(row(late), { actor_id: "p1", kind: "sign_in", from: null, to: null })).toBe(true);
  });

  it("says what it narrows to", () => {
    const actors = [{ id: "p1", name: "Dana Lee" }];
    expect(filterWords({}, actors)).toBe("all entries");
    expect(filterWords({ actor_id: "p1", kind: "sign_in", from: "2026-11-01", to: "2026-11-07" }, actors)).toBe("Dana Lee · sign in · 2026-11-01 to 2026-11-07");
  });
});

describe("cookie words", () => {
  const record = (over: Partial<ConsentRecord>): ConsentRecord => ({
    id: "r1",
    strictly_necessary: true,
    choices: { functional: true, analytics: false, items: {} },
    source: "user",
    surface: "web",
    policy_version: "2026-11-28",
    recorded_at: ago(60),
    ...over,
  });

  it("says who made the record, where, when, and under which policy", () => {
    expect(consentSourceLabel(record({}))).toBe("You");
    expect(consentSourceLabel(record({ source: "gpc" }))).toBe("Global Privacy Control");
    expect(consentSourceLabel(record({ source: "default" }))).toBe("The default");
    expect(consentRecordWords(record({}), NOW)).toBe("Chosen by you in a browser on 28 Nov, 14:30, under the cookie policy of 2026-11-28.");
    expect(consentRecordWords(record({ surface: "desktop" }), NOW)).toMatch(/^Chosen by you in the desktop app on 28 Nov, 14:30/);
    expect(consentRecordWords(record({ source: "gpc" }), NOW)).toMatch(/^Set by Global Privacy Control on 28 Nov, 14:30: .*You have not chosen yourself yet\.$/);
    expect(consentRecordWords(record({ source: "default", id: null, surface: null, recorded_at: null }), NOW)).toBe(
      "Nothing chosen yet, so the default holds: only strictly necessary cookies are on (cookie policy of 2026-11-28).",
    );
    expect(consentSummary(record({}).choices)).toBe("Functional on · Analytics off");
  });

  it("an item follows its category unless it has its own choice; strictly necessary is always on", () => {
    const item = (category: CatalogueItem["category"], name = "x"): CatalogueItem => ({
      name,
      kind: "cookie",
      category,
      purpose: "",
      lifetime: "",
      max_age_secs: null,
      set_by: "service",
      holds: "",
    });
    const choices = { functional: true, analytics: false, items: { own: false } };
    expect(itemChosen(choices, item("functional"))).toEqual({ on: true, own: false });
    expect(itemChosen(choices, item("analytics"))).toEqual({ on: false, own: false });
    expect(itemChosen(choices, item("functional", "own"))).toEqual({ on: false, own: true });
    expect(itemChosen({ functional: false, analytics: false, items: {} }, item("strictly_necessary"))).toEqual({ on: true, own: false });
    expect(setByLabel("service")).toBe("The Strongroom service");
    expect(setByLabel("web_ui")).toBe("These pages' own script");
  });

  it("builds the service's change: every category named (null: unchanged), items as given", () => {
    expect(consentChange("reject_all")).toEqual({ action: "reject_all", categories: { strictly_necessary: null, functional: null, analytics: null }, items: {} });
    expect(consentChange("custom", { analytics: true }, { a: null })).toEqual({
      action: "custom",
      categories: { strictly_necessary: null, functional: null, analytics: true },
      items: { a: null },
    });
  });

  it("the banner asks only while the member has no choice of their own under this policy", () => {
    const state = (choice_needed: boolean) => ({ choice_needed }) as ConsentState;
    expect(bannerNeeded(null)).toBe(false);
    expect(bannerNeeded(state(true))).toBe(true);
    expect(bannerNeeded(state(false))).toBe(false);
  });
});

describe("notification words", () => {
  it("names categories and channels, and how a choice was last made", () => {
    expect(notificationCategoryLabel("security_alerts")).toBe("Security alerts");
    expect(notificationCategoryLabel("usage_suggestions")).toBe("Usage suggestions");
    expect(notificationCategoryWhat("breach_notices")).toMatch(/breach/);
    expect(["email", "in_app", "desktop"].map((c) => channelLabel(c as "email"))).toEqual(["Email", "In app", "Desktop notification"]);
    expect(choiceSourceWords({ enabled: true, source: "default", changed_at: null }, NOW)).toBe("Default");
    expect(choiceSourceWords({ enabled: true, source: "web", changed_at: ago(60) }, NOW)).toBe("You, in a browser, 28 Nov, 14:30");
    expect(choiceSourceWords({ enabled: true, source: "user", changed_at: ago(60) }, NOW)).toBe("You, in the desktop app, 28 Nov, 14:30");
    expect(choiceSourceWords({ enabled: false, source: "unsubscribe_link", changed_at: ago(60) }, NOW)).toBe("An email's unsubscribe link, 28 Nov, 14:30");
  });

  it("the inbox: unread first, then newest; notices not meant for the inbox are left out", () => {
    const n = (id: string, mins: number, read: boolean, in_app = true): Notice => ({
      id,
      category: "tips",
      title: id,
      body: "",
      created_at: ago(mins),
      read_at: read ? ago(1) : null,
      in_app,
      desktop: false,
    });
    const list = [n("old-read", 500, true), n("new-read", 5, true), n("old-unread", 400, false), n("new-unread", 10, false), n("desktop-only", 1, false, false)];
    expect(inboxOrder(list).map((x) => x.id)).toEqual(["new-unread", "old-unread", "new-read", "old-read"]);
    expect(unreadLabel(list)).toBe("2 unread");
    expect(unreadLabel([])).toBe("Nothing unread");
  });

  it("names a report's week by its Monday", () => {
    expect(weekLabel("2026-11-23")).toBe("Week of 23 Nov 2026");
    expect(weekLabel("not a date")).toBe("not a date");
  });
});

describe("breach-notice words", () => {
  const now = new Date(2026, 10, 28, 12, 0);
  it("says how long after the recording something reached the member, to the second", () => {
    expect(shortSpanWords(400)).toBe("less than a second");
    expect(shortSpanWords(4_200)).toBe("4 s");
    expect(shortSpanWords(125_000)).toBe("2 min 5 s");
    expect(shortSpanWords(120_000)).toBe("2 min");
    expect(shortSpanWords(3 * 3600_000 + 12 * 60_000)).toBe("3 h 12 min");
    expect(afterRecordingWords("2026-11-27T12:30:00.250Z", "2026-11-27T12:30:04.350Z")).toBe("4 s after it was recorded");
    expect(afterRecordingWords("2026-11-27T12:30:00.250Z", "2026-11-27T12:30:00Z")).toBe("within a second of its recording");
    expect(afterRecordingWords("2026-11-27T12:30:00Z", "2026-11-27T12:32:05Z")).toBe("2 min 5 s after it was recorded");
    expect(afterRecordingWords("nonsense", "2026-11-27T12:32:05Z")).toBe("");
  });

  it("says whether a regulator was told, and when", () => {
    expect(regulatorWords({ notified: false, regulator: null, notified_at: null })).toBe("No regulator has been notified.");
    expect(regulatorWords({ notified: true, regulator: "OAIC", notified_at: null })).toBe("OAIC has been notified.");
    const at = new Date(2026, 10, 27, 9, 5).toISOString();
    expect(regulatorWords({ notified: true, regulator: "OAIC", notified_at: at }, now)).toBe("OAIC was notified on 27 Nov, 09:05.");
  });

  it("puts the notices not yet acknowledged first, then the newest", () => {
    const i = (id: string, recorded_at: string, acknowledged_at: string | null) => ({ id, recorded_at, acknowledged_at }) as MemberIncident;
    const order = incidentOrder([i("a", "2026-01-01T00:00:00Z", null), i("b", "2026-06-01T00:00:00Z", "x"), i("c", "2026-03-01T00:00:00Z", null)]);
    expect(order.map((x) => x.id)).toEqual(["c", "a", "b"]);
  });
});

describe("policy and diff words", () => {
  const hunk: DiffHunk = { old_start: 2, old_lines: 7, new_start: 2, new_lines: 8, lines: [] };
  it("sums up a diff and names each hunk's lines in both versions", () => {
    expect(diffSummaryWords({ from_version: "1", to_version: "2", hunks: [], inserted: 0, deleted: 0 })).toBe("No changes");
    expect(diffSummaryWords({ from_version: "1", to_version: "2", hunks: [], inserted: 3, deleted: 1 })).toBe("3 lines added and 1 removed");
    expect(diffSummaryWords({ from_version: "1", to_version: "2", hunks: [], inserted: 1, deleted: 0 })).toBe("1 line added");
    expect(diffSummaryWords({ from_version: "1", to_version: "2", hunks: [], inserted: 0, deleted: 2 })).toBe("2 lines removed");
    expect(hunkRangeWords(5, 1)).toBe("line 5");
    expect(hunkRangeWords(0, 0)).toBe("no lines (after line 0)");
    expect(hunkHeading(hunk, "2026-11-28", "2027-01")).toBe("Version 2026-11-28: lines 2–8; version 2027-01: lines 2–9");
    expect(hunkHeading({ ...hunk, old_start: 0, old_lines: 0 }, null, "2027-01")).toBe("Before (nothing): nothing acknowledged; version 2027-01: lines 2–9");
    expect(unifiedHeader(hunk)).toBe("@@ -2,7 +2,8 @@");
    expect(linesBetween(hunk, { ...hunk, new_start: 20 })).toBe(10);
    expect(linesBetween(hunk, { ...hunk, new_start: 10 })).toBe(0);
  });

  it("marks lines with a symbol and words, not colour alone", () => {
    expect(diffMark("insert")).toEqual({ symbol: "+", words: "Added" });
    expect(diffMark("delete")).toEqual({ symbol: "−", words: "Removed" });
    expect(diffMark("equal")).toEqual({ symbol: "", words: "Unchanged" });
  });

  it("reads a policy's Markdown as headings, paragraphs and lists, and nothing else", () => {
    const blocks = markdownBlocks("# Title\n\nVersion 1. Some\nwords.\n\n## 2. Access\n- one\n- two\n  more\nAfter <b>x</b>.\n");
    expect(blocks).toEqual([
      { kind: "heading", level: 1, text: "Title" },
      { kind: "paragraph", text: "Version 1. Some words." },
      { kind: "heading", level: 2, text: "2. Access" },
      { kind: "list", items: ["one", "two more"] },
      { kind: "paragraph", text: "After <b>x</b>." },
    ]);
  });

  it("orders the policies privacy first and names them", () => {
    const p = (kind: PolicyKind) => ({ kind }) as MemberPolicy;
    expect(policyOrder([p("terms"), p("privacy")]).map((x) => x.kind)).toEqual(["privacy", "terms"]);
    expect(policyKindLabel("terms")).toBe("Terms of use");
    expect(policyKindWords("privacy")).toBe("the privacy policy");
  });
});

describe("what needs attention", () => {
  const inc = (acknowledged_at: string | null) => ({ acknowledged_at }) as MemberIncident;
  const pol = (kind: PolicyKind, up_to_date: boolean, acknowledged_version: string | null) => ({ kind, up_to_date, acknowledged_version }) as MemberPolicy;
  it("counts the notices and policies waiting for the member", () => {
    const a = attentionOf([inc(null), inc("x"), inc(null)], [pol("terms", false, null), pol("privacy", false, "1")]);
    expect(a).toEqual({ incidents: 2, policies: [{ kind: "privacy", changed: true }, { kind: "terms", changed: false }] });
    expect(attentionCount(a)).toBe(4);
    expect(attentionCount(attentionOf(null, null))).toBe(0);
    expect(attentionOf([inc("x")], [pol("privacy", true, "2")])).toEqual({ incidents: 0, policies: [] });
  });

  it("says it in a sentence", () => {
    expect(incidentAttentionWords(0)).toBeNull();
    expect(incidentAttentionWords(1)).toMatch(/^A security incident affecting your practice has been recorded/);
    expect(incidentAttentionWords(2)).toMatch(/^2 security incidents/);
    expect(policyAttentionWords([])).toBeNull();
    expect(policyAttentionWords([{ kind: "privacy", changed: true }])).toBe("The privacy policy has changed since you last acknowledged it.");
    expect(policyAttentionWords([{ kind: "terms", changed: true }])).toBe("The terms of use have changed since you last acknowledged it.");
    expect(policyAttentionWords([{ kind: "privacy", changed: false }, { kind: "terms", changed: false }])).toBe(
      "You have not yet acknowledged the privacy policy and the terms of use.",
    );
    expect(policyAttentionWords([{ kind: "privacy", changed: true }, { kind: "terms", changed: false }])).toMatch(/^The privacy policy and the terms of use need your acknowledgement/);
  });
});
