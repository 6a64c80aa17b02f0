// JSON with sorted object keys, so equal arguments give equal cache keys whatever their key order.

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, new WeakSet()));
}

function sortKeys(value: unknown, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) throw new TypeError('canonicalJson: cyclic value');
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => sortKeys(item, seen));
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key], seen);
  return sorted;
}
