import { describe, expect, it } from "vitest";
import { layoutMap } from "./mapLayout";
import type { MapEdge, MapNode } from "./types";

const red = { count: 1, errors: 0, rate: 1, errorRate: 0, p50Ns: 0, p95Ns: 0, p99Ns: 0 };
const node = (id: string): MapNode => ({ ...red, id, kind: id.split(":")[0], name: id.split(":")[1], service: "", instrumented: true, coldStarts: 0, coldStartShare: 0 });
const edge = (from: string, to: string, kind = "call"): MapEdge => ({ ...red, id: `${from}|${to}|${kind}`, from, to, kind, lag: null });

describe("layoutMap", () => {
  it("places producers left of their consumers and routes every edge", () => {
    const l = layoutMap(
      [node("function:api"), node("topic:orders"), node("queue:payments"), node("function:payment")],
      [
        edge("function:api", "topic:orders", "produce"),
        edge("topic:orders", "queue:payments", "route"),
        edge("queue:payments", "function:payment", "consume"),
        edge("function:payment", "function:ghost"), // to a node the answer lacks: not drawn
      ],
    );
    const x = Object.fromEntries(l.nodes.map((n) => [n.node.id, n.x]));
    expect(x["function:api"]).toBeLessThan(x["topic:orders"]);
    expect(x["topic:orders"]).toBeLessThan(x["queue:payments"]);
    expect(x["queue:payments"]).toBeLessThan(x["function:payment"]);
    expect(l.edges).toHaveLength(3);
    expect(l.edges.every((e) => e.points.length >= 2)).toBe(true);
    expect(l.width).toBeGreaterThan(0);
  });
});
