// How an event is written into and read back from a JetStream message.
import { ErrorCode, RetraceError } from '../common/errors.js';
import { EventEnvelope } from '../events/envelope.js';

/** The event type rides in a header, since the subject names only the run. */
export const EVENT_TYPE_HEADER = 'Retrace-Type';

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
  const parsed = EventEnvelope.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RetraceError(
      ErrorCode.connection,
      `${stream} seq ${streamSeq}: not an event envelope (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'})`,
      { location: { file: stream, line: streamSeq } },
    );
  }
  return parsed.data;
}
