// Browser tests of the UI in Debian's Chromium (playwright-core), over the fake backend,
// with axe-core checking every screen for serious or critical accessibility problems.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = fileURLToPath(new URL("../dist-browser-test/", import.meta.url));
const axeSource = await readFile(fileURLToPath(new URL("../node_modules/axe-core/axe.min.js", import.meta.url)), "utf8");
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };
const EMAIL = "demo@harbourvine.example";
const PASSWORD = "Harbour-Vine-demo-2026";
const PASSPHRASE = "a long enough vault passphrase";

let server;
let base;
let browser;

before(async () => {
  server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "") || "index.html";
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

async function open(scenario, colorScheme = "light") {
  const page = await browser.newPage({ colorScheme });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${base}?scenario=${scenario}`);
  return { page, errors };
}

async function axe(page) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

describe("sign-in", () => {
  test("a wrong password shows what to do, never an error code", async () => {
    const { page, errors } = await open("signed-out");
    await page.getByLabel("Server address").fill("https://127.0.0.1:8443/");
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password", { exact: true }).fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /don't match an account/);
    assert.doesNotMatch(await alert.innerText(), /invalid_credentials/);
    assert.deepEqual(await axe(page), []);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("signing in shows the practice's matters, online", async () => {
    const { page } = await open("signed-out");
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.keyboard.press("Enter");
    await page.locator("tr.matter-row").first().waitFor();
    assert.equal(await page.locator("tr.matter-row").count(), 5);
    await page.waitForFunction(() => document.querySelector("[data-testid=connection]")?.textContent?.trim() === "Online");
    await page.close();
  });

  test("without a keyring the user chooses a vault passphrase, typed twice", async () => {
    const { page } = await open("no-keyring");
    assert.ok(await page.getByLabel("Vault passphrase (10 characters or more)").isVisible());
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Vault passphrase (10 characters or more)").fill(PASSPHRASE);
    await page.getByLabel("Vault passphrase, again").fill(PASSPHRASE + "x");
    await page.getByRole("button", { name: "Sign in" }).click();
    assert.match(await page.getByRole("alert").innerText(), /not the same/);
    assert.deepEqual(await axe(page), []);
    await page.getByLabel("Vault passphrase, again").fill(PASSPHRASE);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("tr.matter-row").first().waitFor();
    await page.close();
  });
});

describe("locked vault", () => {
  test("a wrong passphrase is refused; the right one opens the matters", async () => {
    const { page } = await open("locked");
    assert.ok(await page.getByRole("heading", { name: "Strongroom is locked" }).isVisible());
    assert.deepEqual(await axe(page), []);
    await page.getByLabel("Vault passphrase").fill("not it at all");
    await page.getByRole("button", { name: "Unlock" }).click();
    assert.match(await page.getByRole("alert").innerText(), /does not unlock/);
    await page.getByLabel("Vault passphrase").fill(PASSPHRASE);
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.locator("tr.matter-row").first().waitFor();
    // Lock again from the top bar.
    await page.getByRole("button", { name: "Lock" }).click();
    await page.getByRole("heading", { name: "Strongroom is locked" }).waitFor();
    await page.close();
  });
});

describe("matters", () => {
  for (const scheme of ["light", "dark"]) {
    test(`no serious accessibility problem (${scheme})`, async () => {
      const { page } = await open("signed-in", scheme);
      await page.locator("tr.matter-row").first().waitFor();
      assert.deepEqual(await axe(page), []);
      await page.close();
    });
  }

  test("/ focuses search; typing narrows the list; clearing restores it", async () => {
    const { page } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.locator("body").press("/");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "matter-search");
    await page.keyboard.type("lindq");
    await page.waitForFunction(() => document.querySelectorAll("tr.matter-row").length === 1);
    assert.match(await page.locator("tr.matter-row").innerText(), /Lindqvist/);
    await page.locator("#matter-search").fill("");
    await page.waitForFunction(() => document.querySelectorAll("tr.matter-row").length === 5);
    await page.close();
  });

  test("offline: the list stays and the status line says so", async () => {
    const { page } = await open("offline");
    await page.locator("tr.matter-row").first().waitFor();
    await page.getByRole("button", { name: "Sync now" }).click();
    await page.waitForFunction(() => document.querySelector("[data-testid=connection]")?.textContent?.includes("Offline"));
    assert.equal(await page.locator("tr.matter-row").count(), 5);
    assert.ok(await page.getByTestId("offline-note").isVisible());
    await page.close();
  });

  test("live: a matter synced from another device appears on its own, and losing the stream shows offline", async () => {
    const { page, errors } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.evaluate(() =>
      window.fakeBackend.receiveMatter({
        id: "00000000-0000-4000-8000-0000000000aa",
        number: "HV-2026-0150",
        title: "Tane v Harbour City Council",
        matter_type: "Litigation",
        status: "open",
        client_name: "Mere Tane",
        responsible: "Priya Raman",
        opened_on: "2026-11-27",
      }),
    );
    await page.waitForFunction(() => document.querySelectorAll("tr.matter-row").length === 6);
    assert.match(await page.locator("tr.matter-row").first().innerText(), /Tane v Harbour City Council/);
    await page.waitForFunction(() => document.querySelector("[data-testid=connection]")?.textContent?.includes("Online"));
    await page.evaluate(() => window.fakeBackend.goOffline());
    await page.waitForFunction(() => document.querySelector("[data-testid=connection]")?.textContent?.includes("Offline"));
    assert.equal(await page.locator("tr.matter-row").count(), 6);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("a sync under way shows changes done of total in the status line", async () => {
    const { page, errors } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.evaluate(() => window.fakeBackend.setProgress(1200, 5000, 3_250_000));
    const progress = page.getByTestId("sync-progress");
    await progress.waitFor();
    assert.match(await progress.innerText(), /1,200 of 5,000 changes \(24%\), 3\.1 MB/);
    assert.equal(await page.getByRole("progressbar", { name: "Sync progress" }).getAttribute("value"), "1200");
    assert.deepEqual(await axe(page), []);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
