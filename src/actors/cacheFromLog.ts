// The cached results a run's process had before it stopped, rebuilt from the run's log when the run is continued: a
// cached answer that would have stood in for a failed read-only call still stands in after a crash (seed 000's
// "use the cached data" is not lost with the process's memory).
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { EventEnvelope } from '../events/envelope.js';
import { isTruncatedValue } from '../events/recordedValue.js';
import { ToolCallSucceededData } from '../events/toolCallEvents.js';
import type { ResultCache } from './resultCache.js';
import { redactedPaths } from './workflowResume.js';

/**
 * Puts the run's recorded successes of cacheable calls back into `cache`, stamped with their recorded time (the
 * tool-call machine judges freshness against the policy's TTL, as it does live). A result the log truncated or
 * redacted, or called with redacted arguments, is left out: it is not what the tool answered. Returns how many.
 */
export function restoreCachedResults(cache: ResultCache, events: readonly EventEnvelope[]): number {
  let restored = 0;
  for (const event of events) {
    if (event.type !== 'toolcall.succeeded' || event.data['cacheable'] !== true) continue;
    const data = ToolCallSucceededData.safeParse(event.data);
    if (!data.success || data.data.result === undefined || isTruncatedValue(data.data.result)) continue;
    const { server, tool, args } = data.data;
    if (redactedPaths(args, 'args').length > 0 || redactedPaths(data.data.result, 'result').length > 0) continue;
    const result = CallToolResultSchema.safeParse(data.data.result);
    if (!result.success) continue;
    const held = cache.get(server, tool, args);
    if (held && held.storedAt >= event.ts) continue;
    cache.set(server, tool, args, result.data, event.ts);
    restored += 1;
  }
  return restored;
}
