// The tool lists (annotations) of servers, fetched once per server and never allowed to hold a call up.
import type { Logger } from 'pino';
import type { Clock } from '../common/clock.js';
import type { ToolAnnotations } from '../policy/toolPolicy.js';
import type { McpConnector } from './mcpTypes.js';

export type ToolAnnotationMap = Map<string, ToolAnnotations | undefined>;
type LookupState =
  | { tools: ToolAnnotationMap }
  /** `slow`: a call already waited its full bound for this lookup; later calls do not wait for it. */
  | { pending: Promise<ToolAnnotationMap>; slow: boolean }
  | { failedAt: number };

/** The longest a call waits for its server's tool list (annotations) before running on the configured policy. */
export const ANNOTATION_WAIT_MS = 2000;
/** How long a failed tool-list lookup is not repeated. */
const ANNOTATION_RETRY_MS = 30_000;

export interface AnnotationLookup {
  /** The annotations if known now; starts nothing. */
  known(server: string): ToolAnnotationMap | undefined;
  /** Starts a lookup unless one is known, pending or failed recently. */
  start(server: string): Promise<ToolAnnotationMap> | undefined;
  /** Waits at most `waitMs` (and not past `signal`) for the server's annotations. */
  wait(server: string, waitMs: number, signal?: AbortSignal): Promise<ToolAnnotationMap | undefined>;
  /** Drops what is known of a server (a workflow's own, disconnected: the name may come back meaning another). */
  forget(server: string): void;
}

export function createAnnotationLookup(connector: McpConnector, clock: Clock, logger: Logger): AnnotationLookup {
  const lookups = new Map<string, LookupState>();

  /**
   * Tool annotations feed the policy, but must never hold a call up: the lookup is shared per server, waited
   * for at most `waitMs` (on the clock, and not past the caller's abort), and a failure is not retried for
   * `ANNOTATION_RETRY_MS`. Without them the call runs on its configured policy.
   */
  function wait(server: string, waitMs: number, signal?: AbortSignal): Promise<ToolAnnotationMap | undefined> {
    const state = lookups.get(server);
    if (state && 'tools' in state) return Promise.resolve(state.tools);
    if (waitMs <= 0 || signal?.aborted || (state && 'slow' in state && state.slow)) {
      if (!state) void start(server);
      return Promise.resolve(undefined);
    }
    const pending = state && 'pending' in state ? state.pending : start(server);
    if (!pending) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const finish = (value: ToolAnnotationMap | undefined) => {
        clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onAbort = () => finish(undefined);
      const timer = clock.setTimeout(() => {
        const current = lookups.get(server);
        if (current && 'pending' in current) current.slow = true;
        finish(undefined);
      }, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      pending.then(finish, () => finish(undefined));
    });
  }

  function start(server: string): Promise<ToolAnnotationMap> | undefined {
    const state = lookups.get(server);
    if (state && 'pending' in state) return state.pending;
    if (state && 'failedAt' in state && clock.now() - state.failedAt < ANNOTATION_RETRY_MS) return undefined;
    const pending = connector.listTools(server).then(
      (tools) => {
        const byName: ToolAnnotationMap = new Map(tools.map((tool) => [tool.name, tool.annotations]));
        lookups.set(server, { tools: byName });
        return byName;
      },
      (error: unknown) => {
        // An unreachable server is the call's business (retried and classified), not a reason to refuse it.
        logger.debug({ err: error, server }, 'could not list tools; calling on the configured policy');
        lookups.set(server, { failedAt: clock.now() });
        throw error;
      },
    );
    pending.catch(() => undefined);
    lookups.set(server, { pending, slow: false });
    return pending;
  }

  function known(server: string): ToolAnnotationMap | undefined {
    const state = lookups.get(server);
    return state && 'tools' in state ? state.tools : undefined;
  }

  return { known, start, wait, forget: (server) => void lookups.delete(server) };
}
