// Classification rule validation: one line per invalid pattern or path, or condition that can never match.
import type { ClassificationRule } from './classificationRule.js';
import type { RawFailure } from './failure.js';
import { pathSegments } from './fieldPath.js';

type Source = RawFailure['source'];

const transportReasons = ['refused', 'reset', 'closed', 'exited', 'spawn_failed', 'other'];

function patternProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'i');
    return undefined;
  } catch (error) {
    return `invalid regular expression: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function pathProblem(path: string): string | undefined {
  return pathSegments(path).some((segment) => segment === '')
    ? `${JSON.stringify(path)} is not a dotted path (empty segment)`
    : undefined;
}

function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * The problems of a rule list, one line each and named by where they are
 * (`classify[2].when.message: invalid regular expression: …`), for the config loader to report.
 * Classification never throws on these: a rule with an invalid pattern simply never matches.
 */
export function validateRules(rules: readonly ClassificationRule[], at = 'classify'): string[] {
  const problems: string[] = [];
  rules.forEach((rule, index) => {
    const here = `${at}[${index}]`;
    const { when } = rule;
    const report = (path: string, problem: string | undefined): void => {
      if (problem !== undefined) problems.push(`${here}.${path}: ${problem}`);
    };
    if (when.message !== undefined) report('when.message', patternProblem(when.message));
    if (when.field !== undefined) {
      report('when.field.path', pathProblem(when.field.path));
      if (when.field.matches !== undefined) report('when.field.matches', patternProblem(when.field.matches));
    }
    if (rule.retry_after_field !== undefined) report('retry_after_field', pathProblem(rule.retry_after_field));
    if (rule.suggestions_field !== undefined) report('suggestions_field', pathProblem(rule.suggestions_field));
    for (const reason of asList(when.reason)) {
      if (!transportReasons.includes(reason)) {
        report(
          'when.reason',
          `unknown transport reason ${JSON.stringify(reason)} (expected ${transportReasons.join(', ')})`,
        );
      }
    }
    // A condition on evidence the named sources never carry makes the rule dead: say so.
    const sources = asList<Source>(when.source);
    const reaches = (...carriers: Source[]): boolean =>
      sources.length === 0 || sources.some((source) => carriers.includes(source));
    if (when.code !== undefined && !reaches('rpc', 'tool')) {
      report('when.code', 'JSON-RPC codes only come with rpc and tool failures, so this rule never matches');
    }
    if (when.status !== undefined && !reaches('http')) {
      report('when.status', 'HTTP statuses only come with http failures, so this rule never matches');
    }
    if (when.reason !== undefined && !reaches('transport')) {
      report('when.reason', 'reasons only come with transport failures, so this rule never matches');
    }
    if (when.field !== undefined && !reaches('rpc', 'tool', 'http')) {
      report('when.field', 'fields only come with tool, rpc and http failures, so this rule never matches');
    }
  });
  return problems;
}
