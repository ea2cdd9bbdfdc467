import type { FieldDiff } from "./types";

/** One line of a drawn schema diff. */
export interface DiffLine {
  field: FieldDiff;
  /** Nesting depth: 0 for a top-level field. */
  depth: number;
  /** What the line shows of the path: the last step ("b" of "a.b", "[ ]" for an array's items). */
  name: string;
}

/** The steps of a field path: "a.b[].c" → ["a", "b", "[]", "c"]. */
export function pathSteps(path: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < path.length; i++) {
    if (path[i] === ".") {
      if (cur) out.push(cur);
      cur = "";
    } else if (path.startsWith("[]", i)) {
      if (cur) out.push(cur);
      out.push("[]");
      cur = "";
      i++;
    } else {
      cur += path[i];
    }
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * Lines of the diff in the API's tree order, except that the field a
 * renamed one became follows it directly, so the pair reads as one change.
 */
export function diffLines(fields: FieldDiff[]): DiffLine[] {
  const byPath = new Map(fields.map((f) => [f.path, f]));
  const moved = new Set(fields.filter((f) => f.renamedTo && byPath.has(f.renamedTo)).map((f) => f.renamedTo));
  const out: DiffLine[] = [];
  const line = (f: FieldDiff): DiffLine => {
    const steps = pathSteps(f.path);
    const last = steps[steps.length - 1] ?? f.path;
    return { field: f, depth: Math.max(0, steps.length - 1), name: last === "[]" ? "[ ]" : last };
  };
  for (const f of fields) {
    if (moved.has(f.path) && f.change === "added") continue;
    out.push(line(f));
    const to = f.renamedTo ? byPath.get(f.renamedTo) : undefined;
    if (to) out.push(line(to));
  }
  return out;
}
