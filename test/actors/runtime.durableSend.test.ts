// A non-idempotent tool call is sent only once its attempt's start is durable in the log, so a crash while it is in
// flight always leaves the trace a resume escalates on; idempotent calls do not wait. The example server over stdio.
import { afterEach, describe, expect, it } from 'vitest';
import { createMcpConnector } from '../../src/actors/mcpConnector.js';
import type { McpConnector } from '../../src/actors/mcpTypes.js';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { exampleStdioConfig } from '../support/exampleServer.js';
import { createMemoryStore } from '../support/memoryStore.js';

/** A memory store whose appends are held until `release()`: the log is slow to make anything durable. */
function createHeldStore() {
  const inner = createMemoryStore();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    store: { ...inner, append: (batch: readonly EventEnvelope[]) => gate.then(() => inner.append(batch)) },
    events: inner.events,
    release,
  };
}

/** The real connector, noting each request as it is sent and each answer as it comes back. */
function createWatchedConnector(servers: Parameters<typeof createMcpConnector>[0]['servers']) {
  const connector = createMcpConnector({ servers });
  const sent: string[] = [];
  const answered = new Map<string, () => void>();
  const watched: McpConnector = {
    ...connector,
    async callTool(request) {
      sent.push(request.tool);
      const outcome = await connector.callTool(request);
      answered.get(request.tool)?.();
      return outcome;
    },
  };
  const answerOf = (tool: string) => new Promise<void>((resolve) => answered.set(tool, resolve));
  return { connector: watched, sent, answerOf };
}

let runtime: Runtime | undefined;
let releaseStore: (() => void) | undefined;
afterEach(async () => {
  releaseStore?.();
  await runtime?.close();
  runtime = undefined;
});

describe('a non-idempotent tool call and the log', () => {
  it(
    'is not sent until its toolcall.attempt.started is durable; an idempotent call is sent at once',
    {
      timeout: 30_000,
    },
    async () => {
      const servers = { scheduler: exampleStdioConfig() };
      const held = createHeldStore();
      releaseStore = held.release;
      const watched = createWatchedConnector(servers);
      runtime = createRuntime({ config: { servers }, store: held.store, connector: watched.connector });
      const started = new Promise<void>((resolve) =>
        runtime?.on('event', (event) => {
          if (event.type === 'toolcall.attempt.started' && event.tool === 'start_background_task_tool') resolve();
        }),
      );

      // The example server annotates start_background_task_tool idempotentHint: false, external_api read-only; the
      // policies say so too, in case the tool list comes later than a call waits for it.
      const start = runtime.callTool(
        'scheduler',
        'start_background_task_tool',
        { task_type: 'compliance_report' },
        { policy: { idempotent: false } },
      );
      await started;
      // A whole round trip of an idempotent call to the same server while nothing is durable yet.
      const externalAnswered = watched.answerOf('external_api');
      const external = runtime.callTool('scheduler', 'external_api', {}, { policy: { idempotent: true } });
      await externalAnswered;
      expect(watched.sent).toEqual(['external_api']);
      expect(held.events).toEqual([]);

      held.release();
      const outcome = await start;
      expect(outcome.status).toBe('succeeded');
      expect((await external).status).toBe('succeeded');
      expect(watched.sent).toEqual(['external_api', 'start_background_task_tool']);
      const types = held.events.filter((event) => event.runId === outcome.runId).map((event) => event.type);
      expect(types).toEqual(['toolcall.requested', 'toolcall.attempt.started', 'toolcall.succeeded']);
    },
  );
});
