import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/common/canonicalJson.js';

describe('canonicalJson', () => {
  it('sorts object keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 3 } })).toBe('{"a":{"c":3,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('gives the same string for equal values whatever their key order', () => {
    const first = { query: 'x', page: { size: 10, after: 'k' }, tags: ['a', 'b'] };
    const second = { tags: ['a', 'b'], page: { after: 'k', size: 10 }, query: 'x' };
    expect(canonicalJson(first)).toBe(canonicalJson(second));
  });

  it('keeps the order of array items', () => {
    expect(canonicalJson([2, 1])).toBe('[2,1]');
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('sorts keys by UTF-16 code units, putting integer-like keys in text order', () => {
    expect(canonicalJson({ b: 1, 10: 2, 2: 3, B: 4, é: 5 })).toBe('{"10":2,"2":3,"B":4,"b":1,"é":5}');
  });

  it('writes a Date as its ISO string, so different dates give different strings', () => {
    const first = { at: new Date(Date.UTC(2025, 0, 1)) };
    const second = { at: new Date(Date.UTC(2025, 0, 2)) };
    expect(canonicalJson(first)).toBe('{"at":"2025-01-01T00:00:00.000Z"}');
    expect(canonicalJson(second)).toBe('{"at":"2025-01-02T00:00:00.000Z"}');
  });

  it('writes an invalid Date as null, as JSON.stringify does', () => {
    expect(canonicalJson({ at: new Date(Number.NaN) })).toBe('{"at":null}');
  });

  it('calls toJSON with the property name, the array index or an empty key at the root', () => {
    const keys: string[] = [];
    const probe = {
      toJSON(key: string) {
        keys.push(key);
        return { z: 1, a: key };
      },
    };
    expect(canonicalJson({ field: probe, list: [probe] })).toBe(
      '{"field":{"a":"field","z":1},"list":[{"a":"0","z":1}]}',
    );
    expect(canonicalJson(probe)).toBe('{"a":"","z":1}');
    expect(keys).toEqual(['field', '0', '']);
  });

  it('leaves undefined, functions and symbols out of objects', () => {
    expect(canonicalJson({ a: undefined, b: () => 1, c: Symbol('s'), d: 1 })).toBe('{"d":1}');
  });

  it('writes undefined, functions and symbols in arrays as null, holes included', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(canonicalJson([undefined, () => 1, Symbol('s'), , 1])).toBe('[null,null,null,null,1]');
  });

  it('writes NaN and the infinities as null, and -0 as 0', () => {
    expect(canonicalJson([Number.NaN, Infinity, -Infinity, -0, 1.5e300])).toBe('[null,null,null,0,1.5e+300]');
  });

  it('unwraps Number, String and Boolean objects', () => {
    expect(canonicalJson([Object(1), Object('s'), Object(false)])).toBe('[1,"s",false]');
  });

  it('ignores symbol keys and non-enumerable properties', () => {
    const value: Record<string | symbol, unknown> = { a: 1, [Symbol('hidden')]: 2 };
    Object.defineProperty(value, 'b', { value: 3, enumerable: false });
    expect(canonicalJson(value)).toBe('{"a":1}');
  });

  it('keeps a "__proto__" key as a plain property', () => {
    const value = JSON.parse('{"__proto__":{"admin":true},"a":1}') as unknown;
    expect(canonicalJson(value)).toBe('{"__proto__":{"admin":true},"a":1}');
    expect(canonicalJson(value)).not.toBe(canonicalJson({ a: 1 }));
  });

  it('escapes strings and keys as JSON.stringify does', () => {
    expect(canonicalJson({ 'quote"key': 'line\nbreak \u2028 \ud800' })).toBe(
      '{"quote\\"key":"line\\nbreak \u2028 \\ud800"}',
    );
  });

  it('writes an object reached twice without a cycle twice', () => {
    const shared = { id: 7 };
    expect(canonicalJson({ a: shared, b: shared, list: [shared, shared] })).toBe(
      '{"a":{"id":7},"b":{"id":7},"list":[{"id":7},{"id":7}]}',
    );
  });

  it('throws a TypeError naming the path of a cycle', () => {
    const root: { child: { items: unknown[] } } = { child: { items: [] } };
    root.child.items.push(root);
    expect(() => canonicalJson(root)).toThrow(new TypeError('canonicalJson: cyclic value at $.child.items[0]'));
  });

  it('throws a TypeError for an array that contains itself', () => {
    const list: unknown[] = [];
    list.push({ 'odd key': list });
    expect(() => canonicalJson(list)).toThrow(new TypeError('canonicalJson: cyclic value at $[0]["odd key"]'));
  });

  it('refuses a bigint, which would otherwise collide with a string or number', () => {
    expect(() => canonicalJson({ id: 1n })).toThrow(
      new TypeError('canonicalJson: cannot serialise the bigint at $.id; pass it as a string or a number'),
    );
    expect(() => canonicalJson(Object(1n))).toThrow(TypeError);
  });

  it('throws a TypeError for a root that has no JSON form', () => {
    expect(() => canonicalJson(undefined)).toThrow(
      new TypeError('canonicalJson: the root value (undefined) has no JSON form'),
    );
    expect(() => canonicalJson(() => 1)).toThrow(
      new TypeError('canonicalJson: the root value (function) has no JSON form'),
    );
    expect(() => canonicalJson(Symbol('s'))).toThrow(
      new TypeError('canonicalJson: the root value (symbol) has no JSON form'),
    );
  });

  it('matches JSON.stringify for values whose keys are already sorted', () => {
    const values: unknown[] = [
      null,
      true,
      0,
      -12.5,
      'text',
      [],
      {},
      { a: [1, 'two', null, { b: false }], c: { d: new Date(0) } },
      new Map([['a', 1]]),
      new Set([1]),
      new Uint8Array([1, 2]),
      { a: Number.NaN, b: undefined, c: [undefined] },
    ];
    for (const value of values) expect(canonicalJson(value)).toBe(JSON.stringify(value));
  });
});
