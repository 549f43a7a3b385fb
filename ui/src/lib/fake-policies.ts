// The fake dashboard's breach notices and policy versions (crates/server/src/incidents.rs and
// policies.rs are the reference): the seeded incidents and policy texts, and the service's
// line diff (`policies::diff`: hunks of changed lines with DIFF_CONTEXT unchanged lines either
// side, numbered as a unified diff numbers them), so the fake shows what the service would.
import { DIFF_CONTEXT, type DiffHunk, type DiffLine, type PolicyDiff, type PolicyKind } from "./preference-types";

/** A text's lines, without their endings (a final line ending adds no empty line). */
function linesOf(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

type Op = { tag: DiffLine["tag"]; old: number | null; new: number | null; text: string };

/** The line-by-line edit from `a` to `b` (longest common subsequence; deletions before
 * insertions where both meet, as `similar` orders them). */
function edit(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ tag: "equal", old: i, new: j, text: a[i] });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ tag: "delete", old: i, new: null, text: a[i] });
      i++;
    } else {
      ops.push({ tag: "insert", old: null, new: j, text: b[j] });
      j++;
    }
  }
  return ops;
}

/** `policies::diff`: from `old` (null version: an empty document) to `text`. */
export function lineDiff(fromVersion: string | null, old: string, toVersion: string, text: string): PolicyDiff {
  const ops = edit(linesOf(old), linesOf(text));
  const changed = ops.flatMap((o, k) => (o.tag === "equal" ? [] : [k]));
  const hunks: DiffHunk[] = [];
  // Runs of changes whose unchanged gap is at most twice the context share a hunk.
  let k = 0;
  while (k < changed.length) {
    let last = k;
    while (last + 1 < changed.length && changed[last + 1] - changed[last] - 1 <= 2 * DIFF_CONTEXT) last++;
    const from = Math.max(0, changed[k] - DIFF_CONTEXT);
    const to = Math.min(ops.length - 1, changed[last] + DIFF_CONTEXT);
    const part = ops.slice(from, to + 1);
    // Where each side starts: the lines of that side before the hunk.
    const before = ops.slice(0, from);
    const oldBefore = before.filter((o) => o.old !== null).length;
    const newBefore = before.filter((o) => o.new !== null).length;
    const oldLines = part.filter((o) => o.old !== null).length;
    const newLines = part.filter((o) => o.new !== null).length;
    hunks.push({
      old_start: oldLines === 0 ? oldBefore : oldBefore + 1,
      old_lines: oldLines,
      new_start: newLines === 0 ? newBefore : newBefore + 1,
      new_lines: newLines,
      lines: part.map((o) => ({
        tag: o.tag,
        old_line: o.old === null ? null : o.old + 1,
        new_line: o.new === null ? null : o.new + 1,
        text: o.text,
      })),
    });
    k = last + 1;
  }
  return {
    from_version: fromVersion,
    to_version: toVersion,
    hunks,
    inserted: ops.filter((o) => o.tag === "insert").length,
    deleted: ops.filter((o) => o.tag === "delete").length,
  };
}

export const FIRST_VERSION = "2026-11-28";
export const NEW_PRIVACY_VERSION = "2027-01";

const PRIVACY_FIRST = `# Strongroom privacy policy

Version ${FIRST_VERSION}. This policy says what Strongroom does with the information your
practice keeps in it, and what you can expect of us.

## 1. Your practice owns its data

Everything your practice enters or imports stays your practice's property. We do not use
it for any purpose but providing the service to your practice, unless you permit it.

## 2. You control who has access

Only the people your practice invites can reach its data, within the role and the matters
your administrators give them.

## 3. Our staff ask before they look

When support needs to see some of your data to solve a problem, they ask your practice
first; access is limited to what you approve.

## 10. Breaches

If your data is accessed by or disclosed to someone not authorised, we notify you as soon
as possible.

## 12. The terms of use

Read this policy with the terms of use. Where the two disagree, the terms of use prevail.
`;

const PRIVACY_NEW = `# Strongroom privacy policy

Version ${NEW_PRIVACY_VERSION}. This policy says what Strongroom does with the information your
practice keeps in it, and what you can expect of us.

## 1. Your practice owns its data

Everything your practice enters or imports stays your practice's property. We do not use
it for any purpose but providing the service to your practice, unless you permit it.

## 2. You control who has access

Only the people your practice invites can reach its data, within the role and the matters
your administrators give them.

## 3. Our staff ask before they look

When support needs to see some of your data to solve a problem, they ask your practice
first; access is limited to what you approve, lasts at most 72 hours, and ends the moment
you withdraw it. Every request and every record read under it is shown to you.

## 10. Breaches

If your data is accessed by or disclosed to someone not authorised, we notify you as soon
as possible, by email and in the app, with what happened and what you should do.

## 12. The terms of use

Read this policy with the terms of use. Where the two disagree, the terms of use prevail.
`;

const TERMS_FIRST = `# Strongroom terms of use

Version ${FIRST_VERSION}. These terms govern your practice's use of Strongroom.

## 1. The service

We provide Strongroom to your practice as described on our pages, and keep it available
except for announced maintenance.

## 2. Your responsibilities

Keep your password safe, and remove the credentials of people who no longer need them.

## 3. Privacy

Our privacy policy describes how we handle your data. Where it and these terms disagree,
these terms prevail.
`;

export type PolicyVersion = { kind: PolicyKind; version: string; published_at: string; summary: string; text: string };

/** The seeded versions, oldest first: both first versions 30 days ago, and a new privacy
 * policy published yesterday. */
export function seededPolicies(daysAgo: (d: number) => string): PolicyVersion[] {
  return [
    { kind: "privacy", version: FIRST_VERSION, published_at: daysAgo(30), summary: "The first published version of Strongroom's privacy policy.", text: PRIVACY_FIRST },
    { kind: "terms", version: FIRST_VERSION, published_at: daysAgo(30), summary: "The first published version of Strongroom's terms of use.", text: TERMS_FIRST },
    {
      kind: "privacy",
      version: NEW_PRIVACY_VERSION,
      published_at: daysAgo(1),
      summary: "Support access now lasts at most 72 hours, and breach notices come by email and in the app.",
      text: PRIVACY_NEW,
    },
  ];
}
