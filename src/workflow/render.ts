// Rendering at run time: a value template or condition evaluated against the workflow's scope.
import type { CompiledCondition, ValueTemplate } from './compiledWorkflow.js';
import { isTruthy } from './expression.js';
import type { EvaluationContext } from './expression.js';
import { scopeDocument } from './scope.js';
import type { WorkflowScope } from './scope.js';

/** The value of a template: a whole-string template keeps its type; text with templates is a string. */
export async function renderValue(
  template: ValueTemplate,
  scope: WorkflowScope,
  context?: EvaluationContext,
): Promise<unknown> {
  // A value without templates (most tool arguments) needs no scope document: building one copies the scope's names.
  if (template.kind === 'literal') return template.value;
  return render(template, scopeDocument(scope), context);
}

export async function evaluateCondition(
  condition: CompiledCondition,
  scope: WorkflowScope,
  context?: EvaluationContext,
): Promise<boolean> {
  if (condition.kind === 'literal') return condition.value;
  return isTruthy(await condition.expression.evaluate(scopeDocument(scope), context));
}

async function render(
  template: ValueTemplate,
  document: object,
  context: EvaluationContext | undefined,
): Promise<unknown> {
  switch (template.kind) {
    case 'literal':
      return template.value;
    case 'expression':
      return template.expression.evaluate(document, context);
    case 'text': {
      let text = '';
      for (const part of template.parts) {
        text += typeof part === 'string' ? part : asText(await part.evaluate(document, context));
      }
      return text;
    }
    case 'list':
      return Promise.all(template.items.map((item) => render(item, document, context)));
    case 'mapping': {
      const value: Record<string, unknown> = {};
      for (const [key, item] of template.entries) {
        Object.defineProperty(value, key, {
          value: await render(item, document, context),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return value;
    }
  }
}

/** Inside text: strings as they are, nothing as empty, anything else as JSON. */
function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
