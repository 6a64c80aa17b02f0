// What the chaos proxy did: tool calls seen, forwarded and faulted (per kind and per tool), other requests forwarded.
import type { ChaosHit } from './chaosFaults.js';
import type { ChaosKind } from './chaosPlan.js';

export const REPORT_URI = 'chaos://report';

export interface ToolCounts {
  calls: number;
  /** Calls that reached the upstream (untouched or delayed by `latency`). */
  forwarded: number;
  injected: Partial<Record<ChaosKind, number>>;
}

export interface ChaosReportData {
  seed: number;
  /** Milliseconds since the proxy started, on its clock. */
  uptime_ms: number;
  calls: number;
  forwarded: number;
  /** Faults injected per kind (`latency` included; an outage counts as `unavailable`). */
  injected: Partial<Record<ChaosKind, number>>;
  /** Calls failed by an outage window (also counted in `injected.unavailable`). */
  outage_calls: number;
  tools: Record<string, ToolCounts>;
  /** Other requests forwarded to the upstream, per method (`tools/list`, `resources/read`, …). */
  requests: Record<string, number>;
}

function bump<K extends string>(counts: Partial<Record<K, number>>, key: K): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export class ChaosReport {
  private calls = 0;
  private forwarded = 0;
  private outageCalls = 0;
  private readonly injected: Partial<Record<ChaosKind, number>> = {};
  private readonly tools = new Map<string, ToolCounts>();
  private readonly requests: Record<string, number> = {};

  constructor(
    private readonly seed: number,
    private readonly uptime: () => number,
  ) {}

  /** One tools/call and what the plan did to it (nothing: undefined). */
  recordCall(tool: string, hit: ChaosHit | undefined): void {
    let counts = this.tools.get(tool);
    if (!counts) this.tools.set(tool, (counts = { calls: 0, forwarded: 0, injected: {} }));
    this.calls++;
    counts.calls++;
    if (hit === undefined || hit.kind === 'latency') {
      this.forwarded++;
      counts.forwarded++;
    }
    if (hit === undefined) return;
    bump(this.injected, hit.kind);
    bump(counts.injected, hit.kind);
    if (hit.outage) this.outageCalls++;
  }

  recordRequest(method: string): void {
    bump(this.requests, method);
  }

  toJSON(): ChaosReportData {
    const tools = [...this.tools.entries()].sort(([a], [b]) => a.localeCompare(b));
    return {
      seed: this.seed,
      uptime_ms: this.uptime(),
      calls: this.calls,
      forwarded: this.forwarded,
      injected: { ...this.injected },
      outage_calls: this.outageCalls,
      tools: Object.fromEntries(tools.map(([name, counts]) => [name, { ...counts, injected: { ...counts.injected } }])),
      requests: { ...this.requests },
    };
  }

  /** One line for a person: `12 tool calls, 9 forwarded, 4 faults injected (unavailable 2, latency 1, lock 1)`. */
  describe(): string {
    const kinds = Object.entries(this.injected)
      .sort(([, a], [, b]) => b - a)
      .map(([kind, count]) => `${kind} ${count}`);
    const total = Object.values(this.injected).reduce((sum, count) => sum + count, 0);
    const faults = `${total} fault${total === 1 ? '' : 's'} injected${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}`;
    const outages = this.outageCalls > 0 ? `, ${this.outageCalls} in outages` : '';
    return `${this.calls} tool call${this.calls === 1 ? '' : 's'}, ${this.forwarded} forwarded, ${faults}${outages}`;
  }
}
