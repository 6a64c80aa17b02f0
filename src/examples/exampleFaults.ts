// The example server's fault switch: the flaky server's control (scripts, HTTP-host decisions, cancellation
// counts) fed from the example plan, plus first-N and seeded-rate rules that survive a restart via the state file.
import { FlakyControl, type Decision } from '../testing/flakyControl.js';
import type { FlakyPlan, PlanStep } from '../testing/flakyPlan.js';
import { drawFor } from '../policy/random.js';
import { failureSpec, type ExamplePlan, type FaultRule } from './examplePlan.js';

/** The scripts of a plan as the flaky control takes them, with the calls a previous process already answered dropped. */
function scriptsOf(faults: ExamplePlan['faults'], answered: Record<string, number>): FlakyPlan {
  const scripts: FlakyPlan = {};
  for (const [tool, faultsOfTool] of Object.entries(faults)) {
    if (!Array.isArray(faultsOfTool)) continue;
    scripts[tool] = faultsOfTool
      .slice(answered[tool] ?? 0)
      .map((step): PlanStep => (step === 'ok' ? 'ok' : failureSpec(step)));
  }
  return scripts;
}

function rulesOf(faults: ExamplePlan['faults']): Map<string, FaultRule> {
  return new Map(
    Object.entries(faults).flatMap(([tool, rule]) => (Array.isArray(rule) ? [] : [[tool, rule] as const])),
  );
}

/** Decides each call's fault; counts calls per tool (kept in the server's state so a restart resumes the scripts). */
export class ExampleFaults extends FlakyControl {
  private rules: Map<string, FaultRule>;
  /** Per tool, the call count when its rule was set: `first` counts from there. */
  private readonly rulesStartedAt = new Map<string, number>();

  /** `answered` is the state's per-tool call counts, updated in place. */
  constructor(
    faults: ExamplePlan['faults'],
    private readonly answered: Record<string, number>,
  ) {
    super(scriptsOf(faults, answered));
    this.rules = rulesOf(faults);
  }

  /** Replaces the faults; call counts go on (a rule's `first` counts from the replacement). */
  setFaults(faults: ExamplePlan['faults']): void {
    this.setPlan(scriptsOf(faults, {}));
    this.rules = rulesOf(faults);
    for (const tool of this.rules.keys()) this.rulesStartedAt.set(tool, this.answered[tool] ?? 0);
  }

  override decide(tool: string, args: Record<string, unknown>): Decision {
    const call = (this.answered[tool] = (this.answered[tool] ?? 0) + 1);
    const scripted = super.decide(tool, args);
    if (scripted.kind === 'fail') return { ...scripted, attempt: call };
    const rule = this.rules.get(tool);
    if (rule) {
      const nth = call - (this.rulesStartedAt.get(tool) ?? 0);
      if (nth <= rule.first || (rule.rate > 0 && drawFor(rule.seed, tool, nth) < rule.rate)) {
        return { kind: 'fail', spec: failureSpec(rule.fail), attempt: call };
      }
    }
    return { kind: 'run', attempt: call };
  }
}
