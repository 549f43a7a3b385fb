// The matter list over a 100,000-matter practice: virtualised (few rows in the DOM),
// windows fetched as the user scrolls, sortable columns, filters, search (with file-note
// hits), and the keyboard path: / to search, arrows between rows, Enter, Escape back.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { axe, open, screenshot, setup } from "./helpers.mjs";

setup();

const rowNumbers = (page) => page.$$eval("tr.matter-row td.c-number", (tds) => tds.map((td) => td.textContent.trim()));

/** The 100,000-matter practice, searched for "okafor" and its first window of hits shown;
 *  `asked` is a handle on the limits of every search the list has asked since. */
async function searchOkaforInTheLargePractice() {
  const { page, done } = await open("large");
  await page.locator("tr.matter-row").first().waitFor({ timeout: 15_000 });
  const asked = await page.evaluateHandle(() => {
    const limits = [];
    const backend = window.fakeBackend;
    const search = backend.search.bind(backend);
    backend.search = (request) => {
      limits.push(request.limit);
      return search(request);
    };
    return limits;
  });
  await page.locator("#matter-search").fill("okafor");
  await page.waitForFunction(() => document.getElementById("list-count")?.textContent === "100+ results for “okafor”");
  return { page, done, asked };
}

describe("a 100,000-matter practice", () => {
  test("only the rows in view are in the DOM; scrolling far shows later matters; sort and filter work", async () => {
    const { page, done } = await open("large");
    await page.locator("tr.matter-row").first().waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => document.getElementById("list-count")?.textContent === "100,000 matters");
    const rows = await page.locator("tr.matter-row").count();
    assert.ok(rows > 10 && rows < 100, `rows in the DOM: ${rows}`);
    assert.equal(await page.locator("table.matters").getAttribute("aria-rowcount"), "100001");
    // Newest opened first: the last matter numbered.
    assert.equal((await rowNumbers(page))[0], "HV-2026-100000");
    assert.deepEqual(await axe(page), []);

    // Far down: around the middle, then the very end.
    await page.locator(".list-scroller").evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
    await page.waitForFunction(() => [...document.querySelectorAll("tr.matter-row td.c-number")].some((td) => /-0500\d\d$/.test(td.textContent)));
    assert.ok((await page.locator("tr.matter-row").count()) < 100);
    await page.locator(".list-scroller").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForFunction(() => [...document.querySelectorAll("tr.matter-row td.c-number")].some((td) => td.textContent.trim() === "HV-2012-000001"));
    assert.ok((await page.locator("tr.matter-row").count()) < 100);
    assert.ok((await page.evaluate(() => document.querySelectorAll("tr.placeholder-row").length)) === 0, "every row in view has arrived");
    // From the search box, ArrowDown goes to a row in view, not back to the top.
    await page.locator("#matter-search").focus();
    await page.keyboard.press("ArrowDown");
    assert.match(await page.evaluate(() => document.activeElement?.querySelector(".c-number")?.textContent ?? ""), /^HV-201[23]-0000\d\d$/);

    // Sort by number, ascending: back at the top, the first matter first.
    await page.locator("#sort-number").click();
    await page.waitForFunction(() => document.querySelector("tr.matter-row td.c-number")?.textContent?.trim() === "HV-2012-000001");
    assert.equal(await page.locator("th:has(#sort-number)").getAttribute("aria-sort"), "ascending");
    assert.equal(await page.locator("th:has(#sort-opened)").getAttribute("aria-sort"), "none");
    const asc = await rowNumbers(page);
    assert.deepEqual([...asc].sort(), asc);
    await page.locator("#sort-number").click();
    await page.waitForFunction(() => document.querySelector("tr.matter-row td.c-number")?.textContent?.trim() === "HV-2026-100000");
    assert.equal(await page.locator("th:has(#sort-number)").getAttribute("aria-sort"), "descending");

    // Sort by client: alphabetical.
    await page.locator("#sort-client").click();
    await page.waitForFunction(() => document.querySelector("th:has(#sort-client)")?.getAttribute("aria-sort") === "ascending");
    await page.waitForFunction(() => document.querySelectorAll("tr.matter-row").length > 5);
    const clients = await page.$$eval("tr.matter-row td.c-client", (tds) => tds.map((td) => td.textContent.trim().toLowerCase()));
    assert.deepEqual([...clients].sort(), clients);

    // Filters: on hold, litigation, one lawyer.
    await page.locator("#filter-status").selectOption("on_hold");
    await page.waitForFunction(() => /^[\d,]+ matters match these filters$/.test(document.getElementById("list-count")?.textContent ?? ""));
    const onHold = Number((await page.locator("#list-count").innerText()).replace(/[^\d]/g, ""));
    assert.ok(onHold > 0 && onHold < 100_000, `${onHold} on hold`);
    await page.locator("#filter-type").selectOption("Litigation");
    await page.locator("#filter-responsible").selectOption("Mei-Lin Cho");
    await page.waitForFunction((n) => Number(document.getElementById("list-count")?.textContent?.replace(/[^\d]/g, "")) < n, onHold);
    await page.waitForFunction(() => document.querySelectorAll("tr.matter-row").length > 0);
    const cells = await page.$$eval("tr.matter-row", (trs) =>
      trs.map((tr) => [tr.querySelector(".c-type").textContent.trim(), tr.querySelector(".c-resp").textContent.trim(), tr.querySelector(".c-status").textContent.trim()]),
    );
    assert.ok(cells.length > 0);
    for (const [type, resp, status] of cells) assert.deepEqual([type, resp, status], ["Litigation", "Mei-Lin Cho", "On hold"]);
    assert.deepEqual(await axe(page), []);
    await screenshot(page, "list-filtered");
    await page.locator("#clear-filters").click();
    await page.waitForFunction(() => document.getElementById("list-count")?.textContent === "100,000 matters");
    await done();
  });

  test("search with a filter narrows the 100,000; results replace the list", async () => {
    const { page, done } = await open("large");
    await page.locator("tr.matter-row").first().waitFor({ timeout: 15_000 });
    await page.locator("#filter-type").selectOption("Probate");
    await page.locator("#matter-search").fill("okafor");
    await page.waitForFunction(() => /results? for “okafor” with these filters/.test(document.getElementById("list-count")?.textContent ?? ""));
    const titles = await page.$$eval("tr.matter-row .title", (tds) => tds.map((td) => td.textContent));
    assert.ok(titles.length > 0 && titles.length < 100);
    for (const t of titles) assert.match(t, /Okafor: grant of probate/);
    await done();
  });
});

describe("search", () => {
  test("a hit found in a file note says so, and opens the matter on its file notes", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.locator("#matter-search").fill("asbestos");
    await page.waitForFunction(() => document.querySelectorAll("tr.matter-row").length === 1);
    const row = page.locator("tr.matter-row");
    assert.match(await row.locator(".title").innerText(), /Lindqvist v Coastal Freight Pty Ltd/);
    assert.match(await row.innerText(), /found in a file note/);
    assert.deepEqual(await axe(page), []);
    await row.click();
    await page.locator("#matter-title").waitFor();
    assert.equal(await page.locator("#tab-notes").getAttribute("aria-selected"), "true");
    assert.ok(await page.getByTestId("note").filter({ hasText: "asbestos" }).isVisible());
    await done();
  });

  test("no match says so; the filters apply to the search", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.locator("#matter-search").fill("priya");
    await page.locator("#matter-search").fill("zebra");
    await page.getByTestId("list-empty").waitFor();
    assert.match(await page.getByTestId("list-empty").innerText(), /No matter matches “zebra”/);
    await page.locator("#matter-search").fill("walker");
    await page.waitForFunction(() => document.querySelectorAll("tr.matter-row").length === 1);
    await page.locator("#filter-status").selectOption("open");
    await page.getByTestId("list-empty").waitFor();
    await page.locator("#filter-status").selectOption("on_hold");
    await page.waitForFunction(() => document.querySelectorAll("tr.matter-row").length === 1);
    await done();
  });

  test("a search shows its first hits at once, and the rest when the list is scrolled near their end", async () => {
    const { page, done, asked } = await searchOkaforInTheLargePractice();
    assert.deepEqual(await asked.jsonValue(), [100]);
    await page.locator(".list-scroller").evaluate((s) => (s.scrollTop = s.scrollHeight));
    await page.waitForFunction(() => document.getElementById("list-count")?.textContent === "500 results for “okafor”");
    assert.deepEqual(await asked.jsonValue(), [100, 500]);
    // The rows past the first window are there, and the place in the list is kept.
    assert.equal(await page.locator("table.matters").getAttribute("aria-rowcount"), "501");
    assert.ok((await page.locator(".list-scroller").evaluate((s) => s.scrollTop)) > 2000);
    await page.locator(".list-scroller").evaluate((s) => (s.scrollTop = s.scrollHeight));
    await page.waitForFunction(() => document.querySelector('tr.matter-row[data-index="499"]'));
    assert.deepEqual(await axe(page), []);
    await done();
  });

  test("new data from a sync searches again and keeps the hits held and the place in the list", async () => {
    const { page, done, asked } = await searchOkaforInTheLargePractice();
    await page.locator(".list-scroller").evaluate((s) => (s.scrollTop = s.scrollHeight));
    await page.waitForFunction(() => document.getElementById("list-count")?.textContent === "500 results for “okafor”");
    await page.locator(".list-scroller").evaluate((s) => (s.scrollTop = 4000));
    await page.waitForFunction(() => document.querySelector('tr.matter-row[data-index="115"]'));
    // The live stream drops (as a sync in the background would, a change the list must
    // show): the search runs again, for as many hits as it held.
    await page.evaluate(() => window.fakeBackend.goOffline());
    await page.waitForFunction(() => document.querySelector("[data-testid=connection]")?.textContent?.includes("Offline"));
    await page.waitForFunction((limits) => limits.length >= 3, asked);
    const limits = await asked.jsonValue();
    assert.deepEqual(limits.slice(0, 2), [100, 500]);
    assert.ok(limits.slice(2).every((l) => l === 500), `asked again for ${limits.slice(2)}`);
    assert.equal(await page.locator("#list-count").innerText(), "500 results for “okafor”");
    assert.equal(await page.locator(".list-scroller").evaluate((s) => s.scrollTop), 4000);
    assert.ok(await page.locator('tr.matter-row[data-index="115"]').isVisible());
    await done();
  });

  test("sorting a search's hits sorts all of them, not its first window", async () => {
    const { page, done } = await open("large");
    await page.locator("tr.matter-row").first().waitFor({ timeout: 15_000 });
    await page.locator("#matter-search").fill("tanaka");
    await page.waitForFunction(() => document.getElementById("list-count")?.textContent === "100+ results for “tanaka”");
    await page.locator("#sort-number").click();
    await page.waitForFunction(() => document.getElementById("list-count")?.textContent === "500 results for “tanaka”");
    await done();
  });

  test("the count names the text its results are for, not what is still being searched", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.locator("#matter-search").fill("walk");
    await page.waitForFunction(() => /results? for “walk”$/.test(document.getElementById("list-count")?.textContent ?? ""));
    const before = await page.$$eval("tr.matter-row .title", (tds) => tds.map((td) => td.textContent));
    // The next search is held until the test lets it go.
    await page.evaluate(() => {
      const backend = window.fakeBackend;
      const search = backend.search.bind(backend);
      backend.search = async (request) => {
        if (request.text === "walker") await new Promise((go) => (window.releaseSearch = go));
        return search(request);
      };
    });
    await page.locator("#matter-search").fill("walker");
    await page.waitForFunction(() => typeof window.releaseSearch === "function");
    assert.match(await page.locator("#list-count").innerText(), /results? for “walk”$/);
    assert.deepEqual(await page.$$eval("tr.matter-row .title", (tds) => tds.map((td) => td.textContent)), before);
    await page.evaluate(() => window.releaseSearch());
    await page.waitForFunction(() => /results? for “walker”$/.test(document.getElementById("list-count")?.textContent ?? ""));
    await done();
  });
});

describe("keyboard", () => {
  test("/ to search, arrows between rows, Enter opens, tabs by arrow, Escape back to the same row", async () => {
    const { page, done } = await open("signed-in");
    await page.locator("tr.matter-row").first().waitFor();
    await page.locator("body").press("/");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "matter-search");
    await page.keyboard.press("ArrowDown");
    const focusedTitle = () => page.evaluate(() => document.activeElement?.closest("tr.matter-row")?.querySelector(".title")?.textContent);
    assert.match(await focusedTitle(), /Okafor/);
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    assert.match(await focusedTitle(), /Wattle Grove/);
    await page.keyboard.press("ArrowUp");
    assert.match(await focusedTitle(), /Lindqvist/);
    await page.keyboard.press("End");
    assert.match(await focusedTitle(), /Vasquez/);
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.locator("#matter-title").waitFor();
    assert.equal(await page.locator("#matter-title").innerText(), "Lindqvist v Coastal Freight Pty Ltd");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "matter-title", "focus goes to the matter's heading");

    // Tab reaches the tabs; arrows move between them.
    for (let i = 0; i < 12 && (await page.evaluate(() => document.activeElement?.getAttribute("role"))) !== "tab"; i++) await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "tab-participants");
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "tab-notes");
    assert.equal(await page.locator("#tab-notes").getAttribute("aria-selected"), "true");
    assert.ok(await page.getByTestId("note").first().isVisible());

    // A dialog by keyboard: Escape closes it (and not the matter); focus returns.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "add-note");
    await page.keyboard.press("Enter");
    await page.locator("#note-dialog").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "note-subject");
    // Tab stays inside the dialog.
    for (let i = 0; i < 6; i++) await page.keyboard.press("Tab");
    assert.ok(await page.evaluate(() => document.getElementById("note-dialog")?.contains(document.activeElement)));
    await page.keyboard.press("Escape");
    await page.locator("#note-dialog").waitFor({ state: "detached" });
    assert.equal(await page.evaluate(() => document.activeElement?.id), "add-note");
    assert.equal(await page.locator("#matter-title").count(), 1);

    await page.keyboard.press("Escape");
    await page.locator("tr.matter-row").first().waitFor();
    assert.match(await focusedTitle(), /Lindqvist/, "back on the row it came from");
    await done();
  });
});
