// The conflicts view: each conflict field by field (Yours / Theirs), resolved by Keep
// mine, Keep theirs or Edit; edit-against-delete and delete-against-edit explained; the
// rejected edits listed. Markers on the matter page link here.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { axe, open, openMatter, screenshot, setup } from "./helpers.mjs";

setup();

const LINDQVIST = "00000000-0000-4000-8000-000000000001";

async function openConflicts(page) {
  await page.locator("tr.matter-row").first().waitFor();
  await page.locator("#open-conflicts").click();
  await page.locator("#conflicts-view").waitFor();
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=conflict]").length > 0);
}

describe("conflicts", () => {
  test("listed field by field with plain explanations, and the rejected edit", async () => {
    const { page, done } = await open("conflicts");
    await page.locator("tr.matter-row").first().waitFor();
    assert.match(await page.locator("#open-conflicts").innerText(), /3 conflicts to resolve/);
    assert.match(await page.getByTestId("rejected").innerText(), /1 edit not accepted/);
    await openConflicts(page);
    const cards = page.getByTestId("conflict");
    assert.equal(await cards.count(), 3);
    const same = cards.filter({ hasText: "Lindqvist v Coastal Freight" });
    assert.match(await same.innerText(), /Description/);
    assert.match(await same.locator("tr", { hasText: "Status" }).getByTestId("mine").innerText(), /^Open$/);
    assert.match(await same.locator("tr", { hasText: "Status" }).getByTestId("theirs").innerText(), /^On hold$/);
    const ead = cards.filter({ hasText: "Swear executor's affidavit" });
    assert.match(await ead.getByTestId("conflict-explain").innerText(), /You changed this task, but someone else deleted it/);
    assert.equal(await ead.getByTestId("theirs").innerText(), "(deleted)");
    const dae = cards.filter({ hasText: "Contract review" });
    assert.match(await dae.getByTestId("conflict-explain").innerText(), /You deleted this file note, but someone else changed it/);
    assert.equal(await dae.getByTestId("mine").innerText(), "(deleted)");
    const rejected = page.getByTestId("rejected-edit");
    assert.equal(await rejected.count(), 1);
    assert.match(await rejected.innerText(), /closed[\s\S]*matter_closed[\s\S]*refused/);
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "conflicts-view");
    // Dismissed, it leaves the list and the status line's count.
    await rejected.getByTestId("dismiss-rejected").click();
    await page.getByTestId("no-rejected").waitFor();
    await page.waitForFunction(() => !document.querySelector("[data-testid=rejected]"));
    await done();
  });

  test("Keep mine, Keep theirs and Edit each resolve, and what they keep is what the vault holds", async () => {
    const { page, done } = await open("conflicts");
    await openConflicts(page);
    const cards = page.getByTestId("conflict");

    // Edit: the matter's description and status, by hand.
    await cards.filter({ hasText: "Lindqvist v Coastal Freight" }).getByRole("button", { name: "Edit…" }).click();
    await page.locator("#conflict-edit-dialog").waitFor();
    assert.match(await page.locator("#edit-description").inputValue(), /Trial listed for March/, "prefilled with yours");
    assert.deepEqual(await axe(page), []);
    await page.locator("#edit-description").fill("Mediation in February; trial listed for March if it fails.");
    await page.locator("#edit-status").selectOption("on_hold");
    await page.locator("#save-conflict-edit").click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=conflict]").length === 2);
    const matter = await page.evaluate((id) => window.fakeBackend.record("matter", id), LINDQVIST);
    assert.equal(matter.description, "Mediation in February; trial listed for March if it fails.");
    assert.equal(matter.status, "on_hold");
    assert.match(await page.locator("#open-conflicts").innerText(), /2 conflicts/);

    // Keep theirs on edit-against-delete: the task stays deleted.
    await cards.filter({ hasText: "Swear executor's affidavit" }).getByRole("button", { name: "Keep theirs" }).click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=conflict]").length === 1);
    assert.match(await page.getByTestId("resolved-note").innerText(), /stays deleted/);
    const tasks = await page.evaluate(() => window.fakeBackend.recordsOn("task", "00000000-0000-4000-8000-000000000000"));
    assert.ok(!tasks.some((t) => t.title === "Swear executor's affidavit"));

    // Keep mine on delete-against-edit: the note is deleted after all.
    await cards.filter({ hasText: "Contract review" }).getByRole("button", { name: "Keep mine" }).click();
    await page.getByTestId("no-conflicts").waitFor();
    const notes = await page.evaluate(() => window.fakeBackend.recordsOn("file_note", "00000000-0000-4000-8000-000000000002"));
    assert.ok(!notes.some((n) => n.subject === "Contract review"));
    assert.equal(await page.locator("#open-conflicts").count(), 0, "the status line has none left");
    await done();
  });

  test("Keep mine restores an edited record someone deleted; Keep theirs keeps their change; the marker links here", async () => {
    const { page, done } = await open("conflicts");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, "Estate of Margaret Okafor: grant of probate");
    await page.locator("#tab-tasks").click();
    const task = page.getByTestId("task").filter({ hasText: "Swear executor's affidavit" });
    await task.getByTestId("conflict-mark").click();
    await page.locator("#conflicts-view").waitFor();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=conflict]").length === 3);
    const cards = page.getByTestId("conflict");
    await cards.filter({ hasText: "Swear executor's affidavit" }).getByRole("button", { name: "Keep mine" }).click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=conflict]").length === 2);
    await cards.filter({ hasText: "Contract review" }).getByRole("button", { name: "Keep theirs" }).click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=conflict]").length === 1);
    const notes = await page.evaluate(() => window.fakeBackend.recordsOn("file_note", "00000000-0000-4000-8000-000000000002"));
    assert.match(notes.find((n) => n.subject === "Contract review").body, /12 December/);
    await cards.filter({ hasText: "Lindqvist" }).getByRole("button", { name: "Keep theirs" }).click();
    await page.getByTestId("no-conflicts").waitFor();
    const matter = await page.evaluate((id) => window.fakeBackend.record("matter", id), LINDQVIST);
    assert.match(matter.description, /Mediation agreed for February/);

    await page.keyboard.press("Escape");
    await openMatter(page, "Estate of Margaret Okafor: grant of probate");
    await page.locator("#tab-tasks").click();
    const restored = page.getByTestId("task").filter({ hasText: "Swear executor's affidavit" });
    await restored.waitFor();
    assert.ok(await restored.getByTestId("unsynced-mark").isVisible(), "restored, waiting to sync");
    await done();
  });
});
