// The built-in classification rules: seed 000's three tables and the MCP SDK 1.32's error shapes, as data.
import type { ClassificationRule } from './classificationRule.js';
import { fallbackRules } from './defaultRules/fallbackRules.js';
import { httpRules, mcpRules, runtimeRules, transportRules } from './defaultRules/protocolRules.js';
import { structuredRules } from './defaultRules/structuredRules.js';
import { textRules } from './defaultRules/textRules.js';

export { OUTPUT_VALIDATION_PATTERN } from './defaultRules/protocolRules.js';

/*
 * Order is meaning: the first rule that matches wins, so rules go from the most specific evidence
 * to the least. Failures retrace produced itself (timeout, circuit, cancellation) and transport and
 * HTTP facts come first; then the MCP SDK's own messages; then structured fields a tool chose to
 * send (`{error: {type: "rate_limit"}}`), which say what the tool meant; then words in the text;
 * then a fallback per source. A tool's own rules run before all of these.
 */

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * The default rules, tried after a tool's own. Frozen: the classifier caches compiled rules by
 * identity, and these are shared by every call.
 */
export const defaultRules: readonly ClassificationRule[] = deepFreeze([
  ...runtimeRules,
  ...transportRules,
  ...httpRules,
  ...mcpRules,
  ...structuredRules,
  ...textRules,
  ...fallbackRules,
]);
