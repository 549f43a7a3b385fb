// Browser tests of the UI in Debian's Chromium (playwright-core), over the fake backend,
// with axe-core checking every screen for serious or critical accessibility problems:
// sign-in, the lock screen, and the matter list's basics (search, offline, live changes).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { axe, EMAIL, open, PASSPHRASE, PASSWORD, setup } from "./helpers.mjs";

setup();

describe("sign-in", () => {
  test("a wrong password shows what to do, never an error code", async () => {
    const { page, done } = await open("signed-out");
    await page.getByLabel("Server address").fill("https://127.0.0.1:8443/");
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password", { exact: true }).fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /don't match an account/);
    assert.doesNotMatch(await alert.innerText(), /invalid_credentials/);
    assert.deepEqual(await axe(page), []);
    await done();
  });

  test("signing in shows the practice's matters, online", async () => {
    const { page, done } = await open("signed-out");
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.keyboard.press("Enter");
    await page.locator("tr.matter-row").first().waitFor();
    assert.equal(await page.locator("tr.matter-row").count(), 5);
    await page.waitForFunction(() => document.querySelector("[data-testid=connection]")?.textContent?.trim() === "Online");
    await done();
  });

  test("without a keyring the user chooses a vault passphrase, typed twice", async () => {
    const { page, done } = await open("no-keyring");
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
    await done();
  });
});

describe("locked vault", () => {
  test("a wrong passphrase is refused; the right one opens the matters", async () => {
    const { page, done } = await open("locked");
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
    await done();
  });
});

describe("matters", () => {
  for (const scheme of ["light", "dark"]) {
    test(`no serious accessibility problem (${scheme})`, async () => {
      const { page, done } = await open("signed-in", { colorScheme: scheme });
      await page.locator("tr.matter-row").first().waitFor();
      assert.deepEqual(await axe(page), []);
      await done();
    });
  }

  test("/ focuses search; typing narrows the list; clearing restores it", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.locator("body").press("/");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "matter-search");
    await page.keyboard.type("lindq");
    await page.waitForFunction(() => document.querySelectorAll("tr.matter-row").length === 1);
    assert.match(await page.locator("tr.matter-row").innerText(), /Lindqvist/);
    await page.locator("#matter-search").fill("");
    await page.waitForFunction(() => document.querySelectorAll("tr.matter-row").length === 5);
    await done();
  });

  test("offline: the list stays and the status line says so", async () => {
    const { page, done } = await open("offline");
    await page.locator("tr.matter-row").first().waitFor();
    await page.getByRole("button", { name: "Sync now" }).click();
    await page.waitForFunction(() => document.querySelector("[data-testid=connection]")?.textContent?.includes("Offline"));
    assert.equal(await page.locator("tr.matter-row").count(), 5);
    assert.ok(await page.getByTestId("offline-note").isVisible());
    await done();
  });

  test("live: a matter synced from another device appears on its own, and losing the stream shows offline", async () => {
    const { page, done } = await open("signed-in");
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
    await done();
  });

  test("a sync under way shows changes done of total in the status line", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.evaluate(() => window.fakeBackend.setProgress(1200, 5000, 3_250_000));
    const progress = page.getByTestId("sync-progress");
    await progress.waitFor();
    assert.match(await progress.innerText(), /1,200 of 5,000 changes \(24%\), 3\.1 MB/);
    assert.equal(await page.getByRole("progressbar", { name: "Sync progress" }).getAttribute("value"), "1200");
    assert.deepEqual(await axe(page), []);
    await done();
  });
});

describe("every screen, both themes", () => {
  for (const colorScheme of ["light", "dark"]) {
    test(`matter page, its dialogs, the account menu and the conflicts view have no serious accessibility problem (${colorScheme})`, async () => {
      const { page, done } = await open("conflicts", { colorScheme });
      await page.locator("tr.matter-row").first().waitFor();
      await page.locator("#account-menu").click();
      await page.locator("#account-panel").waitFor();
      assert.deepEqual(await axe(page), [], "account menu");
      await page.keyboard.press("Escape");
      assert.equal(await page.locator("#account-panel").count(), 0);
      assert.equal(await page.evaluate(() => document.activeElement?.id), "account-menu");

      await page.locator("tr.matter-row", { hasText: "Okafor" }).click();
      await page.locator("#matter-title").waitFor();
      await page.locator("#tab-tasks").click();
      assert.deepEqual(await axe(page), [], "tasks with a conflict marker");
      await page.locator("#add-task").click();
      await page.locator("#task-dialog").waitFor();
      assert.deepEqual(await axe(page), [], "task dialog");
      await page.keyboard.press("Escape");
      await page.locator("#tab-participants").click();
      await page.getByRole("button", { name: "Change role of Chinedu Okafor" }).click();
      await page.locator("#role-dialog").waitFor();
      assert.deepEqual(await axe(page), [], "role dialog");
      await page.keyboard.press("Escape");
      await page.locator("#start-timer").click();
      await page.locator("#timer-chip").waitFor();
      assert.deepEqual(await axe(page), [], "timer chip");
      await page.locator("#open-conflicts").click();
      await page.locator("#conflicts-view").waitFor();
      await page.getByTestId("conflict").first().waitFor();
      assert.deepEqual(await axe(page), [], "conflicts view");
      await done();
    });
  }

  test("a Content Security Policy violation is caught (so the other tests would fail on one)", async () => {
    const { page, errors } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.evaluate(() => {
      const div = document.createElement("div");
      div.innerHTML = '<span style="color: red">inline</span>';
      document.body.append(div);
    });
    await page.waitForFunction(() => true);
    await page.waitForTimeout(100);
    assert.ok(errors.some((e) => /Content Security Policy/.test(e)), errors.join("\n"));
    await page.close();
  });
});
