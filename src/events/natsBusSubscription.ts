// Receiving the bus's events: a core NATS subscription yielding valid envelopes, each once and in seq order per run.
import type { NatsConnection } from '@nats-io/transport-node';
import { EventEnvelope } from './envelope.js';

const decoder = new TextDecoder();

/**
 * Subscribes to `subject` and resolves once the server has the subscription (a flush round trip), so
 * nothing published after that is missed. Copies of an event (the bus sends at least once) and anything
 * that is not an event envelope are dropped. Ends when `signal` aborts.
 */
export async function subscribeEvents(
  nc: NatsConnection,
  subject: string,
  signal?: AbortSignal,
): Promise<AsyncIterable<EventEnvelope>> {
  const subscription = nc.subscribe(subject);
  const stop = (): void => subscription.unsubscribe();
  signal?.addEventListener('abort', stop, { once: true });
  await nc.flush().catch(() => undefined);
  const lastSeqByRun = new Map<string, number>();
  return (async function* () {
    try {
      for await (const msg of subscription) {
        const event = parseBusEvent(msg.data);
        if (!event) continue;
        if ((lastSeqByRun.get(event.runId) ?? 0) >= event.seq) continue;
        lastSeqByRun.set(event.runId, event.seq);
        yield event;
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      subscription.unsubscribe();
    }
  })();
}

function parseBusEvent(data: Uint8Array): EventEnvelope | undefined {
  try {
    const parsed = EventEnvelope.safeParse(JSON.parse(decoder.decode(data)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
