// Unit tests of WebBackend's mapping against a fetch double: per method, what is sent
// (method, path, headers, credentials, body) and how the answers and the service's problem
// details become the UI's views and error codes. The fixed hashes and archives were made
// with Python (hashlib, zipfile) from the formats in crates/protocol and crates/export, so
// they check this code against the formats, not against itself.
import { describe, expect, it, vi } from "vitest";
import { BackendError } from "./errors";
import { CSRF_HEADER, PROTOCOL_HEADER, problemError } from "./http";
import sharedAuditWords from "../../../crates/client/tests/data/audit-words.json";
import {
  GENESIS_HASH,
  WebBackend,
  auditSummary,
  checkArchive,
  checkChain,
  entryHash,
  practiceLink,
  rfc3339Of,
  toCsv,
  type WireAuditEntry,
  type WireGrant,
  type WireIntegration,
  type WireInvitation,
  type WireMember,
} from "./web-backend";
import type { ErrorCode } from "./errors";
import type {
  IncidentAcknowledgements,
  MemberIncident,
  MemberPolicy,
  PolicyDocument,
  PolicyKind,
  PolicySummary,
} from "./preference-types";

type Call = { url: string; method: string; headers: Record<string, string>; credentials?: RequestCredentials; body: unknown };

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}
function problem(status: number, code: string, detail = "the detail"): Response {
  return new Response(JSON.stringify({ type: `https://strongroom.law/problems/${code}`, title: "Error", status, detail, code }), {
    status,
    headers: { "Content-Type": "application/problem+json" },
  });
}
const empty = () => new Response(null, { status: 204 });

/** A backend over a fetch double that answers `answers` in turn and records each call. */
function setup(...answers: (Response | Error)[]) {
  const calls: Call[] = [];
  const saved: { name: string; data: Blob }[] = [];
  const ended = vi.fn();
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers: { ...(init?.headers as Record<string, string>) },
      credentials: init?.credentials,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    });
    const next = answers.shift();
    if (!next) throw new Error(`no answer for ${init?.method} ${String(input)}`);
    if (next instanceof Error) throw next;
    return next;
  });
  const backend = new WebBackend({
    fetch,
    onSessionEnded: ended,
    save: (name, data) => {
      saved.push({ name, data });
      return name;
    },
  });
  return { backend, calls, saved, ended };
}

/** Every request goes to the same origin with the cookie and the protocol header; only
 * state-changing ones carry the CSRF header. */
function expectSent(call: Call, method: string, url: string, body?: unknown) {
  expect(call.method).toBe(method);
  expect(call.url).toBe(url);
  expect(call.credentials).toBe("same-origin");
  expect(call.headers[PROTOCOL_HEADER]).toBe("1");
  if (method === "GET") expect(call.headers[CSRF_HEADER]).toBeUndefined();
  else expect(call.headers[CSRF_HEADER]).toBe("1");
  expect(call.body).toEqual(body);
  if (body !== undefined) expect(call.headers["Content-Type"]).toBe("application/json");
}

async function codeOf(p: Promise<unknown>): Promise<ErrorCode> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BackendError);
    return (e as BackendError).code;
  }
  throw new Error("it did not fail");
}

const MEMBER: WireMember = {
  id: "11111111-1111-4111-8111-111111111111",
  email: "priya@harbour.example",
  display_name: "Priya Raman",
  role: "admin",
  disabled: false,
  mfa_enabled: true,
  last_sign_in_at: "2026-11-01T08:00:00Z",
  session_count: 2,
  joined_at: "2025-01-01T00:00:00Z",
};
const INVITATION: WireInvitation = {
  id: "22222222-2222-4222-8222-222222222222",
  email: "sam@harbour.example",
  role: "lawyer",
  invited_by: MEMBER.id,
  created_at: 1_767_225_600,
  expires_at: 1_767_830_400,
  status: "pending",
};
const STAFF = { id: "33333333-3333-4333-8333-333333333333", email: "sam@strongroom.example", display_name: "Sam Ellery" };
const GRANT: WireGrant = {
  id: "44444444-4444-4444-8444-444444444444",
  practice_id: "p",
  staff: STAFF,
  reason: "Sync fails",
  ticket: "SR-1",
  scope: { kind: "matters", matters: [{ id: "m1", number: "HV-1", title: "Smith" }, { id: "m2", number: null, title: null }] },
  access: "read",
  duration_hours: 24,
  status: "active",
  requested_at: 1_767_225_600,
  decided_at: 1_767_229_200,
  decided_by: { id: MEMBER.id, display_name: "Priya Raman" },
  expires_at: 1_767_315_600,
  revoked_at: null,
  revoked_by: null,
};
const INTEGRATION: WireIntegration = {
  id: "55555555-5555-4555-8555-555555555555",
  app_name: "Ledger Sync",
  scopes: ["records:read"],
  created_by: { id: MEMBER.id, display_name: "Priya Raman" },
  created_at: 1_767_225_600,
  last_used_at: null,
  records_read: 12,
  revoked_at: null,
};

describe("the cookie session", () => {
  it("signs in with the one-time code and answers who signed in", async () => {
    const { backend, calls } = setup(json({ user: { id: MEMBER.id, email: MEMBER.email, display_name: "Priya Raman", role: "admin" }, practice: { id: "p", name: "Harbour Legal" } }));
    const s = await backend.signIn(" priya@harbour.example ", "pw", " 123456 ");
    expectSent(calls[0], "POST", "/v1/web/session", { email: "priya@harbour.example", password: "pw", totp_code: "123456" });
    expect(s.user?.display_name).toBe("Priya Raman");
    expect(s.practice?.name).toBe("Harbour Legal");
  });

  it("sends a recovery code as one, as the service's WebSignInRequest names it", async () => {
    const { backend, calls } = setup(json({ user: null, practice: null }));
    await backend.signIn("a@b", "pw", " abcd-efgh-ijkl ");
    expectSent(calls[0], "POST", "/v1/web/session", { email: "a@b", password: "pw", recovery_code: "abcd-efgh-ijkl" });
  });

  it("sends no code without one, and says when the second step is needed", async () => {
    const { backend, calls, ended } = setup(problem(401, "mfa_required"));
    expect(await codeOf(backend.signIn("a@b", "pw"))).toBe("mfa_required");
    expect(calls[0].body).toEqual({ email: "a@b", password: "pw" });
    expect(ended).not.toHaveBeenCalled();
  });

  it("a wrong password at sign-in is not a session ending", async () => {
    const { backend, ended } = setup(problem(401, "invalid_credentials"));
    expect(await codeOf(backend.signIn("a@b", "pw"))).toBe("invalid_credentials");
    expect(ended).not.toHaveBeenCalled();
  });

  it("signs out with DELETE", async () => {
    const { backend, calls } = setup(empty());
    await backend.signOut();
    expectSent(calls[0], "DELETE", "/v1/web/session");
  });

  it("knows who is signed in, or that nobody is", async () => {
    const who = setup(json({ user: { id: "u", email: "e@x", display_name: "E", role: "lawyer" }, practice: { id: "p", name: "P" } }));
    expect((await who.backend.currentSession())?.user?.email).toBe("e@x");
    expectSent(who.calls[0], "GET", "/v1/web/session");
    const nobody = setup(problem(401, "unauthenticated"));
    expect(await nobody.backend.currentSession()).toBeNull();
  });

  it("without a who-am-I route, asks the sessions list whether the cookie is live", async () => {
    const live = setup(problem(404, "not_found", "no such route"), json({ sessions: [] }));
    expect(await live.backend.currentSession()).toEqual({ user: null, practice: null });
    expectSent(live.calls[1], "GET", "/v1/sessions");
    const gone = setup(new Response(null, { status: 405 }), problem(401, "unauthenticated"));
    expect(await gone.backend.currentSession()).toBeNull();
  });

  it("tells the page when any answer says the session is gone", async () => {
    const { backend, ended } = setup(problem(401, "unauthenticated"), problem(401, "session_revoked"));
    expect(await codeOf(backend.sessions())).toBe("session_expired");
    expect(await codeOf(backend.members())).toBe("session_expired");
    expect(ended).toHaveBeenCalledTimes(2);
  });

  it("forgets what it held in memory when the session ends", async () => {
    const { backend } = setup(json([MEMBER]), problem(401, "unauthenticated"), json([INVITATION]));
    await backend.members();
    await codeOf(backend.sessions());
    expect((await backend.invitations()).value[0].invited_by_name).toBe("An admin");
  });
});

describe("problem details to error codes", () => {
  const cases: [number, string | null, ErrorCode][] = [
    [401, "invalid_credentials", "invalid_credentials"],
    [401, "mfa_required", "mfa_required"],
    [401, "wrong_code", "wrong_code"],
    [403, "mfa_enrollment_required", "mfa_enrollment_required"],
    [400, "incompatible_protocol", "incompatible_server"],
    [403, "reauth_required", "reauth_required"],
    [401, "unauthenticated", "session_expired"],
    [401, "session_revoked", "session_expired"],
    [401, null, "session_expired"],
    [403, "forbidden", "forbidden"],
    [404, "not_found", "not_found"],
    [409, "conflict", "conflict"],
    [400, "bad_request", "invalid_input"],
    [400, "essential_category", "essential_category"],
    [400, "strictly_necessary_locked", "strictly_necessary_locked"],
    [422, "invalid_record", "invalid_input"],
    [412, "version_conflict", "server_error"],
    [429, "rate_limited", "server_error"],
    [503, "internal", "server_error"],
    [502, null, "offline"],
    [500, null, "server_error"],
    [400, "strictly_necessary_locked", "strictly_necessary_locked"],
    [400, "essential_category", "essential_category"],
    [403, "csrf_refused", "csrf_refused"],
  ];
  it.each(cases)("%i %s is %s", (status, code, expected) => {
    const p = code === null ? null : { code, detail: "d" };
    expect(problemError(status, p).code).toBe(expected);
  });

  it("keeps the service's words for the UI", async () => {
    const { backend } = setup(problem(409, "conflict", "the last admin cannot be disabled"));
    await expect(backend.updateMember(MEMBER.id, { disabled: true })).rejects.toMatchObject({
      code: "conflict",
      detail: "the last admin cannot be disabled",
    });
  });

  it("a request that never reached the service is offline; an answer that is not JSON is malformed", async () => {
    const { backend } = setup(new TypeError("Failed to fetch"), new Response("<html>", { status: 200 }));
    expect(await codeOf(backend.sessions())).toBe("offline");
    expect(await codeOf(backend.sessions())).toBe("malformed_response");
  });
});

describe("sessions and devices", () => {
  it("lists the sessions, always fresh", async () => {
    const s = {
      id: "abc-1",
      device_name: "Firefox on Linux",
      platform: "web",
      app_version: "",
      first_ip: null,
      last_ip: "203.0.113.7",
      created_at: "2026-11-01T08:00:00Z",
      last_seen_at: "2026-11-02T08:00:00Z",
      idle_expires_at: "2026-11-16T08:00:00Z",
      expires_at: "2026-12-01T08:00:00Z",
      current: true,
    };
    const { backend, calls } = setup(json({ sessions: [s] }));
    const got = await backend.sessions();
    expectSent(calls[0], "GET", "/v1/sessions");
    expect(got.offline).toBe(false);
    expect(got.fetched_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(got.value).toEqual([{ ...s, holdings: null }]);
  });

  it("revokes one session, and refuses an id that is not one without asking", async () => {
    const { backend, calls } = setup(empty());
    await backend.revokeSession("abc-1");
    expectSent(calls[0], "DELETE", "/v1/sessions/abc-1");
    expect(await codeOf(backend.revokeSession("../members"))).toBe("invalid_input");
    expect(calls).toHaveLength(1);
  });

  it("revokes the others and answers how many", async () => {
    const { backend, calls } = setup(json({ revoked: 3 }));
    expect(await backend.revokeOtherSessions()).toBe(3);
    expectSent(calls[0], "POST", "/v1/sessions/revoke-others", {});
  });
});

describe("members and invitations", () => {
  it("lists members as the members page shows them", async () => {
    const { backend, calls } = setup(json([MEMBER, { ...MEMBER, id: "x", last_sign_in_at: undefined, session_count: undefined }]));
    const got = await backend.members();
    expectSent(calls[0], "GET", "/v1/members");
    const { joined_at: _joined, ...view } = MEMBER;
    expect(got.value[0]).toEqual(view);
    expect(got.value[1]).toMatchObject({ last_sign_in_at: null, session_count: 0 });
  });

  it("names who invited from the members list, and gives times as RFC 3339", async () => {
    const { backend, calls } = setup(json([MEMBER]), json([INVITATION, { ...INVITATION, invited_by: "gone" }]));
    await backend.members();
    const got = await backend.invitations();
    expectSent(calls[1], "GET", "/v1/invitations");
    expect(got.value[0]).toEqual({
      id: INVITATION.id,
      email: INVITATION.email,
      role: "lawyer",
      invited_by_name: "Priya Raman",
      created_at: "2026-01-01T00:00:00Z",
      expires_at: "2026-01-08T00:00:00Z",
      status: "pending",
    });
    expect(got.value[1].invited_by_name).toBe("An admin");
  });

  it("invites, and answers the one-time code", async () => {
    const { backend, calls } = setup(json({ invitation: INVITATION, token: "tok", emailed: true }));
    const sent = await backend.invite(" sam@harbour.example ", "lawyer");
    expectSent(calls[0], "POST", "/v1/invitations", { email: "sam@harbour.example", role: "lawyer" });
    expect(sent).toMatchObject({ token: "tok", emailed: true, invitation: { id: INVITATION.id } });
    expect(await codeOf(backend.invite("nobody", "lawyer"))).toBe("invalid_input");
    expect(calls).toHaveLength(1);
  });

  it("withdraws an invitation", async () => {
    const { backend, calls } = setup(empty());
    await backend.revokeInvitation(INVITATION.id);
    expectSent(calls[0], "DELETE", `/v1/invitations/${INVITATION.id}`);
  });

  it("changes a member with only what changes", async () => {
    const { backend, calls } = setup(json({ ...MEMBER, role: "read_only" }), json({ ...MEMBER, disabled: true }));
    expect((await backend.updateMember(MEMBER.id, { role: "read_only" })).role).toBe("read_only");
    expectSent(calls[0], "PATCH", `/v1/members/${MEMBER.id}`, { role: "read_only" });
    expect((await backend.updateMember(MEMBER.id, { disabled: true })).disabled).toBe(true);
    expectSent(calls[1], "PATCH", `/v1/members/${MEMBER.id}`, { disabled: true });
  });

  it("removes a member's credentials", async () => {
    const { backend, calls } = setup(empty());
    await backend.removeCredentials(MEMBER.id);
    expectSent(calls[0], "DELETE", `/v1/members/${MEMBER.id}/credentials`);
  });

  it("reads the access review and completes it", async () => {
    const record = { id: "r", completed_at: "2026-11-02T09:00:00Z", by: MEMBER.id, by_name: "Priya Raman", dormant_days: 90, disabled: ["a", "b"], invitations_revoked: ["c"] };
    const { backend, calls } = setup(
      json({ dormant_days: 90, generated_at: "2026-11-02T09:00:00Z", dormant: [{ member: MEMBER, days_idle: 120 }], unused_invitations: [INVITATION], last_review: record }),
      json(record),
    );
    const review = await backend.accessReview(90);
    expectSent(calls[0], "GET", "/v1/members/review?dormant_days=90");
    expect(review.dormant[0]).toMatchObject({ days_idle: 120, member: { id: MEMBER.id, session_count: 2 } });
    expect(review.unused_invitations[0].created_at).toBe("2026-01-01T00:00:00Z");
    const summary = { completed_at: "2026-11-02T09:00:00Z", by_name: "Priya Raman", dormant_days: 90, disabled: 2, invitations_revoked: 1 };
    expect(review.last_review).toEqual(summary);
    expect(await backend.completeAccessReview(90, ["a", "b"], ["c"])).toEqual(summary);
    expectSent(calls[1], "POST", "/v1/members/review", { dormant_days: 90, disable: ["a", "b"], revoke_invitations: ["c"] });
  });
});

describe("re-authentication", () => {
  it("sends an authenticator code as totp_code and anything else as a recovery code", async () => {
    const { backend, calls } = setup(empty(), empty(), empty());
    await backend.reauthenticate("pw", " 123456 ");
    expectSent(calls[0], "POST", "/v1/auth/reauth", { password: "pw", totp_code: "123456" });
    await backend.reauthenticate("pw", "ABCD-EFGH-IJKL");
    expect(calls[1].body).toEqual({ password: "pw", recovery_code: "ABCD-EFGH-IJKL" });
    await backend.reauthenticate("pw");
    expect(calls[2].body).toEqual({ password: "pw" });
  });

  it("a refusal is a wrong password, or a wrong code when one was given; the session goes on", async () => {
    const { backend, ended } = setup(problem(401, "invalid_credentials"), problem(401, "invalid_credentials"));
    expect(await codeOf(backend.reauthenticate("pw"))).toBe("wrong_password");
    expect(await codeOf(backend.reauthenticate("pw", "123456"))).toBe("wrong_code");
    expect(ended).not.toHaveBeenCalled();
  });
});

describe("support access", () => {
  it("lists grants with their scope and times", async () => {
    const { backend, calls } = setup(json([GRANT, { ...GRANT, scope: { kind: "practice" }, decided_at: null, decided_by: null, expires_at: null }]));
    const got = (await backend.supportGrants()).value;
    expectSent(calls[0], "GET", "/v1/support/grants");
    expect(got[0]).toEqual({
      id: GRANT.id,
      staff_name: "Sam Ellery",
      staff_email: STAFF.email,
      reason: "Sync fails",
      ticket: "SR-1",
      scope: { kind: "matters", matters: [{ id: "m1", number: "HV-1", title: "Smith" }, { id: "m2", number: "", title: "" }] },
      access: "read",
      duration_hours: 24,
      status: "active",
      requested_at: "2026-01-01T00:00:00Z",
      decided_at: "2026-01-01T01:00:00Z",
      decided_by_name: "Priya Raman",
      expires_at: "2026-01-02T01:00:00Z",
      revoked_at: null,
    });
    expect(got[1]).toMatchObject({ scope: { kind: "practice" }, decided_at: null, decided_by_name: null, expires_at: null });
  });

  it.each(["approve", "decline", "revoke"] as const)("%s posts to the grant", async (what) => {
    const { backend, calls } = setup(json(GRANT));
    const call = { approve: () => backend.approveGrant(GRANT.id), decline: () => backend.declineGrant(GRANT.id), revoke: () => backend.revokeGrant(GRANT.id) }[what];
    expect((await call()).id).toBe(GRANT.id);
    expectSent(calls[0], "POST", `/v1/support/grants/${GRANT.id}/${what}`, {});
  });

  it("says what staff did, and what they were refused", async () => {
    const entry = { id: 9, at: "2026-11-02T09:00:00Z", staff: STAFF, grant_id: GRANT.id, allowed: true, refusal: null, method: "GET", path: "/v1/support/practices/p/records/file_note", record_kind: "file_note", record_ids: [], count: 3 };
    const { backend, calls } = setup(
      json({ entries: [entry, { ...entry, id: 8, allowed: false, refusal: "out_of_scope", grant_id: null, count: 0, method: "PUT" }, { ...entry, id: 7, method: "PUT", count: 1, record_kind: "matter" }], next: null }),
      json({ entries: [], next: null }),
    );
    const got = (await backend.supportAccessLog()).value;
    expectSent(calls[0], "GET", "/v1/support/access-log?limit=500");
    expect(got[0]).toEqual({ id: 9, at: entry.at, staff_name: "Sam Ellery", grant_id: GRANT.id, request: `GET ${entry.path}`, what: "Read 3 file notes", records: 3, allowed: true });
    expect(got[1]).toMatchObject({ what: "Refused (out of scope): file note", grant_id: "", allowed: false });
    expect(got[2].what).toBe("Wrote 1 matter");
    await backend.supportAccessLog(GRANT.id);
    expectSent(calls[1], "GET", `/v1/support/access-log?grant=${GRANT.id}&limit=500`);
  });
});

describe("connected apps", () => {
  it("lists, creates and revokes", async () => {
    const { backend, calls } = setup(
      json([INTEGRATION]),
      json({ integration: INTEGRATION, token: "sri_x" }),
      empty(),
      json([{ ...INTEGRATION, revoked_at: 1_767_229_200 }]),
    );
    expect((await backend.integrations()).value[0]).toEqual({
      id: INTEGRATION.id,
      app_name: "Ledger Sync",
      scopes: ["records:read"],
      created_by_name: "Priya Raman",
      created_at: "2026-01-01T00:00:00Z",
      last_used_at: null,
      records_read: 12,
      revoked_at: null,
    });
    expectSent(calls[0], "GET", "/v1/integrations");
    expect((await backend.createIntegration(" Ledger Sync ", ["records:read"])).token).toBe("sri_x");
    expectSent(calls[1], "POST", "/v1/integrations", { app_name: "Ledger Sync", scopes: ["records:read"] });
    expect((await backend.revokeIntegration(INTEGRATION.id)).revoked_at).toBe("2026-01-01T01:00:00Z");
    expectSent(calls[2], "DELETE", `/v1/integrations/${INTEGRATION.id}`);
    expectSent(calls[3], "GET", "/v1/integrations");
  });
});

// --- The audit log ---

const PRACTICE = "6f1c2a4e-0000-4000-8000-000000000001";
const ALICE = "user:11111111-1111-4111-8111-111111111111";

describe("the audit chain's hashes", () => {
  it("match the service's format (vectors computed independently)", async () => {
    const e = {
      id: 41,
      occurred_at: "2026-11-02T09:15:00Z",
      practice_id: PRACTICE,
      actor: ALICE,
      kind: "sign_in",
      details: '{"device_name":"Priya\u2019s laptop","ip":"203.0.113.7"}',
      prev_hash: "ab".repeat(32),
    };
    const hash = await entryHash(e);
    expect(hash).toBe("8fc9e75109e2a94a4c3ec70fc931867fcbc822ebc3ea08734f799843289c0063");
    expect(await practiceLink(1, hash, GENESIS_HASH)).toBe("55966b7dc73cbf93817dc789421b45ed0df5ca1026cc30bd51271908f4621973");
  });
});

/** A practice chain of `n` entries, made with the hashes under test (whose format the
 * vectors above pin down). */
async function chain(n: number, from = 1, prevLink = GENESIS_HASH): Promise<WireAuditEntry[]> {
  const out: WireAuditEntry[] = [];
  let link = prevLink;
  for (let seq = from; seq < from + n; seq++) {
    const base = {
      id: seq * 10,
      occurred_at: `2026-11-0${Math.min(seq, 9)}T09:00:00Z`,
      practice_id: PRACTICE,
      actor: seq % 2 ? ALICE : null,
      kind: seq % 2 ? "sign_in" : "practice_exported",
      details: seq % 2 ? '{"device_name":"Laptop","ip":"203.0.113.7"}' : '{"records":12}',
      prev_hash: "cd".repeat(32),
    };
    const hash = await entryHash(base);
    const next = await practiceLink(seq, hash, link);
    out.push({ ...base, seq, hash, prev_link: link, link: next });
    link = next;
  }
  return out;
}

function page(entries: WireAuditEntry[], head = entries[entries.length - 1]) {
  return json({ entries, head_seq: head?.seq ?? 0, head_link: head?.link ?? GENESIS_HASH, actors: [{ actor: ALICE, name: "Priya Raman" }] });
}

describe("the audit log", () => {
  it("fetches every page, checks the chain, and shows rows newest first in words", async () => {
    const all = await chain(3);
    const { backend, calls } = setup(json({ entries: all.slice(0, 2), head_seq: 3, head_link: all[2].link, actors: [{ actor: ALICE, name: "Priya Raman" }] }), page(all.slice(2)));
    const view = await backend.auditLog({});
    expectSent(calls[0], "GET", "/v1/audit/entries?after_seq=0&limit=1000");
    expectSent(calls[1], "GET", "/v1/audit/entries?after_seq=2&limit=1000");
    expect(view.check).toEqual({ status: "verified", entries: 3 });
    expect(view.offline).toBe(false);
    expect(view.rows.map((r) => r.seq)).toEqual([3, 2, 1]);
    expect(view.rows[0]).toMatchObject({ actor_id: ALICE, actor_name: "Priya Raman", summary: "Signed in on Laptop from 203.0.113.7" });
    expect(view.rows[1]).toMatchObject({ actor_id: null, actor_name: null, summary: "Exported the practice (12 records)" });
    expect(view.actors).toEqual([{ id: ALICE, name: "Priya Raman" }]);
    expect(view.kinds).toEqual(["practice_exported", "sign_in"]);
  });

  it("asks only for what is new the next time, and filters", async () => {
    const all = await chain(4);
    const { backend, calls } = setup(page(all.slice(0, 3)), page(all.slice(3)));
    await backend.auditLog({});
    const view = await backend.auditLog({ kind: "sign_in", from: "2026-11-02" });
    expectSent(calls[1], "GET", "/v1/audit/entries?after_seq=3&limit=1000");
    expect(view.check).toEqual({ status: "verified", entries: 4 });
    expect(view.rows.map((r) => r.seq)).toEqual([3]);
    expect(view.total).toBe(1);
  });

  it("reports an altered entry as broken, never verified", async () => {
    const all = await chain(3);
    all[1] = { ...all[1], details: '{"records":13}' };
    const { backend } = setup(page(all));
    expect((await backend.auditLog({})).check).toEqual({ status: "broken", seq: 2, reason: "the entry was changed after it was written" });
  });

  it("finds missing entries, foreign ones, a wrong head, and history rewritten", async () => {
    const all = await chain(3);
    expect(await checkChain(PRACTICE, [all[0], all[2]], 3, all[2].link)).toMatchObject({ status: "broken", seq: 2 });
    expect(await checkChain("other", all, 3, all[2].link)).toMatchObject({ status: "broken", seq: 1, reason: "the entry belongs to another practice" });
    expect(await checkChain(PRACTICE, all, 4, all[2].link)).toMatchObject({ status: "broken", seq: 4, reason: "entries are missing at the end of the log" });
    expect(await checkChain(PRACTICE, all, 2, all[1].link)).toMatchObject({ status: "broken", seq: 3, reason: "the log no longer matches what this device checked before" });
    const relinked = { ...all[1], link: "ef".repeat(32) };
    expect(await checkChain(PRACTICE, [all[0], relinked], 2, relinked.link)).toMatchObject({ status: "broken", seq: 2, reason: "the entry's link in the chain was changed" });
  });

  it("exports the filtered log as CSV or JSON through the browser's downloads", async () => {
    const all = await chain(2);
    const { backend, saved } = setup(page(all), page([], all[1]), page([], all[1]));
    const name = await backend.exportAuditLog({}, "csv");
    expect(name).toMatch(/^strongroom-audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.csv$/);
    const csv = await saved[0].data.text();
    expect(csv.split("\r\n")[0]).toBe("seq,occurred_at,actor_id,actor_name,kind,summary,details");
    expect(csv).toContain('2,2026-11-02T09:00:00Z,,,practice_exported,Exported the practice (12 records),"{""records"":12}"');
    await backend.exportAuditLog({ kind: "sign_in" }, "json");
    const doc = JSON.parse(await saved[1].data.text());
    expect(doc.check).toEqual({ status: "verified", entries: 2 });
    expect(doc.entries.map((r: { seq: number }) => r.seq)).toEqual([1]);
  });

  it("writes CSV as the desktop does", () => {
    expect(toCsv([{ a: "x", b: null }, { b: 2, c: "q,\"r\"" }])).toBe('a,b,c\r\nx,,\r\n,2,"q,""r"""\r\n');
  });
});

// --- Exports ---

const ZIP = b64(
  "UEsDBBQAAAAIAHVIfF0CgKe2TgAAAHUAAAALAAAAbWF0dGVyLmpzb26LrlbKTFGyUlDKNVTSUVAqySzJSQVxg3MzSzJ0FGKUvPLz" +
  "UotjlGKAZEliSSpIUV5pblJqEUiVR5iuoVKtjgLcECMUQ3xSMdUbKdXGAgBQSwMEFAAAAAgAdUh8XeUEAlw/AAAAQQAAAAoAAABt" +
  "YXR0ZXIuY3N2y0zRKcksyUnVySvNTUot4uXKNdRRCs7NLMnQUVBS8srPSy1WUuJKLS5JLElV0vEI0zUEKjHS8UlNBXGMeLkAUEsD" +
  "BBQAAAAAAAAAIQB8ckTWXwIAAF8CAAANAAAAbWFuaWZlc3QuanNvbnsKICAiZm9ybWF0IjogInN0cm9uZ3Jvb20tZXhwb3J0LzEi" +
  "LAogICJwcmFjdGljZV9pZCI6ICI2ZjFjMmE0ZS0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDEiLAogICJwcmFjdGljZV9uYW1l" +
  "IjogIkhhcmJvdXIiLAogICJleHBvcnRlZF9hdCI6ICIyMDI2LTExLTAyVDA5OjE1OjAwWiIsCiAgInNvdXJjZSI6ICJzZXJ2aWNl" +
  "IiwKICAiZXhwb3J0ZWRfYnkiOiAiUHJpeWEiLAogICJmaWxlcyI6IFsKICAgIHsKICAgICAgIm5hbWUiOiAibWF0dGVyLmpzb24i" +
  "LAogICAgICAic2hhMjU2IjogIjNkN2Y4NGRhNjZjYmU3ZmViN2ZmZDRmNzIwYmIwMWY4MjlkZjM3MzIwMTY3MjFkMTA4ODJkMWNh" +
  "OTlmNjA1MDYiLAogICAgICAiYnl0ZXMiOiAxMTcsCiAgICAgICJraW5kIjogIm1hdHRlciIsCiAgICAgICJyZWNvcmRzIjogMgog" +
  "ICAgfSwKICAgIHsKICAgICAgIm5hbWUiOiAibWF0dGVyLmNzdiIsCiAgICAgICJzaGEyNTYiOiAiMTEwMTE5OGM1ZDE0ZWQ0M2Rl" +
  "N2FiOWZiYTg3ZTZhYWZmZDUyZDI4MWZlMTdkMWMzYTlkNTEwZDI0MDBiNzhiNyIsCiAgICAgICJieXRlcyI6IDY1LAogICAgICAi" +
  "a2luZCI6ICJtYXR0ZXIiLAogICAgICAicmVjb3JkcyI6IDIKICAgIH0KICBdCn1QSwECFAMUAAAACAB1SHxdAoCntk4AAAB1AAAA" +
  "CwAAAAAAAAAAAAAAgAEAAAAAbWF0dGVyLmpzb25QSwECFAMUAAAACAB1SHxd5QQCXD8AAABBAAAACgAAAAAAAAAAAAAAgAF3AAAA" +
  "bWF0dGVyLmNzdlBLAQIUAxQAAAAAAAAAIQB8ckTWXwIAAF8CAAANAAAAAAAAAAAAAACAAd4AAABtYW5pZmVzdC5qc29uUEsFBgAA" +
  "AAADAAMArAAAAGgDAAAAAA==",
);
const ALTERED_ZIP = b64(
  "UEsDBBQAAAAIAHVIfF0CgKe2TgAAAHUAAAALAAAAbWF0dGVyLmpzb26LrlbKTFGyUlDKNVTSUVAqySzJSQVxg3MzSzJ0FGKUvPLz" +
  "UotjlGKAZEliSSpIUV5pblJqEUiVR5iuoVKtjgLcECMUQ3xSMdUbKdXGAgBQSwMEFAAAAAgAdUh8XR8KSNg/AAAAQQAAAAoAAABt" +
  "YXR0ZXIuY3N2y0zRKcksyUnVySvNTUot4uXKNdRRCs7NLMnQUVBS8srPSy1WUuJKLS5JLElV0vEI0zUEKjHS8UlNBHGMeLkAUEsD" +
  "BBQAAAAIAHVIfF186U3XHwEAAPsBAAANAAAAbWFuaWZlc3QuanNvboVRS07DMBC9SpV1AzNO/OsJWLJgBUKV7RlDgMaVEyqqqnfH" +
  "boVKxQIvRvK8r+VDE1PeuLlZLZppzml8ySltWv7apjzfYrNcNNvswjwEXg9UWSpiEK7nFspp+zpMHXA517LRbbgK71z26TNX7GzP" +
  "tD4HCxCqRWxBPIBdoVwBPFbaVOjhpJ0474rXldbvK3Kfh72r+zh88FQ2T4fmJ7G8a+Z88zal8WT36oRUFehIR9OTUyp41pG9jpH6" +
  "qAV4DxiNsBQ73QlApQUSgjGCMDhrowIJqrr5/XzKQ9Tl9j6MdImseOaQMlWGOC4Xf0qFaXfdCREQrQmSsGfqO2LtvI3eGc3KuVJQ" +
  "ChIGI6MuXTpnSSKQKD/gtfH6dycl/630fPwGUEsBAhQDFAAAAAgAdUh8XQKAp7ZOAAAAdQAAAAsAAAAAAAAAAAAAAIABAAAAAG1h" +
  "dHRlci5qc29uUEsBAhQDFAAAAAgAdUh8XR8KSNg/AAAAQQAAAAoAAAAAAAAAAAAAAIABdwAAAG1hdHRlci5jc3ZQSwECFAMUAAAA" +
  "CAB1SHxdfOlN1x8BAAD7AQAADQAAAAAAAAAAAAAAgAHeAAAAbWFuaWZlc3QuanNvblBLBQYAAAAAAwADAKwAAAAoAgAAAAA=",
);

function b64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

describe("exports", () => {
  it("checks an archive against its manifest", async () => {
    expect(await checkArchive(ZIP)).toEqual({ files: 2, records: 2 });
    await expect(checkArchive(ALTERED_ZIP)).rejects.toMatchObject({ code: "malformed_response", detail: expect.stringContaining("matter.csv does not match its SHA-256") });
  });

  it("downloads the practice with progress, checks it, then offers it to the browser", async () => {
    const { backend, calls, saved } = setup(new Response(ZIP, { status: 200, headers: { "Content-Type": "application/zip", "Content-Length": String(ZIP.length) } }));
    const stages: string[] = [];
    const result = await backend.exportPractice((p) => stages.push(p.stage));
    expectSent(calls[0], "GET", "/v1/export");
    expect(calls[0].headers.Accept).toBe("application/zip");
    expect(stages[0]).toBe("preparing");
    expect(stages).toContain("downloading");
    expect(stages.slice(-2)).toEqual(["checking", "done"]);
    expect(result).toEqual({ path: saved[0].name, bytes: ZIP.length, files: 2, records: 2, sha256: "afe96c4f73c0750f70b8275e6d5caf962a0a1f448f75722e40dbb8a13b95d18c", verified: true });
    expect(saved[0].name).toMatch(/^strongroom-export-.*\.zip$/);
    expect(new Uint8Array(await saved[0].data.arrayBuffer())).toEqual(ZIP);
  });

  it("does not offer an archive that fails its manifest", async () => {
    const { backend, saved } = setup(new Response(ALTERED_ZIP, { status: 200 }));
    expect(await codeOf(backend.exportPractice(() => {}))).toBe("malformed_response");
    expect(saved).toHaveLength(0);
  });

  it("asks for the password again when the service wants it", async () => {
    const { backend } = setup(problem(403, "reauth_required"));
    expect(await codeOf(backend.exportPractice(() => {}))).toBe("reauth_required");
  });

  it("has no device copy to export, and asks nothing of the service", async () => {
    const { backend, calls } = setup();
    expect(await codeOf(backend.exportVault())).toBe("invalid_input");
    expect(calls).toHaveLength(0);
  });

  it("gives times as the desktop does", () => {
    expect(rfc3339Of(0)).toBe("1970-01-01T00:00:00Z");
  });
});

// --- Cookies, consent, notifications and usage (crates/server/src/consent.rs,
// notifications.rs, usage.rs; wire types in crates/protocol) ---

const CATALOGUE = {
  policy_version: "2026-11-28",
  categories: [
    { category: "strictly_necessary", title: "Strictly necessary", description: "Needed.", locked: true },
    { category: "functional", title: "Functional", description: "Nicer.", locked: false },
    { category: "analytics", title: "Analytics", description: "Counts.", locked: false },
  ],
  items: [
    {
      name: "__Host-strongroom-session",
      kind: "cookie",
      category: "strictly_necessary",
      purpose: "Keeps you signed in.",
      lifetime: "Until you sign out",
      max_age_secs: 2_592_000,
      set_by: "service",
      holds: "A token.",
    },
  ],
};
const RECORD = {
  id: "55555555-5555-4555-8555-555555555555",
  strictly_necessary: true,
  choices: { functional: false, analytics: false, items: {} },
  source: "user",
  surface: "web",
  policy_version: "2026-11-28",
  recorded_at: "2026-11-28T12:00:00Z",
};
const CONSENT = {
  current: RECORD,
  effective: { strictly_necessary: true, functional: false, analytics: false, items: { "__Host-strongroom-session": true } },
  gpc: false,
  policy_version: "2026-11-28",
  choice_needed: false,
  history: [RECORD],
};
const CHOICE = { enabled: true, source: "default", changed_at: null };
const PREFS = {
  categories: [
    { category: "security_alerts", essential: true, reason: "Because.", email: CHOICE, in_app: CHOICE, desktop: CHOICE },
    { category: "tips", essential: false, reason: null, email: { ...CHOICE, enabled: false }, in_app: CHOICE, desktop: { ...CHOICE, enabled: false } },
  ],
};
const NOTICE = {
  id: "66666666-6666-4666-8666-666666666666",
  category: "policy_changes",
  title: "Policy",
  body: "Changed.",
  created_at: "2026-11-28T12:00:00Z",
  read_at: null,
  in_app: true,
  desktop: false,
};
const REPORT = {
  generated_at: "2026-11-28T12:00:00Z",
  min_group_practices: 5,
  buckets: [{ week_start: "2026-11-02", practices: 7, active_members: 19, sign_ins: 80 }],
  suppressed_weeks: ["2026-11-09"],
  this_practice_counted: true,
};

describe("cookies and consent", () => {
  it("reads the catalogue and the member's consent as the service answers them, fresh", async () => {
    const { backend, calls } = setup(json(CATALOGUE), json(CONSENT));
    const catalogue = await backend.cookieCatalogue();
    expectSent(calls[0], "GET", "/v1/cookies");
    expect(catalogue.value).toEqual(CATALOGUE);
    expect(catalogue.offline).toBe(false);
    expect(catalogue.fetched_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const consent = await backend.consent();
    expectSent(calls[1], "GET", "/v1/me/consent");
    expect(consent.value).toEqual(CONSENT);
    expect(consent.offline).toBe(false);
  });

  it("sends a change as the service's ConsentChange, with the CSRF header, and answers the new state", async () => {
    const { backend, calls } = setup(json(CONSENT), json(CONSENT));
    const reject = { action: "reject_all" as const, categories: { strictly_necessary: null, functional: null, analytics: null }, items: {} };
    expect(await backend.changeConsent(reject)).toEqual(CONSENT);
    expectSent(calls[0], "PUT", "/v1/me/consent", reject);
    const custom = {
      action: "custom" as const,
      categories: { strictly_necessary: null, functional: true, analytics: null },
      items: { "__Host-strongroom-display": false, "__Host-strongroom-aid": null },
    };
    await backend.changeConsent(custom);
    expectSent(calls[1], "PUT", "/v1/me/consent", custom);
  });

  it("a refusal of strictly necessary cookies keeps its code", async () => {
    const { backend } = setup(problem(400, "strictly_necessary_locked"), problem(403, "csrf_refused"));
    const change = { action: "custom" as const, categories: { strictly_necessary: false, functional: null, analytics: null }, items: {} };
    expect(await codeOf(backend.changeConsent(change))).toBe("strictly_necessary_locked");
    expect(await codeOf(backend.changeConsent(change))).toBe("csrf_refused");
  });
});

describe("notifications", () => {
  it("reads the preferences and the inbox", async () => {
    const { backend, calls } = setup(json(PREFS), json([NOTICE]));
    const prefs = await backend.notificationPreferences();
    expectSent(calls[0], "GET", "/v1/me/notifications/preferences");
    expect(prefs).toMatchObject({ value: PREFS, offline: false });
    const notices = await backend.notices();
    expectSent(calls[1], "GET", "/v1/me/notices");
    expect(notices).toMatchObject({ value: [NOTICE], offline: false });
  });

  it("patches the changes, all or none, recorded as made in a browser", async () => {
    const { backend, calls } = setup(json(PREFS));
    const changes = [{ category: "tips" as const, channel: "email" as const, enabled: true }];
    expect(await backend.updateNotificationPreferences({ changes, source: "user" })).toEqual(PREFS);
    expectSent(calls[0], "PATCH", "/v1/me/notifications/preferences", { changes, source: "web" });
  });

  it("an essential category turned off keeps its code and the service's reason", async () => {
    const { backend } = setup(problem(400, "essential_category", "security alerts cannot be turned off: Because."));
    const p = backend.updateNotificationPreferences({ changes: [{ category: "security_alerts", channel: "email", enabled: false }], source: "web" });
    await expect(p).rejects.toMatchObject({ code: "essential_category", detail: "security alerts cannot be turned off: Because." });
  });

  it("refuses more changes than the service takes, before sending", async () => {
    const { backend, calls } = setup();
    const changes = Array.from({ length: 65 }, () => ({ category: "tips" as const, channel: "email" as const, enabled: true }));
    expect(await codeOf(backend.updateNotificationPreferences({ changes, source: "web" }))).toBe("invalid_input");
    expect(calls).toHaveLength(0);
  });

  it("marks a notice read with a POST and no body; a path that is not an id is not sent", async () => {
    const { backend, calls } = setup(empty(), problem(404, "not_found"));
    await backend.markNoticeRead(NOTICE.id);
    expectSent(calls[0], "POST", `/v1/me/notices/${NOTICE.id}/read`);
    expect(await codeOf(backend.markNoticeRead(NOTICE.id))).toBe("not_found");
    expect(await codeOf(backend.markNoticeRead("../sessions"))).toBe("invalid_input");
    expect(calls).toHaveLength(2);
  });
});

describe("usage data", () => {
  it("reads the report's preview exactly as the service would send it", async () => {
    const { backend, calls } = setup(json(REPORT));
    const r = await backend.usageReportPreview();
    expectSent(calls[0], "GET", "/v1/practice/usage-report/preview");
    expect(r).toMatchObject({ value: REPORT, offline: false });
  });

  it("is for administrators: others are told forbidden", async () => {
    const { backend } = setup(problem(403, "forbidden"));
    expect(await codeOf(backend.usageReportPreview())).toBe("forbidden");
  });
});

const INCIDENT: MemberIncident = {
  id: "66666666-6666-4666-8666-666666666666",
  title: "Unauthorised access to a support mailbox",
  description: "Someone signed in to a support mailbox with a stolen password.",
  occurred_at: "2026-11-26T22:10:00Z",
  detected_at: "2026-11-27T08:30:00Z",
  data_kinds: ["names", "email addresses"],
  steps_taken: "We locked the mailbox.",
  recommendations: "Watch for phishing.",
  contact: "privacy@strongroom.example",
  regulator: { notified: true, regulator: "OAIC", notified_at: "2026-11-27T12:00:00Z" },
  recorded_by: "Alex Operator",
  recorded_at: "2026-11-27T12:30:00.250Z",
  notice_created_at: "2026-11-27T12:30:00Z",
  email_delivered_at: "2026-11-27T12:30:04.100Z",
  acknowledged_at: null,
};
const ACKS: IncidentAcknowledgements = {
  incident_id: INCIDENT.id,
  members: [
    { member_id: MEMBER.id, display_name: "Priya Raman", email: MEMBER.email, notified: true, email_delivered_at: "2026-11-27T12:30:04Z", acknowledged_at: null },
  ],
  acknowledged: 0,
};
const SUMMARY: PolicySummary = { kind: "privacy", version: "2027-01", published_at: "2026-11-28T09:00:00Z", summary: "Clearer words on support access." };
const MEMBER_POLICY: MemberPolicy = {
  kind: "privacy",
  current: SUMMARY,
  acknowledged_version: "2026-11-28",
  acknowledged_at: "2026-11-20T10:00:00Z",
  up_to_date: false,
  diff: {
    from_version: "2026-11-28",
    to_version: "2027-01",
    hunks: [
      {
        old_start: 1,
        old_lines: 2,
        new_start: 1,
        new_lines: 2,
        lines: [
          { tag: "equal", old_line: 1, new_line: 1, text: "# Policy" },
          { tag: "delete", old_line: 2, new_line: null, text: "Old words." },
          { tag: "insert", old_line: null, new_line: 2, text: "New words." },
        ],
      },
    ],
    inserted: 1,
    deleted: 1,
  },
};

describe("breach notices", () => {
  it("reads the member's incidents and an incident's acknowledgements, fresh", async () => {
    const { backend, calls } = setup(json([INCIDENT]), json(ACKS));
    expect(await backend.incidents()).toMatchObject({ value: [INCIDENT], offline: false });
    expectSent(calls[0], "GET", "/v1/me/incidents");
    expect(await backend.incidentAcknowledgements(INCIDENT.id)).toMatchObject({ value: ACKS, offline: false });
    expectSent(calls[1], "GET", `/v1/practice/incidents/${INCIDENT.id}/acknowledgements`);
  });

  it("acknowledges with a POST carrying the CSRF header, and answers the incident as it now is", async () => {
    const acked = { ...INCIDENT, acknowledged_at: "2026-11-28T09:00:00Z" };
    const { backend, calls } = setup(json(acked));
    expect(await backend.acknowledgeIncident(INCIDENT.id)).toEqual(acked);
    expectSent(calls[0], "POST", `/v1/me/incidents/${INCIDENT.id}/acknowledge`);
  });

  it("the table is for administrators; an incident of no concern is not found; a path that is not an id is not sent", async () => {
    const { backend, calls } = setup(problem(403, "forbidden"), problem(404, "not_found"));
    expect(await codeOf(backend.incidentAcknowledgements(INCIDENT.id))).toBe("forbidden");
    expect(await codeOf(backend.acknowledgeIncident(INCIDENT.id))).toBe("not_found");
    expect(await codeOf(backend.acknowledgeIncident("../../sessions"))).toBe("invalid_input");
    expect(await codeOf(backend.incidentAcknowledgements("x/y"))).toBe("invalid_input");
    expect(calls).toHaveLength(2);
  });
});

describe("policy updates", () => {
  it("reads the member's view of each policy and a version's whole text", async () => {
    const doc: PolicyDocument = { ...SUMMARY, text: "# Policy\nNew words.\n", current: true };
    const { backend, calls } = setup(json([MEMBER_POLICY]), json(doc));
    expect(await backend.policies()).toMatchObject({ value: [MEMBER_POLICY], offline: false });
    expectSent(calls[0], "GET", "/v1/me/policies");
    expect(await backend.policyDocument("privacy", "2027-01")).toEqual(doc);
    expectSent(calls[1], "GET", "/v1/policies/privacy/2027-01");
  });

  it("acknowledges a version with a POST of its label and the CSRF header", async () => {
    const now = { ...MEMBER_POLICY, acknowledged_version: "2027-01", up_to_date: true };
    const { backend, calls } = setup(json(now));
    expect(await backend.acknowledgePolicy("privacy", "2027-01")).toEqual(now);
    expectSent(calls[0], "POST", "/v1/me/policies/privacy/acknowledge", { version: "2027-01" });
  });

  it("a stale version keeps the service's own code; a kind or label the service cannot have is not sent", async () => {
    const { backend, calls } = setup(problem(409, "policy_version_not_current", "the current one is 2027-02"));
    await expect(backend.acknowledgePolicy("privacy", "2027-01")).rejects.toMatchObject({
      code: "policy_version_not_current",
      detail: "the current one is 2027-02",
    });
    expect(await codeOf(backend.acknowledgePolicy("cookies" as PolicyKind, "1"))).toBe("invalid_input");
    expect(await codeOf(backend.policyDocument("terms", "../../me"))).toBe("invalid_input");
    expect(calls).toHaveLength(1);
  });
});

describe("audit entries in words", () => {
  it("read as the cases shared with the desktop core say, word for word", () => {
    const names = new Map(Object.entries(sharedAuditWords.names));
    expect(sharedAuditWords.cases.length).toBeGreaterThanOrEqual(10);
    for (const c of sharedAuditWords.cases) {
      expect(auditSummary(c.kind, c.details as Record<string, unknown>, names), c.kind).toBe(c.words);
    }
  });
});
