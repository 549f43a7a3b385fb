// The web surface in a real browser against the real service: Debian's Chromium
// (playwright-core) opens the page the service itself serves (`strongroom-server serve
// --web-root ui/dist`, over TLS, its certificate trusted by its public-key pin), signs in
// with the demo member, and checks what the browser was left holding: only the strictly
// necessary session cookie (HttpOnly, Secure, SameSite=Strict), nothing in script-readable
// storage, no analytics cookie before consent, after a refusal, or under Global Privacy
// Control, and the analytics cookie only once it is accepted without GPC. The cookie banner
// asks after sign-in while no choice is recorded; "Reject all" records the member's choice
// and sets nothing; functional cookies allowed on the Cookies page let the display cookie be
// set; under GPC the Cookies page shows analytics off and says why. Breach notices and policy
// updates: an incident recorded and a new privacy policy published with the operator's CLI
// (`strongroom-server incident record`, `policy publish`) against the running service's data
// directory show in the region at the top of the page; the incident page shows its
// statutory fields and acknowledging it is recorded; the policies page shows the change as a
// diff and acknowledging it is recorded. A member with an authenticator (set up through the
// API) signs in with its code or a recovery code, and a wrong code is refused.
//
// Needs `npm run build` (ui/dist) and the server binary (STRONGROOM_SERVER_BIN, default
// $CARGO_TARGET_DIR/debug/strongroom-server, or ../target/debug/strongroom-server).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const EMAIL = "demo@harbourvine.example";
const PASSWORD = "Harbour-Vine-demo-2026";
const SESSION_COOKIE = "__Host-strongroom-session";
const ANALYTICS_COOKIE = "__Host-strongroom-aid";
const ui = fileURLToPath(new URL("../", import.meta.url));
const DISPLAY_COOKIE = "__Host-strongroom-display";
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(ui, "../target");
const serverBin = process.env.STRONGROOM_SERVER_BIN ?? join(targetDir, "debug/strongroom-server");
const axeSource = await readFile(join(ui, "node_modules/axe-core/axe.min.js"), "utf8");

let server;
let dataDir;
let base;
let browser;

/** Starts the service on a free port and resolves with its URL and certificate pin. */
function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(
      serverBin,
      ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--seed-demo", "--web-root", join(ui, "dist")],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, STRONGROOM_LOG_LEVEL: "warn" } },
    );
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`the service did not start in 30 s:\n${out}\n${err}`)), 30_000);
    child.stderr.on("data", (d) => (err += d));
    child.stdout.on("data", (d) => {
      out += d;
      const url = out.match(/listening on (https:\/\/\S+)/)?.[1];
      const pin = out.match(/Public-key pin of this server's certificate: sha256\/(\S+)/)?.[1];
      if (url && pin) {
        clearTimeout(timer);
        resolve({ child, url, pin });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited (${code}):\n${out}\n${err}`));
    });
  });
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "strongroom-web-test-"));
  const started = await startServer();
  server = started.child;
  base = started.url;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // Trust exactly this service's certificate, by its public key.
      `--ignore-certificate-errors-spki-list=${started.pin}`,
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A fresh browser profile (no cookies), optionally sending `Sec-GPC: 1` on every request. */
async function openPage({ gpc = false } = {}) {
  const context = await browser.newContext({ extraHTTPHeaders: gpc ? { "Sec-GPC": "1" } : {} });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/status of 40[13]/.test(msg.text())) errors.push(`console: ${msg.text()}`);
  });
  // Any file the page asks for and does not get (a 404 on the API is an answer, not this).
  page.on("response", (r) => {
    if (r.status() === 404 && !new URL(r.url()).pathname.startsWith("/v1/")) errors.push(`missing: ${r.url()}`);
  });
  await page.goto(base);
  return { context, page, errors };
}

async function signIn(page) {
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("privacy").waitFor({ timeout: 30_000 });
}

/** What script in the page can see: document.cookie and every storage area (local and
 * session storage, IndexedDB's databases by name, the Cache API's caches). */
async function scriptVisibleStorage(page) {
  return page.evaluate(async () => ({
    cookie: document.cookie,
    local: localStorage.length,
    session: sessionStorage.length,
    idb: (await indexedDB.databases()).map((d) => d.name),
    caches: await caches.keys(),
  }));
}

const NOTHING_STORED = { cookie: "", local: 0, session: 0, idb: [], caches: [] };

/** The computed look of a button: what would make one more prominent than another. */
async function look(page, selector) {
  return page.locator(selector).evaluate((el) => {
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return {
      className: el.className,
      fontSize: s.fontSize,
      fontWeight: s.fontWeight,
      color: s.color,
      background: s.backgroundColor,
      border: `${s.borderTopWidth} ${s.borderTopStyle} ${s.borderTopColor}`,
      padding: s.padding,
      height: Math.round(r.height),
      top: Math.round(r.top),
    };
  });
}

/** A same-origin call from the page, with the cookie session and its CSRF header. */
async function call(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const resp = await fetch(path, {
        method,
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-strongroom-csrf": "1", "strongroom-protocol": "1" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: resp.status, body: await resp.text() };
    },
    { method, path, body },
  );
}

/** RFC 6238 (SHA-1, 30 s, six digits) for a base32 secret, at `unixSeconds`: what an
 * authenticator app shows. */
function totp(secret, unixSeconds) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** Writes a PNG of the page when STRONGROOM_UI_SCREENSHOT_DIR is set (scripts/screenshots). */
async function shot(page, name) {
  const dir = process.env.STRONGROOM_UI_SCREENSHOT_DIR;
  if (dir) await page.screenshot({ path: join(dir, `${name}.png`) });
}

async function axe(page) {
  // The page's policy refuses an injected <script> (as it should); the DevTools protocol's
  // evaluation is not page script, so axe-core goes in that way.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
  if (!(await page.evaluate(() => "axe" in window))) return ["axe-core could not be loaded into the page"];
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

describe("the service's own web pages", () => {
  test("sign in with a cookie session and the browser holds only the strictly necessary cookie", async () => {
    const { context, page, errors } = await openPage();
    const before = await context.cookies();
    assert.deepEqual(before, [], "no cookie before signing in");
    await page.getByRole("heading", { name: "Sign in to Strongroom" }).waitFor();
    await shot(page, "web-sign-in");
    await signIn(page);
    // The devices page lists this browser's own session.
    await page.getByRole("button", { name: /Devices|Sessions/ }).first().click();
    await page.getByText("web", { exact: false }).first().waitFor();
    await shot(page, "web-privacy-devices");

    const cookies = await context.cookies();
    assert.deepEqual(cookies.map((c) => c.name), [SESSION_COOKIE]);
    const [session] = cookies;
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(session.sameSite, "Strict");
    assert.equal(session.path, "/");
    // The catalogue names it strictly necessary.
    const catalogue = JSON.parse((await call(page, "GET", "/v1/cookies")).body);
    const entry = JSON.stringify(catalogue).includes(SESSION_COOKIE);
    assert.ok(entry, "the session cookie is in the catalogue");

    assert.deepEqual(await scriptVisibleStorage(page), NOTHING_STORED);
    // No choice yet: the banner asks.
    await page.getByTestId("cookie-banner").waitFor();
    assert.deepEqual(await axe(page), []);
    assert.deepEqual(errors, [], "no script error and no Content Security Policy violation");

    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.getByRole("heading", { name: "Sign in to Strongroom" }).waitFor();
    assert.deepEqual(await context.cookies(), [], "signing out leaves no cookie");
    await context.close();
  });

  test("the cookie banner: Reject all records the member's choice and sets nothing; functional allowed lets the display cookie be set", async () => {
    const { context, page, errors } = await openPage();
    await signIn(page);
    const names = async () => (await context.cookies()).map((c) => c.name).sort();
    const banner = page.getByTestId("cookie-banner");
    await banner.waitFor();
    assert.match(await banner.innerText(), /Nothing optional is set until you allow it/);
    assert.deepEqual(await names(), [SESSION_COOKIE], "nothing but the session before a choice");
    assert.deepEqual(await scriptVisibleStorage(page), NOTHING_STORED);

    // Equal weight; a region in the page, not a modal: nothing is inert or trapped.
    assert.deepEqual(await look(page, "#banner-reject-all"), await look(page, "#banner-accept-all"), "Accept all and Reject all look the same, side by side");
    assert.equal(await page.locator("[aria-modal=true], dialog[open], [inert]").count(), 0);
    assert.equal(await banner.evaluate((el) => el.closest("[role=dialog], [role=alertdialog]")), null);
    await page.locator("#nav-audit").click();
    await page.getByTestId("audit-page").waitFor();
    await page.locator("#nav-devices").focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("devices-page").waitFor();
    await banner.waitFor();
    assert.deepEqual(await axe(page), []);
    await shot(page, "web-cookie-banner");

    // Reject all: the banner goes, the choice is the member's, and still nothing is set.
    await page.locator("#banner-reject-all").click();
    await banner.waitFor({ state: "detached" });
    const consent = JSON.parse((await call(page, "GET", "/v1/me/consent")).body);
    assert.equal(consent.current.source, "user");
    assert.equal(consent.current.surface, "web");
    assert.deepEqual(consent.current.choices, { functional: false, analytics: false, items: {} });
    assert.equal(consent.choice_needed, false);
    let saved = JSON.parse((await call(page, "POST", "/v1/web/preferences", { theme: "dark", density: "compact" })).body);
    assert.deepEqual(saved, { remembered: false, reason: "no_consent" });
    assert.deepEqual(await names(), [SESSION_COOKIE], "nothing optional after Reject all");
    assert.deepEqual(await scriptVisibleStorage(page), NOTHING_STORED);

    // Functional allowed on the Cookies page: the display preferences may now be remembered.
    await page.locator("#nav-cookies").click();
    await page.getByTestId("cookies-page").waitFor();
    await page.getByTestId("cookie-category").first().waitFor();
    assert.equal(await page.getByTestId("consent-source").innerText(), "You");
    assert.equal(await page.getByRole("switch", { name: "Strictly necessary cookies" }).isDisabled(), true);
    await page.getByRole("switch", { name: "Functional cookies" }).click();
    await page.getByTestId("cookies-saved").waitFor();
    assert.equal(await page.getByRole("switch", { name: "Functional cookies" }).isChecked(), true);
    assert.deepEqual(await names(), [SESSION_COOKIE], "allowing sets nothing by itself");
    saved = JSON.parse((await call(page, "POST", "/v1/web/preferences", { theme: "dark", density: "compact" })).body);
    assert.deepEqual(saved, { remembered: true, reason: null });
    assert.deepEqual(await names(), [DISPLAY_COOKIE, SESSION_COOKIE].sort());
    assert.equal(await page.evaluate(() => document.cookie), `${DISPLAY_COOKIE}=dark.compact`, "the only cookie script can read is the allowed display cookie");
    const stored = await scriptVisibleStorage(page);
    assert.deepEqual({ ...stored, cookie: "" }, NOTHING_STORED, "and nothing else is stored");
    assert.deepEqual(await axe(page), []);
    await shot(page, "web-cookies");

    // Withdrawn: the service expires it in its answer.
    await page.locator("#reject-all").click();
    await page.waitForFunction(() => /only strictly necessary cookies are on/.test(document.querySelector("[data-testid=cookies-saved]")?.textContent ?? ""));
    assert.deepEqual(await names(), [SESSION_COOKIE], "withdrawn: the display cookie is expired");

    // A choice is recorded: a new page load asks nothing.
    await page.reload();
    await page.getByTestId("privacy").waitFor({ timeout: 30_000 });
    await page.getByTestId("devices-page").waitFor();
    await page.waitForLoadState("networkidle");
    assert.equal(await banner.count(), 0);
    assert.deepEqual(errors, [], "no script error and no Content Security Policy violation");
    await context.close();
  });

  test("analytics: no cookie before consent or after refusal; set once accepted; never under GPC", async () => {
    const { context, page } = await openPage();
    await signIn(page);
    const names = async () => (await context.cookies()).map((c) => c.name).sort();

    assert.equal((await call(page, "GET", "/v1/me/consent")).status, 200);
    assert.deepEqual(await names(), [SESSION_COOKIE], "nothing optional before any choice");

    let resp = await call(page, "PUT", "/v1/me/consent", { action: "reject_all" });
    assert.equal(resp.status, 200, resp.body);
    await call(page, "GET", "/v1/me/consent");
    assert.deepEqual(await names(), [SESSION_COOKIE], "nothing optional after a refusal");

    resp = await call(page, "PUT", "/v1/me/consent", { action: "accept_all" });
    assert.equal(resp.status, 200, resp.body);
    await call(page, "GET", "/v1/me/consent");
    assert.deepEqual(await names(), [ANALYTICS_COOKIE, SESSION_COOKIE].sort(), "accepted: the analytics id is set");

    resp = await call(page, "PUT", "/v1/me/consent", { action: "reject_all" });
    assert.equal(resp.status, 200, resp.body);
    await call(page, "GET", "/v1/me/consent");
    assert.deepEqual(await names(), [SESSION_COOKIE], "withdrawn: the analytics id is expired");
    await context.close();

    // The same member, accepting everything, from a browser that sends Sec-GPC: 1.
    const gpc = await openPage({ gpc: true });
    await signIn(gpc.page);
    resp = await call(gpc.page, "PUT", "/v1/me/consent", { action: "accept_all" });
    assert.equal(resp.status, 200, resp.body);
    for (let i = 0; i < 3; i++) await call(gpc.page, "GET", "/v1/me/consent");
    assert.deepEqual(
      (await gpc.context.cookies()).map((c) => c.name),
      [SESSION_COOKIE],
      "under Global Privacy Control no analytics cookie is ever set",
    );
    const wellKnown = await call(gpc.page, "GET", "/.well-known/gpc.json");
    assert.equal(JSON.parse(wellKnown.body).gpc, true);
    await gpc.context.close();
  });
  test("under Global Privacy Control the Cookies page shows analytics off and says why, whatever the member chose", async () => {
    const { context, page, errors } = await openPage({ gpc: true });
    await signIn(page);
    const resp = await call(page, "PUT", "/v1/me/consent", { action: "accept_all" });
    assert.equal(resp.status, 200, resp.body);
    await page.locator("#nav-cookies").click();
    await page.getByTestId("cookie-category").first().waitFor();
    await page.getByTestId("gpc-note").waitFor();
    assert.match(await page.getByTestId("gpc-note").innerText(), /Your browser sends Global Privacy Control\..*analytics stays off/s);
    assert.equal(await page.getByRole("switch", { name: "Analytics cookies" }).isChecked(), true, "the member's own choice is kept");
    assert.match(await page.getByTestId("consent-effective").innerText(), /Analytics off \(Global Privacy Control\)$/);
    assert.match(
      await page.getByTestId("analytics-effective").innerText(),
      /^In this browser now: off, because it sends Global Privacy Control/,
      "and analytics is off here",
    );
    const consent = JSON.parse((await call(page, "GET", "/v1/me/consent")).body);
    assert.equal(consent.gpc, true);
    assert.equal(consent.effective.analytics, false);
    assert.deepEqual((await context.cookies()).map((c) => c.name), [SESSION_COOKIE]);
    assert.deepEqual(await scriptVisibleStorage(page), NOTHING_STORED);
    assert.deepEqual(await axe(page), []);
    await shot(page, "web-cookies-gpc");
    assert.deepEqual(errors, [], "no script error and no Content Security Policy violation");
    await context.close();
  });

  test("breach notices and policy updates: the operator records an incident and publishes a policy; the page says so, shows them, and records the acknowledgements", async () => {
    const { context, page, errors } = await openPage();
    await signIn(page);
    const session = JSON.parse((await call(page, "GET", "/v1/web/session")).body);
    const practice = session.practice.id;
    assert.match(practice, /^[0-9a-f-]{36}$/);

    // First, the member reads both policies, never acknowledged before: each shows its whole text.
    await page.locator("#nav-policies").click();
    await page.getByTestId("policies-page").waitFor();
    assert.match(await page.getByTestId("terms-prevail").innerText(), /the terms of use prevail/);
    for (const kind of ["privacy", "terms"]) {
      const p = page.locator(`[data-testid=policy][data-kind=${kind}]`);
      await p.getByTestId("never-acknowledged").waitFor();
      await p.getByTestId("policy-text").locator("h5").waitFor();
      await p.getByRole("button", { name: /^I have read this: version / }).click();
      await page.waitForFunction((k) => document.querySelector(`[data-kind=${k}]`)?.dataset.upToDate === "true", kind);
    }
    await page.getByTestId("attention").waitFor({ state: "detached" });
    const before = JSON.parse((await call(page, "GET", "/v1/me/policies")).body);
    const firstVersion = before.find((p) => p.kind === "privacy").current.version;
    assert.deepEqual(before.map((p) => p.up_to_date), [true, true]);

    // The operator records an incident affecting the practice, and publishes a new privacy policy.
    const run = promisify(execFile);
    const incident = join(dataDir, "incident.json");
    await writeFile(
      incident,
      JSON.stringify({
        title: "Unauthorised access to a support mailbox",
        description: "An attacker read a support mailbox holding your practice's support conversations.",
        occurred_at: "2026-11-26T22:10:00Z",
        detected_at: "2026-11-27T08:30:00Z",
        data_kinds: ["Names of members", "Email addresses"],
        practices: [practice],
        steps_taken: "We locked the mailbox and reset the credentials.",
        recommendations: "Be wary of emails that claim to come from support.",
        contact: "privacy@strongroom.example",
        regulator_notified: true,
        regulator: "Office of the Australian Information Commissioner",
        regulator_notified_at: "2026-11-27T12:00:00Z",
        recorded_by: "Morgan Hale, Strongroom security",
      }),
    );
    const recorded = await run(serverBin, ["incident", "record", "--file", incident, "--data-dir", dataDir]);
    const id = recorded.stdout.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/)?.[0];
    assert.ok(id, `the CLI names the incident: ${recorded.stdout}`);
    const seeded = await readFile(join(ui, "../crates/server/policies/privacy-2026-11-28.md"), "utf8");
    const changed = seeded.replace(
      "contact us at the address in the app.",
      "contact us at the address in the app.\nWe also tell the regulator where the law requires it.",
    ).replace("We cooperate with privacy regulators' investigations. ", "");
    assert.notEqual(changed, seeded);
    const policyFile = join(dataDir, "privacy-2026-12.md");
    await writeFile(policyFile, changed);
    await run(serverBin, ["policy", "publish", "--kind", "privacy", "--version", "2026-12", "--summary", "We say when we tell the regulator.", "--file", policyFile, "--data-dir", dataDir]);

    // The page, loaded afresh, says what needs attention.
    await page.reload();
    await page.getByTestId("privacy").waitFor({ timeout: 30_000 });
    const region = page.getByTestId("attention");
    await region.waitFor();
    assert.match(await page.getByTestId("attention-incidents").innerText(), /A security incident affecting your practice has been recorded/);
    assert.match(await page.getByTestId("attention-policies").innerText(), /The privacy policy has changed since you last acknowledged it/);
    assert.deepEqual(await axe(page), []);
    await shot(page, "web-attention");

    // The incident: every statutory field; acknowledging it is recorded.
    await page.locator("#attention-go-incidents").click();
    const card = page.locator(`[data-testid=incident][data-id="${id}"]`);
    await card.waitFor();
    const field = (name) => card.locator(`[data-field=${name}]`).innerText();
    assert.match(await field("description"), /An attacker read a support mailbox/);
    assert.match(await field("occurred_at"), /^\d{1,2} Nov( 2026)?, \d\d:\d\d$/);
    assert.match(await field("detected_at"), /^\d{1,2} Nov( 2026)?, \d\d:\d\d$/);
    assert.equal(await card.locator("[data-field=data_kinds] li").count(), 2);
    assert.match(await field("steps_taken"), /locked the mailbox/);
    assert.match(await field("recommendations"), /Be wary/);
    assert.match(await field("contact"), /privacy@strongroom\.example/);
    assert.match(await field("regulator"), /^Office of the Australian Information Commissioner was notified on /);
    assert.match(await field("recorded_at"), /by Morgan Hale, Strongroom security$/);
    assert.match(await field("notice_created_at"), /(within a second of its recording|after it was recorded)\)$/);
    // The demo member is an administrator: the table of who has read it.
    await card.getByTestId("incident-acks").waitFor();
    assert.match(await card.locator("caption").innerText(), /0 of 1 members have acknowledged/);
    assert.deepEqual(await axe(page), []);
    await shot(page, "web-incidents");
    await card.getByRole("button", { name: /^Acknowledge/ }).click();
    await card.getByTestId("acknowledged-on").waitFor();
    await page.waitForFunction(() => /1 of 1 members/.test(document.querySelector("[data-testid=incident-acks] caption")?.textContent ?? ""));
    const mine = JSON.parse((await call(page, "GET", "/v1/me/incidents")).body).find((i) => i.id === id);
    assert.ok(mine.acknowledged_at, "the service recorded the acknowledgement");
    await page.getByTestId("attention-incidents").waitFor({ state: "detached" });

    // The policy: the change as a diff; acknowledging it is recorded.
    await page.locator("#attention-go-policies").click();
    const privacy = page.locator("[data-testid=policy][data-kind=privacy]");
    const diff = privacy.getByTestId("policy-diff");
    await diff.waitFor();
    assert.match(await privacy.locator(".diff-title").innerText(), new RegExp(`^Changes since version ${firstVersion} that you acknowledged: 2 lines added and 1 removed$`));
    assert.equal(await diff.locator("tr[data-tag=insert] ins", { hasText: "We also tell the regulator where the law requires it." }).count(), 1);
    assert.equal(await diff.locator("tr[data-tag=delete] del").count(), 1);
    assert.match((await diff.locator("tr[data-tag=insert] td").allInnerTexts())[1], /^\d+$/, "numbered in the new version");
    assert.ok((await diff.locator("tr[data-tag=equal]").count()) >= 3, "with context");
    assert.deepEqual(await axe(page), []);
    await shot(page, "web-policies");
    await privacy.getByRole("button", { name: "I have read this: version 2026-12 of the privacy policy" }).click();
    await page.waitForFunction(() => document.querySelector("[data-kind=privacy]")?.dataset.upToDate === "true");
    const after = JSON.parse((await call(page, "GET", "/v1/me/policies")).body).find((p) => p.kind === "privacy");
    assert.equal(after.acknowledged_version, "2026-12");
    assert.equal(after.up_to_date, true);
    await region.waitFor({ state: "detached" });
    assert.deepEqual(errors, [], "no script error and no Content Security Policy violation");
    await context.close();
  });

  test("a member with an authenticator signs in with its code, or with a recovery code, and a wrong code is refused", async () => {
    // A member of the demo practice, made with the operator's CLI, who sets up an authenticator.
    const first = await openPage();
    await signIn(first.page);
    const practice = JSON.parse((await call(first.page, "GET", "/v1/web/session")).body).practice.id;
    await first.context.close();
    const email = "morgan.mfa@harbourvine.example";
    const password = "Copper-Lantern-9021-reef";
    execFileSync(serverBin, ["create-member", "--practice", practice, "--email", email, "--name", "Morgan Reyes", "--role", "lawyer", "--data-dir", dataDir], {
      input: `${password}\n`,
    });
    const setup = await openPage();
    await setup.page.getByLabel("Email").fill(email);
    await setup.page.getByLabel("Password", { exact: true }).fill(password);
    await setup.page.getByRole("button", { name: "Sign in" }).click();
    await setup.page.getByTestId("privacy").waitFor({ timeout: 30_000 });
    const enrol = await call(setup.page, "POST", "/v1/auth/mfa/totp/setup", {});
    assert.equal(enrol.status, 200, enrol.body);
    const secret = JSON.parse(enrol.body).secret;
    const confirmed = await call(setup.page, "POST", "/v1/auth/mfa/totp/confirm", { code: totp(secret, Date.now() / 1000) });
    assert.equal(confirmed.status, 200, confirmed.body);
    const recovery = JSON.parse(confirmed.body).codes;
    assert.ok(recovery.length > 0, confirmed.body);
    await setup.context.close();

    // The authenticator's code: asked for after the password; a wrong one is refused; the
    // next step's code (not the one used to confirm) signs in.
    const { context, page, errors } = await openPage();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("mfa-note").waitFor();
    const now = Date.now() / 1000;
    const wrong = ["000000", "111111"].find((c) => c !== totp(secret, now) && c !== totp(secret, now + 30) && c !== totp(secret, now - 30));
    await page.getByLabel("Authentication code").fill(wrong);
    await page.getByRole("button", { name: "Verify and sign in" }).click();
    await page.getByTestId("signin-error").waitFor();
    await page.getByLabel("Authentication code").fill(totp(secret, Date.now() / 1000 + 30));
    await page.getByRole("button", { name: "Verify and sign in" }).click();
    await page.getByTestId("privacy").waitFor({ timeout: 30_000 });
    assert.equal(JSON.parse((await call(page, "GET", "/v1/web/session")).body).user.email, email);
    assert.deepEqual(errors, [], "no script error and no Content Security Policy violation");
    await context.close();

    // A recovery code instead.
    const again = await openPage();
    await again.page.getByLabel("Email").fill(email);
    await again.page.getByLabel("Password", { exact: true }).fill(password);
    await again.page.getByRole("button", { name: "Sign in" }).click();
    await again.page.getByLabel("Authentication code").fill(recovery[0]);
    await again.page.getByRole("button", { name: "Verify and sign in" }).click();
    await again.page.getByTestId("privacy").waitFor({ timeout: 30_000 });
    await again.context.close();
  });
});
