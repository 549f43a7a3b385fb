// The desktop backend calls the dashboard's Tauri commands by the names and argument names
// the Rust side registers, and hears an export's progress only while the export runs.
import { beforeEach, describe, expect, it, vi } from "vitest";

const calls: { cmd: string; args: unknown }[] = [];
const events: string[] = [];
let progressHandler: ((e: { payload: unknown }) => void) | null = null;

vi.mock("@tauri-apps/api/core", () => ({
  invoke: vi.fn(async (cmd: string, args?: unknown) => {
    calls.push({ cmd, args });
    events.push(`invoke ${cmd}`);
    if (cmd === "revoke_session") throw { code: "offline", message: "no network" };
    if (cmd === "export_practice" || cmd === "export_vault") {
      progressHandler?.({ payload: { stage: "downloading", done_bytes: 5, total_bytes: 10 } });
      return { path: "/x.zip", bytes: 10, files: 14, records: 3, sha256: "ab", verified: true };
    }
    return null;
  }),
}));

vi.mock("@tauri-apps/api/event", () => ({
  listen: vi.fn(async (name: string, handler: (e: { payload: unknown }) => void) => {
    events.push(`listen ${name}`);
    progressHandler = handler;
    return () => {
      events.push(`unlisten ${name}`);
      progressHandler = null;
    };
  }),
}));

const { TauriBackend, EXPORT_PROGRESS_EVENT } = await import("./backend");
const { BackendError, humanMessage } = await import("./errors");

describe("TauriBackend's dashboard commands", () => {
  beforeEach(() => {
    calls.length = 0;
    events.length = 0;
  });

  it("names each command and its arguments as the core registers them", async () => {
    const b = new TauriBackend();
    await b.sessions();
    await b.revokeOtherSessions();
    await b.members();
    await b.invitations();
    await b.invite("a@b.example", "lawyer");
    await b.revokeInvitation("i1");
    await b.updateMember("m1", { role: "read_only" });
    await b.accessReview(60);
    await b.completeAccessReview(60, ["m1"], ["i1"]);
    await b.reauthenticate("pw");
    await b.reauthenticate("pw", "123456");
    await b.supportGrants();
    await b.approveGrant("g1");
    await b.declineGrant("g2");
    await b.revokeGrant("g3");
    await b.supportAccessLog();
    await b.supportAccessLog("g3");
    await b.integrations();
    await b.createIntegration("Xero", ["records:read"]);
    await b.revokeIntegration("t1");
    await b.auditLog({ kind: "sign_in" });
    await b.exportAuditLog({}, "csv");
    await b.cookieCatalogue();
    await b.consent();
    await b.changeConsent({ action: "reject_all", categories: { strictly_necessary: null, functional: null, analytics: null }, items: {} });
    await b.notificationPreferences();
    await b.updateNotificationPreferences({ changes: [{ category: "tips", channel: "email", enabled: true }], source: "user" });
    await b.notices();
    await b.markNoticeRead("n1");
    await b.usageReportPreview();
    expect(calls).toEqual([
      { cmd: "list_sessions", args: undefined },
      { cmd: "revoke_other_sessions", args: undefined },
      { cmd: "list_members", args: undefined },
      { cmd: "list_invitations", args: undefined },
      { cmd: "invite_member", args: { email: "a@b.example", role: "lawyer" } },
      { cmd: "revoke_invitation", args: { id: "i1" } },
      { cmd: "update_member", args: { id: "m1", change: { role: "read_only" } } },
      { cmd: "access_review", args: { dormantDays: 60 } },
      { cmd: "complete_access_review", args: { dormantDays: 60, disable: ["m1"], revokeInvitations: ["i1"] } },
      { cmd: "reauthenticate", args: { password: "pw", oneTimeCode: null } },
      { cmd: "reauthenticate", args: { password: "pw", oneTimeCode: "123456" } },
      { cmd: "support_grants", args: undefined },
      { cmd: "approve_grant", args: { id: "g1" } },
      { cmd: "decline_grant", args: { id: "g2" } },
      { cmd: "revoke_grant", args: { id: "g3" } },
      { cmd: "support_access_log", args: { grantId: null } },
      { cmd: "support_access_log", args: { grantId: "g3" } },
      { cmd: "list_integrations", args: undefined },
      { cmd: "create_integration", args: { appName: "Xero", scopes: ["records:read"] } },
      { cmd: "revoke_integration", args: { id: "t1" } },
      { cmd: "audit_log", args: { filter: { kind: "sign_in" } } },
      { cmd: "export_audit_log", args: { filter: {}, format: "csv" } },
      { cmd: "cookie_catalogue", args: undefined },
      { cmd: "consent_state", args: undefined },
      {
        cmd: "change_consent",
        args: { change: { action: "reject_all", categories: { strictly_necessary: null, functional: null, analytics: null }, items: {} } },
      },
      { cmd: "notification_preferences", args: undefined },
      {
        cmd: "update_notification_preferences",
        args: { update: { changes: [{ category: "tips", channel: "email", enabled: true }], source: "user" } },
      },
      { cmd: "list_notices", args: undefined },
      { cmd: "mark_notice_read", args: { id: "n1" } },
      { cmd: "usage_report_preview", args: undefined },
    ]);
  });

  it("names the breach-notice and policy commands and their arguments as agreed with the core", async () => {
    const b = new TauriBackend();
    await b.incidents();
    await b.acknowledgeIncident("i1");
    await b.incidentAcknowledgements("i1");
    await b.policies();
    await b.policyDocument("privacy", "2027-01");
    await b.acknowledgePolicy("terms", "2026-11-28");
    expect(calls).toEqual([
      { cmd: "incidents", args: undefined },
      { cmd: "acknowledge_incident", args: { id: "i1" } },
      { cmd: "incident_acknowledgements", args: { id: "i1" } },
      { cmd: "policies", args: undefined },
      { cmd: "policy_document", args: { kind: "privacy", version: "2027-01" } },
      { cmd: "acknowledge_policy", args: { kind: "terms", version: "2026-11-28" } },
    ]);
  });

  it("an error the core answers with a dashboard code keeps its code, and reads as words", async () => {
    const b = new TauriBackend();
    const err = await b.revokeSession("s1").catch((e: unknown) => e);
    expect(calls).toEqual([{ cmd: "revoke_session", args: { id: "s1" } }]);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as InstanceType<typeof BackendError>).code).toBe("offline");
    for (const code of ["offline", "forbidden", "reauth_required", "wrong_password", "conflict", "essential_category", "strictly_necessary_locked", "csrf_refused", "policy_version_not_current"] as const) {
      const words = humanMessage(code, "");
      expect(words.length).toBeGreaterThan(20);
      expect(words).not.toContain(code);
    }
  });

  it("listens for export progress before invoking, and stops listening after", async () => {
    const b = new TauriBackend();
    for (const [method, cmd] of [
      ["exportPractice", "export_practice"],
      ["exportVault", "export_vault"],
    ] as const) {
      events.length = 0;
      const seen: unknown[] = [];
      const r = await b[method]((p) => seen.push(p));
      expect(r.verified).toBe(true);
      expect(events).toEqual([`listen ${EXPORT_PROGRESS_EVENT}`, `invoke ${cmd}`, `unlisten ${EXPORT_PROGRESS_EVENT}`]);
      expect(seen).toEqual([{ stage: "downloading", done_bytes: 5, total_bytes: 10 }]);
    }
  });
});
