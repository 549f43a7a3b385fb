// The privacy dashboard ("Privacy & access", from the account menu) over the fake backend:
// devices, members, the access review, support access with re-authentication and the
// transparency view, connected apps, the audit log and its chain check, both exports; the
// offline copy with actions turned off; and a lawyer, who sees no admin page. Every page is
// checked with axe and, with STRONGROOM_UI_SCREENSHOT_DIR set, photographed.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { axe, goTo, open, openPrivacy, screenshot, setup, text } from "./helpers.mjs";

setup();

describe("devices", () => {
  test("every session with its holdings; sign out one, then all others; this device's row signs out", async () => {
    const { page, done } = await openPrivacy("signed-in");
    const rows = page.getByTestId("session-row");
    await rows.first().waitFor();
    assert.equal(await rows.count(), 4);
    assert.match(await text(page, "[data-testid=freshness]"), /^Updated just now/);
    const current = page.locator("[data-testid=session-row][data-current=true]");
    assert.match(await current.innerText(), /This device/);
    assert.match(await current.getByTestId("holdings").innerText(), /^1,204 matters · synced/);
    assert.equal(await current.getByRole("button", { name: /^Sign out / }).count(), 0, "this device is not revoked from its row");
    assert.equal(await rows.filter({ hasText: "Old Dell Latitude" }).getByTestId("holdings").innerText(), "Not reported");
    assert.match(await rows.filter({ hasText: "Surface Go" }).innerText(), /10\.0\.0\.31 → 198\.51\.100\.7/);
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      assert.deepEqual(await axe(page), [], scheme);
    }
    await page.emulateMedia({ colorScheme: "light" });
    await screenshot(page, "privacy-devices");

    // This device's own row opens the sign-out dialog; cancel it.
    await current.getByTestId("sign-out-this").click();
    await page.locator("#sign-out-dialog").waitFor();
    await page.keyboard.press("Escape");
    await page.locator("#sign-out-dialog").waitFor({ state: "detached" });

    await page.getByRole("button", { name: "Sign out MacBook Air (home)" }).click();
    const dialog = page.locator("#revoke-session-dialog");
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /erases its offline copy \(1,204 matters\)/);
    assert.deepEqual(await axe(page), []);
    await page.locator("#confirm-revoke-session").click();
    await dialog.waitFor({ state: "detached" });
    assert.match(await text(page, "[data-testid=devices-done]"), /MacBook Air \(home\) was signed out/);
    assert.equal(await rows.count(), 3);

    await page.locator("#revoke-others").click();
    await dialog.waitFor();
    assert.equal(await text(page, "[data-testid=revoke-others-words]"), "This signs out 2 devices; each wipes its offline copy. This device stays signed in.");
    await screenshot(page, "privacy-devices-revoke-others");
    await page.locator("#confirm-revoke-session").click();
    await dialog.waitFor({ state: "detached" });
    assert.match(await text(page, "[data-testid=devices-done]"), /^2 other devices were signed out/);
    assert.equal(await rows.count(), 1);
    assert.equal(await page.locator("#revoke-others").isDisabled(), true, "no other device is left");
    await done();
  });
});

describe("members", () => {
  test("invite (the one-time code shown when not emailed), change a role, disable (sessions end), withdraw an invitation", async () => {
    const { page, done } = await openPrivacy("signed-in", "members");
    const rows = page.getByTestId("member-row");
    await rows.first().waitFor();
    assert.equal(await rows.count(), 7);
    assert.equal(await page.getByTestId("mfa-off").count(), 2, "two-step sign-in off is marked");
    assert.match(await rows.filter({ hasText: "Tom Whitfield" }).innerText(), /90 days ago/);
    assert.match(await rows.filter({ hasText: "Aisha Karim" }).innerText(), /Never/);
    assert.equal(await page.getByLabel("Role of Priya Raman").isDisabled(), true, "your own role is not changed here");
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "privacy-members");

    // Invite.
    await page.locator("#invite").click();
    await page.locator("#invite-dialog").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "invite-email");
    await page.locator("#send-invite").click();
    assert.match(await text(page, "[data-testid=invite-error]"), /email address/);
    await page.locator("#invite-email").fill("ben.tran@harbourvine.example");
    await page.locator("#invite-role").selectOption("read_only");
    await page.locator("#send-invite").click();
    await page.locator("#invite-sent-dialog").waitFor();
    assert.match(await page.getByTestId("invite-code").inputValue(), /^INV-/);
    assert.match(await page.locator("#invite-sent-dialog").innerText(), /shown only now/);
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "privacy-members-invited");
    await page.locator("#invite-sent-done").click();
    const invitation = page.locator("[data-testid=invitation-row][data-email='ben.tran@harbourvine.example']");
    assert.equal(await invitation.getByTestId("invitation-status").innerText(), "Pending");

    // Change a role.
    await page.getByLabel("Role of Mei-Lin Cho").selectOption("read_only");
    assert.doesNotMatch(await text(page, "[data-testid=members-done]"), /Mei-Lin/, "choosing is not saving");
    await page.getByRole("button", { name: "Save the role of Mei-Lin Cho" }).click();
    await page.waitForFunction(() => /Mei-Lin Cho is now read only/.test(document.querySelector("[data-testid=members-done]")?.textContent ?? ""));
    assert.equal(await page.getByLabel("Role of Mei-Lin Cho").inputValue(), "read_only");
    assert.equal(await page.getByRole("button", { name: "Save the role of Mei-Lin Cho" }).count(), 0);
    // A choice can be dropped before it is saved.
    await page.getByLabel("Role of Daniel Achterberg").selectOption("lawyer");
    await page.getByRole("button", { name: "Keep the role of Daniel Achterberg" }).click();
    assert.equal(await page.getByLabel("Role of Daniel Achterberg").inputValue(), "admin");
    assert.equal(await page.evaluate(async () => (await window.fakeBackend.members()).value.find((m) => m.display_name === "Daniel Achterberg").role), "admin");

    // Disable: confirmed, and the sessions end.
    const mei = rows.filter({ hasText: "Mei-Lin Cho" });
    assert.equal(await mei.getByTestId("session-count").innerText(), "1");
    await page.getByRole("button", { name: "Disable Mei-Lin Cho" }).click();
    await page.locator("#member-confirm-dialog").waitFor();
    assert.match(await page.locator("#member-confirm-dialog").innerText(), /This ends their 1 session at once/);
    await page.locator("#confirm-member-action").click();
    await page.locator("#member-confirm-dialog").waitFor({ state: "detached" });
    assert.equal(await mei.getByTestId("member-status").innerText(), "Disabled");
    assert.equal(await mei.getByTestId("session-count").innerText(), "0");
    assert.match(await text(page, "[data-testid=members-done]"), /1 session ended/);

    // Withdraw the new invitation.
    await page.getByRole("button", { name: "Withdraw the invitation to ben.tran@harbourvine.example" }).click();
    await page.locator("#confirm-member-action").click();
    await page.waitForFunction(() => document.querySelector("[data-email='ben.tran@harbourvine.example'] [data-testid=invitation-status]")?.textContent === "Withdrawn");

    // Remove credentials: confirmed, and the member leaves the list.
    const daniel = rows.filter({ hasText: "Daniel Achterberg" });
    await page.getByRole("button", { name: "Remove credentials of Daniel Achterberg" }).click();
    await page.locator("#member-confirm-dialog").waitFor();
    assert.match(await text(page, "[data-testid=remove-credentials-words]"), /password and second factor are\s+deleted/);
    assert.deepEqual(await axe(page), []);
    await page.locator("#confirm-member-action").click();
    await page.locator("#member-confirm-dialog").waitFor({ state: "detached" });
    await daniel.waitFor({ state: "detached" });
    assert.match(await text(page, "[data-testid=members-done]"), /Daniel Achterberg's credentials are removed/);
    assert.equal(await page.getByRole("button", { name: /^Remove credentials of Priya Raman/ }).count(), 0, "not one's own");
    await done();
  });
});

describe("access review", () => {
  test("dormant members and unused invitations preselected; one button disables them and records the review", async () => {
    const { page, done } = await openPrivacy("signed-in", "review");
    await page.getByTestId("dormant-list").waitFor();
    assert.equal(await page.locator("#dormant-days").inputValue(), "60");
    const dormant = page.getByTestId("dormant-list").locator("input[type=checkbox]");
    assert.equal(await dormant.count(), 2);
    assert.match(await page.getByTestId("dormant-list").innerText(), /Tom Whitfield.*90 days without signing in/);
    assert.match(await page.getByTestId("dormant-list").innerText(), /Aisha Karim.*Never signed in/);
    for (const c of await dormant.all()) assert.equal(await c.isChecked(), true);
    const unused = page.getByTestId("unused-invitations").locator("input[type=checkbox]");
    assert.equal(await unused.count(), 1);
    assert.equal(await unused.first().isChecked(), true);
    assert.match(await text(page, "[data-testid=last-review]"), /^Last review: .* by Priya Raman \(60 days\)/);
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "privacy-access-review");

    // A longer window finds fewer.
    await page.locator("#dormant-days").fill("100");
    await page.locator("#run-review").click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=dormant-list] input").length === 1);

    await page.locator("#dormant-days").fill("60");
    await page.locator("#run-review").click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=dormant-list] input").length === 2);
    await page.locator("#complete-review").click();
    await page.locator("#review-confirm-dialog").waitFor();
    await page.locator("#confirm-review").click();
    await page.locator("#review-confirm-dialog").waitFor({ state: "detached" });
    assert.equal(await text(page, "[data-testid=review-done]"), "Review recorded: 2 members disabled, 1 invitation withdrawn.");
    await page.waitForFunction(() => /— 2 disabled, 1 invitation withdrawn/.test((document.querySelector("[data-testid=last-review]")?.textContent ?? "").replace(/\s+/g, " ")));
    assert.equal(await dormant.count(), 0);

    // The members page shows them disabled; the audit log has the review.
    await goTo(page, "members");
    await page.getByTestId("member-row").first().waitFor();
    assert.equal(await page.locator("[data-name='Tom Whitfield'] [data-testid=member-status]").innerText(), "Disabled");
    await goTo(page, "audit");
    await page.locator("#audit-kind").selectOption("access_review_completed");
    await page.waitForFunction(() => document.querySelector("[data-testid=audit-count]")?.textContent?.startsWith("1 entry"));
    assert.match(await text(page, "[data-testid=audit-row]"), /Completed an access review \(60 days\): 2 disabled/);
    await done();
  });
});

describe("support access", () => {
  test("approving needs the password again, then succeeds; decline; revoke; the transparency view by grant", async () => {
    const { page, done } = await openPrivacy("signed-in", "support");
    const requests = page.getByTestId("grant-request");
    await requests.first().waitFor();
    assert.equal(await requests.count(), 2);
    const matterScoped = page.locator("[data-testid=grant-request][data-ticket=SUP-4821]");
    assert.match(await matterScoped.getByTestId("grant-scope").innerText(), /HV-2026-0137.*Lindqvist[\s\S]*HV-2026-0129/);
    assert.match(await matterScoped.innerText(), /Read only[\s\S]*1 day from approval/);
    assert.match(await page.locator("[data-testid=active-grant][data-ticket=SUP-4790] [data-testid=time-left]").innerText(), /^1 day 1[78] h left$/);
    for (const scheme of ["dark", "light"]) {
      await page.emulateMedia({ colorScheme: scheme });
      assert.deepEqual(await axe(page), [], scheme);
    }
    await screenshot(page, "privacy-support-access");

    // Approve: the backend wants a fresh sign-in; a wrong password is refused.
    await page.getByRole("button", { name: "Approve SUP-4821 for Sam Ellery" }).click();
    const reauth = page.locator("#reauth-dialog");
    await reauth.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "reauth-password");
    assert.match(await reauth.innerText(), /approve Sam Ellery's read only access to 2 matters for 1 day/);
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "privacy-support-reauth");
    await page.locator("#reauth-password").fill("battery staple");
    await page.locator("#reauth-confirm").click();
    assert.match(await text(page, "[data-testid=reauth-error]"), /not the one for your account/);
    await page.locator("#reauth-password").fill("correct horse");
    await page.locator("#reauth-code").fill("12345");
    await page.locator("#reauth-confirm").click();
    assert.match(await text(page, "[data-testid=reauth-error]"), /six digits/);
    await page.locator("#reauth-code").fill("");
    await page.locator("#reauth-password").fill("correct horse");
    await page.locator("#reauth-confirm").click();
    await reauth.waitFor({ state: "detached" });
    assert.match(await text(page, "[data-testid=support-done]"), /^Approved: Sam Ellery has read only access to 2 matters until/);
    const approved = page.locator("[data-testid=active-grant][data-ticket=SUP-4821]");
    assert.match(await approved.getByTestId("time-left").innerText(), /^23 h 59 min left$|^1 day left$/);

    // Decline the other.
    await page.getByRole("button", { name: "Decline SUP-4830 for Jo Tamaki" }).click();
    await page.locator("[data-testid=past-grant][data-ticket=SUP-4830]").waitFor();
    assert.match(await page.locator("[data-testid=past-grant][data-ticket=SUP-4830] [data-testid=grant-outcome]").innerText(), /Declined/);
    assert.equal(await page.getByTestId("no-requests").count(), 1);

    // Revoke an active grant: it ends at once.
    await page.getByRole("button", { name: "Revoke SUP-4790 for Sam Ellery" }).click();
    await page.locator("#revoke-grant-dialog").waitFor();
    await page.locator("#confirm-revoke-grant").click();
    await page.locator("#revoke-grant-dialog").waitFor({ state: "detached" });
    assert.match(await page.locator("[data-testid=past-grant][data-ticket=SUP-4790] [data-testid=grant-outcome]").innerText(), /Revoked/);
    assert.equal(await page.locator("[data-testid=active-grant][data-ticket=SUP-4790]").count(), 0);

    // A staff request after the revocation is refused, and the practice sees it.
    await page.evaluate(() => window.fakeBackend.dashboard.staffRequest("d1000000-0000-4000-8000-000000000003", "GET /v1/support/practices/5e1f…/records/contact", "contacts", 40));

    // Transparency: all requests, then one grant's.
    const entries = page.getByTestId("access-entry");
    const grantId = "d1000000-0000-4000-8000-000000000003";
    await page.locator("#grant-filter").selectOption(grantId);
    await page.waitForFunction((id) => {
      const rows = [...document.querySelectorAll("[data-testid=access-entry]")];
      return rows.length === 7 && rows.every((r) => r.getAttribute("data-grant") === id);
    }, grantId);
    assert.equal(await entries.filter({ has: page.getByTestId("refused") }).count(), 2, "the write under a read grant and the request after revocation");
    assert.match(await entries.first().innerText(), /Sam Ellery[\s\S]*contacts[\s\S]*SUP-4790[\s\S]*Refused/);
    assert.deepEqual(await axe(page), []);
    await page.getByRole("heading", { name: "What support staff did" }).scrollIntoViewIfNeeded();
    await screenshot(page, "privacy-support-transparency");
    await page.locator("#grant-filter").selectOption("");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=access-entry]").length === 11);
    await done();
  });
});

describe("connected apps", () => {
  test("the ledger; connect an app (its token shown once, with a warning); revoke it", async () => {
    const { page, done } = await openPrivacy("signed-in", "apps");
    const rows = page.getByTestId("app-row");
    await rows.first().waitFor();
    assert.equal(await rows.count(), 3);
    assert.match(await text(page, "[data-testid=apps-terms-note]"), /that app's own privacy terms/);
    const xero = page.locator("[data-testid=app-row][data-app='Xero (billing)']");
    assert.match(await xero.innerText(), /Read records[\s\S]*Priya Raman[\s\S]*2 h ago[\s\S]*18,442[\s\S]*Active/);
    assert.match(await page.locator("[data-testid=app-row][data-app='Zapier (old intake form)'] [data-testid=app-status]").innerText(), /^Revoked/);
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "privacy-connected-apps");

    await page.locator("#connect-app").click();
    await page.locator("#connect-app-dialog").waitFor();
    await page.locator("#create-app").click();
    assert.match(await text(page, "[data-testid=connect-error]"), /Name the app/);
    await page.locator("#app-name").fill("Smokeball sync");
    await page.getByLabel("Change records").check();
    await page.locator("#create-app").click();
    await page.locator("#app-token-dialog").waitFor();
    const token = await page.getByTestId("app-token").inputValue();
    assert.match(token, /^sr_live_/);
    assert.match(await text(page, "[data-testid=token-warning]"), /shown only this once/);
    await page.locator("#copy-token").click();
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "privacy-connected-apps-token");
    await page.locator("#token-done").click();
    await page.locator("#app-token-dialog").waitFor({ state: "detached" });
    assert.equal((await page.content()).includes(token), false, "the token is not shown again");
    const made = page.locator("[data-testid=app-row][data-app='Smokeball sync']");
    assert.match(await made.innerText(), /Read records[\s\S]*Change records[\s\S]*Never[\s\S]*Active/);

    await page.getByRole("button", { name: "Revoke Smokeball sync" }).click();
    await page.locator("#revoke-app-dialog").waitFor();
    await page.locator("#confirm-revoke-app").click();
    await page.locator("#revoke-app-dialog").waitFor({ state: "detached" });
    assert.match(await made.getByTestId("app-status").innerText(), /^Revoked/);
    assert.equal(await page.getByRole("button", { name: "Revoke Smokeball sync" }).count(), 0);
    await done();
  });
});

describe("audit log", () => {
  test("verified chain; filter by person, action and dates; details; export CSV and JSON show the saved path", async () => {
    const { page, done } = await openPrivacy("signed-in", "audit");
    await page.getByTestId("chain-check").waitFor();
    assert.equal(await text(page, "[data-testid=chain-check]"), "✓ Verified: 200 entries, checked on this device");
    assert.equal(await text(page, "[data-testid=audit-count]"), "200 entries");
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "privacy-audit-log");

    // Person.
    await page.locator("#audit-actor").selectOption({ label: "Sofia Lindahl" });
    await page.waitForFunction(() => /match$/.test(document.querySelector("[data-testid=audit-count]")?.textContent?.trim() ?? ""));
    const persons = await page.locator("[data-testid=audit-row] td:nth-child(3)").allInnerTexts();
    assert.ok(persons.length > 0 && persons.every((p) => p === "Sofia Lindahl"));
    // And action.
    await page.locator("#audit-kind").selectOption("sign_in");
    await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=audit-row] td:nth-child(4)")].every((td) => td.textContent === "Sign in"));
    const both = await page.locator("[data-testid=audit-row]").count();
    assert.ok(both > 0 && both < persons.length);

    // Details open and close.
    const first = page.getByTestId("audit-row").first();
    await first.getByRole("button", { name: /^Details of entry/ }).click();
    assert.match(await text(page, "[data-testid=audit-details]"), /"ip": "10\.0\.0\./);
    assert.equal(await first.getByRole("button", { name: /^Details of entry/ }).getAttribute("aria-expanded"), "true");

    // Export what the filter shows.
    await page.locator("#export-csv").click();
    await page.getByTestId("export-path").waitFor();
    assert.match(await text(page, "[data-testid=export-path]"), /^Saved to \/home\/priya\/Downloads\/strongroom-audit-log-.*-filtered\.csv$/);
    await page.locator("#export-json").click();
    await page.waitForFunction(() => /\.json$/.test(document.querySelector("[data-testid=export-path]")?.textContent ?? ""));

    // Dates: one day of the log, inclusive; a backwards range is refused.
    await page.locator("#audit-clear").click();
    await page.waitForFunction(() => document.querySelector("[data-testid=audit-count]")?.textContent === "200 entries");
    const { day, count } = await page.evaluate(async () => {
      const rows = await window.fakeBackend.dashboard.auditRows();
      const local = (iso) => {
        const d = new Date(iso);
        return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
      };
      const day = local(rows[100].occurred_at);
      return { day, count: rows.filter((r) => local(r.occurred_at) === day).length };
    });
    await page.locator("#audit-from").fill(day);
    await page.locator("#audit-to").fill(day);
    await page.waitForFunction((n) => document.querySelectorAll("[data-testid=audit-row]").length === n, count);
    const later = new Date(new Date(day).getTime() + 86_400_000 * 3).toISOString().slice(0, 10);
    await page.locator("#audit-from").fill(later);
    assert.match(await text(page, "[data-testid=filter-problem]"), /after the “to” date/);
    await done();
  });

  test("a broken chain is shown in red at its first broken entry", async () => {
    const { page, done } = await openPrivacy("dashboard-broken-chain", "audit");
    await page.getByTestId("chain-check").waitFor();
    const banner = page.getByTestId("chain-check");
    assert.match(await banner.innerText(), /^✗ Broken at entry 57: its contents do not match the hash recorded for it/);
    assert.equal(await banner.getAttribute("role"), "alert");
    const row = page.locator("[data-testid=audit-row][data-seq='57']");
    assert.match(await row.innerText(), /Chain broken here/);
    for (const scheme of ["dark", "light"]) {
      await page.emulateMedia({ colorScheme: scheme });
      assert.deepEqual(await axe(page), [], scheme);
    }
    await row.scrollIntoViewIfNeeded();
    await page.locator("#privacy-page-title").scrollIntoViewIfNeeded();
    await screenshot(page, "privacy-audit-log-broken");
    await done();
  });
});

describe("export", () => {
  test("the whole practice and this device's copy: progress, then path, size, files, records, SHA-256 and the manifest check", async () => {
    const { page, done } = await openPrivacy("signed-in", "export");
    await page.evaluate(() => (window.fakeBackend.dashboard.exportStepMs = 250));
    assert.deepEqual(await axe(page), []);
    for (const kind of ["practice", "vault"]) {
      await page.locator(`#export-${kind}`).click();
      await page.waitForFunction((k) => /of .* \(\d+%\)/.test(document.querySelector(`[data-testid=${k}-progress-label]`)?.textContent ?? ""), kind);
      const bar = page.getByTestId(`${kind}-progress`).locator("progress");
      assert.ok(Number(await bar.getAttribute("value")) > 0);
      assert.equal(await page.locator("#export-practice").isDisabled(), true, "one export at a time");
      assert.equal(await page.locator("#export-vault").isDisabled(), true);
      if (kind === "practice") await screenshot(page, "privacy-export-progress");
      await page.getByTestId(`${kind}-result`).waitFor({ timeout: 10_000 });
      const result = await page.getByTestId(`${kind}-result`).innerText();
      assert.match(result, /Checked against its manifest/);
      assert.match(result, /Saved to\s+\/home\/priya\/Downloads\/.*\.zip/);
      assert.match(result, /Files\s+14 \(and the manifest\)/);
      assert.match(result, /SHA-256 of the zip\s+[0-9a-f]{64}/);
      assert.equal(await page.getByTestId(`${kind}-progress`).count(), 0);
    }
    assert.match(await page.getByTestId("practice-result").innerText(), /Records\s+48,310/);
    for (const scheme of ["dark", "light"]) {
      await page.emulateMedia({ colorScheme: scheme });
      assert.deepEqual(await axe(page), [], scheme);
    }
    await screenshot(page, "privacy-export");
    await done();
  });
});

describe("a fresh password", () => {
  test("an action the service guards asks for the password, then goes ahead; giving up changes nothing", async () => {
    const { page, done } = await openPrivacy("signed-in", "export");
    await page.evaluate(() => {
      window.fakeBackend.dashboard.staleSignIn = true;
      window.fakeBackend.dashboard.exportStepMs = 20;
    });
    // Giving up: the export does not run, and says why.
    await page.locator("#export-practice").click();
    const reauth = page.locator("#reauth-dialog");
    await reauth.waitFor();
    assert.match(await reauth.innerText(), /To export everything the practice holds, enter your password again/);
    await page.keyboard.press("Escape");
    await reauth.waitFor({ state: "detached" });
    assert.equal(await page.getByTestId("practice-result").count(), 0);
    // Confirming: it runs once more and completes.
    await page.locator("#export-practice").click();
    await reauth.waitFor();
    await page.locator("#reauth-password").fill("correct horse");
    await page.locator("#reauth-confirm").click();
    await reauth.waitFor({ state: "detached" });
    await page.getByTestId("practice-result").waitFor({ timeout: 10_000 });
    assert.match(await page.getByTestId("practice-result").innerText(), /Checked against its manifest/);
    // Within the next few minutes another guarded action asks nothing.
    await goTo(page, "members");
    await page.getByLabel("Role of Mei-Lin Cho").selectOption("read_only");
    await page.getByRole("button", { name: "Save the role of Mei-Lin Cho" }).click();
    await page.waitForFunction(() => /Mei-Lin Cho is now read only/.test(document.querySelector("[data-testid=members-done]")?.textContent ?? ""));
    assert.equal(await reauth.count(), 0);
    await done();
  });
});

describe("offline", () => {
  test("every page shows the vault's copy and when it was fetched; actions are off and say why; this device's export still works", async () => {
    const { page, done } = await openPrivacy("dashboard-offline");
    await page.getByTestId("session-row").first().waitFor();
    assert.match(await text(page, "[data-testid=freshness]"), /^Offline — showing the copy from \d{1,2} [A-Z][a-z]{2}, \d\d:\d\d$/);
    assert.match(await text(page, "[data-testid=offline-note]"), /turned off until it is back/);
    assert.equal(await page.locator("#revoke-others").isDisabled(), true);
    assert.equal(await page.getByRole("button", { name: "Sign out Surface Go (court bag)" }).isDisabled(), true);
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "privacy-offline-devices");

    await goTo(page, "members");
    await page.getByTestId("member-row").first().waitFor();
    assert.match(await text(page, "[data-testid=freshness]"), /^Offline — showing the copy from/);
    assert.equal(await page.locator("#invite").isDisabled(), true);
    assert.equal(await page.getByLabel("Role of Mei-Lin Cho").isDisabled(), true);

    await goTo(page, "support");
    await page.getByTestId("grant-request").first().waitFor();
    assert.equal(await page.getByRole("button", { name: "Approve SUP-4821 for Sam Ellery" }).isDisabled(), true);
    assert.equal(await page.getByRole("button", { name: "Revoke SUP-4790 for Sam Ellery" }).isDisabled(), true);

    await goTo(page, "review");
    await page.getByTestId("dormant-list").waitFor();
    assert.match(await text(page, "[data-testid=freshness]"), /^Offline/);
    assert.equal(await page.locator("#complete-review").isDisabled(), true);

    await goTo(page, "apps");
    await page.getByTestId("app-row").first().waitFor();
    assert.equal(await page.locator("#connect-app").isDisabled(), true);

    await goTo(page, "audit");
    await page.getByTestId("chain-check").waitFor();
    assert.match(await text(page, "[data-testid=chain-check]"), /Verified: 200 entries/, "the vault's copy is still checked");
    assert.match(await text(page, "[data-testid=freshness]"), /^Offline/);

    await page.locator("#nav-export").click();
    await page.getByTestId("export-page").waitFor();
    assert.equal(await page.locator("#export-practice").isDisabled(), true);
    assert.match(await text(page, "[data-testid=export-offline-note]"), /needs the connection/);
    await page.evaluate(() => (window.fakeBackend.dashboard.exportStepMs = 20));
    await page.locator("#export-vault").click();
    await page.getByTestId("vault-result").waitFor();
    assert.match(await page.getByTestId("vault-result").innerText(), /Checked against its manifest/);
    await done();
  });
});

describe("losing the connection", () => {
  test("an action that fails offline says so in words, and the page turns to the vault's copy", async () => {
    const { page, done } = await openPrivacy("signed-in");
    await page.getByTestId("session-row").first().waitFor();
    await page.evaluate(() => window.fakeBackend.goOffline());
    await page.getByRole("button", { name: "Sign out MacBook Air (home)" }).click();
    await page.locator("#confirm-revoke-session").click();
    const alert = page.locator("#revoke-session-dialog [role=alert]");
    await alert.waitFor();
    assert.match(await alert.innerText(), /needs a connection to the service/);
    assert.doesNotMatch(await alert.innerText(), /offline:|_/);
    await page.locator("#revoke-session-dialog").getByRole("button", { name: "Cancel" }).click();
    assert.match(await text(page, "[data-testid=freshness]"), /^Offline — showing the copy from/);
    assert.equal(await page.getByTestId("session-row").count(), 4, "nothing was revoked");
    assert.equal(await page.getByRole("button", { name: "Sign out MacBook Air (home)" }).isDisabled(), true);
    await done();
  });
});

describe("a member who is not an administrator", () => {
  test("sees only devices, the audit log and their own export", async () => {
    const { page, done } = await openPrivacy("dashboard-lawyer");
    await page.getByTestId("not-admin-note").waitFor();
    // Each page's name (a count of what waits for the member follows some).
    const nav = (await page.locator(".privacy-nav button").allInnerTexts()).map((t) => t.split("\n")[0]);
    assert.deepEqual(nav, ["Devices", "Audit log", "Export", "Cookies", "Notifications", "Security incidents", "Policies"]);
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "privacy-not-admin");
    await goTo(page, "export");
    assert.equal(await page.locator("#export-practice").count(), 0);
    assert.equal(await page.locator("#export-vault").count(), 1);
    await done();
  });
});
