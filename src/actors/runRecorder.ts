// Recording a runtime's facts: each run's appends in order, durable before anything is reported, then published.
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EmittedFact, EventWriter } from '../events/eventWriter.js';
import type { NatsBus } from '../events/natsBus.js';
import type { RetraceEvent } from '../events/retraceEvent.js';
import type { EventStore } from '../store/eventStore.js';

export interface RunRecorderOptions {
  /** Without one, nothing is written: the envelopes are made and passed on at once. */
  store: EventStore | undefined;
  bus: Pick<NatsBus, 'publish'> | undefined;
  eventWriter: EventWriter;
  /** Sees every envelope as it is made (the live metrics fold it). */
  onEnvelope(envelope: RetraceEvent): void;
  /**
   * Runs whose facts stand alone (the breakers' run, never ended): still appended after one of theirs failed to be.
   * Any other run's facts are dropped from its first failure on.
   */
  standalone?: ReadonlySet<string>;
  /** Calls a listener, so that one that throws harms nobody else. */
  deliver<T>(listener: (value: T) => void, value: T): void;
}

export interface RunRecorder {
  record(runId: string, fact: EmittedFact, parentId?: string): RetraceEvent | undefined;
  afterRecorded(runId: string, action: () => void): void;
  durable(runId: string): Promise<void>;
  /** Waits until the run's events are durable and ends its recording. */
  recorded(runId: string): Promise<void>;
  /** A workflow handle's subscription to its run's events, once durable. */
  subscribeRun(runId: string, listener: (event: RetraceEvent) => void): () => void;
  /** Ends the recording of every run, failures ignored (the runtime is closing). */
  recordedAll(): Promise<void>;
  /** Why the run's events can no longer be recorded (its first failure), or undefined while they can. */
  unrecordable(runId: string): RetraceError | undefined;
  /**
   * Calls `listener` once with the run's first failure to record (later, when one has already happened): a workflow
   * stops there. Returns the unsubscribe.
   */
  onUnrecordable(runId: string, listener: (error: RetraceError) => void): () => void;
}

export function createRunRecorder(options: RunRecorderOptions): RunRecorder {
  const { store, bus, eventWriter, onEnvelope, deliver } = options;
  /** Per run: the last append (appends resolve in order) and the first failure to record. */
  const recording = new Map<string, { last: Promise<void>; error?: unknown }>();
  /** Per run: who wants its events once they are durable (a workflow handle's subscribers). */
  const runListeners = new Map<string, Set<(event: RetraceEvent) => void>>();
  /** Per run: who wants to know when its events can no longer be recorded (a workflow stops at once). */
  const failureListeners = new Map<string, Set<(error: RetraceError) => void>>();

  /** The run's first failure to record: kept, and told to its failure listeners (once). */
  function fail(runId: string, entry: { error?: unknown }, error: unknown): void {
    if (entry.error !== undefined) return;
    entry.error = error;
    const listeners = failureListeners.get(runId);
    if (!listeners) return;
    failureListeners.delete(runId);
    const reason = recordingError(runId, error);
    for (const listener of listeners) deliver(listener, reason);
  }

  /**
   * Makes the fact's envelope, folds it into the live metrics and appends it to the store (when there is one); the
   * call's outcome waits for its run's appends (nothing reported before it is durable). Each append of a run is
   * published on the bus once it and those before it are durable. Once one of a run's events failed to be recorded,
   * its later facts are dropped (nothing after a gap in its log could be read back as what happened).
   */
  function record(runId: string, fact: EmittedFact, parentId?: string): RetraceEvent | undefined {
    let entry = recording.get(runId);
    if (!entry) recording.set(runId, (entry = { last: Promise.resolve() }));
    const current = entry;
    if (current.error !== undefined && !options.standalone?.has(runId)) return undefined;
    let envelope: RetraceEvent;
    try {
      envelope = eventWriter.toEnvelope(runId, fact, parentId);
    } catch (error) {
      fail(runId, current, error);
      return undefined;
    }
    onEnvelope(envelope);
    if (store) {
      let appended: Promise<void>;
      try {
        appended = store.append([envelope]);
      } catch (error) {
        appended = Promise.reject(error as Error);
      }
      current.last = Promise.all([current.last, appended]).then(
        () => {
          bus?.publish(envelope);
          notify(runId, envelope);
        },
        (error: unknown) => fail(runId, current, error),
      );
    } else {
      notify(runId, envelope);
    }
    return envelope;
  }

  /** A workflow handle's subscribers get the run's events as recorded (redacted), once durable. */
  function notify(runId: string, envelope: RetraceEvent): void {
    const listeners = runListeners.get(runId);
    if (!listeners) return;
    for (const listener of listeners) deliver(listener, envelope);
  }

  /** Runs `action` once the run's events so far are durable (at once without a store), and not if one failed to be. */
  function afterRecorded(runId: string, action: () => void): void {
    const current = recording.get(runId);
    if (!store || !current) {
      action();
      return;
    }
    current.last = current.last.then(() => {
      if (current.error === undefined) action();
    });
  }

  /** Waits until what `runId` recorded so far is durable, without ending the run (a workflow's tool call). */
  async function durable(runId: string): Promise<void> {
    const entry = recording.get(runId);
    if (!entry) return;
    await entry.last;
    if (entry.error !== undefined) throw recordingError(runId, entry.error);
  }

  function recordingError(runId: string, error: unknown): RetraceError {
    return new RetraceError(
      ErrorCode.store,
      `run ${runId} could not be recorded: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }

  async function recorded(runId: string): Promise<void> {
    const entry = recording.get(runId);
    if (!entry) return;
    await entry.last;
    recording.delete(runId);
    failureListeners.delete(runId);
    eventWriter.forgetRun(runId);
    if (entry.error !== undefined) throw recordingError(runId, entry.error);
  }

  function subscribeRun(runId: string, listener: (event: RetraceEvent) => void): () => void {
    let listeners = runListeners.get(runId);
    if (!listeners) runListeners.set(runId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && runListeners.get(runId) === listeners) runListeners.delete(runId);
    };
  }

  function onUnrecordable(runId: string, listener: (error: RetraceError) => void): () => void {
    const entry = recording.get(runId);
    if (entry?.error !== undefined) {
      const reason = recordingError(runId, entry.error);
      queueMicrotask(() => deliver(listener, reason));
      return () => undefined;
    }
    let listeners = failureListeners.get(runId);
    if (!listeners) failureListeners.set(runId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && failureListeners.get(runId) === listeners) failureListeners.delete(runId);
    };
  }

  return {
    record,
    unrecordable(runId) {
      const error = recording.get(runId)?.error;
      return error === undefined ? undefined : recordingError(runId, error);
    },
    onUnrecordable,
    afterRecorded,
    durable,
    recorded,
    subscribeRun,
    recordedAll: async () => {
      await Promise.all([...recording.keys()].map((runId) => recorded(runId).catch(() => undefined)));
    },
  };
}
