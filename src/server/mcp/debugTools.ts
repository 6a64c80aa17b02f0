// Seed 004's debug tools, with its parameters: workflow_trace_transformations, workflow_debug_info,
// workflow_test_transformation, workflow_explain_plan.
import { z } from 'zod';
import { observeRun } from '../../actors/runObservation.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { ComputedEvaluatedData } from '../../events/workflowEvents.js';
import { replay } from '../../store/replay.js';
import type { StepSpan } from '../../store/projections/workflowSpans.js';
import { explainWorkflow } from '../../workflow/explainPlan.js';
import { compileExpression } from '../../workflow/expression.js';
import { resolveInputs } from '../../workflow/inputs.js';
import { defineTool } from './defineTool.js';
import { readRunEvents } from './insightTools.js';
import { loadWorkflowSource, parseInputsArgument } from './workflowSource.js';

const WorkflowId = z.string().min(1).describe('the run id of the workflow run');
const Item = z.looseObject({});

export const workflowTraceTransformations = defineTool({
  name: 'workflow_trace_transformations',
  description:
    "The computed-field evaluations of a run (from its workflow.computed.evaluated events), in order: field, timestamp, trigger, input, output, duration_ms, dependencies (and error when the transform failed and its fallback was used). field: one field only ('ready_batches' or 'computed.ready_batches').",
  input: z.object({
    workflow_id: WorkflowId,
    field: z.string().min(1).optional().describe('one computed field only'),
    include_timing: z.boolean().default(true).describe('include each duration_ms and the totals'),
  }),
  output: z.object({
    traces: z.array(Item),
    fields: z.array(z.string()).describe('every computed field the run evaluated'),
    total_duration_ms: z.number().optional(),
    slowest: Item.optional(),
  }),
  annotations: { title: 'Trace transformations', readOnlyHint: true, openWorldHint: false },
  async run(args, host) {
    const events = await readRunEvents(host, args.workflow_id);
    const all = events
      .filter((event) => event.type === 'workflow.computed.evaluated')
      .map((event) => ({ ...ComputedEvaluatedData.parse(event.data), actorId: event.actorId, seq: event.seq }));
    const fields = [...new Set(all.map((trace) => trace.field))];
    const wanted =
      args.field === undefined || args.field.startsWith('computed.') ? args.field : `computed.${args.field}`;
    if (wanted !== undefined && !fields.includes(wanted)) {
      throw new RetraceError(
        ErrorCode.badArguments,
        `field: run ${args.workflow_id} never evaluated "${wanted}" (evaluated: ${fields.join(', ') || 'none'})`,
      );
    }
    const traces = all.filter((trace) => wanted === undefined || trace.field === wanted);
    if (!args.include_timing) return { traces: traces.map(({ duration_ms: _ms, ...trace }) => trace), fields };
    const slowest = traces.reduce<(typeof traces)[number] | undefined>(
      (worst, trace) => (worst === undefined || trace.duration_ms > worst.duration_ms ? trace : worst),
      undefined,
    );
    const total = traces.reduce((sum, trace) => sum + trace.duration_ms, 0);
    return {
      traces,
      fields,
      total_duration_ms: Math.round(total * 1000) / 1000,
      ...(slowest ? { slowest } : {}),
    };
  },
});

const durationOf = (step: StepSpan): number | undefined =>
  step.endedAt === undefined ? undefined : step.endedAt - step.startedAt;

export const workflowDebugInfo = defineTool({
  name: 'workflow_debug_info',
  description:
    "Everything about one run in one answer: status, current steps, the step it waits on, state and computed values, state size, the step history, errors, circuit breakers (the runtime's and those the run saw change), warnings, and the bottlenecks (the slowest steps).",
  input: z.object({ workflow_id: WorkflowId }),
  output: z.object({
    runId: z.string(),
    name: z.string(),
    file: z.string(),
    status: z.string(),
    currentSteps: z.array(z.string()),
    waitingStep: z.string().optional(),
    startedAt: z.string().optional(),
    endedAt: z.string().optional(),
    durationMs: z.number().optional(),
    stepsExecuted: z.number(),
    state: z.record(z.string(), z.unknown()),
    computed: z.record(z.string(), z.unknown()),
    stateSizeBytes: z.number(),
    history: z.array(Item),
    errors: z.array(Item),
    breakers: z.array(Item),
    breakerChanges: z.array(Item),
    warnings: z.array(Item),
    bottlenecks: z.array(Item),
    owner: Item.optional(),
  }),
  annotations: { title: 'Debug a run', readOnlyHint: true, openWorldHint: false },
  async run(args, host) {
    const observed = await observeRun(host.store, host.dataDir, args.workflow_id);
    const events = await readRunEvents(host, args.workflow_id);
    const timeline = replay(events).workflows.get(args.workflow_id);
    const steps = timeline?.steps ?? [];
    const { view } = observed;
    const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
    const history = steps.map((step) => ({
      step: step.key,
      type: step.type,
      parent: step.parentKey,
      status: step.status,
      startedAt: iso(step.startedAt),
      endedAt: iso(step.endedAt),
      durationMs: durationOf(step),
      attempts: step.attempts.length,
      toolCalls: step.calls.length,
      error: step.error,
    }));
    const errors = steps.flatMap((step) =>
      step.attempts
        .filter((attempt) => attempt.error !== undefined)
        .map((attempt) => ({ step: step.key, attempt: attempt.n, at: iso(attempt.endedAt), ...attempt.error })),
    );
    const bottlenecks = steps
      .filter((step) => durationOf(step) !== undefined)
      .sort((a, b) => (durationOf(b) ?? 0) - (durationOf(a) ?? 0))
      .slice(0, 5)
      .map((step) => ({
        step: step.key,
        type: step.type,
        durationMs: durationOf(step),
        attempts: step.attempts.length,
      }));
    const endedAt = view.endedAt ?? (observed.status === 'running' ? Date.now() : undefined);
    return {
      runId: view.runId,
      name: view.name,
      file: view.file,
      status: observed.status,
      currentSteps: [...view.currentSteps],
      ...(view.waitingStep === undefined ? {} : { waitingStep: view.waitingStep }),
      startedAt: iso(view.startedAt),
      endedAt: iso(view.endedAt),
      durationMs: view.startedAt === undefined || endedAt === undefined ? undefined : endedAt - view.startedAt,
      stepsExecuted: view.steps,
      state: { ...view.state },
      computed: { ...view.computed },
      stateSizeBytes: Buffer.byteLength(JSON.stringify(view.state)),
      history,
      errors: view.error && errors.length === 0 ? [{ ...view.error }] : errors,
      breakers: host.runtime.breakers().map((breaker) => ({ ...breaker })),
      breakerChanges: (timeline?.breakers ?? []).map((change) => ({ ...change })),
      warnings: (timeline?.warnings ?? []).map((warning) => ({ ...warning })),
      bottlenecks,
      ...(observed.owner ? { owner: { ...observed.owner } } : {}),
    };
  },
});

const JsonObjectOrText = z.union([z.record(z.string(), z.unknown()), z.string()]);

export const workflowTestTransformation = defineTool({
  name: 'workflow_test_transformation',
  description:
    "Evaluate a JSONata transform as a computed field would, with no side effects: `input` is $input, `context` the scope the expression reads (inputs, state, computed, … — a mapping or its JSON text). The evaluation is bounded like a workflow's (steps, depth, time, sizes).",
  input: z.object({
    transform: z.string().min(1).describe('a JSONata expression, e.g. $count($input)'),
    input: z.unknown().describe('the value of $input'),
    context: JsonObjectOrText.nullable().optional().describe('the document the expression reads names from'),
  }),
  output: z.object({ output: z.unknown(), duration_ms: z.number() }),
  annotations: { title: 'Test a transformation', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async run(args) {
    const compiled = compileExpression(args.transform, () => ({ path: 'transform' }));
    if (!compiled.ok) throw new RetraceError(ErrorCode.expression, `transform: ${compiled.message}`);
    const document = parseInputsArgument(args.context ?? undefined, 'context');
    const started = performance.now();
    const output = await compiled.expression.evaluate(document, { bindings: { input: args.input } });
    const duration = Math.round((performance.now() - started) * 1000) / 1000;
    return { output: output ?? null, duration_ms: duration };
  },
});

export const workflowExplainPlan = defineTool({
  name: 'workflow_explain_plan',
  description:
    "A workflow's execution plan before it runs (`retrace explain --json`): steps as a tree with their error handling, attempts and worst-case times; every tool with the policy it resolves to; fallback chains; servers; the computed graph in evaluation order. `workflow` is a file path or the YAML text.",
  input: z.object({
    workflow: z.string().describe('a workflow file path, or the workflow YAML text'),
    inputs: JsonObjectOrText.optional().describe(
      'the inputs (a mapping or its JSON text): loops over them get a length',
    ),
  }),
  output: z.looseObject({
    name: z.string(),
    steps: z.array(Item),
    tools: z.array(Item),
    worstCaseText: z.string(),
    warnings: z.array(z.string()),
  }),
  annotations: { title: 'Explain a plan', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, host) {
    const config = host.runtime.config;
    const { workflow, warnings } = await loadWorkflowSource(args.workflow, { config, cwd: host.cwd });
    const inputs = resolveInputs(workflow, parseInputsArgument(args.inputs), { allowMissing: true });
    const plan = await explainWorkflow(workflow, { config, inputs });
    return {
      ...plan,
      steps: plan.steps.map((step) => ({ ...step })),
      tools: plan.tools.map((tool) => ({ ...tool })),
      warnings,
    };
  },
});
