// Default rules read from words in a message or result text, after every structured field has had its say.
import type { ClassificationRule } from '../classificationRule.js';
import { vocabulary } from './vocabulary.js';

/** Sources whose message or text is worth reading for words. Exceptions are not: they are retrace's bugs. */
const textSources: Array<'tool' | 'rpc' | 'http'> = ['tool', 'rpc', 'http'];

export const textRules: ClassificationRule[] = vocabulary.flatMap(({ kind, text }): ClassificationRule[] => {
  // A kind without words (`partial`) is only ever read from structured fields.
  if (text === undefined) return [];
  const rule: ClassificationRule = { name: `default:text-${kind}`, when: { source: textSources, message: text }, kind };
  // "try again later" says transient but not why; it loses to any service-unavailable wording above it.
  if (kind === 'unavailable') {
    return [
      rule,
      {
        name: 'default:text-try-again-later',
        when: { source: textSources, message: '\\btry again later\\b|\\bretry later\\b' },
        kind: 'resource',
      },
    ];
  }
  return [rule];
});
