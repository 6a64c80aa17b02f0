// Results of read-only tools, kept for the cached fallback: a bounded LRU keyed by server, tool and canonical arguments.
import { LRUCache } from 'lru-cache';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson } from '../common/canonicalJson.js';
import type { CachedEntry } from '../machines/toolCallTypes.js';

export interface ResultCache {
  get(server: string, tool: string, args: Record<string, unknown>): CachedEntry | undefined;
  set(server: string, tool: string, args: Record<string, unknown>, result: CallToolResult, storedAt: number): void;
  readonly size: number;
  clear(): void;
}

export function cacheKey(server: string, tool: string, args: Record<string, unknown>): string {
  return `${server}\u0000${tool}\u0000${canonicalJson(args)}`;
}

/** Freshness is judged by the tool-call machine against its policy's TTL; the cache only bounds memory. */
export function createResultCache(options: { maxEntries?: number } = {}): ResultCache {
  const entries = new LRUCache<string, CachedEntry>({ max: options.maxEntries ?? 1000 });
  return {
    get: (server, tool, args) => entries.get(cacheKey(server, tool, args)),
    set: (server, tool, args, result, storedAt) => {
      entries.set(cacheKey(server, tool, args), { result, storedAt });
    },
    get size() {
      return entries.size;
    },
    clear: () => entries.clear(),
  };
}
