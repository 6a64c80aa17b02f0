// Live delivery of committed events to `tail()` subscribers, each with its own queue, until its signal aborts.

interface Subscriber<Event> {
  runId: string | undefined;
  queue: Event[];
  wake: (() => void) | undefined;
  done: boolean;
}

export interface TailHub<Event extends { runId: string }> {
  publish(events: readonly Event[]): void;
  /** Whether anyone is listening (so a writer can skip the work when nobody is). */
  active(): boolean;
  subscribe(options: { runId?: string; signal?: AbortSignal }): AsyncIterable<Event>;
  /** Ends every subscription (the store closed). */
  end(): void;
}

export function createTailHub<Event extends { runId: string }>(): TailHub<Event> {
  const subscribers = new Set<Subscriber<Event>>();
  const finish = (subscriber: Subscriber<Event>): void => {
    subscriber.done = true;
    subscribers.delete(subscriber);
    subscriber.wake?.();
  };
  return {
    active: () => subscribers.size > 0,
    publish(events) {
      for (const subscriber of subscribers) {
        for (const event of events) {
          if (subscriber.runId === undefined || event.runId === subscriber.runId) subscriber.queue.push(event);
        }
        if (subscriber.queue.length > 0) subscriber.wake?.();
      }
    },
    subscribe({ runId, signal }) {
      const subscriber: Subscriber<Event> = { runId, queue: [], wake: undefined, done: false };
      if (signal?.aborted) subscriber.done = true;
      else subscribers.add(subscriber);
      signal?.addEventListener('abort', () => finish(subscriber), { once: true });
      return {
        async *[Symbol.asyncIterator]() {
          try {
            for (;;) {
              while (subscriber.queue.length > 0 && !subscriber.done) yield subscriber.queue.shift() as Event;
              if (subscriber.done) return;
              await new Promise<void>((resolve) => {
                subscriber.wake = resolve;
              });
              subscriber.wake = undefined;
            }
          } finally {
            subscribers.delete(subscriber);
          }
        },
      };
    },
    end() {
      for (const subscriber of [...subscribers]) finish(subscriber);
    },
  };
}
