// The flaky server's shared memory: what each call does (plan, then `flaky` tool counters), and the stats it reports.
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { FlakyArgs, shorthands, type FailureSpec, type FlakyPlan } from './flakyPlan.js';

export interface FlakyStats {
  pid: number;
  calls: Record<string, number>;
  /** `notifications/cancelled` messages received. */
  cancellations: number;
  cancelledRequestIds: (string | number)[];
}

export type Decision = { kind: 'run'; attempt: number } | { kind: 'fail'; spec: FailureSpec; attempt: number };

/** The server process's memory: call counters, the plan, the stats, and decisions the HTTP host took for a call. */
export class FlakyControl {
  private plan: FlakyPlan;
  private readonly calls: Record<string, number> = {};
  private readonly keyCounters = new Map<string, number>();
  private readonly stashed = new Map<string, Decision>();
  private readonly cancelledIds: (string | number)[] = [];
  readonly records = new Map<string, unknown>();
  readonly recordWrites = new Map<string, number>();

  constructor(plan: FlakyPlan = {}) {
    this.plan = structuredClone(plan);
  }

  setPlan(plan: FlakyPlan): void {
    this.plan = structuredClone(plan);
  }

  /** Decides one call's outcome; called exactly once per call (by the HTTP host, or by the tool handler). */
  decide(tool: string, args: Record<string, unknown>): Decision {
    const attempt = (this.calls[tool] = (this.calls[tool] ?? 0) + 1);
    const step = this.plan[tool]?.shift();
    if (step !== undefined && step !== 'ok') {
      return { kind: 'fail', spec: typeof step === 'string' ? shorthands[step] : step, attempt };
    }
    if (tool !== 'flaky') return { kind: 'run', attempt };
    const parsed = FlakyArgs.safeParse(args);
    if (!parsed.success) return { kind: 'run', attempt };
    const { key, failures, ...spec } = parsed.data;
    const count = (this.keyCounters.get(key) ?? 0) + 1;
    this.keyCounters.set(key, count);
    return count <= failures ? { kind: 'fail', spec, attempt: count } : { kind: 'run', attempt: count };
  }

  stash(sessionId: string, requestId: string | number, decision: Decision): void {
    this.stashed.set(`${sessionId} ${requestId}`, decision);
  }

  take(sessionId: string | undefined, requestId: string | number): Decision | undefined {
    if (sessionId === undefined) return undefined;
    const key = `${sessionId} ${requestId}`;
    const decision = this.stashed.get(key);
    this.stashed.delete(key);
    return decision;
  }

  /** Counts `notifications/cancelled` as they arrive; call before `server.connect(transport)`. */
  observe(transport: Transport): void {
    transport.onmessage = (message) => {
      if ('method' in message && message.method === 'notifications/cancelled') {
        const requestId: unknown = message.params?.['requestId'];
        if (typeof requestId === 'string' || typeof requestId === 'number') this.cancelledIds.push(requestId);
      }
    };
  }

  stats(): FlakyStats {
    return {
      pid: process.pid,
      calls: { ...this.calls },
      cancellations: this.cancelledIds.length,
      cancelledRequestIds: [...this.cancelledIds],
    };
  }
}
