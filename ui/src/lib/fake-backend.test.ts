import { describe, expect, it } from "vitest";
import { BackendError } from "./errors";
import { FAKE, FakeBackend } from "./fake-backend";

const OKAFOR = FAKE.matters[0]?.id as string;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return e instanceof BackendError ? `${e.code}: ${e.detail}` : String(e);
  }
}

describe("the fake backend keeps the contract", () => {
  it("a new record needs its required fields, named; unknown fields are refused", async () => {
    const b = new FakeBackend("signed-in");
    expect(await code(b.saveRecord("file_note", null, { matter_id: OKAFOR, subject: "x", body: "" }))).toMatch(/^invalid_input: .*`author`/);
    expect(await code(b.saveRecord("task", OKAFOR, { colour: "red" }))).toMatch(/^invalid_input: unknown field `colour`/);
    expect(await code(b.saveRecord("time_entry", null, { matter_id: "nope" }))).toMatch(/^not_found/);
    expect(await code(b.saveRecord("task", null, { id: "x", matter_id: OKAFOR, title: "t", done: false }))).toMatch(/^invalid_input/);
    const id = await b.saveRecord("task", null, { matter_id: OKAFOR, title: "New", done: false });
    const detail = await b.matter(OKAFOR);
    expect(detail.tasks.find((t) => t.id === id)).toMatchObject({ title: "New", due_on: null, assignee: null, done: false });
    expect(detail.unsynced).toContain(id);
    expect((await b.status()).pending_edits).toBe(1);
    await b.syncNow();
    expect((await b.status()).pending_edits).toBe(0);
    expect(await code(b.deleteRecord("task", "missing"))).toMatch(/^not_found/);
  });

  it("keeps the service's rules for matters and contacts, in its words", async () => {
    const b = new FakeBackend("signed-in");
    const matter = {
      number: "HV-2026-0200",
      title: "Tane lease review",
      matter_type: "Commercial",
      status: "open",
      client_name: "Mere Tane",
      responsible: "Priya Raman",
      opened_on: "2026-11-27",
    };
    for (const f of ["number", "title", "matter_type", "client_name", "responsible"]) {
      expect(await code(b.saveRecord("matter", null, { ...matter, [f]: " " }))).toBe(`invalid_input: ${f}: must not be empty`);
      const { [f]: _, ...without } = matter as Record<string, string>;
      expect(await code(b.saveRecord("matter", null, without))).toMatch(new RegExp(`^invalid_input: .*${f}`));
    }
    expect(await code(b.saveRecord("matter", null, { ...matter, opened_on: "2026-02-30" }))).toBe("invalid_input: opened_on: must be a calendar date, YYYY-MM-DD");
    expect(await code(b.saveRecord("matter", null, { ...matter, closed_on: "2026-11-26" }))).toBe("invalid_input: closed_on: must not be before opened_on");
    expect((await b.listMatters({ offset: 0, limit: 10, sort: "number", descending: false })).total).toBe(5);
    const id = await b.saveRecord("matter", null, matter);
    expect((await b.matter(id)).matter).toMatchObject({ ...matter, closed_on: null, description: "", custom_fields: {} });
    expect(await code(b.saveRecord("matter", id, { closed_on: "2026-01-01" }))).toBe("invalid_input: closed_on: must not be before opened_on");
    expect(await code(b.saveRecord("matter", id, { status: "closed", closed_on: "2026-11-28" }))).toBe("ok");
    const contact = (await b.findContacts("Hemi"))[0]?.id as string;
    expect(await code(b.saveRecord("contact", contact, { email: "hemi at example" }))).toBe("invalid_input: email: must be an email address");
    expect(await code(b.saveRecord("contact", contact, { email: null, phone: "0401 555 889" }))).toBe("ok");
  });

  it("windows, sorts and filters the list like the vault", async () => {
    const b = new FakeBackend("signed-in");
    const page = await b.listMatters({ offset: 1, limit: 2, sort: "number", descending: false });
    expect(page.total).toBe(5);
    expect(page.rows.map((r) => r.number)).toEqual(["HV-2025-0877", "HV-2026-0129"]);
    const held = await b.listMatters({ offset: 0, limit: 10, sort: "opened", descending: true, status: "on_hold" });
    expect(held.rows.map((r) => r.number)).toEqual(["HV-2025-0877"]);
    expect(await code(b.listMatters({ offset: 0, limit: 0, sort: "opened", descending: true }))).toMatch(/^invalid_input/);
  });

  it("asks for a one-time code in the MFA scenario", async () => {
    const b = new FakeBackend("mfa");
    const url = "https://127.0.0.1:8443/";
    expect(await code(b.signIn(url, FAKE.email, FAKE.password))).toMatch(/^mfa_required/);
    expect(await code(b.signIn(url, FAKE.email, FAKE.password, undefined, "000000"))).toMatch(/^wrong_code/);
    expect((await b.signIn(url, FAKE.email, FAKE.password, undefined, "123456")).signed_in).toBe(true);
  });

  it("one timer at a time; stop answers the final state", async () => {
    const b = new FakeBackend("signed-in");
    expect(await b.timer()).toBeNull();
    await b.startTimer(OKAFOR);
    expect(await code(b.startTimer(OKAFOR))).toMatch(/^timer_running/);
    b.advanceTimer(90);
    expect((await b.pauseTimer()).running).toBe(false);
    const final = await b.stopTimer();
    expect(final.elapsed_secs).toBeGreaterThanOrEqual(90);
    expect(await code(b.stopTimer())).toMatch(/^no_timer/);
  });

  it("generates the large practice deterministically", async () => {
    const b = new FakeBackend("large");
    const first = await b.listMatters({ offset: 0, limit: 3, sort: "number", descending: false });
    expect(first.total).toBe(100_000);
    expect(first.rows[0]?.number).toBe("HV-2012-000001");
    const again = await new FakeBackend("large").listMatters({ offset: 50_000, limit: 1, sort: "opened", descending: true });
    const once = await b.listMatters({ offset: 50_000, limit: 1, sort: "opened", descending: true });
    expect(again.rows).toEqual(once.rows);
  });

  it("sign-out erases everything", async () => {
    const b = new FakeBackend("conflicts");
    expect((await b.status()).open_conflicts).toBe(3);
    const s = await b.signOut();
    expect(s).toMatchObject({ signed_in: false, open_conflicts: 0, pending_edits: 0, matter_count: 0 });
    expect(await code(b.matter(OKAFOR))).toMatch(/^not_signed_in/);
  });
});
