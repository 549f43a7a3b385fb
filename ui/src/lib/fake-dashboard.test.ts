// The fake backend's dashboard keeps the contract the UI is built against.
import { describe, expect, it } from "vitest";
import { BackendError } from "./errors";
import { FakeBackend } from "./fake-backend";
import {
  ANALYTICS_COOKIE,
  DISPLAY_COOKIE,
  FAKE_DASHBOARD,
  INCIDENT_IDS,
  ME,
  SESSION_COOKIE,
  THIS_PRACTICE,
  aggregateUsage,
  weekStart,
  type UsageEvent,
} from "./fake-dashboard";
import { consentChange } from "./dashboard";
import { FIRST_VERSION, NEW_PRIVACY_VERSION, lineDiff } from "./fake-policies";
import type { ExportProgress } from "./dashboard-types";

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return e instanceof BackendError ? e.code : String(e);
  }
}

function online(): FakeBackend {
  const b = new FakeBackend("signed-in");
  b.goOnline();
  b.dashboard.exportStepMs = 1;
  return b;
}

describe("the fake dashboard", () => {
  it("sessions: the current one cannot be revoked from its row; the others can, one or all", async () => {
    const b = online();
    const { value } = await b.sessions();
    expect(value.length).toBe(4);
    expect(value.filter((s) => s.current).length).toBe(1);
    expect(value.some((s) => s.holdings === null)).toBe(true);
    const current = value.find((s) => s.current)!;
    expect(await code(b.revokeSession(current.id))).toBe("conflict");
    const other = value.find((s) => !s.current)!;
    await b.revokeSession(other.id);
    expect((await b.sessions()).value.length).toBe(3);
    expect(await b.revokeOtherSessions()).toBe(2);
    expect((await b.sessions()).value.map((s) => s.current)).toEqual([true]);
  });

  it("members: dormant review flags the 90-day and never-signed-in members and the unused invitation; completing disables and records", async () => {
    const b = online();
    const review = await b.accessReview(60);
    expect(review.dormant.map((d) => [d.member.display_name, d.days_idle])).toEqual([
      ["Tom Whitfield", 90],
      ["Aisha Karim", null],
    ]);
    expect(review.unused_invitations.map((i) => i.status)).toEqual(["expired"]);
    expect(review.last_review?.dormant_days).toBe(60);
    const record = await b.completeAccessReview(
      60,
      review.dormant.map((d) => d.member.id),
      review.unused_invitations.map((i) => i.id),
    );
    expect(record).toMatchObject({ disabled: 2, invitations_revoked: 1, dormant_days: 60 });
    const after = await b.accessReview(60);
    expect(after.dormant).toEqual([]);
    expect(after.last_review).toEqual(record);
    const tom = (await b.members()).value.find((m) => m.display_name === "Tom Whitfield")!;
    expect(tom).toMatchObject({ disabled: true, session_count: 0 });
    const log = await b.auditLog({ kind: "access_review_completed" });
    expect(log.total).toBe(1);
  });

  it("members: invite, change role, disable; never yourself", async () => {
    const b = online();
    const sent = await b.invite("New.Person@harbourvine.example", "lawyer");
    expect(sent.invitation).toMatchObject({ email: "new.person@harbourvine.example", status: "pending" });
    expect(sent.token).toMatch(/^INV-/);
    expect(await code(b.invite("not an address", "lawyer"))).toBe("invalid_input");
    expect(await code(b.invite("new.person@harbourvine.example", "lawyer"))).toBe("conflict");
    const mei = (await b.members()).value.find((m) => m.display_name === "Mei-Lin Cho")!;
    expect((await b.updateMember(mei.id, { role: "read_only" })).role).toBe("read_only");
    expect(await b.updateMember(mei.id, { disabled: true })).toMatchObject({ disabled: true, session_count: 0 });
    expect(await code(b.updateMember(ME, { disabled: true }))).toBe("conflict");
  });

  it("support: approving needs a fresh re-authentication; decline and revoke end a request or grant", async () => {
    const b = online();
    const grants = (await b.supportGrants()).value;
    expect(new Set(grants.map((g) => g.status))).toEqual(new Set(["requested", "active", "declined", "expired", "revoked"]));
    const req = grants.find((g) => g.status === "requested" && g.scope.kind === "matters")!;
    expect(await code(b.approveGrant(req.id))).toBe("reauth_required");
    expect(await code(b.reauthenticate("wrong"))).toBe("wrong_password");
    expect(await code(b.reauthenticate(FAKE_DASHBOARD.password, "000000"))).toBe("wrong_code");
    await b.reauthenticate(FAKE_DASHBOARD.password);
    const approved = await b.approveGrant(req.id);
    expect(approved.status).toBe("active");
    expect(new Date(approved.expires_at!).getTime() - new Date(approved.decided_at!).getTime()).toBe(24 * 3600_000);
    expect(await code(b.approveGrant(req.id))).toBe("conflict");
    const other = grants.find((g) => g.status === "requested" && g.id !== req.id)!;
    expect((await b.declineGrant(other.id)).status).toBe("declined");
    expect((await b.revokeGrant(approved.id)).status).toBe("revoked");
    // A staff request after revocation is refused, and shown.
    expect(b.dashboard.staffRequest(approved.id, "GET /x", "1 matter", 1).allowed).toBe(false);
    const log = (await b.supportAccessLog(approved.id)).value;
    expect(log.length).toBe(1);
    expect(log[0]?.allowed).toBe(false);
    expect((await b.supportAccessLog()).value.length).toBeGreaterThan(log.length);
  });

  it("apps: the token is given once at creation; revoke marks it", async () => {
    const b = online();
    const apps = (await b.integrations()).value;
    expect(apps.filter((a) => a.revoked_at !== null).length).toBe(1);
    const made = await b.createIntegration("Smokeball sync", ["records:read"]);
    expect(made.token).toMatch(/^sr_live_/);
    expect(JSON.stringify((await b.integrations()).value)).not.toContain(made.token);
    expect((await b.revokeIntegration(made.integration.id)).revoked_at).not.toBeNull();
    expect(await code(b.createIntegration("", ["records:read"]))).toBe("invalid_input");
    expect(await code(b.createIntegration("X", []))).toBe("invalid_input");
  });

  it("audit: about 200 entries, a verified chain, filters; actions append to it", async () => {
    const b = online();
    const all = await b.auditLog({});
    expect(all.total).toBe(FAKE_DASHBOARD.auditEntries);
    expect(all.check).toEqual({ status: "verified", entries: FAKE_DASHBOARD.auditEntries });
    expect(all.rows[0]!.seq).toBe(FAKE_DASHBOARD.auditEntries);
    const person = all.actors[0]!;
    const mine = await b.auditLog({ actor_id: person.id });
    expect(mine.total).toBeGreaterThan(0);
    expect(mine.rows.every((r) => r.actor_id === person.id)).toBe(true);
    await b.revokeOtherSessions();
    const after = await b.auditLog({ kind: "session_revoked" });
    expect(after.rows[0]!.seq).toBe(FAKE_DASHBOARD.auditEntries + 1);
    expect((await b.auditLog({})).check.status).toBe("verified");
    expect(await b.exportAuditLog({ kind: "sign_in" }, "csv")).toMatch(/Downloads\/.*filtered\.csv$/);
  });

  it("audit: a tampered entry is found, by number", async () => {
    const b = new FakeBackend("dashboard-broken-chain");
    const log = await b.auditLog({});
    expect(log.check).toMatchObject({ status: "broken", seq: FAKE_DASHBOARD.brokenSeq });
  });

  it("export: progress in stages, then a checked result", async () => {
    const b = online();
    const seen: ExportProgress[] = [];
    const r = await b.exportPractice((p) => seen.push(p));
    expect(seen[0]?.stage).toBe("preparing");
    expect(seen.some((p) => p.stage === "downloading")).toBe(true);
    expect(seen.at(-1)?.stage).toBe("done");
    expect(r).toMatchObject({ verified: true, files: 14 });
    expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("offline: reads answer the vault's older copy; actions fail offline; this device's export still works", async () => {
    const b = new FakeBackend("dashboard-offline");
    b.dashboard.exportStepMs = 1;
    const s = await b.sessions();
    expect(s.offline).toBe(true);
    expect(Date.now() - new Date(s.fetched_at).getTime()).toBeGreaterThan(24 * 3600_000);
    expect(await code(b.revokeOtherSessions())).toBe("offline");
    expect(await code(b.invite("x@y.example", "lawyer"))).toBe("offline");
    expect(await code(b.approveGrant("x"))).toBe("offline");
    expect(await code(b.exportPractice(() => {}))).toBe("offline");
    expect((await b.auditLog({})).offline).toBe(true);
    expect((await b.exportVault(() => {})).verified).toBe(true);
  });

  it("a lawyer: admin reads and the practice export are forbidden; their own devices and export are not", async () => {
    const b = new FakeBackend("dashboard-lawyer");
    b.dashboard.exportStepMs = 1;
    for (const p of [b.members(), b.invitations(), b.supportGrants(), b.integrations(), b.accessReview(60), b.exportPractice(() => {})])
      expect(await code(p)).toBe("forbidden");
    expect((await b.sessions()).value.length).toBe(4);
    expect((await b.exportVault(() => {})).verified).toBe(true);
  });
});

describe("the fake dashboard's cookies, notifications and usage keep the service's rules", () => {
  it("consent: the default until a choice; accept all and reject all; per category and per item; history newest first", async () => {
    const b = online();
    const catalogue = (await b.cookieCatalogue()).value;
    expect(catalogue.categories.map((c) => [c.category, c.locked])).toEqual([
      ["strictly_necessary", true],
      ["functional", false],
      ["analytics", false],
    ]);
    expect(catalogue.items.map((i) => i.name)).toEqual([SESSION_COOKIE, DISPLAY_COOKIE, ANALYTICS_COOKIE]);
    let s = (await b.consent()).value;
    expect(s.current).toMatchObject({ id: null, source: "default", surface: null, recorded_at: null, choices: { functional: false, analytics: false } });
    expect(s.choice_needed).toBe(true);
    expect(s.effective.items).toEqual({ [SESSION_COOKIE]: true, [DISPLAY_COOKIE]: false, [ANALYTICS_COOKIE]: false });
    s = await b.changeConsent(consentChange("accept_all"));
    expect(s.current).toMatchObject({ source: "user", surface: "desktop", choices: { functional: true, analytics: true } });
    expect(s.choice_needed).toBe(false);
    s = await b.changeConsent(consentChange("reject_all"));
    expect(s.effective).toMatchObject({ functional: false, analytics: false });
    s = await b.changeConsent(consentChange("custom", { functional: true }, { [DISPLAY_COOKIE]: false, [ANALYTICS_COOKIE]: true }));
    expect(s.effective.items).toEqual({ [SESSION_COOKIE]: true, [DISPLAY_COOKIE]: false, [ANALYTICS_COOKIE]: true });
    s = await b.changeConsent(consentChange("custom", {}, { [DISPLAY_COOKIE]: null }));
    expect(s.effective.items[DISPLAY_COOKIE]).toBe(true);
    expect(s.history.map((r) => r.choices.functional)).toEqual([true, true, false, true]);
    const log = await b.auditLog({ kind: "consent_changed" });
    expect(log.total).toBe(4);
  });

  it("consent: strictly necessary cannot be refused, by category or by item, and nothing is recorded", async () => {
    const b = online();
    const locked = { ...consentChange("custom"), categories: { strictly_necessary: false, functional: null, analytics: null } };
    expect(await code(b.changeConsent(locked))).toBe("strictly_necessary_locked");
    expect(await code(b.changeConsent(consentChange("custom", {}, { [SESSION_COOKIE]: false })))).toBe("strictly_necessary_locked");
    expect(await code(b.changeConsent(consentChange("custom", {}, { tracker: true })))).toBe("invalid_input");
    expect(await code(b.changeConsent(consentChange("accept_all", { analytics: true })))).toBe("invalid_input");
    expect((await b.consent()).value.history).toEqual([]);
  });

  it("Global Privacy Control: a gpc record for a member with none; analytics off while it is sent, an opt-in kept for where it is not", async () => {
    const b = online();
    b.dashboard.gpc = true;
    let s = (await b.consent()).value;
    expect(s.gpc).toBe(true);
    expect(s.current.source).toBe("gpc");
    expect(s.choice_needed).toBe(true);
    s = await b.changeConsent(consentChange("accept_all"));
    expect(s.current.choices.analytics).toBe(true);
    expect(s.effective.analytics).toBe(false);
    expect(s.effective.items[ANALYTICS_COOKIE]).toBe(false);
    b.dashboard.gpc = false;
    expect((await b.consent()).value.effective.analytics).toBe(true);
  });

  it("notifications: essential categories are on everywhere with their reason, and cannot be turned off; changes are all or none", async () => {
    const b = online();
    const prefs = (await b.notificationPreferences()).value;
    expect(prefs.categories).toHaveLength(8);
    const essential = prefs.categories.filter((c) => c.essential);
    expect(essential.map((c) => c.category)).toEqual(["security_alerts", "breach_notices", "billing", "service_notices", "policy_changes"]);
    for (const c of essential) {
      expect(c.reason).toBeTruthy();
      expect([c.email.enabled, c.in_app.enabled, c.desktop.enabled]).toEqual([true, true, true]);
    }
    const tips = prefs.categories.find((c) => c.category === "tips")!;
    expect([tips.email.enabled, tips.in_app.enabled, tips.desktop.enabled, tips.reason]).toEqual([false, true, false, null]);

    const p = b.updateNotificationPreferences({
      changes: [
        { category: "tips", channel: "email", enabled: true },
        { category: "security_alerts", channel: "email", enabled: false },
      ],
      source: "user",
    });
    await expect(p).rejects.toMatchObject({ code: "essential_category" });
    expect((await b.notificationPreferences()).value.categories.find((c) => c.category === "tips")!.email.enabled).toBe(false);

    const after = await b.updateNotificationPreferences({
      changes: [
        { category: "tips", channel: "email", enabled: true },
        { category: "billing", channel: "email", enabled: true },
      ],
      source: "web",
    });
    const t = after.categories.find((c) => c.category === "tips")!;
    expect(t.email).toMatchObject({ enabled: true, source: "web" });
    expect(t.email.changed_at).toMatch(/Z$/);
    expect(after.categories.find((c) => c.category === "billing")!.email.source).toBe("default");
  });

  it("the inbox: newest first; mark read once; an unknown notice is not found; offline, reading marks nothing", async () => {
    const b = online();
    const list = (await b.notices()).value;
    expect(list.length).toBeGreaterThan(3);
    expect([...list].sort((x, y) => (x.created_at < y.created_at ? 1 : -1))).toEqual(list);
    const unread = list.find((n) => n.read_at === null)!;
    await b.markNoticeRead(unread.id);
    const read = (await b.notices()).value.find((n) => n.id === unread.id)!;
    expect(read.read_at).not.toBeNull();
    await b.markNoticeRead(unread.id);
    expect((await b.notices()).value.find((n) => n.id === unread.id)!.read_at).toBe(read.read_at);
    expect(await code(b.markNoticeRead("00000000-0000-4000-8000-000000000000"))).toBe("not_found");
    b.goOffline();
    expect(await code(b.markNoticeRead(unread.id))).toBe("offline");
    expect(await code(b.changeConsent(consentChange("accept_all")))).toBe("offline");
    expect(await code(b.updateNotificationPreferences({ changes: [], source: "user" }))).toBe("offline");
    expect((await b.notices()).offline).toBe(true);
  });

  it("usage: administrators only; no week of fewer than five practices; this practice counted only while the member allows analytics", async () => {
    const lawyer = new FakeBackend("dashboard-lawyer");
    expect(await code(lawyer.usageReportPreview())).toBe("forbidden");
    const b = online();
    let r = (await b.usageReportPreview()).value;
    expect(r.min_group_practices).toBe(5);
    expect(r.buckets.length + r.suppressed_weeks.length).toBe(4);
    expect(r.buckets.every((w) => w.practices >= 5)).toBe(true);
    expect(r.suppressed_weeks).toHaveLength(1);
    expect(r.this_practice_counted).toBe(false);
    await b.changeConsent(consentChange("custom", { analytics: true }));
    r = (await b.usageReportPreview()).value;
    expect(r.this_practice_counted).toBe(true);
    expect(r.suppressed_weeks).toHaveLength(1);
  });

  it("usage: the aggregate never emits a week of fewer than five practices, and sums the rest exactly", () => {
    const now = Date.UTC(2026, 10, 28, 12);
    expect(new Date(weekStart(now)).toISOString()).toBe("2026-11-23T00:00:00.000Z");
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 100; round++) {
      const events: UsageEvent[] = [];
      for (let p = 0; p < 9; p++)
        for (let k = Math.floor(rand() * 4); k > 0; k--)
          events.push({ practice: `p${p}`, user: `u${p}.${Math.floor(rand() * 3)}`, at: now - Math.floor(rand() * 35 * 86_400_000) });
      const r = aggregateUsage(events, now, "p0");
      expect(r.buckets.length + r.suppressed_weeks.length).toBe(4);
      for (const w of r.buckets) {
        expect(w.practices).toBeGreaterThanOrEqual(5);
        const inWeek = events.filter((e) => new Date(weekStart(e.at)).toISOString().slice(0, 10) === w.week_start);
        expect(w.sign_ins).toBe(inWeek.length);
        expect(w.practices).toBe(new Set(inWeek.map((e) => e.practice)).size);
      }
    }
    expect(aggregateUsage([], now, THIS_PRACTICE)).toMatchObject({ buckets: [], this_practice_counted: false });
  });
});

describe("the fake dashboard's breach notices and policy updates keep the service's rules", () => {
  it("a recorded incident affecting the practice, with every statutory field and the member's own delivery", async () => {
    const b = online();
    const list = (await b.incidents()).value;
    expect(list.map((i) => i.id)).toEqual(INCIDENT_IDS);
    const [open, old] = list;
    expect(open.acknowledged_at).toBeNull();
    expect(old.acknowledged_at).not.toBeNull();
    expect(old.occurred_at).toBeNull();
    expect(open.regulator).toMatchObject({ notified: true, regulator: "Office of the Australian Information Commissioner" });
    for (const f of ["title", "description", "detected_at", "steps_taken", "recommendations", "contact", "recorded_by", "recorded_at"] as const) {
      expect(open[f].length, f).toBeGreaterThan(3);
    }
    expect(open.data_kinds.length).toBeGreaterThan(0);
    // The notice is made with the record; the email leaves seconds later.
    const delivered = new Date(open.email_delivered_at!).getTime() - new Date(open.recorded_at).getTime();
    expect(delivered).toBeGreaterThan(1000);
    expect(delivered).toBeLessThan(10_000);
    expect(Math.abs(new Date(open.notice_created_at!).getTime() - new Date(open.recorded_at).getTime())).toBeLessThan(1000);
  });

  it("acknowledging is idempotent, and shows in the administrators' table; others may not read it", async () => {
    const b = online();
    const before = (await b.incidentAcknowledgements(INCIDENT_IDS[0])).value;
    expect(before.members.length).toBe(7);
    expect(before.members.find((m) => m.member_id === ME)?.acknowledged_at).toBeNull();
    expect(before.members.filter((m) => !m.notified).map((m) => m.display_name)).toEqual(["Rhys Morgan"]);
    const first = await b.acknowledgeIncident(INCIDENT_IDS[0]);
    expect(first.acknowledged_at).not.toBeNull();
    const again = await b.acknowledgeIncident(INCIDENT_IDS[0]);
    expect(again.acknowledged_at).toBe(first.acknowledged_at);
    const after = (await b.incidentAcknowledgements(INCIDENT_IDS[0])).value;
    expect(after.acknowledged).toBe(before.acknowledged + 1);
    expect(after.members.find((m) => m.member_id === ME)?.acknowledged_at).toBe(first.acknowledged_at);
    const audited = (await b.auditLog({ kind: "incident_acknowledged" })).rows;
    expect(audited.length).toBe(1);
    expect(await code(b.acknowledgeIncident("00000000-0000-4000-8000-000000000000"))).toBe("not_found");

    const lawyer = new FakeBackend("dashboard-lawyer");
    lawyer.goOnline();
    expect(await code(lawyer.incidentAcknowledgements(INCIDENT_IDS[0]))).toBe("forbidden");
    expect(await code(lawyer.acknowledgeIncident(INCIDENT_IDS[0]))).toBe("ok");
  });

  it("offline: the vault's copy to read, and no acknowledgement", async () => {
    const b = new FakeBackend("dashboard-offline");
    const read = await b.incidents();
    expect(read.offline).toBe(true);
    expect(await code(b.acknowledgeIncident(INCIDENT_IDS[0]))).toBe("offline");
    expect((await b.policies()).offline).toBe(true);
    expect(await code(b.acknowledgePolicy("privacy", NEW_PRIVACY_VERSION))).toBe("offline");
  });

  it("policies: the current version of each, the diff from the one acknowledged, a stale acknowledgement refused", async () => {
    const b = online();
    let [privacy, terms] = (await b.policies()).value;
    expect([privacy.kind, terms.kind]).toEqual(["privacy", "terms"]);
    expect(terms).toMatchObject({ up_to_date: true, acknowledged_version: FIRST_VERSION, diff: { hunks: [], inserted: 0, deleted: 0 } });
    expect(privacy).toMatchObject({ up_to_date: false, acknowledged_version: FIRST_VERSION, current: { version: NEW_PRIVACY_VERSION } });
    expect(privacy.diff.from_version).toBe(FIRST_VERSION);
    expect(privacy.diff.inserted).toBeGreaterThan(0);
    expect(privacy.diff.deleted).toBeGreaterThan(0);
    const doc = await b.policyDocument("privacy", NEW_PRIVACY_VERSION);
    expect(doc).toMatchObject({ kind: "privacy", version: NEW_PRIVACY_VERSION, current: true });
    expect((await b.policyDocument("privacy", FIRST_VERSION)).current).toBe(false);
    expect(await code(b.policyDocument("terms", "1999"))).toBe("not_found");

    expect(await code(b.acknowledgePolicy("privacy", FIRST_VERSION))).toBe("policy_version_not_current");
    privacy = await b.acknowledgePolicy("privacy", NEW_PRIVACY_VERSION);
    expect(privacy).toMatchObject({ up_to_date: true, acknowledged_version: NEW_PRIVACY_VERSION, diff: { hunks: [] } });
    const at = privacy.acknowledged_at;
    expect((await b.acknowledgePolicy("privacy", NEW_PRIVACY_VERSION)).acknowledged_at).toBe(at);
    expect((await b.auditLog({ kind: "policy_acknowledged" })).rows.length).toBe(1);

    // A new version of the terms: the member is behind again, and told in the inbox.
    b.dashboard.publishPolicy("terms", "2027-02", "A new section.", "# Terms\n\nNew.\n");
    [, terms] = (await b.policies()).value;
    expect(terms).toMatchObject({ up_to_date: false, acknowledged_version: FIRST_VERSION, current: { version: "2027-02", summary: "A new section." } });
    expect((await b.notices()).value.some((n) => n.category === "policy_changes" && /terms of use has changed \(version 2027-02\)/.test(n.title))).toBe(true);
  });

  it("the diff is the service's: hunks with three lines of context, numbered as a unified diff (crates/server/src/policies.rs's own case)", () => {
    const old = Array.from({ length: 20 }, (_, i) => `line ${i + 1}\n`).join("");
    const next = old.replace("line 5\n", "line five\n").replace("line 18\n", "") + "line 21\n";
    const d = lineDiff("1", old, "2", next);
    expect([d.inserted, d.deleted]).toEqual([2, 2]);
    expect(d.hunks.length).toBe(2);
    const h = d.hunks[0];
    expect([h.old_start, h.old_lines, h.new_start, h.new_lines]).toEqual([2, 7, 2, 7]);
    expect(h.lines.length).toBe(8);
    expect(h.lines.find((l) => l.tag === "delete")).toEqual({ tag: "delete", old_line: 5, new_line: null, text: "line 5" });
    expect(h.lines.find((l) => l.tag === "insert")).toEqual({ tag: "insert", old_line: null, new_line: 5, text: "line five" });
    expect(h.lines.filter((l) => l.tag === "equal").length).toBe(6);
    // Nothing acknowledged: every line inserted, one hunk from line 0.
    const none = lineDiff(null, "", "2", next);
    expect(none.deleted).toBe(0);
    expect(none.inserted).toBe(next.split("\n").length - 1);
    expect(none.hunks.length).toBe(1);
    expect(none.hunks[0].old_start).toBe(0);
    // The same version: no hunks.
    expect(lineDiff("2", next, "2", next).hunks).toEqual([]);
  });
});
