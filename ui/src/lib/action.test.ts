import { describe, expect, it } from "vitest";
import { Action } from "./action.svelte";
import { BackendError, humanMessage } from "./errors";

/** A promise the test settles by hand, to look at the action while it runs. */
function pending() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe("Action", () => {
  it("starts idle, with no error", () => {
    const a = new Action();
    expect(a.busy).toBe(false);
    expect(a.error).toBeNull();
    expect(a.field).toBeNull();
  });

  it("is busy while the operation runs and answers true when it succeeds", async () => {
    const a = new Action();
    const op = pending();
    const done = a.run(() => op.promise);
    expect(a.busy).toBe(true);
    op.resolve();
    expect(await done).toBe(true);
    expect(a.busy).toBe(false);
    expect(a.error).toBeNull();
  });

  it("clears the last error when it starts again", async () => {
    const a = new Action();
    a.refuse("Give the note a subject.");
    const op = pending();
    const done = a.run(() => op.promise);
    expect(a.error).toBeNull();
    op.resolve();
    await done;
    expect(a.error).toBeNull();
  });

  it("puts a backend failure in words and answers false", async () => {
    const a = new Action();
    const op = pending();
    const done = a.run(() => op.promise);
    expect(a.busy).toBe(true);
    op.reject(new BackendError("server_unreachable", "connection refused"));
    expect(await done).toBe(false);
    expect(a.busy).toBe(false);
    expect(a.error).toBe(humanMessage("server_unreachable"));
    expect(a.error).toMatch(/^Can't reach the server\./);
  });

  it("words anything else thrown as an internal error", async () => {
    const a = new Action();
    expect(await a.run(async () => Promise.reject(new Error("boom")))).toBe(false);
    expect(a.error).toBe("Something went wrong inside Strongroom: Error: boom");
    expect(a.busy).toBe(false);
  });

  it("passes a refused value through as the service said it, by default", async () => {
    const a = new Action();
    await a.run(async () => Promise.reject(new BackendError("invalid_input", "email: must be an email address")));
    expect(a.error).toBe("email: must be an email address");
    expect(a.field).toBeNull();
  });

  it("with `invalid`, names the refused field in words and keeps which one it was", async () => {
    const a = new Action({ invalid: true });
    await a.run(async () => Promise.reject(new BackendError("invalid_input", "email: must be an email address")));
    expect(a.error).toBe("Email: must be an email address");
    expect(a.field).toBe("email");
    // Other failures are worded as usual and mark no field.
    await a.run(async () => Promise.reject(new BackendError("vault_locked", "")));
    expect(a.error).toBe(humanMessage("vault_locked"));
    expect(a.field).toBeNull();
  });

  it("words a failure it did not run (fail), a problem found first (refuse), and forgets (reset)", () => {
    const a = new Action();
    a.fail(new BackendError("not_found", "gone"));
    expect(a.error).toBe(humanMessage("not_found"));
    expect(a.busy).toBe(false);
    a.refuse("Enter the new contact's name.", "name");
    expect(a.error).toBe("Enter the new contact's name.");
    expect(a.field).toBe("name");
    a.reset();
    expect(a.error).toBeNull();
    expect(a.field).toBeNull();
  });
});
