// Getting in and out: two-step sign-in (a one-time code), the first-sync panel, and
// signing out (warned when edits are not yet synced or conflicts wait).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { axe, EMAIL, open, PASSWORD, screenshot, setup } from "./helpers.mjs";

setup();

async function fillCredentials(page) {
  await page.locator("#server-url").fill("https://127.0.0.1:8443/");
  await page.locator("#email").fill(EMAIL);
  await page.locator("#password").fill(PASSWORD);
}

describe("two-step sign-in", () => {
  test("the code field appears when asked for; a wrong code says so; the right one signs in", async () => {
    const { page, done } = await open("mfa");
    await fillCredentials(page);
    assert.equal(await page.locator("#one-time-code").count(), 0);
    await page.locator("#sign-in").click();
    await page.locator("#one-time-code").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "one-time-code", "focus moves to the code");
    assert.match(await page.getByTestId("mfa-note").innerText(), /authenticator app/);
    assert.equal(await page.locator("[data-testid=signin-error]").count(), 0, "asking for the code is not an error");
    assert.deepEqual(await axe(page), []);

    await page.locator("#one-time-code").fill("654321");
    await page.locator("#sign-in").click();
    const alert = page.getByTestId("signin-error");
    await alert.waitFor();
    assert.match(await alert.innerText(), /not accepted/);
    assert.doesNotMatch(await alert.innerText(), /wrong_code/);
    assert.equal(await page.locator("#one-time-code").inputValue(), "", "the wrong code is cleared");

    await page.locator("#one-time-code").fill("123456");
    await page.keyboard.press("Enter");
    await page.locator("tr.matter-row").first().waitFor();
    assert.equal(await page.locator("tr.matter-row").count(), 5);
    await done();
  });

  test("a recovery code works too", async () => {
    const { page, done } = await open("mfa");
    await fillCredentials(page);
    await page.locator("#sign-in").click();
    await page.locator("#one-time-code").fill("rcvr-7k2m-q9tx");
    await page.locator("#sign-in").click();
    await page.locator("tr.matter-row").first().waitFor();
    await done();
  });
});

describe("first sync", () => {
  test("while the vault is empty, a panel shows records done of total, the percentage and the time left; then the list", async () => {
    const { page, done } = await open("first-sync");
    await page.evaluate(() => (window.fakeBackend.firstSyncStepMs = 250));
    await fillCredentials(page);
    await page.locator("#sign-in").click();
    const panel = page.getByTestId("first-sync");
    await panel.waitFor();
    await page.waitForFunction(() => /of 4,800 records \(\d+%\)/.test(document.querySelector("[data-testid=first-sync-records]")?.textContent ?? ""));
    await page.waitForFunction(() => /left/.test(document.querySelector("[data-testid=first-sync-eta]")?.textContent ?? ""));
    const bar = page.getByRole("progressbar", { name: "First sync progress" });
    assert.equal(await bar.getAttribute("max"), "4800");
    assert.ok(Number(await bar.getAttribute("value")) > 0);
    await page.waitForFunction(() => /About \d+ (second|minute)|Less than a minute left/.test(document.querySelector("[data-testid=first-sync-eta]")?.textContent ?? ""));
    assert.equal(await page.locator("tr.matter-row").count(), 0, "no list while the panel shows");
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "first-sync");
    await page.locator("tr.matter-row").first().waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId("first-sync").count(), 0);
    assert.equal(await page.locator("tr.matter-row").count(), 5);
    await done();
  });
});

describe("sign-out", () => {
  test("warns with the count of edits not yet synced, then erases and returns to sign-in", async () => {
    const { page, done } = await open("offline");
    await page.locator("tr.matter-row").first().waitFor();
    // An edit made offline: it stays pending.
    await page.locator("tr.matter-row", { hasText: "Okafor" }).click();
    await page.locator("#tab-notes").click();
    await page.locator("#add-note").click();
    await page.locator("#note-subject").fill("Called the Registry");
    await page.locator("#save-note").click();
    await page.getByTestId("note").filter({ hasText: "Called the Registry" }).waitFor();
    await page.waitForFunction(() => document.querySelector("[data-testid=pending]")?.textContent?.startsWith("1 pending"));

    await page.locator("#account-menu").click();
    assert.equal(await page.locator("#account-menu").getAttribute("aria-expanded"), "true");
    await page.locator("#sign-out").click();
    const dialog = page.locator("#sign-out-dialog");
    await dialog.waitFor();
    assert.match(await page.getByTestId("sign-out-pending").innerText(), /1 edit has not been synced yet/);
    assert.equal((await page.locator("#confirm-sign-out").innerText()).trim(), "Sign out and lose it");
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "sign-out-dialog");

    // Escape cancels and nothing is lost.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.equal(await page.evaluate(() => window.fakeBackend.pendingEdits()), 1);

    await page.locator("#account-menu").click();
    await page.locator("#sign-out").click();
    await page.locator("#confirm-sign-out").click();
    await page.locator("#signin-title").waitFor();
    assert.equal(await page.evaluate(() => window.fakeBackend.pendingEdits()), 0, "the vault was erased");
    await done();
  });

  test("with nothing pending, the dialog has no warning; open conflicts are warned of", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.locator("#account-menu").click();
    await page.locator("#sign-out").click();
    await page.locator("#sign-out-dialog").waitFor();
    assert.equal(await page.getByTestId("sign-out-pending").count(), 0);
    assert.equal(await page.getByTestId("sign-out-conflicts").count(), 0);
    assert.equal((await page.locator("#confirm-sign-out").innerText()).trim(), "Sign out");
    await page.locator("#sign-out-dialog").getByRole("button", { name: "Cancel" }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "account-menu", "focus returns");
    await done();

    const c = await open("conflicts");
    await c.page.locator("tr.matter-row").first().waitFor();
    await c.page.locator("#account-menu").click();
    await c.page.locator("#sign-out").click();
    assert.match(await c.page.getByTestId("sign-out-conflicts").innerText(), /3 conflicts are waiting/);
    await c.done();
  });
});
