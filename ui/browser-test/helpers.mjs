// Shared set-up of the browser tests: a static server over the built test page, Debian's
// Chromium through playwright-core, axe-core (served as a file: the page's CSP allows no inline script), and a page that records script errors and
// Content Security Policy violations (each test asserts there were none).
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdir, readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = fileURLToPath(new URL("../dist-browser-test/", import.meta.url));
const axeSource = await readFile(fileURLToPath(new URL("../node_modules/axe-core/axe.min.js", import.meta.url)), "utf8");
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };

export const EMAIL = "demo@harbourvine.example";
export const PASSWORD = "Harbour-Vine-demo-2026";
export const PASSPHRASE = "a long enough vault passphrase";

let server;
let base;
let browser;

/** Starts the server and the browser for this test file (call once at its top). */
export function setup() {
  before(async () => {
    server = createServer(async (req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "") || "index.html";
      if (path === "axe.min.js") {
        res.writeHead(200, { "content-type": "text/javascript" });
        return res.end(axeSource);
      }
      try {
        const body = await readFile(join(root, path));
        res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
    base = `http://127.0.0.1:${server.address().port}/index.html`;
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });
}

/**
 * Opens the app over the fake backend in `scenario`. `errors` collects uncaught script
 * errors and console errors (a CSP violation is one); `done()` asserts there were none
 * and closes the page.
 */
export async function open(scenario, { colorScheme = "light", width = 1280, height = 800 } = {}) {
  const page = await browser.newPage({ colorScheme, viewport: { width, height } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  await page.goto(`${base}?scenario=${scenario}`);
  const done = async () => {
    await page.close();
    assert.deepEqual(errors, [], "no script error and no Content Security Policy violation");
  };
  return { page, errors, done };
}

/** Serious or critical accessibility violations on the page as it stands. */
export async function axe(page) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ url: "axe.min.js" });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** Writes a PNG of the page when STRONGROOM_UI_SCREENSHOT_DIR is set. */
export async function screenshot(page, name) {
  const dir = process.env.STRONGROOM_UI_SCREENSHOT_DIR;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}

/** Text of the element matching `selector`, trimmed. */
export async function text(page, selector) {
  return (await page.locator(selector).first().innerText()).trim();
}

/** Opens a demo matter from the list by its title (signed-in scenarios). */
export async function openMatter(page, title) {
  await page.locator("tr.matter-row", { hasText: title }).first().click();
  await page.locator("[data-testid=matter-page] #matter-title").waitFor();
}

/** Opens the app in `scenario`, runs `before(page)` when given (to set the fake's state),
 * then goes to Privacy & access and to `privacyPage` (a nav id). */
export async function openPrivacy(scenario, privacyPage = "devices", before = null) {
  const opened = await open(scenario);
  const p = opened.page;
  await p.locator("tr.matter-row").first().waitFor();
  if (before) await before(p);
  await p.locator("#account-menu").click();
  await p.locator("#menu-privacy").click();
  await p.getByTestId("privacy").waitFor();
  await goTo(p, privacyPage);
  return opened;
}

/** Goes to a page of Privacy & access: it is the current one, loaded, and focus is on its
 * heading. */
export async function goTo(page, id) {
  await page.locator(`#nav-${id}`).click();
  assert.equal(await page.locator(`#nav-${id}`).getAttribute("aria-current"), "page");
  await page.getByTestId(`${id}-page`).waitFor();
  await page.getByTestId("freshness").or(page.getByTestId("export-page")).first().waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "privacy-page-title");
}

/** axe finds nothing in the light scheme nor in the dark one. */
export async function axeInBothSchemes(page) {
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    assert.deepEqual(await axe(page), [], scheme);
  }
  await page.emulateMedia({ colorScheme: "light" });
}
