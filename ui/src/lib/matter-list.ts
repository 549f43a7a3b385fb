// The matter list's queries: what to ask listMatters and search for the chosen sort and
// filters, a cache of fetched pages (dropped when the sort or filters change), and the
// sort of search hits (which come back whole, not windowed).
import type { MatterListQuery, MatterSort, MatterStatus, SearchHit, SearchRequest } from "./types";

export interface ListFilters {
  status: MatterStatus | "";
  matter_type: string;
  responsible: string;
}

export interface ListOrder {
  sort: MatterSort;
  descending: boolean;
}

export const NO_FILTERS: ListFilters = { status: "", matter_type: "", responsible: "" };

/** The list's first order: newest opened first. */
export const DEFAULT_ORDER: ListOrder = { sort: "opened", descending: true };

/** One window's query; empty filters are left out (the vault reads absent as "any"). */
export function buildQuery(order: ListOrder, filters: ListFilters, offset: number, limit: number): MatterListQuery {
  const q: MatterListQuery = { offset, limit, sort: order.sort, descending: order.descending };
  if (filters.status) q.status = filters.status;
  if (filters.matter_type) q.matter_type = filters.matter_type;
  if (filters.responsible) q.responsible = filters.responsible;
  return q;
}

/** The search request for typed text with the list's filters. */
export function buildSearch(text: string, filters: ListFilters, limit: number): SearchRequest {
  const r: SearchRequest = { text: text.trim(), limit };
  if (filters.status) r.status = filters.status;
  if (filters.matter_type) r.matter_type = filters.matter_type;
  if (filters.responsible) r.responsible = filters.responsible;
  return r;
}

/** Whether two searches ask for the same matters (text and filters), however many of them. */
export function sameSearch(a: SearchRequest, b: SearchRequest): boolean {
  return (
    a.text === b.text &&
    (a.status ?? null) === (b.status ?? null) &&
    (a.matter_type ?? "") === (b.matter_type ?? "") &&
    (a.responsible ?? "") === (b.responsible ?? "")
  );
}

/** A key naming the order and filters: pages cached under another key are stale. */
export function queryKey(order: ListOrder, filters: ListFilters): string {
  return JSON.stringify([order.sort, order.descending, filters.status, filters.matter_type, filters.responsible]);
}

/** Clicking a column: the same column flips direction; a new one starts ascending (dates newest first). */
export function nextOrder(current: ListOrder, column: MatterSort): ListOrder {
  if (current.sort === column) return { sort: column, descending: !current.descending };
  return { sort: column, descending: column === "opened" };
}

export function ariaSort(current: ListOrder, column: MatterSort): "ascending" | "descending" | "none" {
  if (current.sort !== column) return "none";
  return current.descending ? "descending" : "ascending";
}

const STATUS_RANK: Record<MatterStatus, number> = { open: 0, on_hold: 1, closed: 2 };

function sortValue(h: SearchHit, sort: MatterSort): string | number {
  switch (sort) {
    case "opened":
      return h.opened_on;
    case "number":
      return h.number;
    case "title":
      return h.title.toLowerCase();
    case "client":
      return h.client_name.toLowerCase();
    case "responsible":
      return h.responsible.toLowerCase();
    case "status":
      return STATUS_RANK[h.status];
  }
}

/** Search hits in the list's order (stable: equal keys keep the search's ranking). */
export function sortHits(hits: SearchHit[], order: ListOrder): SearchHit[] {
  const dir = order.descending ? -1 : 1;
  return hits
    .map((h, i) => ({ h, i, k: sortValue(h, order.sort) }))
    .sort((a, b) => (a.k < b.k ? -dir : a.k > b.k ? dir : a.i - b.i))
    .map((x) => x.h);
}

/** Pages of rows fetched for one key; a new key empties it. */
export class PageCache<T> {
  private key = "";
  private pages = new Map<number, T[]>();
  private stale = new Map<number, T[]>();
  private pending = new Set<number>();
  total: number | null = null;

  constructor(readonly pageSize: number) {}

  /**
   * Starts over for a new key. With `keepStale` (the same order and filters, but the data
   * changed) the old rows stay on show until fresh ones replace them, so nothing flickers.
   */
  reset(key: string, keepStale = false): void {
    this.key = key;
    this.stale = keepStale ? new Map([...this.stale, ...this.pages]) : new Map();
    this.pages = new Map();
    this.pending.clear();
    if (!keepStale) this.total = null;
  }

  get currentKey(): string {
    return this.key;
  }

  /** The pages among `wanted` neither held nor being fetched; they are marked as being fetched. */
  claim(wanted: number[]): number[] {
    const out = wanted.filter((p) => !this.pages.has(p) && !this.pending.has(p));
    for (const p of out) this.pending.add(p);
    return out;
  }

  /** Stores a fetched page, unless it was asked for under an older key. */
  store(key: string, page: number, rows: T[], total: number): boolean {
    if (key !== this.key) return false;
    this.pending.delete(page);
    this.pages.set(page, rows);
    if (this.total !== total) this.stale.clear();
    this.total = total;
    return true;
  }

  /** A fetch that failed: the page may be asked for again. */
  release(key: string, page: number): void {
    if (key === this.key) this.pending.delete(page);
  }

  row(index: number): T | undefined {
    const p = Math.floor(index / this.pageSize);
    return (this.pages.get(p) ?? this.stale.get(p))?.[index % this.pageSize];
  }

  /** Whether the page holding row `index` is fresh (not a stale copy awaiting refresh). */
  fresh(index: number): boolean {
    return this.pages.has(Math.floor(index / this.pageSize));
  }

  get pageCount(): number {
    return this.pages.size;
  }
}
