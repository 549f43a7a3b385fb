// Promise 6: the UI keeps nothing in the browser itself. No source file of the UI uses a
// browser storage API; the only cookies are the service's own (Set-Cookie, by consent),
// and the page's script never writes one.
import { describe, expect, it } from "vitest";

const sources = import.meta.glob(["../**/*.ts", "../**/*.svelte", "!../**/*.test.ts"], { query: "?raw", import: "default", eager: true }) as Record<
  string,
  string
>;

/** The file without its comments (`//` lines and `/* *\/` and `<!-- -->` blocks). */
function code(text: string): string {
  return text
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
}

describe("browser storage", () => {
  it("no UI source uses localStorage, sessionStorage, IndexedDB, the Cache API or document.cookie", () => {
    const names = Object.keys(sources);
    expect(names.length).toBeGreaterThan(20);
    expect(names.some((n) => n.endsWith("WebApp.svelte"))).toBe(true);
    const found: string[] = [];
    for (const [name, text] of Object.entries(sources)) {
      for (const api of [/\blocalStorage\b/, /\bsessionStorage\b/, /\bindexedDB\b/, /\bcaches\s*\./, /\bdocument\s*\.\s*cookie\b/, /\bcookieStore\b/]) {
        if (api.test(code(text))) found.push(`${name}: ${api.source}`);
      }
    }
    expect(found).toEqual([]);
  });
});
