// A tool's attempts in flight as a persistent map by call id: adding or removing one copies the path to its bucket
// (two levels of 32 slots and a bucket of a few attempts), so 10,000 concurrent calls of one tool cost an event about
// what a few do, and no state a reducer was given is changed.

export interface AttemptInFlight {
  callId: string;
  startedAt: number;
}

type Bucket = readonly AttemptInFlight[];
type Level = readonly (Bucket | undefined)[];

export interface InFlightAttempts {
  readonly size: number;
  readonly root: readonly (Level | undefined)[];
}

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;
const emptyLevel: readonly undefined[] = Array.from({ length: WIDTH }, () => undefined);

export const noAttemptsInFlight: InFlightAttempts = { size: 0, root: emptyLevel };

/** FNV-1a over the call id's UTF-16 code units. */
function hashOf(callId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < callId.length; i += 1) hash = Math.imul(hash ^ callId.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function bucketOf(attempts: InFlightAttempts, hash: number): Bucket | undefined {
  return attempts.root[hash & MASK]?.[(hash >>> BITS) & MASK];
}

/** When the attempt of `callId` started, if it is in flight. */
export function startedAtOf(attempts: InFlightAttempts, callId: string): number | undefined {
  if (attempts.size === 0) return undefined;
  return bucketOf(attempts, hashOf(callId))?.find((attempt) => attempt.callId === callId)?.startedAt;
}

function withBucket(
  attempts: InFlightAttempts,
  hash: number,
  bucket: Bucket | undefined,
  size: number,
): InFlightAttempts {
  if (size === 0) return noAttemptsInFlight;
  const high = hash & MASK;
  const level = (attempts.root[high] ?? emptyLevel).slice();
  level[(hash >>> BITS) & MASK] = bucket;
  const root = attempts.root.slice();
  root[high] = level;
  return { size, root };
}

/** With `attempt` in flight (replacing an earlier one of the same call). */
export function withAttempt(attempts: InFlightAttempts, attempt: AttemptInFlight): InFlightAttempts {
  const hash = hashOf(attempt.callId);
  const bucket = bucketOf(attempts, hash) ?? [];
  const others = bucket.filter((entry) => entry.callId !== attempt.callId);
  return withBucket(attempts, hash, [...others, attempt], attempts.size - (bucket.length - others.length) + 1);
}

/** Without the attempt of `callId`; the same map when it is not in flight. */
export function withoutAttempt(attempts: InFlightAttempts, callId: string): InFlightAttempts {
  if (attempts.size === 0) return attempts;
  const hash = hashOf(callId);
  const bucket = bucketOf(attempts, hash);
  if (!bucket?.some((entry) => entry.callId === callId)) return attempts;
  const others = bucket.filter((entry) => entry.callId !== callId);
  return withBucket(attempts, hash, others.length === 0 ? undefined : others, attempts.size - 1);
}

/** Every attempt in flight, in no particular order. */
export function listAttemptsInFlight(attempts: InFlightAttempts): AttemptInFlight[] {
  return attempts.root.flatMap((level) => (level ?? []).flatMap((bucket) => bucket ?? []));
}
