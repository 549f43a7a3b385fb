import { describe, expect, it } from "vitest";
import { ariaSort, buildQuery, buildSearch, DEFAULT_ORDER, NO_FILTERS, nextOrder, PageCache, queryKey, sameSearch, sortHits } from "./matter-list";
import type { SearchHit } from "./types";

describe("queries", () => {
  it("leave empty filters out", () => {
    expect(buildQuery(DEFAULT_ORDER, NO_FILTERS, 200, 100)).toEqual({ offset: 200, limit: 100, sort: "opened", descending: true });
    expect(buildQuery({ sort: "title", descending: false }, { status: "on_hold", matter_type: "Probate", responsible: "" }, 0, 50)).toEqual({
      offset: 0,
      limit: 50,
      sort: "title",
      descending: false,
      status: "on_hold",
      matter_type: "Probate",
    });
  });
  it("search carries the filters and trimmed text", () => {
    expect(buildSearch("  okafor ", { status: "", matter_type: "", responsible: "Priya Raman" }, 20)).toEqual({
      text: "okafor",
      limit: 20,
      responsible: "Priya Raman",
    });
  });
  it("the same search is the same text and filters, whatever its limit", () => {
    const a = buildSearch("okafor", { status: "open", matter_type: "", responsible: "" }, 100);
    expect(sameSearch(a, { ...a, limit: 500 })).toBe(true);
    expect(sameSearch(a, buildSearch(" okafor ", { status: "open", matter_type: "", responsible: "" }, 500))).toBe(true);
    expect(sameSearch(a, buildSearch("okafo", { status: "open", matter_type: "", responsible: "" }, 100))).toBe(false);
    expect(sameSearch(a, buildSearch("okafor", NO_FILTERS, 100))).toBe(false);
    expect(sameSearch(a, buildSearch("okafor", { status: "open", matter_type: "Probate", responsible: "" }, 100))).toBe(false);
    expect(sameSearch(a, buildSearch("okafor", { status: "open", matter_type: "", responsible: "Priya Raman" }, 100))).toBe(false);
  });
  it("the key changes with the order and each filter", () => {
    const k = queryKey(DEFAULT_ORDER, NO_FILTERS);
    expect(queryKey({ ...DEFAULT_ORDER }, { ...NO_FILTERS })).toBe(k);
    expect(queryKey({ sort: "opened", descending: false }, NO_FILTERS)).not.toBe(k);
    expect(queryKey(DEFAULT_ORDER, { ...NO_FILTERS, matter_type: "Family" })).not.toBe(k);
  });
});

describe("sort order", () => {
  it("the same column flips; a new one starts ascending, dates newest first", () => {
    expect(nextOrder(DEFAULT_ORDER, "opened")).toEqual({ sort: "opened", descending: false });
    expect(nextOrder(DEFAULT_ORDER, "title")).toEqual({ sort: "title", descending: false });
    expect(nextOrder({ sort: "title", descending: false }, "title")).toEqual({ sort: "title", descending: true });
    expect(nextOrder({ sort: "title", descending: false }, "opened")).toEqual({ sort: "opened", descending: true });
  });
  it("aria-sort names the sorted column only", () => {
    expect(ariaSort(DEFAULT_ORDER, "opened")).toBe("descending");
    expect(ariaSort({ sort: "number", descending: false }, "number")).toBe("ascending");
    expect(ariaSort(DEFAULT_ORDER, "title")).toBe("none");
  });
  it("search hits sort like the list; ties keep the search's ranking", () => {
    const h = (number: string, title: string, status: SearchHit["status"], opened_on: string): SearchHit => ({
      matter_id: number,
      number,
      title,
      client_name: "",
      found_in: "matter",
      note_id: null,
      matter_type: "",
      status,
      responsible: "",
      opened_on,
    });
    const hits = [h("B", "beta", "closed", "2026-01-02"), h("A", "Alpha", "open", "2026-01-02"), h("C", "gamma", "on_hold", "2025-05-05")];
    expect(sortHits(hits, { sort: "title", descending: false }).map((x) => x.number)).toEqual(["A", "B", "C"]);
    expect(sortHits(hits, { sort: "status", descending: false }).map((x) => x.number)).toEqual(["A", "C", "B"]);
    expect(sortHits(hits, { sort: "opened", descending: true }).map((x) => x.number)).toEqual(["B", "A", "C"]);
    expect(hits.map((x) => x.number)).toEqual(["B", "A", "C"]);
  });
});

describe("PageCache", () => {
  it("hands out each missing page once, stores it, and finds rows by index", () => {
    const c = new PageCache<number>(10);
    c.reset("k");
    expect(c.claim([0, 1])).toEqual([0, 1]);
    expect(c.claim([0, 1, 2])).toEqual([2]);
    expect(c.store("k", 1, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19], 25)).toBe(true);
    expect(c.row(13)).toBe(13);
    expect(c.row(3)).toBeUndefined();
    expect(c.total).toBe(25);
    expect(c.claim([1])).toEqual([]);
  });
  it("drops a page fetched under an older key", () => {
    const c = new PageCache<number>(10);
    c.reset("old");
    c.claim([0]);
    c.reset("new");
    expect(c.store("old", 0, [1, 2, 3], 3)).toBe(false);
    expect(c.row(0)).toBeUndefined();
    expect(c.claim([0])).toEqual([0]);
  });
  it("a failed fetch may be claimed again", () => {
    const c = new PageCache<number>(10);
    c.reset("k");
    c.claim([4]);
    c.release("k", 4);
    expect(c.claim([4])).toEqual([4]);
  });
  it("keeps stale rows on show while the same query refreshes, until fresh ones arrive", () => {
    const c = new PageCache<string>(2);
    c.reset("k#1");
    c.claim([0]);
    c.store("k#1", 0, ["a", "b"], 2);
    c.reset("k#2", true);
    expect(c.row(0)).toBe("a");
    expect(c.fresh(0)).toBe(false);
    expect(c.total).toBe(2);
    expect(c.claim([0])).toEqual([0]);
    c.store("k#2", 0, ["new", "b"], 3);
    expect(c.row(0)).toBe("new");
    c.reset("other");
    expect(c.row(0)).toBeUndefined();
    expect(c.total).toBeNull();
  });
});
