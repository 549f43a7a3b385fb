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


import {
  billableTotalCents,
  entryValueCents,
  formatBytes,
  formatDate,
  formatElapsed,
  formatMinutes,
  formatMoney,
  isOverdue,
  parseDuration,
  parseMoney,
  percentDone,
  recordsLabel,
  secondsLeft,
  timeLeftLabel,
  timerMinutes,
} from "./format";

describe("first-sync progress", () => {
  it("percent is whole, capped, and null without a total", () => {
    expect(percentDone(0, 4800)).toBe(0);
    expect(percentDone(1199, 4800)).toBe(24);
    expect(percentDone(5000, 4800)).toBe(100);
    expect(percentDone(10, null)).toBeNull();
    expect(percentDone(10, 0)).toBeNull();
  });
  it("records done of total in words", () => {
    expect(recordsLabel(12_000, 100_000)).toBe("12,000 of 100,000 records (12%)");
    expect(recordsLabel(300, null)).toBe("300 records");
  });
  it("time left follows the rate seen so far", () => {
    // 1,000 records in 10 s; 9,000 left: 90 s.
    expect(secondsLeft({ done: 0, at: 0 }, { done: 1000, at: 10_000 }, 10_000)).toBe(90);
    // Measured from the first sample, not from zero.
    expect(secondsLeft({ done: 5000, at: 1000 }, { done: 6000, at: 3000 }, 10_000)).toBe(8);
    expect(secondsLeft({ done: 0, at: 0 }, { done: 10_000, at: 5000 }, 10_000)).toBe(0);
  });
  it("no estimate without progress, a total, or time enough to measure", () => {
    expect(secondsLeft({ done: 100, at: 0 }, { done: 100, at: 5000 }, 1000)).toBeNull();
    expect(secondsLeft({ done: 0, at: 0 }, { done: 100, at: 5000 }, null)).toBeNull();
    expect(secondsLeft({ done: 0, at: 0 }, { done: 100, at: 100 }, 1000)).toBeNull();
  });
  it("time left in words", () => {
    expect(timeLeftLabel(null)).toBe("Estimating time left…");
    expect(timeLeftLabel(12)).toBe("Less than a minute left");
    expect(timeLeftLabel(60)).toBe("About 1 minute left");
    expect(timeLeftLabel(270)).toBe("About 5 minutes left");
    expect(timeLeftLabel(3600)).toBe("About 1 h left");
    expect(timeLeftLabel(4800)).toBe("About 1 h 20 min left");
  });
});

describe("timer and durations", () => {
  it("elapsed as h:mm:ss", () => {
    expect(formatElapsed(0)).toBe("0:00:00");
    expect(formatElapsed(59.9)).toBe("0:00:59");
    expect(formatElapsed(3725)).toBe("1:02:05");
    expect(formatElapsed(-5)).toBe("0:00:00");
  });
  it("a stopped timer's minutes round up, at least one", () => {
    expect(timerMinutes(0)).toBe(1);
    expect(timerMinutes(1)).toBe(1);
    expect(timerMinutes(60)).toBe(1);
    expect(timerMinutes(61)).toBe(2);
    expect(timerMinutes(125)).toBe(3);
    expect(timerMinutes(3600)).toBe(60);
  });
  it("minutes as h:mm and back", () => {
    expect(formatMinutes(0)).toBe("0:00");
    expect(formatMinutes(5)).toBe("0:05");
    expect(formatMinutes(102)).toBe("1:42");
    expect(parseDuration("1:30")).toBe(90);
    expect(parseDuration(" 0:06 ")).toBe(6);
    expect(parseDuration("45")).toBe(45);
    expect(parseDuration("45 min")).toBe(45);
    expect(parseDuration("1.5h")).toBe(90);
    expect(parseDuration("1:3")).toBeNull();
    expect(parseDuration("1:75")).toBeNull();
    expect(parseDuration("soon")).toBeNull();
    expect(parseDuration("")).toBeNull();
  });
});

describe("money", () => {
  it("formats and parses dollars", () => {
    expect(formatMoney(76_500)).toBe("$765.00");
    expect(formatMoney(144_000_050)).toBe("$1,440,000.50");
    expect(parseMoney("450")).toBe(45_000);
    expect(parseMoney("$1,250.5")).toBe(125_050);
    expect(parseMoney("4.999")).toBeNull();
    expect(parseMoney("abc")).toBeNull();
  });
  it("an entry's value and the billable total", () => {
    expect(entryValueCents({ minutes: 90, rate_cents: 45_000 })).toBe(67_500);
    expect(entryValueCents({ minutes: 7, rate_cents: 52_000 })).toBe(6067);
    expect(
      billableTotalCents([
        { minutes: 60, rate_cents: 45_000, billable: true },
        { minutes: 30, rate_cents: 45_000, billable: false },
        { minutes: 6, rate_cents: 50_000, billable: true },
      ]),
    ).toBe(50_000);
  });
});

describe("records", () => {
  it("sizes for people", () => {
    expect(formatBytes(1)).toBe("1 byte");
    expect(formatBytes(812)).toBe("812 bytes");
    expect(formatBytes(48_900)).toBe("48 KB");
    expect(formatBytes(2_411_520)).toBe("2.3 MB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5.0 GB");
  });
  it("overdue: not done and due before today", () => {
    expect(isOverdue({ due_on: "2026-11-26", done: false }, "2026-11-27")).toBe(true);
    expect(isOverdue({ due_on: "2026-11-27", done: false }, "2026-11-27")).toBe(false);
    expect(isOverdue({ due_on: "2026-11-26", done: true }, "2026-11-27")).toBe(false);
    expect(isOverdue({ due_on: null, done: false }, "2026-11-27")).toBe(false);
  });
  it("calendar dates without a time zone shift", () => {
    expect(formatDate("2026-01-31")).toBe("31 Jan 2026");
    expect(formatDate(null)).toBe("");
    expect(formatDate("soon")).toBe("soon");
  });
  it("has words for the new error codes", () => {
    expect(humanMessage("mfa_required")).toMatch(/authenticator/);
    expect(humanMessage("wrong_code")).toMatch(/not accepted/);
    expect(toBackendError({ code: "timer_running", message: "x" }).code).toBe("timer_running");
    expect(toBackendError({ code: "no_timer", message: "x" }).code).toBe("no_timer");
    expect(toBackendError({ code: "not_found", message: "x" }).code).toBe("not_found");
  });
});
