// Default rules of last resort: a verdict per source and code or status when nothing more specific matched.
import type { ClassificationRule } from '../classificationRule.js';

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

export const fallbackRules: ClassificationRule[] = [
  // Outside the SDK's "Connection closed", -32000 is a server's generic error: still the brief's unavailable.
  { name: 'default:rpc-32000', when: { source: ['rpc', 'tool'], code: -32000 }, kind: 'unavailable' },
  { name: 'default:rpc-internal-error', when: { source: ['rpc', 'tool'], code: -32603 }, kind: 'unknown' },
  { name: 'default:http-500', when: { source: 'http', status: 500 }, kind: 'unknown' },
  { name: 'default:http-5xx', when: { source: 'http', status: range(501, 599) }, kind: 'unknown' },
  // A 4xx nobody named is still the server refusing this request: repeating it will not help.
  {
    name: 'default:http-4xx',
    when: { source: 'http', status: range(400, 499) },
    kind: 'unknown',
    class: 'permanent',
    retryable: false,
  },
  { name: 'default:exception', when: { source: 'exception' }, kind: 'unknown' },
  // Unknown failures are transient (classOfKind): a few bounded retries cost less than a wrong give-up.
  { name: 'default:unknown', when: {}, kind: 'unknown' },
];
