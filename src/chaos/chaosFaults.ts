// What each fault kind of the plan does to a call: the failure it answers with, worded and shaped so that retrace's
// default classifier reads it as that kind (structured `error.type` fields, JSON-RPC codes, HTTP statuses).
import type { FailureSpec } from '../common/failureShapes.js';
import type { ChaosFault, ChaosKind, ChaosMode, ChaosOutage } from './chaosPlan.js';

/** One call's planned fault: a rule of the plan, or an outage window. */
export interface ChaosHit {
  kind: ChaosKind;
  fault?: ChaosFault;
  outage?: ChaosOutage;
}

export type Injection =
  /** `latency`: the call is forwarded after the delay. */
  | { type: 'delay'; ms: number }
  /** Answered by the proxy's MCP server instead of the upstream. */
  | { type: 'answer'; spec: FailureSpec }
  /** Answered by the HTTP host below MCP: a status or a dropped connection. */
  | { type: 'http'; spec: FailureSpec }
  /** The upstream is killed and the proxy process exits mid-call. */
  | { type: 'crash' };

export const DEFAULT_LATENCY_MS = 1_000;
export const DEFAULT_RETRY_AFTER_MS = 1_000;

const mark = ' (injected by retrace chaos-proxy)';

function structured(type: string, text: string, extra: Partial<FailureSpec> = {}): FailureSpec {
  return { error: 'is_error_structured', error_type: type, text: text + mark, ...extra };
}

function secondsText(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** The failure a hit answers with; `mode` decides between MCP shapes (stdio) and HTTP ones where both exist. */
export function injectionFor(hit: ChaosHit, mode: ChaosMode): Injection {
  const { fault, outage } = hit;
  const text = (fallback: string): string => fault?.message ?? fallback;
  switch (hit.kind) {
    case 'latency':
      return { type: 'delay', ms: fault?.ms ?? DEFAULT_LATENCY_MS };
    case 'timeout': {
      const spec: FailureSpec = { error: 'hang' };
      if (fault?.ms !== undefined) {
        spec.ms = fault.ms;
        spec.text = text(`Request timed out after ${fault.ms} ms`) + mark;
      }
      return { type: 'answer', spec };
    }
    case 'unavailable': {
      const why = outage
        ? `Service temporarily unavailable: planned outage from ${secondsText(outage.from)} to ${secondsText(outage.to)}`
        : text('Service temporarily unavailable');
      return mode === 'http'
        ? { type: 'http', spec: { error: 'http_status', status: 503, text: why + mark } }
        : { type: 'answer', spec: { error: 'is_error_text', text: why + mark } };
    }
    case 'rate_limit': {
      const ms = fault?.ms ?? DEFAULT_RETRY_AFTER_MS;
      if (mode === 'http') {
        // Retry-After carries whole seconds only; retry-after-ms says the exact wait to clients that read it.
        const headers = { 'retry-after': String(Math.ceil(ms / 1000)), 'retry-after-ms': String(ms) };
        return {
          type: 'http',
          spec: { error: 'http_status', status: 429, headers, text: text('Too Many Requests') + mark },
        };
      }
      const why = text(`Rate limit exceeded: retry after ${secondsText(ms)}`);
      return { type: 'answer', spec: structured('rate_limit', why, { retry_after: ms / 1000 }) };
    }
    case 'lock': {
      // With `ms`, the conflict says when the lock is expected to be free (`retry_after`, as a server that knows would).
      if (fault?.ms === undefined) {
        return {
          type: 'answer',
          spec: structured('lock', text('Database is locked: could not obtain lock on the record')),
        };
      }
      const why = text(`Database is locked: could not obtain lock on the record; retry after ${secondsText(fault.ms)}`);
      return { type: 'answer', spec: structured('lock', why, { retry_after: fault.ms / 1000 }) };
    }
    case 'resource':
      return {
        type: 'answer',
        spec: structured('resource_exhausted', text('Server is overloaded: the request queue is full')),
      };
    case 'invalid_input':
      return { type: 'answer', spec: { error: 'rpc', code: -32602, text: text('Invalid params') + mark } };
    case 'not_found':
      return { type: 'answer', spec: structured('not_found', text('Not found: the requested record does not exist')) };
    case 'auth':
      return { type: 'answer', spec: structured('unauthorized', text('Authentication failed: invalid token')) };
    case 'permission':
      return {
        type: 'answer',
        spec: structured('permission_denied', text('Permission denied: read-only credentials')),
      };
    case 'constraint':
      return {
        type: 'answer',
        spec: structured(
          'constraint_violation',
          text('Constraint violated: the change conflicts with a business rule'),
          {
            suggestions: ['change the input so that it satisfies the constraint'],
          },
        ),
      };
    case 'unimplemented':
      return { type: 'answer', spec: { error: 'rpc', code: -32601, text: text('Method not found') + mark } };
    case 'partial':
      return {
        type: 'answer',
        spec: structured('partial_data', text('Partial data: some items could not be read'), {
          fields: { partial: true },
        }),
      };
    case 'crash':
      return { type: 'crash' };
    case 'drop':
      return { type: 'http', spec: { error: 'drop' } };
  }
}
