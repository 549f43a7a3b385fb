// The web surface in a real browser against the real service: Debian's Chromium
// (playwright-core) opens the page the service itself serves (`strongroom-server serve
// --web-root ui/dist`, over TLS, its certificate trusted by its public-key pin), signs in
// with the demo member, and checks what the browser was left holding: only the strictly
// necessary session cookie (HttpOnly, Secure, SameSite=Strict), nothing in script-readable
// storage, no analytics cookie before consent, after a refusal, or under Global Privacy
// Control, and the analytics cookie only once it is accepted without GPC.
//
// Needs `npm run build` (ui/dist) and the server binary (STRONGROOM_SERVER_BIN, default
// ../target/debug/strongroom-server).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const EMAIL = "demo@harbourvine.example";
const PASSWORD = "Harbour-Vine-demo-2026";
const SESSION_COOKIE = "__Host-strongroom-session";
const ANALYTICS_COOKIE = "__Host-strongroom-aid";
const ui = fileURLToPath(new URL("../", import.meta.url));
const serverBin = process.env.STRONGROOM_SERVER_BIN ?? join(ui, "../target/debug/strongroom-server");
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

/** What script in the page can see: document.cookie and every storage area. */
async function scriptVisibleStorage(page) {
  return page.evaluate(async () => ({
    cookie: document.cookie,
    local: localStorage.length,
    session: sessionStorage.length,
    idb: (await indexedDB.databases()).length,
  }));
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

    assert.deepEqual(await scriptVisibleStorage(page), { cookie: "", local: 0, session: 0, idb: 0 });
    assert.deepEqual(await axe(page), []);
    assert.deepEqual(errors, [], "no script error and no Content Security Policy violation");

    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.getByRole("heading", { name: "Sign in to Strongroom" }).waitFor();
    assert.deepEqual(await context.cookies(), [], "signing out leaves no cookie");
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
});
