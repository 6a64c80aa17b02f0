// Compiling a step's error handling: on_error, its retries (seed 004's defaults), fallback value and error state update.
import type { PathSegment } from '../config/yamlErrors.js';
import type { BackoffSettings } from '../policy/toolPolicy.js';
import { compileValue, report } from './compileValues.js';
import type { CompileContext, Visibility } from './compileValues.js';
import type { CompiledErrorHandling } from './compiledWorkflow.js';
import type { Step } from './workflowSchema.js';

/** Seed 004's ErrorHandler defaults: 3 retries, 1 s apart (doubling here, capped at 30 s). */
export const DEFAULT_RETRY_COUNT = 3;
export const DEFAULT_RETRY_DELAY_MS = 1000;
const MAX_RETRY_DELAY_MS = 30_000;

export function compileErrorHandling(
  context: CompileContext,
  step: Step,
  path: PathSegment[],
  visibility: Visibility,
): CompiledErrorHandling {
  const strategy = step.on_error ?? 'fail';
  const retrying = strategy === 'retry';
  if (!retrying && (step.retry_count !== undefined || step.retry_delay !== undefined)) {
    const field = step.retry_count !== undefined ? 'retry_count' : 'retry_delay';
    report(context, [...path, field], `${field} has no effect unless on_error is retry`, 'warning', 'key');
  }
  if (strategy === 'fallback' && step.fallback_value === undefined) {
    report(context, [...path, 'on_error'], 'on_error: fallback needs a fallback_value');
  }
  const baseDelayMs = step.retry_delay ?? DEFAULT_RETRY_DELAY_MS;
  const retry: BackoffSettings = {
    maxRetries: retrying ? (step.retry_count ?? DEFAULT_RETRY_COUNT) : 0,
    baseDelayMs,
    maxDelayMs: Math.max(MAX_RETRY_DELAY_MS, baseDelayMs),
    exponentialBase: 2,
    jitter: 'none',
  };
  const handling: CompiledErrorHandling = { strategy, retry };
  const withError: Visibility = { ...visibility, locals: new Set([...visibility.locals]) };
  if (step.fallback_value !== undefined) {
    handling.fallbackValue = compileValue(context, [...path, 'fallback_value'], step.fallback_value, withError);
  }
  if (step.error_state_update) {
    handling.errorStateUpdate = {
      path: step.error_state_update.path.split('.'),
      value: compileValue(context, [...path, 'error_state_update', 'value'], step.error_state_update.value, withError),
    };
  }
  return handling;
}
