import { describe, expect, it } from "vitest";
import { diffLines, pathSteps } from "./schemaDiff";
import type { FieldDiff } from "./types";

const f = (path: string, change: string, before = "", after = "", renamedTo = "", renamedFrom = ""): FieldDiff => ({
  path,
  change,
  before,
  after,
  renamedTo,
  renamedFrom,
});

describe("pathSteps", () => {
  it("cuts paths at dots and array items", () => {
    expect(pathSteps("a")).toEqual(["a"]);
    expect(pathSteps("a.b")).toEqual(["a", "b"]);
    expect(pathSteps("items[]")).toEqual(["items", "[]"]);
    expect(pathSteps("items[].sku")).toEqual(["items", "[]", "sku"]);
  });
});

describe("diffLines", () => {
  it("indents by depth and puts a renamed field's new name right after it", () => {
    const lines = diffLines([
      f("amount", "removed", "number", "", "total"),
      f("currency", "added", "", "string"),
      f("items", "same", "array", "array"),
      f("items[]", "same", "object", "object"),
      f("items[].sku", "changed", "string", "number"),
      f("total", "added", "", "number", "", "amount"),
    ]);
    expect(lines.map((l) => `${l.depth}:${l.name}:${l.field.change}`)).toEqual([
      "0:amount:removed",
      "0:total:added",
      "0:currency:added",
      "0:items:same",
      "1:[ ]:same",
      "2:sku:changed",
    ]);
  });
});
