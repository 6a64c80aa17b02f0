// How an event is written into and read back from a JetStream message.
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EventEnvelope } from '../events/envelope.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEvent(event: EventEnvelope): Uint8Array {
  return encoder.encode(JSON.stringify(event));
}

/** Parses and checks a stored message; a bad one is a clear error naming the stream and sequence. */
export function decodeStoredEvent(data: Uint8Array, stream: string, streamSeq: number): EventEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (error) {
    throw new RetraceError(ErrorCode.connection, `${stream} seq ${streamSeq}: not JSON`, {
      cause: error,
      location: { file: stream, line: streamSeq },
    });
  }
  // Validated on write; on read a cheap shape check (zod per event would halve the restore rate).
  const problem = envelopeProblem(value);
  if (problem !== undefined) {
    throw new RetraceError(ErrorCode.connection, `${stream} seq ${streamSeq}: not an event envelope (${problem})`, {
      location: { file: stream, line: streamSeq },
    });
  }
  return value as EventEnvelope;
}

function envelopeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const record = value as Record<string, unknown>;
  for (const field of ['id', 'runId', 'actorId', 'type'] as const) {
    if (typeof record[field] !== 'string') return `${field}: expected a string`;
  }
  for (const field of ['v', 'seq', 'ts'] as const) {
    if (typeof record[field] !== 'number') return `${field}: expected a number`;
  }
  const data = record['data'];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'data: expected an object';
  if (record['parentId'] !== undefined && typeof record['parentId'] !== 'string') return 'parentId: expected a string';
  return undefined;
}
