import { describe, expect, it } from "vitest";
import { mergeInvocations } from "./invocations";
import type { Invocation } from "./types";

const inv = (p: Partial<Invocation>): Invocation => ({
  requestId: "r1",
  function: "payment",
  source: "sdk",
  start: 100,
  durationNs: 0,
  billedDurationNs: 0,
  initDurationNs: 0,
  deadline: 0,
  memoryMb: 0,
  maxMemoryMb: 0,
  status: "ok",
  errorType: "",
  coldStart: false,
  attempt: 0,
  traceId: "t",
  spanId: "",
  ...p,
});

describe("mergeInvocations", () => {
  it("merges the sources of one invocation; the worse status wins", () => {
    const out = mergeInvocations([
      inv({ source: "sdk", spanId: "s1", durationNs: 2900 }),
      inv({ source: "telemetry", status: "timeout", errorType: "Sandbox.Timedout", billedDurationNs: 3000, memoryMb: 512, maxMemoryMb: 200, coldStart: true }),
      inv({ requestId: "r0", start: 50 }),
    ]);
    expect(out.map((v) => v.requestId)).toEqual(["r0", "r1"]);
    expect(out[1]).toMatchObject({
      source: "sdk+telemetry",
      status: "timeout",
      errorType: "Sandbox.Timedout",
      spanId: "s1",
      durationNs: 2900,
      billedDurationNs: 3000,
      memoryMb: 512,
      coldStart: true,
    });
  });
});
