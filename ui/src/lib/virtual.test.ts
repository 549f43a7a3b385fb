import { describe, expect, it } from "vitest";
import { moveIndex, pagesFor, scrollToShow, visibleRange } from "./virtual";

describe("visibleRange", () => {
  const base = { rowHeight: 36, viewportHeight: 720, overscan: 8 };
  it("at the top: the rows in view plus overscan below", () => {
    expect(visibleRange({ ...base, scrollTop: 0, total: 100_000 })).toEqual({ start: 0, end: 29 });
  });
  it("far down: a window around the scroll position, overscan either side", () => {
    const r = visibleRange({ ...base, scrollTop: 36 * 50_000, total: 100_000 });
    expect(r).toEqual({ start: 49_992, end: 50_029 });
    expect(r.end - r.start).toBeLessThan(100);
  });
  it("at the end, never past the total", () => {
    const r = visibleRange({ ...base, scrollTop: 36 * 100_000, total: 100_000 });
    expect(r.end).toBe(100_000);
    expect(r.start).toBeGreaterThan(99_900);
  });
  it("small lists and empty ones", () => {
    expect(visibleRange({ ...base, scrollTop: 0, total: 5 })).toEqual({ start: 0, end: 5 });
    expect(visibleRange({ ...base, scrollTop: 0, total: 0 })).toEqual({ start: 0, end: 0 });
    expect(visibleRange({ ...base, scrollTop: -50, total: 3 })).toEqual({ start: 0, end: 3 });
  });
});

describe("pagesFor", () => {
  it("names the pages that hold a range", () => {
    expect(pagesFor(0, 29, 100)).toEqual([0]);
    expect(pagesFor(95, 130, 100)).toEqual([0, 1]);
    expect(pagesFor(49_992, 50_029, 100)).toEqual([499, 500]);
    expect(pagesFor(100, 200, 100)).toEqual([1]);
    expect(pagesFor(5, 5, 100)).toEqual([]);
  });
});

describe("scrollToShow", () => {
  it("scrolls only when the row is out of view, minding the sticky header", () => {
    expect(scrollToShow(3, 0, 360, 36, 36)).toBeNull();
    expect(scrollToShow(0, 100, 360, 36, 36)).toBe(0);
    // Row 10 ends at 396; 324 px visible under the header: scrollTop 72.
    expect(scrollToShow(10, 0, 360, 36, 36)).toBe(72);
  });
});

describe("moveIndex", () => {
  it("arrows, pages, Home and End stay within the list", () => {
    expect(moveIndex(0, "ArrowDown", 5, 10)).toBe(1);
    expect(moveIndex(4, "ArrowDown", 5, 10)).toBe(4);
    expect(moveIndex(0, "ArrowUp", 5, 10)).toBe(0);
    expect(moveIndex(2, "PageDown", 100, 10)).toBe(12);
    expect(moveIndex(2, "PageUp", 100, 10)).toBe(0);
    expect(moveIndex(50, "Home", 100, 10)).toBe(0);
    expect(moveIndex(0, "End", 100_000, 10)).toBe(99_999);
    expect(moveIndex(0, "ArrowDown", 0, 10)).toBe(-1);
  });
});
