import { describe, expect, it } from "vitest";
import {
  checkClosingDate,
  checkContact,
  checkNewMatter,
  closingDate,
  contactChanges,
  explainInvalid,
  invalidField,
  isCalendarDate,
  isEmailAddress,
  newMatterDefaults,
  newMatterFields,
  statusChange,
} from "./records";

describe("dates", () => {
  it("takes only calendar dates that exist", () => {
    expect(isCalendarDate("2026-11-27")).toBe(true);
    expect(isCalendarDate("2024-02-29")).toBe(true);
    expect(isCalendarDate("2026-02-29")).toBe(false);
    expect(isCalendarDate("1900-02-29")).toBe(false);
    expect(isCalendarDate("2000-02-29")).toBe(true);
    expect(isCalendarDate("2026-04-31")).toBe(false);
    expect(isCalendarDate("2026-13-01")).toBe(false);
    expect(isCalendarDate("2026-00-10")).toBe(false);
    expect(isCalendarDate("2026-1-10")).toBe(false);
    expect(isCalendarDate("27/11/2026")).toBe(false);
    expect(isCalendarDate("")).toBe(false);
  });

  it("closes today by default, or on the opening day when that is later", () => {
    expect(closingDate("2026-01-10", "2026-11-27")).toBe("2026-11-27");
    expect(closingDate("2026-12-01", "2026-11-27")).toBe("2026-12-01");
    expect(checkClosingDate("2026-01-10", "2026-01-09")).toMatch(/before it opened/);
    expect(checkClosingDate("2026-01-10", "2026-01-10")).toBeNull();
    expect(checkClosingDate("2026-01-10", "")).toMatch(/Enter/);
    expect(checkClosingDate("2026-01-10", "2026-02-30")).toMatch(/real date/);
  });
});

describe("a new matter", () => {
  it("starts open, opened today, with the signed-in lawyer responsible", () => {
    const f = newMatterDefaults("Priya Raman", new Date(2026, 10, 27, 23, 30));
    expect(f).toMatchObject({ status: "open", responsible: "Priya Raman", opened_on: "2026-11-27", number: "" });
    expect(newMatterDefaults(null).responsible).toBe("");
  });

  it("names every missing field at once, in the form's order", () => {
    const f = newMatterDefaults("Priya Raman", new Date(2026, 10, 27));
    expect(checkNewMatter(f)).toEqual({ field: "number", message: "The matter needs a number, a title, a type and a client." });
    const filled = { ...f, number: "HV-1", title: "T", matter_type: "Probate", client_name: "C" };
    expect(checkNewMatter(filled)).toBeNull();
    expect(checkNewMatter({ ...filled, responsible: "  " })).toEqual({ field: "responsible", message: "The matter needs a responsible lawyer." });
    expect(checkNewMatter({ ...filled, opened_on: "2026-02-30" })?.field).toBe("opened_on");
  });

  it("sends every required field, trimmed, and closed_on to match the status", () => {
    const f = { ...newMatterDefaults("Priya Raman", new Date(2026, 10, 27)), number: " HV-1 ", title: "T ", matter_type: "Probate", client_name: "C" };
    expect(newMatterFields(f, "2026-11-27")).toEqual({
      number: "HV-1",
      title: "T",
      matter_type: "Probate",
      status: "open",
      client_name: "C",
      responsible: "Priya Raman",
      opened_on: "2026-11-27",
      closed_on: null,
      description: "",
      custom_fields: {},
    });
    expect(newMatterFields({ ...f, status: "closed" }, "2026-11-28").closed_on).toBe("2026-11-28");
  });
});

describe("status changes", () => {
  const open = { status: "open" as const, closed_on: null, opened_on: "2026-01-10" };
  it("closing sets closed_on (today by default); reopening clears it", () => {
    expect(statusChange(open, "closed", null, "2026-11-27")).toEqual({ status: "closed", closed_on: "2026-11-27" });
    expect(statusChange(open, "closed", "2026-06-30")).toEqual({ status: "closed", closed_on: "2026-06-30" });
    const closed = { status: "closed" as const, closed_on: "2026-06-30", opened_on: "2026-01-10" };
    expect(statusChange(closed, "open")).toEqual({ status: "open", closed_on: null });
    expect(statusChange(closed, "on_hold")).toEqual({ status: "on_hold", closed_on: null });
    expect(statusChange(open, "on_hold")).toEqual({ status: "on_hold" });
    expect(statusChange(closed, "closed")).toEqual({});
  });
});

describe("contacts", () => {
  it("checks the name and the email as the service does", () => {
    const f = { kind: "person" as const, name: "A", email: "", phone: "", address: "" };
    expect(checkContact(f)).toBeNull();
    expect(checkContact({ ...f, name: " " })?.field).toBe("name");
    expect(checkContact({ ...f, email: "not an email" })?.field).toBe("email");
    expect(checkContact({ ...f, email: "a@b" })).toBeNull();
    expect(isEmailAddress("a@b@c")).toBe(false);
    expect(isEmailAddress("@b")).toBe(false);
  });

  it("sends only what changed; empty text is null", () => {
    const before = { kind: "person" as const, name: "Hemi Walker", email: "hemi@example.com", phone: null, address: null };
    expect(contactChanges(before, { kind: "person", name: "Hemi Walker ", email: "", phone: "0401", address: "" })).toEqual({ email: null, phone: "0401" });
    expect(contactChanges(before, { kind: "person", name: "Hemi Walker", email: "hemi@example.com", phone: "", address: "" })).toEqual({});
  });
});

describe("the backend's refusals", () => {
  it("names the field as the form does", () => {
    expect(explainInvalid("email: must be an email address")).toBe("Email: must be an email address");
    expect(explainInvalid("closed_on: must not be before opened_on")).toBe("Closed: must not be before Opened");
    expect(explainInvalid("`number` must not be empty")).toBe("Number: must not be empty");
    expect(explainInvalid("nothing to save")).toBe("nothing to save");
    expect(invalidField("client_name: must not be empty")).toBe("client_name");
    expect(invalidField("unknown status")).toBeNull();
  });
});
