// A tiny seeded PRNG (mulberry32) kept as a number in machine context, so jitter is pure and replayable.

/** Returns a uniform value in [0, 1) and the next state. */
export function nextRandom(state: number): { value: number; state: number } {
  const next = (state + 0x6d2b79f5) | 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { value: ((t ^ (t >>> 14)) >>> 0) / 4294967296, state: next };
}

/** Turns any number (e.g. a random source's output) into a 32-bit seed. */
export function seedFrom(value: number): number {
  return Math.floor(value * 4294967296) | 0;
}

/** A number from a text, so that each tool draws from its own sequence under the same seed. */
export function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return hash | 0;
}

/** The `call`-th draw (1-based) of a rule for a tool: stateless, so a restarted server draws the same. */
export function drawFor(seed: number, tool: string, call: number): number {
  return nextRandom((hashOf(tool) ^ Math.imul(seed, 0x9e3779b1)) + Math.imul(call, 0x632be5ab)).value;
}
