// Breach notices and policy updates in "Privacy & access" over the fake backend, which keeps
// the service's rules: a recorded incident affecting the practice with every statutory field,
// acknowledged once and for good; the administrators' table of who has read it (not shown to
// others); the privacy policy and the terms, the change since the version acknowledged as a
// line diff with numbers and <ins>/<del>, the whole text, a stale acknowledgement refused; the
// region at the top of the area and the account menu's count saying what needs attention,
// gone once it is acknowledged; offline, the actions off with words saying why. Every page is
// checked with axe and, with STRONGROOM_UI_SCREENSHOT_DIR set, photographed.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { axe, axeInBothSchemes, goTo, open, openPrivacy, screenshot, setup, text } from "./helpers.mjs";

setup();

const field = (incident, name) => incident.locator(`[data-field=${name}]`).innerText();

describe("security incidents", () => {
  test("what needs attention is said at the top of the area and counted on the account menu, with a way there", async () => {
    const { page, done } = await openPrivacy("signed-in");
    const region = page.getByTestId("attention");
    await region.waitFor();
    assert.equal(await region.evaluate((el) => el.closest("[role=dialog], [role=alertdialog], dialog")), null, "a region, not a modal");
    assert.match(await text(page, "[data-testid=attention-incidents]"), /A security incident affecting your practice has been recorded, and you have not acknowledged its notice/);
    assert.match(await text(page, "[data-testid=attention-policies]"), /The privacy policy has changed since you last acknowledged it/);
    assert.equal(await page.locator("#nav-incidents [data-testid=nav-count]").evaluate((el) => el.textContent), ", 1 waiting for you");
    assert.equal(await page.locator("#nav-policies [data-testid=nav-count]").evaluate((el) => el.textContent), ", 1 waiting for you");
    // The desktop's account menu counts them too.
    await page.getByTestId("account-attention").waitFor();
    assert.match(await page.locator("#account-menu").innerText(), /2/);
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "privacy-attention");
    await page.locator("#attention-go-incidents").click();
    await page.getByTestId("incidents-page").waitFor();
    await page.waitForFunction(() => document.activeElement?.id === "privacy-page-title");
    await done();
  });

  test("every statutory field laid out, not yet acknowledged first; acknowledging records it, for good", async () => {
    const { page, done } = await openPrivacy("signed-in", "incidents");
    const incidents = page.getByTestId("incident");
    await incidents.first().waitFor();
    assert.equal(await incidents.count(), 2);
    assert.deepEqual(await incidents.evaluateAll((els) => els.map((e) => e.dataset.acknowledged)), ["false", "true"]);
    const first = incidents.first();
    assert.match(await first.locator("h4").innerText(), /Unauthorised access to a support mailbox/);
    assert.match(await field(first, "description"), /stolen from a staff member's personal account/);
    assert.match(await field(first, "occurred_at"), /^\d{1,2} [A-Z][a-z]{2}, \d\d:\d\d$/);
    assert.match(await field(first, "detected_at"), /^\d{1,2} [A-Z][a-z]{2}, \d\d:\d\d$/);
    assert.equal(await first.locator("[data-field=data_kinds] li").count(), 3);
    assert.match(await field(first, "steps_taken"), /locked the mailbox/);
    assert.match(await field(first, "recommendations"), /we never ask for your password/);
    assert.match(await field(first, "contact"), /privacy@strongroom\.example/);
    assert.match(await field(first, "regulator"), /^Office of the Australian Information Commissioner was notified on /);
    assert.match(await field(first, "recorded_at"), / by Morgan Hale, Strongroom security$/);
    assert.match(await field(first, "notice_created_at"), /\(within a second of its recording\)$/);
    assert.match(await field(first, "email_delivered_at"), /\(\d+ s after it was recorded\)$/);
    for (const label of ["What happened", "When it happened", "When it was detected", "Information involved", "What we have done", "What you should do", "Whom to contact", "Regulator", "Recorded", "The notice reached you"]) {
      assert.equal(await first.locator("dt", { hasText: label }).count(), 1, label);
    }
    const second = incidents.nth(1);
    assert.equal(await field(second, "occurred_at"), "Not known yet");
    assert.equal(await field(second, "regulator"), "No regulator has been notified.");
    assert.match(await second.getByTestId("acknowledged-on").innerText(), /^Acknowledged on /);

    // An administrator sees who has read each.
    const table = first.getByTestId("incident-acks");
    await table.waitFor();
    assert.match(await table.locator("caption").innerText(), /2 of 7 members have acknowledged/);
    assert.equal(await table.getByTestId("ack-row").count(), 7);
    assert.match(await table.locator("tr", { hasText: "Rhys Morgan" }).innerText(), /No \(joined later, or disabled\)/);
    await axeInBothSchemes(page);
    await screenshot(page, "privacy-incidents");

    // By keyboard.
    await first.getByRole("button", { name: /^Acknowledge/ }).focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("incidents-status").waitFor();
    assert.match(await text(page, "[data-testid=incidents-status]"), /^Acknowledged “Unauthorised access to a support mailbox”/);
    await page.waitForFunction(() => document.querySelector("[data-testid=incident]")?.dataset.acknowledged === "true");
    assert.match(await incidents.first().getByTestId("acknowledged-on").innerText(), /^Acknowledged on /);
    await page.waitForFunction(() => /3 of 7 members/.test(document.querySelector("[data-testid=incident-acks] caption")?.textContent ?? ""));
    assert.equal(await page.evaluate(() => document.activeElement?.id), await incidents.first().locator("h4").getAttribute("id"), "focus goes to the incident");
    // The attention region no longer names it; the policy change is still there.
    await page.waitForFunction(() => !document.querySelector("[data-testid=attention-incidents]"));
    assert.equal(await page.getByTestId("attention-policies").count(), 1);
    assert.equal(await page.locator("#nav-incidents [data-testid=nav-count]").count(), 0);

    // Kept: read afresh, and by the service.
    await goTo(page, "devices");
    await goTo(page, "incidents");
    await incidents.first().waitFor();
    assert.deepEqual(await incidents.evaluateAll((els) => els.map((e) => e.dataset.acknowledged)), ["true", "true"]);
    const again = await page.evaluate(async () => (await window.fakeBackend.incidents()).value.map((i) => i.acknowledged_at !== null));
    assert.deepEqual(again, [true, true]);
    await done();
  });

  test("a member who is not an administrator acknowledges too, and sees no table of others", async () => {
    const { page, done } = await openPrivacy("dashboard-lawyer", "incidents");
    await page.getByTestId("incident").first().waitFor();
    assert.equal(await page.getByTestId("incident-acks").count(), 0);
    await page.getByRole("button", { name: /^Acknowledge/ }).click();
    await page.getByTestId("incidents-status").waitFor();
    assert.equal(await page.getByTestId("incident-acks").count(), 0);
    assert.deepEqual(await axe(page), []);
    await done();
  });
});

describe("policies", () => {
  test("the change since the version acknowledged, as a diff read in words and marks; the whole text; I have read this clears the attention", async () => {
    const { page, done } = await openPrivacy("signed-in", "devices", async (p) => {
      // The incident is dealt with: only the policy change needs attention.
      await p.evaluate(async () => {
        for (const i of (await window.fakeBackend.incidents()).value) await window.fakeBackend.acknowledgeIncident(i.id);
      });
    });
    await page.getByTestId("attention").waitFor();
    assert.equal(await page.getByTestId("attention-incidents").count(), 0);
    await page.locator("#attention-go-policies").click();
    await page.getByTestId("policies-page").waitFor();
    assert.match(await text(page, "[data-testid=terms-prevail]"), /where the privacy policy and the terms of use disagree, the terms of use prevail/);
    const privacy = page.locator("[data-testid=policy][data-kind=privacy]");
    const terms = page.locator("[data-testid=policy][data-kind=terms]");
    await privacy.waitFor();
    assert.equal(await privacy.getAttribute("data-up-to-date"), "false");
    assert.equal(await terms.getAttribute("data-up-to-date"), "true");
    assert.equal(await text(page, "[data-kind=privacy] [data-testid=policy-version]"), "2027-01");
    assert.match(await text(page, "[data-kind=privacy] [data-testid=policy-acknowledged]"), /^Version 2026-11-28, on /);
    assert.match(await text(page, "[data-kind=privacy] [data-testid=policy-summary]"), /72 hours/);
    assert.equal(await terms.getByTestId("policy-diff").count(), 0, "no diff for a document read already");

    // The diff: numbered in both versions, marked in words and symbols and with <ins>/<del>.
    const diff = privacy.getByTestId("policy-diff");
    assert.match(await privacy.locator(".diff-title").innerText(), /^Changes since version 2026-11-28 that you acknowledged: \d+ lines added and \d+ removed$/);
    assert.ok((await diff.getByTestId("diff-hunk").count()) >= 1);
    assert.match(await diff.locator(".diff-hunk-head th").first().innerText(), /^Version 2026-11-28: lines \d+–\d+; version 2027-01: lines \d+–\d+/);
    const ins = diff.locator("tr[data-tag=insert]");
    const del = diff.locator("tr[data-tag=delete]");
    assert.ok((await ins.count()) > 0 && (await del.count()) > 0);
    assert.equal(await diff.locator("ins").count(), await ins.count());
    assert.equal(await diff.locator("del").count(), await del.count());
    const added = await ins.first().locator("td").allInnerTexts();
    assert.equal(added[0], "", "an added line has no old number");
    assert.match(added[1], /^\d+$/);
    assert.match(added[2], /\+\s*Added/);
    const removed = await del.first().locator("td").allInnerTexts();
    assert.match(removed[0], /^\d+$/);
    assert.equal(removed[1], "");
    assert.match(removed[2], /−\s*Removed/);
    assert.ok((await diff.locator("tr[data-tag=equal]").count()) > 0, "context lines");
    assert.equal(await diff.locator("tr[data-tag=insert] ins", { hasText: "lasts at most 72 hours" }).count(), 1);
    assert.equal(await diff.locator("tr[data-tag=delete] del", { hasText: "first; access is limited to what you approve." }).count(), 1);
    await axeInBothSchemes(page);
    await screenshot(page, "privacy-policies");

    // The whole current text.
    const read = privacy.getByTestId("read-whole");
    assert.equal(await read.getAttribute("aria-expanded"), "false");
    await read.click();
    assert.equal(await read.getAttribute("aria-expanded"), "true");
    const whole = privacy.getByTestId("policy-text");
    await whole.locator("h5").waitFor();
    assert.equal(await whole.locator("h5").innerText(), "Strongroom privacy policy");
    assert.match(await whole.innerText(), /Where the two disagree, the terms of use prevail/);
    assert.deepEqual(await axe(page), []);

    // I have read this.
    await privacy.getByRole("button", { name: "I have read this: version 2027-01 of the privacy policy" }).click();
    await page.getByTestId("policies-status").waitFor();
    assert.equal(await text(page, "[data-testid=policies-status]"), "Recorded: you have read version 2027-01 of the privacy policy.");
    await page.waitForFunction(() => document.querySelector("[data-kind=privacy]")?.dataset.upToDate === "true");
    assert.equal(await privacy.getByTestId("policy-diff").count(), 0);
    assert.match(await privacy.getByTestId("policy-acknowledged-on").innerText(), /^You have read this version/);
    // Nothing needs attention now: the region and the counts are gone.
    await page.getByTestId("attention").waitFor({ state: "detached" });
    assert.equal(await page.getByTestId("nav-count").count(), 0);
    assert.equal(await page.getByTestId("account-attention").count(), 0);
    const kept = await page.evaluate(async () => (await window.fakeBackend.policies()).value.map((p) => [p.kind, p.up_to_date, p.acknowledged_version]));
    assert.deepEqual(kept, [
      ["privacy", true, "2027-01"],
      ["terms", true, "2026-11-28"],
    ]);
    await done();
  });

  test("a version published while reading: the acknowledgement is refused, and the newer version shown", async () => {
    const { page, done } = await openPrivacy("signed-in", "policies");
    const privacy = page.locator("[data-testid=policy][data-kind=privacy]");
    await privacy.getByTestId("policy-diff").waitFor();
    await page.evaluate(() =>
      window.fakeBackend.dashboard.publishPolicy("privacy", "2027-02", "A shorter retention period.", "# Strongroom privacy policy\n\nVersion 2027-02.\n"),
    );
    await privacy.getByRole("button", { name: /^I have read this: version 2027-01/ }).click();
    await privacy.getByTestId("policy-error").waitFor();
    assert.match(await privacy.getByTestId("policy-error").innerText(), /A newer version was published while you were reading, so your acknowledgement was not recorded/);
    await page.waitForFunction(() => document.querySelector("[data-kind=privacy] [data-testid=policy-version]")?.textContent?.trim() === "2027-02");
    assert.equal(await privacy.getAttribute("data-up-to-date"), "false");
    await privacy.getByRole("button", { name: /^I have read this: version 2027-02/ }).click();
    await page.waitForFunction(() => document.querySelector("[data-kind=privacy]")?.dataset.upToDate === "true");
    await done();
  });

  test("nothing acknowledged before: the page says so and shows the whole text", async () => {
    const { page, done } = await openPrivacy("signed-in", "devices", (p) => p.evaluate(() => window.fakeBackend.dashboard.forgetPolicyAcknowledgements()));
    assert.match(await text(page, "[data-testid=attention-policies]"), /^You have not yet acknowledged the privacy policy and the terms of use\./);
    await page.locator("#attention-go-policies").click();
    await page.getByTestId("policies-page").waitFor();
    for (const kind of ["privacy", "terms"]) {
      const p = page.locator(`[data-testid=policy][data-kind=${kind}]`);
      await p.getByTestId("never-acknowledged").waitFor();
      assert.match(await p.getByTestId("never-acknowledged").innerText(), /You have not acknowledged any version of the .* before.*here is its whole text/s);
      assert.equal(await text(page, `[data-kind=${kind}] [data-testid=policy-acknowledged]`), "No version yet");
      await p.getByTestId("policy-text").locator("h5").waitFor();
      assert.equal(await p.getByTestId("policy-diff").count(), 0);
    }
    assert.match(await page.locator("[data-kind=terms] [data-testid=policy-text]").innerText(), /these terms prevail/);
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "privacy-policies-first");
    await done();
  });
});

describe("offline", () => {
  test("incidents and policies show the vault's copy; acknowledging is off, and the page says why", async () => {
    const { page, done } = await openPrivacy("dashboard-offline", "incidents");
    await page.getByTestId("incident").first().waitFor();
    assert.match(await text(page, "[data-testid=freshness]"), /^Offline — showing the copy from/);
    assert.match(await text(page, "[data-testid=offline-note]"), /turned off until it is back/);
    const ack = page.getByRole("button", { name: /^Acknowledge/ });
    assert.equal(await ack.isDisabled(), true);
    const why = page.getByTestId("incident").first().getByTestId("offline-why");
    assert.match(await why.innerText(), /needs the connection to the service/);
    assert.match(await ack.getAttribute("aria-describedby"), new RegExp(`(^| )${await why.getAttribute("id")}$`), "the button says why it is off");
    // The attention region still says what waits (from the vault's copy).
    assert.equal(await page.getByTestId("attention-incidents").count(), 1);
    assert.deepEqual(await axe(page), []);

    await goTo(page, "policies");
    await page.getByTestId("policy-diff").waitFor();
    const read = page.getByRole("button", { name: /^I have read this/ });
    assert.equal(await read.isDisabled(), true);
    assert.match(await text(page, "#policy-privacy-offline-why"), /needs the connection to the service/);
    // The whole text needs the service: the page says so.
    await page.locator("[data-kind=privacy] [data-testid=read-whole]").click();
    await page.locator("[data-kind=privacy] [data-testid=policy-text] .error").waitFor();
    assert.match(await text(page, "[data-kind=privacy] [data-testid=policy-text] .error"), /needs a connection to the service/);
    assert.deepEqual(await axe(page), []);
    await done();
  });
});
