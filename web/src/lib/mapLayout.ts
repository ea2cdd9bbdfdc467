// Layered layout of the service map (dagre): producers left of consumers,
// computed once per answer; the page only pans and zooms the result.
import dagre from "@dagrejs/dagre";
import type { MapEdge, MapNode } from "./types";

export const NODE_W = 190;
export const NODE_H = 58;

export interface PlacedNode {
  node: MapNode;
  x: number; // centre
  y: number;
}

export interface PlacedEdge {
  edge: MapEdge;
  points: { x: number; y: number }[];
}

export interface MapLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

/** Calls are synchronous; every other edge kind is an asynchronous hop. */
export const isAsync = (e: MapEdge) => e.kind !== "call";

export function layoutMap(nodes: MapNode[], edges: MapEdge[]): MapLayout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 28, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(nodes.map((n) => n.id));
  for (const n of nodes) g.setNode(n.id, { width: NODE_W, height: NODE_H });
  const drawn = edges.filter((e) => ids.has(e.from) && ids.has(e.to));
  for (const e of drawn) g.setEdge(e.from, e.to, {}, e.id);
  dagre.layout(g);
  const graph = g.graph();
  return {
    nodes: nodes.map((n) => {
      const p = g.node(n.id);
      return { node: n, x: p.x, y: p.y };
    }),
    edges: drawn.map((e) => ({ edge: e, points: g.edge({ v: e.from, w: e.to, name: e.id }).points ?? [] })),
    width: graph.width ?? 0,
    height: graph.height ?? 0,
  };
}
