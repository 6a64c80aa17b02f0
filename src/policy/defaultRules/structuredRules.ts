// Default rules read from structured fields a tool chose to send (`{error: {type: "rate_limit"}}`): what the tool meant.
import type { ClassificationRule } from '../classificationRule.js';
import { vocabulary } from './vocabulary.js';

/** Sources that carry structured evidence: a tool's `structuredContent` (or JSON text), a JSON-RPC error's `data`. */
const structuredSources: Array<'tool' | 'rpc'> = ['tool', 'rpc'];

/** Fields where a tool names its failure, most authoritative first. */
const typeFields = ['error.type', 'error.code', 'type', 'code', 'error'];

const namedTypeRules: ClassificationRule[] = typeFields.flatMap((path) =>
  vocabulary.map(({ kind, typeNames: names }): ClassificationRule => ({
    name: `default:structured-${kind}@${path}`,
    when: { source: structuredSources, field: { path, matches: names } },
    kind,
  })),
);

/**
 * The flags `detectPartial` reads on a successful result, on a failed one. They come after any named
 * type (a `{type: "timeout", partial: true}` is a timeout), and they are the only way besides a named
 * type to reach `partial`: the text alone never does.
 */
const partialFlagRules: ClassificationRule[] = [
  {
    name: 'default:structured-partial@partial',
    when: { source: structuredSources, field: { path: 'partial', equals: true } },
    kind: 'partial',
  },
  {
    name: 'default:structured-partial@status',
    when: { source: structuredSources, field: { path: 'status', matches: '^partial$' } },
    kind: 'partial',
  },
];

export const structuredRules: ClassificationRule[] = [...namedTypeRules, ...partialFlagRules];
