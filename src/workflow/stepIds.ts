// Compiling steps, pass one: every step's id, given or made from the step's place, with duplicates reported.
import type { PathSegment } from '../config/yamlErrors.js';
import { report } from './compileValues.js';
import type { CompileContext } from './compileValues.js';
import { locateValue } from './sourcePositions.js';
import { asStep } from './workflowSchema.js';
import type { NestedStep, Step } from './workflowSchema.js';

/** A list of steps in the file: where it is, and the prefix of the ids made for its steps. */
interface StepList {
  steps: readonly NestedStep[];
  path: PathSegment[];
  idPrefix: string;
}

/** The lists of steps directly inside a step, with the ids their steps get when they have none. */
function nestedLists(step: Step, id: string, path: PathSegment[]): StepList[] {
  const lists: StepList[] = [];
  const add = (steps: readonly NestedStep[] | undefined, key: PathSegment[], prefix: string) => {
    if (steps) lists.push({ steps, path: [...path, ...key], idPrefix: `${id}_${prefix}` });
  };
  switch (step.type) {
    case 'conditional':
      add(step.then, ['then'], 'then');
      add(step.else, ['else'], 'else');
      break;
    case 'poll':
      add(Array.isArray(step.on_timeout) ? step.on_timeout : undefined, ['on_timeout'], 'timeout');
      add(step.cancel, ['cancel'], 'cancel');
      break;
    case 'parallel':
      step.branches.forEach((branch, index) => add(branch, ['branches', index], `branch${index + 1}_`));
      break;
    case 'foreach':
      add(step.steps, ['steps'], 'each');
      break;
    default:
      break;
  }
  add(step.cleanup, ['cleanup'], 'cleanup');
  return lists;
}

/** Pass one: every step's id, so references to steps that come later are told apart from typos. */
export function assignIds(
  context: CompileContext,
  list: StepList,
  ids: Map<NestedStep, string>,
  seen: Map<string, PathSegment[]>,
): void {
  list.steps.forEach((raw, index) => {
    const step = asStep(raw);
    const path = [...list.path, index];
    const id = step.id ?? `${list.idPrefix}${index + 1}`;
    const earlier = seen.get(id);
    if (earlier) {
      const where = locateValue(context.source, earlier);
      report(context, [...path, 'id'], `step id "${id}" is already used by the step at line ${where.line ?? '?'}`);
    } else {
      seen.set(id, step.id === undefined ? path : [...path, 'id']);
    }
    ids.set(raw, id);
    if (step.type === 'poll') {
      assignIds(context, { steps: [step.step], path: [...path, 'step'], idPrefix: `${id}_poll` }, ids, seen);
    }
    for (const nested of nestedLists(step, id, path)) assignIds(context, nested, ids, seen);
  });
}
