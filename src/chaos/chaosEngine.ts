// The chaos proxy's dice: for each tools/call, an outage window or the first fault rule whose draw hits, decided
// from the seed, the tool and its call count alone (same seed + same calls per tool ⇒ same faults), and counted.
import type { Clock } from '../common/clock.js';
import { drawFor } from '../policy/random.js';
import type { ChaosHit } from './chaosFaults.js';
import type { ChaosPlan } from './chaosPlan.js';
import { ChaosReport } from './chaosReport.js';
import type { ChaosState } from './chaosState.js';

/** `*` matches any run of characters; everything else literally. */
function toolMatcher(pattern: string): RegExp {
  const parts = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's');
}

export class ChaosEngine {
  readonly report: ChaosReport;
  private readonly callsPerTool = new Map<string, number>();
  private readonly matchers: RegExp[];
  private readonly startedAt: number;

  constructor(
    readonly plan: ChaosPlan,
    readonly clock: Clock,
    /** Where an earlier process's dice stood (`--state`): its calls per tool and when its outage clock started. */
    resumed?: ChaosState,
    /** Told the new state after every decision. */
    private readonly onDecided?: (state: ChaosState) => void,
  ) {
    this.startedAt = resumed?.startedAt ?? clock.now();
    for (const [tool, calls] of Object.entries(resumed?.callsPerTool ?? {})) this.callsPerTool.set(tool, calls);
    this.matchers = plan.faults.map((fault) => toolMatcher(fault.tool));
    this.report = new ChaosReport(plan.seed, () => this.elapsedMs());
  }

  /** Time since the proxy started, on its clock: what outage windows are measured in. */
  elapsedMs(): number {
    return this.clock.now() - this.startedAt;
  }

  /** Decides (and counts) the fault of one tools/call; undefined: forward it untouched. Call once per call. */
  decide(tool: string): ChaosHit | undefined {
    const call = (this.callsPerTool.get(tool) ?? 0) + 1;
    this.callsPerTool.set(tool, call);
    const hit = this.draw(tool, call);
    this.report.recordCall(tool, hit);
    this.onDecided?.(this.state());
    return hit;
  }

  /** Where the dice stand: what `--state` saves. */
  state(): ChaosState {
    return { seed: this.plan.seed, startedAt: this.startedAt, callsPerTool: Object.fromEntries(this.callsPerTool) };
  }

  private draw(tool: string, call: number): ChaosHit | undefined {
    const elapsed = this.elapsedMs();
    const outage = this.plan.outages.find((window) => elapsed >= window.from && elapsed < window.to);
    if (outage) return { kind: 'unavailable', outage };
    for (const [index, fault] of this.plan.faults.entries()) {
      if (!this.matchers[index]?.test(tool)) continue;
      // Each rule draws from its own sequence, so adding a rule does not reshuffle the draws of the others.
      if (drawFor(this.plan.seed, `${index}:${tool}`, call) < fault.rate) return { kind: fault.kind, fault };
    }
    return undefined;
  }
}
