// Service colours: a fixed palette of well separated hues, picked by a hash
// of the service name so that a service keeps its colour across traces and
// pages.
const HUES = [265, 200, 150, 30, 330, 95, 180, 0, 50, 230, 300, 120];

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

const cache = new Map<string, string>();

export function serviceColor(service: string): string {
  let c = cache.get(service);
  if (!c) {
    const h = HUES[hash(service) % HUES.length];
    c = `hsl(${h} 62% 56%)`;
    cache.set(service, c);
  }
  return c;
}
