// Making and changing the records the practice runs on: a new matter (the dialog, its
// checks, the vault's refusal, the keyboard path), closing and reopening a matter, and a
// contact's details edited from a matter's participants.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { axe, open, openMatter, screenshot, setup } from "./helpers.mjs";

setup();

const WALKER = "Walker unfair dismissal claim";
const VASQUEZ = "Vasquez wills and enduring powers of attorney";
const OKAFOR = "Estate of Margaret Okafor: grant of probate";
const LINDQVIST = "Lindqvist v Coastal Freight Pty Ltd";
const walkerId = "00000000-0000-4000-8000-000000000003";
const vasquezId = "00000000-0000-4000-8000-000000000004";

/** Today on this device, as YYYY-MM-DD (the page's clock and this one are the same machine). */
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function formatDate(iso) {
  const [y, m, d] = iso.split("-");
  return `${Number(d)} ${["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][Number(m) - 1]} ${y}`;
}

const matterCount = (page) => page.evaluate(async () => (await window.fakeBackend.listMatters({ offset: 0, limit: 1, sort: "number", descending: false })).total);

describe("new matter", () => {
  test("create one: it opens, then shows in the list and in search", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.locator("#new-matter").click();
    await page.locator("#new-matter-dialog").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "nm-number", "the first field has focus");
    // Defaults: open, opened today, the signed-in lawyer responsible; the lists offer what is in use.
    assert.equal(await page.locator("#nm-status").inputValue(), "open");
    assert.equal(await page.locator("#nm-opened_on").inputValue(), today());
    assert.equal(await page.locator("#nm-responsible").inputValue(), "Priya Raman");
    const types = await page.locator("#nm-types option").evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(types, ["Conveyancing", "Employment", "Litigation", "Probate", "Wills and estates"]);
    assert.ok((await page.locator("#nm-lawyers option").evaluateAll((os) => os.map((o) => o.value))).includes("Daniel Achterberg"));

    await page.locator("#nm-number").fill("HV-2026-0150");
    await page.locator("#nm-title").fill("Tane lease of 3 Harbour Terrace");
    await page.locator("#nm-matter_type").fill("Commercial");
    await page.locator("#nm-client_name").fill("Mere Tane");
    await page.locator("#nm-responsible").fill("Daniel Achterberg");
    await page.locator("#nm-description").fill("Review of a five-year retail lease with two options to renew.");
    assert.deepEqual(await axe(page), [], "the filled-in dialog");
    await screenshot(page, "new-matter");
    await page.locator("#save-new-matter").click();

    await page.locator("#new-matter-dialog").waitFor({ state: "detached" });
    await page.waitForFunction(() => document.getElementById("matter-title")?.textContent === "Tane lease of 3 Harbour Terrace");
    await page.waitForFunction(() => document.activeElement?.id === "matter-title");
    assert.match(await page.locator(".matter-number").innerText(), /HV-2026-0150 · Commercial/);
    assert.equal(await page.getByTestId("overview-client").innerText(), "Mere Tane");
    assert.match(await page.locator(".overview").innerText(), /Responsible\s+Daniel Achterberg/);
    assert.ok(await page.locator(".matter-sub [data-testid=unsynced-mark]").isVisible(), "made offline, not yet synced");
    assert.equal(await matterCount(page), 6);

    await page.locator("#back").click();
    await page.locator("tr.matter-row", { hasText: "Tane lease of 3 Harbour Terrace" }).waitFor();
    await page.waitForFunction(() => document.getElementById("list-count")?.textContent === "6 matters");
    // The type it brought is offered by the filter now.
    assert.ok((await page.locator("#filter-type option").allInnerTexts()).includes("Commercial"));
    await page.locator("#matter-search").fill("tane");
    await page.waitForFunction(() => /^1 result for “tane”$/.test(document.getElementById("list-count")?.textContent ?? ""));
    assert.match(await page.locator("tr.matter-row").first().innerText(), /HV-2026-0150/);
    await done();
  });

  test("missing fields are named and nothing is sent; the vault's refusal shows next to the form", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.locator("#new-matter").click();
    await page.locator("#new-matter-dialog").waitFor();
    assert.deepEqual(await axe(page), [], "the empty dialog");
    await page.locator("#save-new-matter").click();
    assert.equal(await page.getByTestId("new-matter-error").innerText(), "The matter needs a number, a title, a type and a client.");
    assert.equal(await page.locator("#nm-number").getAttribute("aria-invalid"), "true");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "nm-number");
    await page.locator("#nm-number").fill("HV-2026-0151");
    await page.locator("#nm-title").fill("Nguyen family trust deed");
    await page.locator("#nm-matter_type").fill("Commercial");
    await page.locator("#nm-responsible").fill("");
    await page.locator("#save-new-matter").click();
    assert.equal(await page.getByTestId("new-matter-error").innerText(), "The matter needs a client and a responsible lawyer.");
    assert.equal(await page.evaluate(() => window.fakeBackend.pendingEdits()), 0, "nothing was sent");

    // Too long a number: the form lets it through; the vault refuses it, in its words.
    await page.locator("#nm-number").fill("HV-".padEnd(65, "9"));
    await page.locator("#nm-client_name").fill("Minh Nguyen");
    await page.locator("#nm-responsible").fill("Priya Raman");
    await page.locator("#save-new-matter").click();
    await page.getByTestId("new-matter-error").filter({ hasText: "at most" }).waitFor();
    assert.equal(await page.getByTestId("new-matter-error").innerText(), "Number: must be at most 64 characters");
    assert.equal(await page.locator("#nm-number").getAttribute("aria-invalid"), "true");
    assert.ok(await page.locator("#new-matter-dialog").isVisible(), "the dialog stays open with what was typed");
    assert.equal(await matterCount(page), 5, "nothing was created");
    assert.equal(await page.evaluate(() => window.fakeBackend.pendingEdits()), 0);
    assert.deepEqual(await axe(page), [], "the dialog with an error");

    // Cancel leaves the list as it was.
    await page.locator("#new-matter-dialog").getByRole("button", { name: "Cancel" }).click();
    await page.locator("#new-matter-dialog").waitFor({ state: "detached" });
    assert.equal(await page.locator("#list-count").innerText(), "5 matters");
    await done();
  });

  test("keyboard only: Tab through the fields, Enter creates it; Escape closes and gives focus back", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.keyboard.press("/");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "matter-search");
    const focused = () => page.evaluate(() => document.activeElement?.id ?? "");
    for (let i = 0; i < 20 && (await focused()) !== "new-matter"; i++) await page.keyboard.press("Tab");
    assert.equal(await focused(), "new-matter", "the button is reached with Tab");

    // Escape closes the dialog and focus goes back to the button.
    await page.keyboard.press("Enter");
    await page.locator("#new-matter-dialog").waitFor();
    assert.equal(await focused(), "nm-number");
    await page.keyboard.press("Escape");
    await page.locator("#new-matter-dialog").waitFor({ state: "detached" });
    assert.equal(await focused(), "new-matter");
    assert.ok(await page.locator("[data-testid=matter-list]").isVisible(), "Escape in the dialog does not leave the list");

    // Again, and fill it in from the keyboard.
    await page.keyboard.press("Enter");
    await page.locator("#new-matter-dialog").waitFor();
    const order = [];
    const type = async (text) => {
      if (text) await page.keyboard.type(text);
    };
    const fill = { "nm-number": "HV-2026-0152", "nm-title": "Fitzgerald boundary dispute", "nm-matter_type": "Litigation", "nm-client_name": "Declan Fitzgerald" };
    for (let i = 0; i < 20; i++) {
      const id = await focused();
      if (order[order.length - 1] !== id) {
        order.push(id);
        await type(fill[id]);
      }
      if (id === "nm-description") break;
      await page.keyboard.press("Tab");
    }
    assert.deepEqual(order, ["nm-number", "nm-status", "nm-title", "nm-matter_type", "nm-client_name", "nm-responsible", "nm-opened_on", "nm-description"]);
    // Tab wraps inside the dialog: on to Cancel and Create, then back to the first field.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "save-new-matter");
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "nm-number", "focus stays in the dialog");
    // Enter in a field submits the form.
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.getElementById("matter-title")?.textContent === "Fitzgerald boundary dispute");
    await page.waitForFunction(() => document.activeElement?.id === "matter-title");
    assert.match(await page.locator(".overview").innerText(), /Responsible\s+Priya Raman/);
    await done();
  });
});

describe("matter status", () => {
  test("close a matter (closed today by default), then reopen it", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, WALKER);
    assert.equal(await page.locator(".matter-sub .pill").innerText(), "On hold");
    await page.locator("#close-matter").click();
    await page.locator("#close-matter-dialog").waitFor();
    assert.equal(await page.locator("#close-date").inputValue(), today());
    assert.deepEqual(await axe(page), [], "the close dialog");
    await page.locator("#close-date").fill("2025-09-30");
    await page.locator("#confirm-close-matter").click();
    assert.match(await page.locator("#close-matter-dialog [role=alert]").innerText(), /cannot close before it opened/);
    assert.equal(await page.evaluate(() => window.fakeBackend.pendingEdits()), 0);
    await page.locator("#close-date").fill(today());
    await page.locator("#confirm-close-matter").click();
    await page.locator("#close-matter-dialog").waitFor({ state: "detached" });
    await page.waitForFunction(() => document.querySelector(".matter-sub .pill")?.textContent === "Closed");
    assert.match(await page.locator(".overview").innerText(), new RegExp(`Closed\\s+${formatDate(today())}`));
    await page.waitForFunction(() => document.activeElement?.id === "reopen-matter");
    let saved = await page.evaluate((id) => window.fakeBackend.record("matter", id), walkerId);
    assert.equal(saved.status, "closed");
    assert.equal(saved.closed_on, today());

    await page.locator("#reopen-matter").click();
    await page.waitForFunction(() => document.querySelector(".matter-sub .pill")?.textContent === "Open");
    assert.match(await page.locator(".overview").innerText(), /Closed\s+—/);
    saved = await page.evaluate((id) => window.fakeBackend.record("matter", id), walkerId);
    assert.equal(saved.status, "open");
    assert.equal(saved.closed_on, null);
    await page.waitForFunction(() => document.activeElement?.id === "close-matter");
    await done();
  });

  test("Edit details: the closing date comes and goes with the status", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await openMatter(page, VASQUEZ);
    await page.locator("#edit-matter").click();
    await page.locator("#matter-dialog").waitFor();
    assert.equal(await page.locator("#m-closed").inputValue(), "2025-09-30");
    await page.locator("#m-status").selectOption("open");
    assert.equal(await page.locator("#m-closed").count(), 0, "an open matter has no closing date");
    await page.locator("#save-matter").click();
    await page.locator("#matter-dialog").waitFor({ state: "detached" });
    await page.waitForFunction(() => document.querySelector(".matter-sub .pill")?.textContent === "Open");
    let saved = await page.evaluate((id) => window.fakeBackend.record("matter", id), vasquezId);
    assert.equal(saved.closed_on, null);

    await page.locator("#edit-matter").click();
    await page.locator("#m-status").selectOption("closed");
    assert.equal(await page.locator("#m-closed").inputValue(), today(), "closing offers today");
    await page.locator("#m-closed").fill("2025-01-01");
    await page.locator("#save-matter").click();
    assert.match(await page.locator("#matter-dialog [role=alert]").innerText(), /cannot close before it opened/);
    await page.locator("#m-closed").fill("2025-12-19");
    await page.locator("#save-matter").click();
    await page.locator("#matter-dialog").waitFor({ state: "detached" });
    await page.waitForFunction(() => document.querySelector(".matter-sub .pill")?.textContent === "Closed");
    saved = await page.evaluate((id) => window.fakeBackend.record("matter", id), vasquezId);
    assert.equal(saved.closed_on, "2025-12-19");
    await done();
  });
});

describe("contact details", () => {
  test("edit a contact from the participants: the change shows on every matter it is on", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    // Chinedu Okafor is also a witness on the Lindqvist matter.
    await page.evaluate(() =>
      window.fakeBackend.saveRecord("participant", null, {
        matter_id: "00000000-0000-4000-8000-000000000001",
        contact_id: "20000000-0000-4000-8000-000000000000",
        role: "Witness",
      }),
    );
    await openMatter(page, OKAFOR);
    await page.getByRole("button", { name: "Edit contact details of Chinedu Okafor" }).click();
    await page.locator("#contact-dialog").waitFor();
    assert.match(await page.getByTestId("contact-shared").innerText(), /Changes apply on every matter this contact is on/);
    assert.equal(await page.locator("#ce-name").inputValue(), "Chinedu Okafor");
    assert.equal(await page.locator("#ce-email").inputValue(), "chinedu.okafor@example.com");
    assert.deepEqual(await axe(page), [], "the contact dialog");

    // The form's own check, then the vault's.
    await page.locator("#ce-email").fill("chinedu at example");
    await page.locator("#save-contact").click();
    assert.match(await page.getByTestId("contact-error").innerText(), /email address/);
    await page.locator("#ce-email").fill("chinedu@okafor.example");
    await page.locator("#ce-phone").fill("0".repeat(51));
    await page.locator("#save-contact").click();
    await page.getByTestId("contact-error").filter({ hasText: "Phone" }).waitFor();
    assert.equal(await page.getByTestId("contact-error").innerText(), "Phone: must be at most 50 characters");
    assert.equal(await page.locator("#ce-phone").getAttribute("aria-invalid"), "true");
    assert.deepEqual(await axe(page), [], "the contact dialog with an error");

    await page.locator("#ce-phone").fill("0412 555 020");
    await page.locator("#ce-address").fill("");
    await page.locator("#save-contact").click();
    await page.locator("#contact-dialog").waitFor({ state: "detached" });
    const row = page.getByTestId("participant").filter({ hasText: "Chinedu Okafor" });
    await row.filter({ hasText: "chinedu@okafor.example" }).waitFor();
    assert.match(await row.innerText(), /0412 555 020/);
    const saved = await page.evaluate(() => window.fakeBackend.record("contact", "20000000-0000-4000-8000-000000000000"));
    assert.deepEqual(
      { email: saved.email, phone: saved.phone, address: saved.address, name: saved.name },
      { email: "chinedu@okafor.example", phone: "0412 555 020", address: null, name: "Chinedu Okafor" },
    );
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute("aria-label")),
      "Edit contact details of Chinedu Okafor",
      "focus back on the button",
    );

    // The same contact on the other matter.
    await page.locator("#back").click();
    await openMatter(page, LINDQVIST);
    await page.getByTestId("participant").filter({ hasText: "Chinedu Okafor" }).filter({ hasText: "chinedu@okafor.example" }).waitFor();
    await done();
  });
});
