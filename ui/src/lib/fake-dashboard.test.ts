// The fake backend's dashboard keeps the contract the UI is built against.
import { describe, expect, it } from "vitest";
import { BackendError } from "./errors";
import { FakeBackend } from "./fake-backend";
import { FAKE_DASHBOARD, ME } from "./fake-dashboard";
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
