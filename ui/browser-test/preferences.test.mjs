// Cookies, notifications and usage data in "Privacy & access" over the fake backend, which
// keeps the service's rules: the cookie catalogue by category with strictly necessary locked
// on, "Accept all" and "Reject all" of equal weight, switches per category and per item,
// Global Privacy Control explained; the notification grid with essential categories locked
// on and each change saved as it is made, and the inbox; the usage report's preview with its
// minimum group size and the analytics switch (administrators only). Every page is checked
// with axe and, with STRONGROOM_UI_SCREENSHOT_DIR set, photographed.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { axe, axeInBothSchemes, goTo, open, openPrivacy, screenshot, setup, text } from "./helpers.mjs";

setup();

/** The computed look of a button: what makes one more prominent than another. */
async function look(page, selector) {
  return page.locator(selector).evaluate((el) => {
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return {
      className: el.className,
      fontSize: s.fontSize,
      fontWeight: s.fontWeight,
      color: s.color,
      background: s.backgroundColor,
      border: `${s.borderTopWidth} ${s.borderTopStyle} ${s.borderTopColor}`,
      padding: s.padding,
      width: Math.round(r.width),
      height: Math.round(r.height),
      top: Math.round(r.top),
    };
  });
}

const SESSION = "__Host-strongroom-session";
const DISPLAY = "__Host-strongroom-display";
const ANALYTICS = "__Host-strongroom-aid";

describe("cookies", () => {
  test("the catalogue by category; strictly necessary locked on with its reason; Accept all and Reject all of equal weight; the record's source, time and policy", async () => {
    const { page, done } = await openPrivacy("signed-in", "cookies");
    const categories = page.getByTestId("cookie-category");
    await categories.first().waitFor();
    assert.deepEqual(await categories.evaluateAll((els) => els.map((e) => e.dataset.category)), ["strictly_necessary", "functional", "analytics"]);
    assert.deepEqual(await page.getByTestId("cookie-item").evaluateAll((els) => els.map((e) => e.dataset.name)), [SESSION, DISPLAY, ANALYTICS]);
    const session = page.locator(`[data-testid=cookie-item][data-name='${SESSION}']`);
    assert.match(await session.innerText(), /Keeps you signed in/);
    assert.match(await session.innerText(), /30 days/);
    assert.match(await session.innerText(), /The Strongroom service/);

    // Strictly necessary: on, locked, and why.
    const locked = page.getByRole("switch", { name: "Strictly necessary cookies" });
    assert.equal(await locked.isChecked(), true);
    assert.equal(await locked.isDisabled(), true);
    assert.equal(await page.getByRole("switch", { name: `Allow ${SESSION}` }).isDisabled(), true);
    assert.match(await text(page, "[data-category=strictly_necessary]"), /cannot be turned off/);
    assert.match(await text(page, "[data-testid=locked-reason]"), /stay on whatever you choose/);

    // Nothing chosen yet: the default, and the choice is one for the desktop and the browser.
    assert.equal(await text(page, "[data-testid=consent-source]"), "The default");
    assert.match(await text(page, "[data-testid=consent-record-words]"), /Nothing chosen yet.*2026-11-28/);
    assert.match(await text(page, "[data-testid=consent-everywhere]"), /desktop app and in the browser alike/);
    assert.equal(await page.getByRole("switch", { name: "Functional cookies" }).isChecked(), false);
    assert.equal(await page.getByRole("switch", { name: "Analytics cookies" }).isChecked(), false);

    // Rejecting is as easy as accepting: side by side, the same style and size.
    const accept = await look(page, "#accept-all");
    const reject = await look(page, "#reject-all");
    assert.deepEqual({ ...reject, width: accept.width }, accept, "Accept all and Reject all look the same");
    assert.ok(Math.abs(accept.width - reject.width) <= 2, `same width (${accept.width}, ${reject.width})`);
    assert.equal(await page.locator("#accept-all + #reject-all").count(), 1, "side by side");

    await axeInBothSchemes(page);
    await screenshot(page, "privacy-cookies");

    await page.locator("#reject-all").click();
    await page.getByTestId("cookies-saved").waitFor();
    assert.match(await text(page, "[data-testid=cookies-saved]"), /only strictly necessary cookies are on.*desktop app and in the browser alike/);
    assert.equal(await text(page, "[data-testid=consent-source]"), "You");
    assert.match(await text(page, "[data-testid=consent-record-words]"), /^Chosen by you in the desktop app on .*2026-11-28/);

    await page.locator("#accept-all").click();
    await page.waitForFunction(() => /Functional on · Analytics on/.test(document.querySelector("[data-testid=consent-record]")?.textContent ?? ""));
    assert.equal(await page.getByRole("switch", { name: "Analytics cookies" }).isChecked(), true);
    assert.equal(await page.getByRole("switch", { name: `Allow ${ANALYTICS}` }).isChecked(), true);
    await done();
  });

  test("a switch per category and per item, by mouse and keyboard; strictly necessary cannot be switched off", async () => {
    const { page, done } = await openPrivacy("signed-in", "cookies");
    await page.getByTestId("cookie-category").first().waitFor();

    // A category, by keyboard.
    const functional = page.getByRole("switch", { name: "Functional cookies" });
    await functional.focus();
    await page.keyboard.press("Space");
    await page.waitForFunction(() => /functional cookies are allowed/.test(document.querySelector("[data-testid=cookies-saved]")?.textContent ?? ""));
    assert.equal(await functional.isChecked(), true);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Functional cookies", "focus stays on the switch");
    assert.equal(await page.getByRole("switch", { name: `Allow ${DISPLAY}` }).isChecked(), true, "its item follows it");
    assert.match(await text(page, "[data-testid=consent-record]"), /Functional on · Analytics off/);

    // An item of its own, then back to its category.
    await page.getByRole("switch", { name: `Allow ${DISPLAY}` }).click();
    await page.waitForFunction((name) => /is off/.test(document.querySelector("[data-testid=cookies-saved]")?.textContent ?? "") && name, DISPLAY);
    assert.equal(await page.getByRole("switch", { name: `Allow ${DISPLAY}` }).isChecked(), false);
    assert.equal(await functional.isChecked(), true, "the category stays on");
    const follow = page.getByRole("button", { name: `Follow the category: ${DISPLAY}` });
    assert.deepEqual(await axe(page), []);
    await follow.click();
    await page.waitForFunction(() => /follows its category again/.test(document.querySelector("[data-testid=cookies-saved]")?.textContent ?? ""));
    assert.equal(await page.getByRole("switch", { name: `Allow ${DISPLAY}` }).isChecked(), true);
    assert.equal(await follow.count(), 0);

    // Strictly necessary: the locked switch does nothing, and the service refuses it anyway.
    const locked = page.getByRole("switch", { name: "Strictly necessary cookies" });
    await locked.click({ force: true });
    assert.equal(await locked.isChecked(), true);
    const refused = await page.evaluate(async (name) => {
      const b = window.fakeBackend;
      const codes = [];
      for (const change of [
        { action: "custom", categories: { strictly_necessary: false, functional: null, analytics: null }, items: {} },
        { action: "custom", categories: { strictly_necessary: null, functional: null, analytics: null }, items: { [name]: false } },
      ]) {
        try {
          await b.changeConsent(change);
          codes.push("ok");
        } catch (e) {
          codes.push(e.code);
        }
      }
      return codes;
    }, SESSION);
    assert.deepEqual(refused, ["strictly_necessary_locked", "strictly_necessary_locked"]);

    // The choices so far, newest first.
    await page.getByTestId("consent-history").locator("summary").click();
    assert.equal(await page.getByTestId("consent-history").locator("li").count(), 3);
    assert.deepEqual(await axe(page), []);
    await done();
  });

  test("under Global Privacy Control analytics is off in effect, and the page says why", async () => {
    const { page, done } = await openPrivacy("signed-in", "devices");
    await page.evaluate(() => (window.fakeBackend.dashboard.gpc = true));
    await goTo(page, "cookies");
    await page.getByTestId("gpc-note").waitFor();
    assert.match(await text(page, "[data-testid=gpc-note]"), /Global Privacy Control.*analytics\s+stays off/s);
    assert.equal(await text(page, "[data-testid=consent-source]"), "Global Privacy Control");
    assert.equal(await text(page, "[data-testid=consent-effective]"), "In effect in this browser: Functional off · Analytics off (Global Privacy Control)");
    assert.match(await text(page, "[data-testid=analytics-effective]"), /^In this browser now: off, because it sends Global Privacy Control/);
    await axeInBothSchemes(page);
    await screenshot(page, "privacy-cookies-gpc");
    // An opt-in is kept, and still off in effect while the signal is sent.
    await page.getByRole("switch", { name: "Analytics cookies" }).click();
    await page.getByTestId("cookies-saved").waitFor();
    assert.equal(await page.getByRole("switch", { name: "Analytics cookies" }).isChecked(), true);
    assert.match(await text(page, "[data-testid=analytics-effective]"), /your choice to allow analytics applies where the signal is not sent/);
    await done();
  });
});

describe("notifications", () => {
  test("essential categories locked on with their reason; the others saved as changed, with saved and failed shown", async () => {
    const { page, done } = await openPrivacy("signed-in", "notifications");
    const rows = page.getByTestId("notification-row");
    await rows.first().waitFor();
    assert.equal(await rows.count(), 8);
    const essential = page.locator("[data-testid=notification-row][data-essential=true]");
    assert.equal(await essential.count(), 5);
    assert.equal(await essential.getByTestId("essential-reason").count(), 5);
    assert.match(await essential.filter({ hasText: "Breach notices" }).getByTestId("essential-reason").innerText(), /^Always on: The law \(GDPR articles 33 and 34/);
    for (const channel of ["Email", "In app", "Desktop notification"]) {
      const s = page.getByRole("switch", { name: `Security alerts: ${channel}` });
      assert.equal(await s.isChecked(), true, channel);
      assert.equal(await s.isDisabled(), true, channel);
    }
    // The defaults: non-essential news in the inbox only.
    assert.equal(await page.getByRole("switch", { name: "Tips: Email" }).isChecked(), false);
    assert.equal(await page.getByRole("switch", { name: "Tips: In app" }).isChecked(), true);
    assert.equal(await page.getByRole("switch", { name: "Tips: Desktop notification" }).isChecked(), false);
    await axeInBothSchemes(page);
    await screenshot(page, "privacy-notifications");

    // Saved as changed.
    const tipsEmail = page.getByRole("switch", { name: "Tips: Email" });
    await tipsEmail.click();
    const tipsRow = page.locator("[data-testid=notification-row][data-category=tips]");
    await page.waitForFunction(() => document.querySelector("[data-category=tips] td [data-testid=cell-state]")?.textContent?.trim() === "Saved");
    assert.match(await text(page, "[data-testid=notifications-status]"), /^Saved: Tips now reach you by email\./);
    assert.match(await tipsRow.getByTestId("last-change").innerText(), /^Last changed: You, in the desktop app/);
    await page.getByRole("switch", { name: "Product news: Desktop notification" }).focus();
    await page.keyboard.press("Space");
    await page.waitForFunction(() => /Product news now reach you by desktop notifications/.test(document.querySelector("[data-testid=notifications-status]")?.textContent ?? ""));
    // Kept: the page read afresh shows them.
    await goTo(page, "devices");
    await goTo(page, "notifications");
    await rows.first().waitFor();
    assert.equal(await page.getByRole("switch", { name: "Tips: Email" }).isChecked(), true);
    assert.equal(await page.getByRole("switch", { name: "Product news: Desktop notification" }).isChecked(), true);

    // A change that fails says so in its cell and in words, and the switch goes back.
    await page.evaluate(() => window.fakeBackend.goOffline());
    await page.getByRole("switch", { name: "Usage suggestions: Email" }).click();
    await page.getByTestId("notifications-error").waitFor();
    assert.match(await text(page, "[data-testid=notifications-error]"), /^Usage suggestions, email: not saved\. This needs a connection/);
    assert.equal(await text(page, "[data-category=usage_suggestions] td [data-testid=cell-state]"), "Not saved");
    assert.equal(await page.getByRole("switch", { name: "Usage suggestions: Email" }).isChecked(), false);
    await page.evaluate(() => window.fakeBackend.goOnline());

    // The service refuses an essential category turned off, whoever asks.
    const code = await page.evaluate(async () => {
      try {
        await window.fakeBackend.updateNotificationPreferences({ changes: [{ category: "breach_notices", channel: "email", enabled: false }], source: "user" });
        return "ok";
      } catch (e) {
        return e.code;
      }
    });
    assert.equal(code, "essential_category");
    await done();
  });

  test("the inbox: unread first, with category and time; mark as read by keyboard", async () => {
    const { page, done } = await openPrivacy("signed-in", "notifications");
    const notices = page.getByTestId("notice");
    await notices.first().waitFor();
    assert.equal(await notices.count(), 4, "a notice not meant for the inbox is not in it");
    assert.equal(await text(page, "[data-testid=unread-count]"), "2 unread");
    assert.deepEqual(await notices.evaluateAll((els) => els.map((e) => e.dataset.read)), ["false", "false", "true", "true"]);
    const first = notices.first();
    assert.match(await first.innerText(), /New sign-in on Firefox on Windows/);
    assert.match(await first.innerText(), /Security alerts/);
    assert.match(await first.innerText(), /Unread/);
    assert.deepEqual(await axe(page), []);
    await page.getByRole("button", { name: "Mark as read: New sign-in on Firefox on Windows" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector("[data-testid=unread-count]")?.textContent?.trim() === "1 unread");
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute("aria-label")),
      "Mark as read: Our privacy policy changes on 1 January 2027",
      "focus goes to the next unread notice",
    );
    assert.deepEqual(await notices.evaluateAll((els) => els.map((e) => e.dataset.read)), ["false", "true", "true", "true"]);
    assert.match(await notices.first().innerText(), /privacy policy changes/);
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector("[data-testid=unread-count]")?.textContent?.trim() === "Nothing unread");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "inbox-title");
    await done();
  });
});

describe("usage data", () => {
  test("the report exactly as it would leave, the minimum group of five explained, and the member's analytics switch", async () => {
    const { page, done } = await openPrivacy("signed-in", "usage");
    await page.getByTestId("usage-report").waitFor();
    assert.equal(await page.getByTestId("usage-week").count(), 3);
    for (const cells of await page.getByTestId("usage-week").evaluateAll((els) => els.map((e) => Number(e.children[1].textContent)))) {
      assert.ok(cells >= 5, `no week of fewer than five practices (${cells})`);
    }
    assert.match(await text(page, "[data-testid=suppressed-weeks]"), /^Left out: Week of .*Fewer than 5 practices took part/);
    assert.match(await text(page, "[data-testid=min-group]"), /^Minimum group size: 5 practices\./);
    assert.match(await text(page, "[data-testid=this-practice]"), /^None of your practice's usage is counted/);
    assert.match(await text(page, "[data-testid=never-included]"), /Names, email addresses, IP addresses/);
    const analytics = page.getByRole("switch", { name: "Your analytics choice" });
    assert.equal(await analytics.isChecked(), false);
    await axeInBothSchemes(page);
    await screenshot(page, "privacy-usage");

    await analytics.click();
    await page.getByTestId("usage-saved").waitFor();
    await page.waitForFunction(() => /^Your practice's sign-ins are counted/.test(document.querySelector("[data-testid=this-practice]")?.textContent?.trim() ?? ""));
    assert.equal(await text(page, "[data-testid=usage-analytics-state]"), "Allowed");
    // It is the Cookies page's analytics switch.
    await goTo(page, "cookies");
    await page.getByTestId("cookie-category").first().waitFor();
    assert.equal(await page.getByRole("switch", { name: "Analytics cookies" }).isChecked(), true);
    assert.equal(await page.getByRole("switch", { name: "Functional cookies" }).isChecked(), false);
    await done();
  });

  test("a member who is not an administrator has no usage page, and keeps cookies and notifications", async () => {
    const { page, done } = await openPrivacy("dashboard-lawyer", "cookies");
    await page.getByTestId("not-admin-note").waitFor();
    assert.deepEqual(
      (await page.locator(".privacy-nav button").allInnerTexts()).map((t) => t.split("\n")[0]),
      ["Devices", "Audit log", "Export", "Cookies", "Notifications", "Security incidents", "Policies"],
    );
    assert.equal(await page.locator("#nav-usage").count(), 0);
    assert.match(await text(page, "[data-testid=not-admin-note]"), /usage data/);
    await page.locator("#reject-all").click();
    await page.getByTestId("cookies-saved").waitFor();
    await goTo(page, "notifications");
    await page.getByTestId("notification-row").first().waitFor();
    assert.deepEqual(await axe(page), []);
    await done();
  });
});

describe("offline", () => {
  test("cookies and notifications show the vault's copy; every switch and button is off, and the page says why", async () => {
    const { page, done } = await openPrivacy("dashboard-offline", "cookies");
    await page.getByTestId("cookie-category").first().waitFor();
    assert.match(await text(page, "[data-testid=freshness]"), /^Offline — showing the copy from/);
    assert.match(await text(page, "[data-testid=offline-note]"), /turned off until it is back/);
    assert.equal(await page.locator("#accept-all").isDisabled(), true);
    assert.equal(await page.locator("#reject-all").isDisabled(), true);
    assert.equal(await page.getByRole("switch", { name: "Functional cookies" }).isDisabled(), true);
    assert.equal(await page.getByRole("switch", { name: `Allow ${ANALYTICS}` }).isDisabled(), true);
    assert.deepEqual(await axe(page), []);

    await goTo(page, "notifications");
    await page.getByTestId("notification-row").first().waitFor();
    assert.match(await text(page, "[data-testid=offline-note]"), /turned off until it is back/);
    assert.equal(await page.getByRole("switch", { name: "Tips: Email" }).isDisabled(), true);
    await page.getByTestId("notice").first().waitFor();
    assert.equal(await page.getByRole("button", { name: /^Mark as read: New sign-in/ }).isDisabled(), true);

    await goTo(page, "usage");
    await page.getByTestId("usage-report").waitFor();
    assert.equal(await page.getByRole("switch", { name: "Your analytics choice" }).isDisabled(), true);
    await done();
  });
});
