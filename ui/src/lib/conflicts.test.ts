import { describe, expect, it } from "vitest";
import { choiceWords, deletedSide, editText, explainConflict, fieldLabel, formatConflictValue, formatFieldValue, parseEditedValue } from "./conflicts";

describe("conflict values", () => {
  it("read as text", () => {
    expect(formatConflictValue("Trial in March")).toBe("Trial in March");
    expect(formatConflictValue("")).toBe("(empty)");
    expect(formatConflictValue(true)).toBe("Yes");
    expect(formatConflictValue(false)).toBe("No");
    expect(formatConflictValue(1500)).toBe("1,500");
    expect(formatConflictValue(null)).toBe("(empty)");
    expect(formatConflictValue(null, true)).toBe("(deleted)");
    expect(formatConflictValue(undefined, true)).toBe("(deleted)");
    expect(formatConflictValue({ Court: "District Court", Claim: "CIV 1" })).toBe("Court: District Court; Claim: CIV 1");
    expect(formatConflictValue({})).toBe("(empty)");
    expect(formatConflictValue(["a", "b"])).toBe("a, b");
  });
  it("read by field: statuses, rates and minutes in words", () => {
    expect(formatFieldValue("status", "on_hold")).toBe("On hold");
    expect(formatFieldValue("rate_cents", 45_000)).toBe("$450.00 per hour");
    expect(formatFieldValue("minutes", 95)).toBe("1:35");
    expect(formatFieldValue("subject", null, true)).toBe("(deleted)");
    expect(formatFieldValue("due_on", null)).toBe("(empty)");
  });
  it("labels fields", () => {
    expect(fieldLabel("client_name")).toBe("Client");
    expect(fieldLabel("some_new_field")).toBe("Some new field");
  });
  it("edited text goes back to the field's type", () => {
    expect(parseEditedValue("42", 7)).toBe(42);
    expect(parseEditedValue("x", 7)).toBe(7);
    expect(parseEditedValue("false", true)).toBe(false);
    expect(parseEditedValue("", null)).toBeNull();
    expect(parseEditedValue("text", "old")).toBe("text");
    expect(parseEditedValue('{"a":"b"}', { a: "c" })).toEqual({ a: "b" });
    expect(editText({ a: "b" })).toBe('{"a":"b"}');
    expect(editText(null)).toBe("");
    expect(editText(12)).toBe("12");
  });
});

describe("conflict kinds in plain words", () => {
  it("say who deleted what and what each choice does", () => {
    expect(deletedSide("edit_against_delete")).toBe("theirs");
    expect(deletedSide("delete_against_edit")).toBe("mine");
    expect(deletedSide("same_field")).toBeNull();
    expect(explainConflict("edit_against_delete", "task")).toMatch(/You changed this task, but someone else deleted it/);
    expect(explainConflict("delete_against_edit", "file_note")).toMatch(/You deleted this file note, but someone else changed it/);
    expect(choiceWords("edit_against_delete", "task").mine).toMatch(/restored/);
    expect(choiceWords("edit_against_delete", "task").theirs).toMatch(/stays deleted/);
    expect(choiceWords("delete_against_edit", "document").mine).toMatch(/deleted after all/);
    expect(choiceWords("same_field", "matter").theirs).toMatch(/Their values stay/);
  });
});
