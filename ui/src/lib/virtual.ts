// The windowing arithmetic of the virtualised matter list: which rows are in view (plus a
// small overscan), which pages of rows to fetch for them, and how far to scroll to show a
// row. Pure, so it is unit-tested; the component only renders what these answer.

export interface WindowInput {
  scrollTop: number;
  viewportHeight: number;
  rowHeight: number;
  total: number;
  overscan: number;
}

/** Rows [start, end) to render: those in view, plus `overscan` either side, within total. */
export function visibleRange({ scrollTop, viewportHeight, rowHeight, total, overscan }: WindowInput): {
  start: number;
  end: number;
} {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const inView = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(total - 1, first) - overscan);
  const end = Math.min(total, first + inView + overscan);
  return { start, end: Math.max(start, end) };
}

/** The page numbers (of `pageSize` rows) that hold rows [start, end). */
export function pagesFor(start: number, end: number, pageSize: number): number[] {
  if (end <= start) return [];
  const pages: number[] = [];
  for (let p = Math.floor(start / pageSize); p <= Math.floor((end - 1) / pageSize); p++) pages.push(p);
  return pages;
}

/**
 * The scrollTop that brings row `index` fully into a viewport of `viewportHeight` (below a
 * sticky header of `headerHeight`), or null when it is already in view.
 */
export function scrollToShow(
  index: number,
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  headerHeight = 0,
): number | null {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight - headerHeight) return Math.max(0, bottom - (viewportHeight - headerHeight));
  return null;
}

/** Keeps an index within [0, total): arrow keys and Home/End move through the list. */
export function moveIndex(current: number, key: string, total: number, pageRows: number): number {
  if (total <= 0) return -1;
  const c = current < 0 ? -1 : current;
  let next = c;
  switch (key) {
    case "ArrowDown":
      next = c + 1;
      break;
    case "ArrowUp":
      next = c <= 0 ? 0 : c - 1;
      break;
    case "PageDown":
      next = c + pageRows;
      break;
    case "PageUp":
      next = c - pageRows;
      break;
    case "Home":
      next = 0;
      break;
    case "End":
      next = total - 1;
      break;
  }
  return Math.max(0, Math.min(total - 1, next));
}
