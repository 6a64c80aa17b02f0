// Dotted field paths (`error.retry_after`) and reading them out of untrusted JSON.
export function pathSegments(path: string): string[] {
  return path.split('.');
}

/** Reads a dotted path through own properties only (no prototype walking: `__proto__.x` finds nothing). */
export function valueAt(root: unknown, segments: readonly string[]): unknown {
  let current = root;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
