// The running timer: started from a matter, shown in the top bar ticking, paused and
// resumed, stopped into a new time entry with the minutes filled in (rounded up); a
// second timer offers to stop the first.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { axe, open, openMatter, screenshot, setup } from "./helpers.mjs";

setup();

const elapsed = (page) => page.getByTestId("timer-elapsed").innerText();

describe("timer", () => {
  test("start → ticks in the top bar → pause/resume → stop → a time entry with the minutes filled in", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, "Lindqvist v Coastal Freight Pty Ltd");
    await page.locator("#start-timer").click();
    const chip = page.locator("#timer-chip");
    await chip.waitFor();
    assert.match(await chip.innerText(), /HV-2026-0137/);
    assert.ok(await page.getByTestId("timer-here").isVisible());
    const first = await elapsed(page);
    assert.match(first, /^0:00:0\d$/);
    await page.waitForFunction((t) => document.querySelector("[data-testid=timer-elapsed]")?.textContent !== t, first, { timeout: 3000 });

    // Time passes (as the fake's clock): 2 min 5 s.
    await page.evaluate(() => window.fakeBackend.advanceTimer(120));
    await page.locator("#timer-pause").click();
    await page.locator("#timer-resume").waitFor();
    const paused = await elapsed(page);
    assert.match(paused, /^0:02:0\d$/);
    assert.match(await chip.innerText(), /Paused/);
    await page.waitForTimeout(1200);
    assert.equal(await elapsed(page), paused, "a paused timer does not tick");
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "timer");
    await page.locator("#timer-resume").click();
    await page.locator("#timer-pause").waitFor();

    await page.locator("#timer-stop").click();
    await page.locator("#time-dialog").waitFor();
    assert.equal(await page.locator("#timer-chip").count(), 0);
    // 2:0x plus a moment, rounded up to whole minutes: 3.
    assert.equal(await page.locator("#time-duration").inputValue(), "0:03");
    assert.equal(await page.locator("#time-rate").inputValue(), "520.00", "the rate of the last entry on the matter");
    assert.match(await page.locator("#time-dialog").innerText(), /HV-2026-0137/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), "time-narrative");
    assert.deepEqual(await axe(page), []);
    await page.locator("#time-narrative").fill("Call with the client about the offer");
    await page.locator("#save-time").click();
    await page.locator("#time-dialog").waitFor({ state: "detached" });
    await page.locator("#tab-time").click();
    const entry = page.getByTestId("time-entry").filter({ hasText: "Call with the client about the offer" });
    await entry.waitFor();
    assert.match(await entry.innerText(), /0:03/);
    await done();
  });

  test("a second timer: offers to stop the first, records it, then starts the new one", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, "Lindqvist v Coastal Freight Pty Ltd");
    await page.locator("#start-timer").click();
    await page.locator("#timer-chip").waitFor();
    await page.keyboard.press("Escape");
    await openMatter(page, "Purchase of 14 Wattle Grove, Fremantle");
    await page.locator("#start-timer").click();
    const dialog = page.locator("#timer-clash-dialog");
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /HV-2026-0137/);
    assert.deepEqual(await axe(page), []);
    await page.locator("#confirm-stop-other").click();
    await page.locator("#time-dialog").waitFor();
    assert.match(await page.locator("#time-dialog").innerText(), /HV-2026-0137/, "the stopped timer's entry is offered");
    assert.equal(await page.locator("#time-duration").inputValue(), "0:01", "at least one minute");
    await page.waitForFunction(() => /HV-2026-0129/.test(document.getElementById("timer-chip")?.textContent ?? ""));
    await page.keyboard.press("Escape");
    await page.locator("#time-dialog").waitFor({ state: "detached" });
    assert.ok(await page.getByTestId("timer-here").isVisible());
    await done();
  });
});
