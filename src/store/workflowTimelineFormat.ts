// A workflow run's timeline as a tree (`retrace replay` of a workflow run): one line per step, attempt, backoff,
// fallback, tool-call span, state change and computed evaluation, at its time from the run's start.
import { toolKey } from './projections/eventData.js';
import type { Timeline } from './projections/timeline.js';
import type { WorkflowErrorView } from './projections/workflowData.js';
import type { ComputedSpan, StateChangeSpan, StepSpan, WorkflowTimeline } from './projections/workflowSpans.js';
import { describeOutcome, describeSpan, isoTime, spanStart, type TimeLabel } from './timelineFormat.js';

interface Line {
  at: number;
  depth: number;
  text: string;
}

/** Lines that belong together (a step and everything under it), placed by the time of the first. */
interface Block {
  at: number;
  lines: Line[];
}

const MAX_VALUE_CHARS = 80;

/** A value on one line, cut to a readable length. */
function shown(value: unknown): string {
  const text = value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value));
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)}s`;
const errorText = (error: WorkflowErrorView | undefined): string =>
  error ? `${error.type ? `${error.type}: ` : ''}${error.message}` : 'failed';

function single(at: number, depth: number, text: string): Block {
  return { at, lines: [{ at, depth, text }] };
}

function stateLine(change: StateChangeSpan, depth: number): Block {
  const value = change.op === 'delete' ? '' : ` → ${shown(change.value)}`;
  return single(change.startedAt, depth, `state ${change.path} ${change.op}${value}`);
}

function computedLine(span: ComputedSpan, depth: number): Block {
  const what = span.error === undefined ? `= ${shown(span.output)}` : `failed: ${span.error}`;
  return single(span.endedAt, depth, `${span.field} ${what} (${span.trigger}, ${span.durationMs}ms)`);
}

function callBlock(call: Timeline, depth: number, time: TimeLabel): Block {
  const at = call.startedAt ?? (call.spans[0] ? spanStart(call.spans[0]) : (call.outcome?.at ?? 0));
  const requested = call.requested ? ` ${toolKey(call.requested)}` : '';
  const lines: Line[] = [{ at, depth, text: `call${requested} (${call.callId})` }];
  for (const span of call.spans) lines.push({ at: spanStart(span), depth: depth + 1, text: describeSpan(span, time) });
  const outcome = describeOutcome(call, at);
  if (outcome && call.outcome) lines.push({ at: call.outcome.at, depth: depth + 1, text: outcome });
  return { at, lines };
}

function stepHeadline(step: StepSpan): string {
  const head = `${step.actorId} [${step.type}]`;
  const took = step.endedAt === undefined ? '' : ` in ${seconds(step.endedAt - step.startedAt)}`;
  const attempts = step.attempts.length > 1 ? `, ${step.attempts.length} attempts` : '';
  switch (step.status) {
    case 'running':
      return `${head} running${attempts}`;
    case 'backoff':
      return `${head} waiting to retry${attempts}`;
    case 'succeeded':
      return `${head} succeeded${took}${attempts}`;
    case 'failed':
      return `${head} failed${took}${attempts}: ${errorText(step.error)}`;
    case 'fallback':
      return `${head} recovered (${step.fallback?.strategy ?? 'fallback'})${took}${attempts}`;
    case 'cancelled':
      return `${head} cancelled${took}: ${step.cancelReason ?? 'cancelled'}`;
    case 'skipped':
      return `${head} skipped (${step.skipReason ?? 'when'} is false)`;
  }
}

/** The blocks of what happened inside a step (not its children steps). */
function stepItems(step: StepSpan, depth: number, time: TimeLabel): Block[] {
  const blocks: Block[] = [];
  // One attempt says nothing the headline does not.
  if (step.attempts.length > 1) {
    for (const attempt of step.attempts) {
      const took = attempt.endedAt === undefined ? '' : ` after ${seconds(attempt.endedAt - attempt.startedAt)}`;
      const how = attempt.outcome === 'failed' ? `: ${errorText(attempt.error)}` : '';
      blocks.push(single(attempt.startedAt, depth, `attempt ${attempt.n} ${attempt.outcome}${took}${how}`));
    }
  }
  for (const backoff of step.backoffs) {
    const text = `backoff ${seconds(backoff.delayMs)} after attempt ${backoff.afterAttempt}, next due ${time(backoff.endedAt)}`;
    blocks.push(single(backoff.startedAt, depth, text));
  }
  if (step.fallback) {
    const { strategy, value, error, startedAt } = step.fallback;
    blocks.push(single(startedAt, depth, `${strategy} after ${errorText(error)}: result ${shown(value)}`));
  }
  for (const call of step.calls) blocks.push(callBlock(call, depth, time));
  for (const change of step.stateUpdates) blocks.push(stateLine(change, depth));
  for (const span of step.computed) blocks.push(computedLine(span, depth));
  if (step.workflow) {
    const { name, startedAt, endedAt, status } = step.workflow;
    blocks.push(single(startedAt, depth, `workflow ${name} started`));
    if (endedAt !== undefined) blocks.push(single(endedAt, depth, `workflow ${name} ${status}`));
  }
  return blocks;
}

/** Blocks in time order; a tie keeps the order they were made in (Array.prototype.sort is stable). */
function flatten(blocks: Block[]): Line[] {
  return blocks.sort((a, b) => a.at - b.at).flatMap((block) => block.lines);
}

function stepBlock(step: StepSpan, children: Map<string | undefined, StepSpan[]>, time: TimeLabel): Block {
  const inner = stepItems(step, step.depth + 1, time);
  for (const child of children.get(step.key) ?? []) inner.push(stepBlock(child, children, time));
  return {
    at: step.startedAt,
    lines: [{ at: step.startedAt, depth: step.depth, text: stepHeadline(step) }, ...flatten(inner)],
  };
}

function finalLine(timeline: WorkflowTimeline): Line | undefined {
  const final = timeline.final;
  if (!final) return undefined;
  const took = timeline.startedAt === undefined ? '' : ` after ${seconds(final.at - timeline.startedAt)}`;
  const steps = `${final.steps} step${final.steps === 1 ? '' : 's'}`;
  const what = final.status === 'succeeded' ? `result ${shown(final.result)}` : errorText(final.error);
  return { at: final.at, depth: 0, text: `run ${final.status}${took} (${steps}): ${what}` };
}

/** The tree as text: `+0.120s  deploy [mcp_call] succeeded in 0.120s`, nesting by indentation. */
export function formatWorkflowTimeline(timeline: WorkflowTimeline): string {
  const origin = timeline.startedAt ?? 0;
  const offset = (ms: number): string => `+${seconds(ms - origin)}`;
  const children = new Map<string | undefined, StepSpan[]>();
  for (const step of timeline.steps) {
    const siblings = children.get(step.parentKey);
    if (siblings) siblings.push(step);
    else children.set(step.parentKey, [step]);
  }
  const blocks: Block[] = [];
  for (const span of timeline.computed) blocks.push(computedLine(span, 0));
  for (const change of timeline.stateUpdates) blocks.push(stateLine(change, 0));
  for (const call of timeline.calls) blocks.push(callBlock(call, 0, offset));
  for (const warning of timeline.warnings) blocks.push(single(warning.startedAt, 0, `warning: ${warning.message}`));
  for (const breaker of timeline.breakers) {
    const why = breaker.reason === undefined ? '' : ` (${breaker.reason})`;
    const until = breaker.openUntil === undefined ? '' : ` until ${offset(breaker.openUntil)}`;
    blocks.push(single(breaker.startedAt, 0, `breaker ${breaker.key} ${breaker.change}${why}${until}`));
  }
  for (const step of children.get(undefined) ?? []) blocks.push(stepBlock(step, children, offset));
  const lines = flatten(blocks);
  const last = finalLine(timeline);
  const file = timeline.file ? ` from ${timeline.file}` : '';
  const header = `workflow ${timeline.name} (run ${timeline.runId})${file} at ${isoTime(origin)}: ${timeline.status}`;
  const width = Math.max(9, ...[...lines, ...(last ? [last] : [])].map((line) => offset(line.at).length + 1));
  const body = [...lines, ...(last ? [last] : [])].map(
    (line) => `${offset(line.at).padEnd(width)} ${'  '.repeat(line.depth)}${line.text}`,
  );
  return [header, ...body, ...(last ? [] : ['(no end yet)'])].join('\n');
}
