import { describe, expect, it } from "vitest";
import { clockSkewWarning, progressLabel, relativeTime, statusLabel } from "./format";
import { BackendError, asBackendError, humanMessage, toBackendError } from "./errors";

describe("relativeTime", () => {
  const now = new Date("2026-11-27T12:00:00Z");
  it("reads naturally", () => {
    expect(relativeTime(null, now)).toBe("never");
    expect(relativeTime("2026-11-27T11:59:50Z", now)).toBe("just now");
    expect(relativeTime("2026-11-27T11:50:00Z", now)).toBe("10 min ago");
    expect(relativeTime("2026-11-27T09:00:00Z", now)).toBe("3 h ago");
    expect(relativeTime("2026-11-26T12:00:00Z", now)).toBe("1 day ago");
    expect(relativeTime("2026-01-01T00:00:00Z", now)).toBe("2026-01-01");
    expect(relativeTime("garbage", now)).toBe("unknown");
  });
});

describe("clockSkewWarning", () => {
  it("is quiet within two minutes and names the direction beyond", () => {
    expect(clockSkewWarning(null)).toBeNull();
    expect(clockSkewWarning(0)).toBeNull();
    expect(clockSkewWarning(120)).toBeNull();
    expect(clockSkewWarning(-120)).toBeNull();
    expect(clockSkewWarning(600)).toBe("This computer's clock is 10 minutes behind: check its date and time");
    expect(clockSkewWarning(-3 * 3600)).toBe("This computer's clock is 3 hours ahead: check its date and time");
  });
});

describe("errors", () => {
  it("maps a known code and keeps the detail", () => {
    const e = toBackendError({ code: "certificate_refused", message: "the server's certificate was refused: it has expired" });
    expect(e.code).toBe("certificate_refused");
    expect(humanMessage(e.code, e.detail)).toContain("it has expired");
  });
  it("turns anything unknown into an internal error, never throws", () => {
    expect(toBackendError("boom").code).toBe("internal");
    expect(toBackendError({ code: "made_up", message: "x" }).code).toBe("internal");
    expect(toBackendError(undefined).code).toBe("internal");
  });
  it("says plainly that a removed device's copy was erased", () => {
    const e = toBackendError({ code: "device_removed", message: "x" });
    expect(e.code).toBe("device_removed");
    expect(humanMessage(e.code)).toContain("signed out remotely");
    expect(humanMessage(e.code)).toContain("erased");
  });
  it("never suggests accepting a refused certificate", () => {
    expect(humanMessage("certificate_refused", "x").toLowerCase()).not.toContain("accept");
  });
  it("status labels", () => expect(statusLabel("on_hold")).toBe("On hold"));
  it("anything thrown becomes a BackendError; a BackendError stays itself", () => {
    const kept = new BackendError("wrong_passphrase", "");
    expect(asBackendError(kept)).toBe(kept);
    expect(asBackendError(new Error("boom")).code).toBe("internal");
    expect(asBackendError(undefined).detail).toBe("undefined");
  });
});

describe("progressLabel", () => {
  it("says done of total with a percentage and the size", () => {
    expect(progressLabel({ done: 1200, total: 5000, bytes: 3_250_000 })).toBe("1,200 of 5,000 changes (24%), 3.1 MB");
  });
  it("without a total yet, says what is done", () => {
    expect(progressLabel({ done: 0, total: null, bytes: 512 })).toBe("0 changes, 512 bytes");
  });
  it("never passes 100%", () => {
    expect(progressLabel({ done: 12, total: 10, bytes: 2048 })).toBe("12 of 10 changes (100%), 2 KB");
  });
});

