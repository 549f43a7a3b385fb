// The matter page: its tabs (ARIA tablist, axe on each), editing the overview, and
// creating, editing and deleting file notes, tasks and time entries; adding participants
// (existing contact, and a new one); documents. Edits show "not yet synced" until a sync.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { axe, open, openMatter, screenshot, setup } from "./helpers.mjs";

setup();

const OKAFOR = "Estate of Margaret Okafor: grant of probate";
const okaforId = "00000000-0000-4000-8000-000000000000";

describe("matter page", () => {
  test("overview and every tab, each without serious accessibility problems", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, OKAFOR);
    assert.equal(await page.locator("#matter-title").innerText(), OKAFOR);
    assert.equal(await page.getByTestId("overview-client").innerText(), "Chinedu Okafor");
    assert.match(await page.locator(".overview").innerText(), /Date of death\s+2026-09-14/);
    assert.equal(await page.locator("[role=tablist] [role=tab]").count(), 5);
    await screenshot(page, "matter-page");
    const expectations = {
      participants: async () => assert.equal(await page.getByTestId("participant").count(), 2),
      notes: async () => {
        const subjects = await page.locator(".note-subject").allInnerTexts();
        assert.deepEqual(subjects, ["Call with the Registry", "First meeting with executor"], "newest first");
      },
      tasks: async () => {
        assert.equal(await page.getByTestId("task").count(), 3);
        assert.equal(await page.getByTestId("overdue").count(), 1);
        assert.match(await page.getByTestId("task").filter({ has: page.getByTestId("overdue") }).innerText(), /Swear executor's affidavit/);
      },
      time: async () => {
        assert.equal(await page.getByTestId("time-entry").count(), 3);
        // 60 + 18 + 24 minutes at $450/h = $765.00.
        assert.match(await page.getByTestId("time-total").innerText(), /1:42 recorded · \$765\.00 billable/);
      },
      documents: async () => {
        assert.equal(await page.getByTestId("document").count(), 3);
        assert.match(await page.getByTestId("document").filter({ hasText: "Will of" }).innerText(), /2\.3 MB/);
        assert.match(await page.getByTestId("no-upload").innerText(), /not available yet/);
      },
    };
    for (const [tab, check] of Object.entries(expectations)) {
      await page.locator(`#tab-${tab}`).click();
      assert.equal(await page.locator(`#tab-${tab}`).getAttribute("aria-selected"), "true");
      assert.equal(await page.locator("[role=tabpanel]").getAttribute("aria-labelledby"), `tab-${tab}`);
      await check();
      assert.deepEqual(await axe(page), [], `tab ${tab}`);
    }
    await page.locator("#back").click();
    await page.locator("tr.matter-row").first().waitFor();
    await done();
  });

  test("edit the overview: only the changed fields are sent; the edit shows as not yet synced", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, OKAFOR);
    await page.locator("#edit-matter").click();
    await page.locator("#matter-dialog").waitFor();
    assert.deepEqual(await axe(page), []);
    await page.locator("#m-title").fill("");
    await page.locator("#save-matter").click();
    assert.match(await page.locator("#matter-dialog [role=alert]").innerText(), /needs a title/);
    await page.locator("#m-title").fill("Estate of Margaret Okafor: probate and administration");
    await page.locator("#m-status").selectOption("on_hold");
    await page.locator("#add-custom-field").click();
    await page.getByLabel("Custom field 3 name").fill("Registry reference");
    await page.getByLabel("Custom field 3 value").fill("PRO 1182/2026");
    await page.locator("#save-matter").click();
    await page.locator("#matter-dialog").waitFor({ state: "detached" });
    await page.waitForFunction(() => document.getElementById("matter-title")?.textContent === "Estate of Margaret Okafor: probate and administration");
    assert.match(await page.locator(".overview").innerText(), /Registry reference\s+PRO 1182\/2026/);
    assert.ok(await page.locator(".matter-sub [data-testid=unsynced-mark]").isVisible());
    const saved = await page.evaluate((id) => window.fakeBackend.record("matter", id), okaforId);
    assert.equal(saved.status, "on_hold");
    assert.equal(saved.client_name, "Chinedu Okafor");
    await page.locator("#sync-now").click();
    await page.waitForFunction(() => !document.querySelector(".matter-sub [data-testid=unsynced-mark]"));
    // The list shows the new title.
    await page.keyboard.press("Escape");
    await page.locator("tr.matter-row", { hasText: "probate and administration" }).waitFor();
    await done();
  });

  test("file notes: add, edit, delete (with confirmation)", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, OKAFOR);
    await page.locator("#tab-notes").click();
    await page.locator("#add-note").click();
    await page.locator("#save-note").click();
    assert.match(await page.locator("#note-dialog [role=alert]").innerText(), /subject/);
    await page.locator("#note-subject").fill("Affidavit sworn");
    await page.locator("#note-body").fill("Executor swore the affidavit before a JP today.");
    assert.deepEqual(await axe(page), []);
    await page.locator("#save-note").click();
    const note = page.getByTestId("note").first();
    await page.waitForFunction(() => document.querySelector(".note-subject")?.textContent === "Affidavit sworn");
    assert.match(await note.innerText(), /Priya Raman/);
    assert.ok(await note.getByTestId("unsynced-mark").isVisible());
    const notes = await page.evaluate((id) => window.fakeBackend.recordsOn("file_note", id), okaforId);
    const created = notes.find((n) => n.subject === "Affidavit sworn");
    assert.equal(created.author, "Priya Raman");
    assert.ok(Math.abs(Date.parse(created.written_at) - Date.now()) < 60_000);

    await page.getByRole("button", { name: "Edit note “Affidavit sworn”" }).click();
    assert.equal(await page.locator("#note-subject").inputValue(), "Affidavit sworn");
    await page.locator("#note-body").fill("Executor swore the affidavit before a JP. Filed the same day.");
    await page.locator("#save-note").click();
    await page.getByTestId("note").filter({ hasText: "Filed the same day" }).waitFor();

    await page.getByRole("button", { name: "Delete note “Affidavit sworn”" }).click();
    await page.locator("#delete-note-dialog").waitFor();
    assert.deepEqual(await axe(page), []);
    await page.locator("#delete-note-dialog").getByRole("button", { name: "Cancel" }).click();
    assert.equal(await page.getByTestId("note").count(), 3, "cancel keeps it");
    await page.getByRole("button", { name: "Delete note “Affidavit sworn”" }).click();
    await page.locator("#confirm-delete").click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=note]").length === 2);
    await done();
  });

  test("tasks: add with a due date, tick done, edit, delete", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, OKAFOR);
    await page.locator("#tab-tasks").click();
    await page.locator("#add-task").click();
    await page.locator("#task-title").fill("Send grant to executor");
    await page.locator("#task-due").fill("2020-01-31");
    assert.equal(await page.locator("#task-assignee").inputValue(), "Priya Raman");
    await page.locator("#save-task").click();
    const task = page.getByTestId("task").filter({ hasText: "Send grant to executor" });
    await task.waitFor();
    assert.ok(await task.getByTestId("overdue").isVisible(), "a past due date is overdue");
    assert.match(await task.innerText(), /Due 31 Jan 2020/);

    await task.getByRole("checkbox").check();
    await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=task].done")].some((li) => li.textContent.includes("Send grant")));
    assert.equal(await task.getByTestId("overdue").count(), 0, "a done task is not overdue");
    const saved = (await page.evaluate((id) => window.fakeBackend.recordsOn("task", id), okaforId)).find((t) => t.title === "Send grant to executor");
    assert.equal(saved.done, true);
    assert.equal(saved.due_on, "2020-01-31");

    await page.getByRole("button", { name: "Edit task “Send grant to executor”" }).click();
    await page.locator("#task-title").fill("Send sealed grant to executor");
    await page.locator("#task-assignee").fill("Mei-Lin Cho");
    await page.locator("#save-task").click();
    await page.getByTestId("task").filter({ hasText: "Send sealed grant" }).filter({ hasText: "Mei-Lin Cho" }).waitFor();

    await page.getByRole("button", { name: "Delete task “Send sealed grant to executor”" }).click();
    await page.locator("#confirm-delete").click();
    await page.waitForFunction(() => !document.body.textContent.includes("Send sealed grant"));
    await done();
  });

  test("time entries: add (h:mm, rate, billable), edit, delete; the total follows", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, OKAFOR);
    await page.locator("#tab-time").click();
    await page.locator("#add-time").click();
    assert.equal(await page.locator("#time-rate").inputValue(), "450.00", "the rate starts from the last entry");
    await page.locator("#time-duration").fill("1:3");
    await page.locator("#time-narrative").fill("Settle affidavit with the executor");
    await page.locator("#save-time").click();
    assert.match(await page.locator("#time-dialog [role=alert]").innerText(), /hours and minutes/);
    await page.locator("#time-duration").fill("1:30");
    assert.equal(await page.getByTestId("time-value").innerText(), "$675.00");
    assert.deepEqual(await axe(page), []);
    await page.locator("#save-time").click();
    await page.getByTestId("time-entry").filter({ hasText: "Settle affidavit" }).waitFor();
    // 102 + 90 minutes; $765 + $675.
    assert.match(await page.getByTestId("time-total").innerText(), /3:12 recorded · \$1,440\.00 billable/);

    await page.getByRole("button", { name: "Edit time entry “Settle affidavit with the executor”" }).click();
    await page.locator("#time-billable").uncheck();
    await page.locator("#save-time").click();
    await page.waitForFunction(() => /\$765\.00 billable/.test(document.querySelector("[data-testid=time-total]")?.textContent ?? ""));
    assert.match(await page.getByTestId("time-entry").filter({ hasText: "Settle affidavit" }).innerText(), /Not billable/);

    await page.getByRole("button", { name: "Delete time entry “Settle affidavit with the executor”" }).click();
    await page.locator("#confirm-delete").click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=time-entry]").length === 3);
    await done();
  });

  test("participants: add an existing contact found as you type; add a new contact; change a role; remove", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, OKAFOR);
    await page.locator("#add-participant").click();
    await page.locator("#participant-dialog").waitFor();
    await page.locator("#contact-find").pressSequentially("meri");
    await page.getByRole("radio", { name: /Meridian Insurance/ }).check();
    await page.locator("#participant-role").fill("Insurer of the estate's property");
    assert.deepEqual(await axe(page), []);
    await page.locator("#save-participant").click();
    const added = page.getByTestId("participant").filter({ hasText: "Meridian Insurance" });
    await added.waitFor();
    assert.match(await added.innerText(), /Insurer of the estate's property[\s\S]*Organisation[\s\S]*claims@meridian\.example/);

    await page.locator("#add-participant").click();
    await page.locator("#contact-find").pressSequentially("Tane");
    await page.getByRole("button", { name: "Create “Tane”" }).click();
    assert.equal(await page.locator("#contact-name").inputValue(), "Tane");
    await page.locator("#contact-name").fill("Mere Tane");
    await page.locator("#contact-email").fill("mere.tane@example.com");
    await page.locator("#participant-role").fill("Beneficiary");
    assert.deepEqual(await axe(page), []);
    await page.locator("#save-participant").click();
    await page.getByTestId("participant").filter({ hasText: "Mere Tane" }).filter({ hasText: "Beneficiary" }).waitFor();

    await page.getByRole("button", { name: "Change role of Mere Tane" }).click();
    await page.locator("#participant-new-role").fill("Residuary beneficiary");
    await page.locator("#save-role").click();
    await page.getByTestId("participant").filter({ hasText: "Residuary beneficiary" }).waitFor();

    await page.getByRole("button", { name: "Remove Mere Tane from the matter" }).click();
    await page.locator("#confirm-delete").click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=participant]").length === 3);
    await done();
  });

  test("documents: rename and move to a folder; delete", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, OKAFOR);
    await page.locator("#tab-documents").click();
    await page.getByRole("button", { name: "Rename or move “Death certificate.pdf”" }).click();
    await page.locator("#document-name").fill("Death certificate (certified copy).pdf");
    await page.locator("#document-folder").fill("Registry");
    assert.deepEqual(await axe(page), []);
    await page.locator("#save-document").click();
    const doc = page.getByTestId("document").filter({ hasText: "certified copy" });
    await doc.waitFor();
    assert.match(await doc.innerText(), /Registry/);
    await page.getByRole("button", { name: "Delete “Death certificate (certified copy).pdf”" }).click();
    await page.locator("#confirm-delete").click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=document]").length === 2);
    await done();
  });

  test("offline, edits still save to this device", async () => {
    const { page, done } = await open("offline");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, "Walker unfair dismissal claim");
    await page.locator("#tab-tasks").click();
    await page.locator("#add-task").click();
    await page.locator("#task-title").fill("Chase the Commission for a date");
    await page.locator("#save-task").click();
    const task = page.getByTestId("task").filter({ hasText: "Chase the Commission" });
    await task.waitFor();
    assert.ok(await task.getByTestId("unsynced-mark").isVisible());
    assert.match(await page.getByTestId("connection").innerText(), /Offline/);
    await done();
  });
});
