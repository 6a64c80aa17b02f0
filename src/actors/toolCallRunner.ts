// Runs one tool-call actor to its end. A call waiting in backoff is parked as its context alone, and the
// clock's scheduler restores it and sends RETRY.DUE at its `retryAt` — so a waiting call holds no live actor.
import { actorSystemOptions, type InspectObserver } from './actorInspection.js';
import { createActor, type Actor } from 'xstate';
import type { Clock } from '../common/clock.js';
import type { ToolCallMachine } from '../machines/toolCall.js';
import type { ToolCallContext, ToolCallEmitted, ToolCallInput, ToolCallOutcome } from '../machines/toolCallTypes.js';

export interface ToolCallRun {
  readonly callId: string;
  readonly done: Promise<ToolCallOutcome>;
  /** The machine's state, `backoff` while parked. */
  state(): string;
  cancel(reason?: string): void;
}

export interface RunOptions {
  clock: Clock;
  onEmitted: (event: ToolCallEmitted) => void;
  /** A resumed call: it starts parked in backoff with this context, and its next attempt is due at `retry.retryAt`. */
  resumeFrom?: ToolCallContext;
  /** The Stately inspector's observer (`retrace run --inspect`); absent, nothing is inspected. */
  inspect?: InspectObserver;
}

export function runToolCall(machine: ToolCallMachine, input: ToolCallInput, options: RunOptions): ToolCallRun {
  const { clock, onEmitted } = options;
  const actorOptions = actorSystemOptions(clock, options.inspect);
  let actor: Actor<ToolCallMachine> | undefined;
  /** While parked, only the context is kept (the state is `backoff` by definition): a waiting call stays small. */
  let parked: { context: ToolCallContext; timer: unknown } | undefined;
  let finished = false;
  let resolveDone!: (outcome: ToolCallOutcome) => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<ToolCallOutcome>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });

  function launch(next: Actor<ToolCallMachine>): Actor<ToolCallMachine> {
    actor = next;
    next.on('*', onEmitted);
    next.subscribe({
      next: (snapshot) => {
        if (snapshot.status === 'done') {
          finished = true;
          resolveDone(snapshot.output);
        } else if (snapshot.value === 'backoff') {
          // Park after this macrostep has finished delivering its events.
          queueMicrotask(() => park(next));
        }
      },
      error: (error) => {
        finished = true;
        rejectDone(error);
      },
    });
    next.start();
    return next;
  }

  function park(waiting: Actor<ToolCallMachine>): void {
    if (actor !== waiting || finished) return;
    const snapshot = waiting.getSnapshot();
    if (snapshot.value !== 'backoff') return;
    const retryAt = snapshot.context.retry.retryAt ?? clock.now();
    const context = snapshot.context;
    waiting.stop();
    actor = undefined;
    parked = { context, timer: clock.setTimeout(wake, Math.max(0, retryAt - clock.now())) };
  }

  function restore(from: NonNullable<typeof parked>): Actor<ToolCallMachine> {
    clock.clearTimeout(from.timer);
    parked = undefined;
    const snapshot = machine.resolveState({ value: 'backoff', context: from.context });
    // The input is required by the type; the context comes from the snapshot.
    return launch(createActor(machine, { snapshot, input, ...actorOptions }));
  }

  function wake(): void {
    if (!parked || finished) return;
    restore(parked).send({ type: 'RETRY.DUE' });
  }

  if (options.resumeFrom) {
    const retryAt = options.resumeFrom.retry.retryAt ?? clock.now();
    parked = { context: options.resumeFrom, timer: clock.setTimeout(wake, Math.max(0, retryAt - clock.now())) };
  } else {
    launch(createActor(machine, { input, ...actorOptions }));
  }

  return {
    callId: input.callId,
    done,
    state: () => (parked ? 'backoff' : String(actor?.getSnapshot().value ?? 'done')),
    cancel(reason) {
      if (finished) return;
      const target = parked ? restore(parked) : actor;
      target?.send(reason === undefined ? { type: 'CANCEL' } : { type: 'CANCEL', reason });
    },
  };
}
