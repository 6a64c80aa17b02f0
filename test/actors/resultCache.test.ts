import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { cacheKey, createResultCache } from '../../src/actors/resultCache.js';

function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

describe('cacheKey', () => {
  it('joins server, tool and canonical arguments', () => {
    expect(cacheKey('db', 'query', { b: 2, a: 1 })).toBe('db\u0000query\u0000{"a":1,"b":2}');
  });

  it('ignores the key order of the arguments at every depth', () => {
    expect(cacheKey('s', 't', { q: 'x', page: { size: 10, after: 'k' } })).toBe(
      cacheKey('s', 't', { page: { after: 'k', size: 10 }, q: 'x' }),
    );
  });

  it('differs when the arguments differ', () => {
    expect(cacheKey('s', 't', { q: 'x' })).not.toBe(cacheKey('s', 't', { q: 'y' }));
    expect(cacheKey('s', 't', { q: 1 })).not.toBe(cacheKey('s', 't', { q: '1' }));
    expect(cacheKey('s', 't', { list: [1, 2] })).not.toBe(cacheKey('s', 't', { list: [2, 1] }));
    expect(cacheKey('s', 't', {})).not.toBe(cacheKey('s', 't', { q: null }));
  });

  it('differs when only a Date argument differs', () => {
    expect(cacheKey('s', 't', { since: new Date(Date.UTC(2025, 0, 1)) })).toBe(
      's\u0000t\u0000{"since":"2025-01-01T00:00:00.000Z"}',
    );
    expect(cacheKey('s', 't', { since: new Date(Date.UTC(2025, 0, 1)) })).not.toBe(
      cacheKey('s', 't', { since: new Date(Date.UTC(2025, 0, 2)) }),
    );
  });

  it('differs by server and by tool', () => {
    expect(cacheKey('a', 't', {})).not.toBe(cacheKey('b', 't', {}));
    expect(cacheKey('s', 'a', {})).not.toBe(cacheKey('s', 'b', {}));
  });

  it('accepts an argument object that is shared without a cycle', () => {
    const range = { from: 1, to: 9 };
    expect(cacheKey('s', 't', { a: range, b: range })).toBe(
      's\u0000t\u0000{"a":{"from":1,"to":9},"b":{"from":1,"to":9}}',
    );
  });
});

describe('createResultCache', () => {
  it('returns what was stored for equal arguments in any key order', () => {
    const cache = createResultCache();
    cache.set('s', 't', { a: 1, b: 2 }, textResult('one'), 100);
    expect(cache.get('s', 't', { b: 2, a: 1 })).toEqual({ result: textResult('one'), storedAt: 100 });
  });

  it('does not serve the result of other arguments', () => {
    const cache = createResultCache();
    cache.set('s', 't', { since: new Date(Date.UTC(2025, 0, 1)) }, textResult('January 1'), 100);
    expect(cache.get('s', 't', { since: new Date(Date.UTC(2025, 0, 2)) })).toBeUndefined();
    expect(cache.get('s', 'other', { since: new Date(Date.UTC(2025, 0, 1)) })).toBeUndefined();
  });

  it('replaces the entry stored under the same key', () => {
    const cache = createResultCache();
    cache.set('s', 't', { q: 1 }, textResult('old'), 100);
    cache.set('s', 't', { q: 1 }, textResult('new'), 200);
    expect(cache.get('s', 't', { q: 1 })).toEqual({ result: textResult('new'), storedAt: 200 });
    expect(cache.size).toBe(1);
  });

  it('evicts the least recently used entry beyond its bound', () => {
    const cache = createResultCache({ maxEntries: 2 });
    cache.set('s', 't', { n: 1 }, textResult('1'), 1);
    cache.set('s', 't', { n: 2 }, textResult('2'), 2);
    expect(cache.get('s', 't', { n: 1 })?.storedAt).toBe(1);
    cache.set('s', 't', { n: 3 }, textResult('3'), 3);
    expect(cache.size).toBe(2);
    expect(cache.get('s', 't', { n: 2 })).toBeUndefined();
    expect(cache.get('s', 't', { n: 1 })?.storedAt).toBe(1);
    expect(cache.get('s', 't', { n: 3 })?.storedAt).toBe(3);
  });

  it('holds a thousand entries by default', () => {
    const cache = createResultCache();
    for (let n = 0; n < 1001; n += 1) cache.set('s', 't', { n }, textResult(String(n)), n);
    expect(cache.size).toBe(1000);
    expect(cache.get('s', 't', { n: 0 })).toBeUndefined();
    expect(cache.get('s', 't', { n: 1 })?.storedAt).toBe(1);
  });

  it('counts its entries and empties on clear', () => {
    const cache = createResultCache();
    expect(cache.size).toBe(0);
    cache.set('s', 't', { n: 1 }, textResult('1'), 1);
    cache.set('s', 'u', { n: 1 }, textResult('1'), 1);
    expect(cache.size).toBe(2);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get('s', 't', { n: 1 })).toBeUndefined();
  });
});
