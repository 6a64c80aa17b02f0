import { describe, expect, it } from 'vitest';
import { isRetraceError } from '../../src/common/errors.js';
import { CIRCULAR, REDACTED, TOO_DEEP, createRedactor, redactSecrets } from '../../src/common/redact.js';

describe('createRedactor', () => {
  it('redacts secret-looking keys at any depth', () => {
    const input = {
      tool: 'promote_to_production_tool',
      args: { staging_version: 'v1', approval_token: 'tok-123', nested: { deeper: { password: 'hunter2' } } },
    };
    expect(redactSecrets(input)).toEqual({
      tool: 'promote_to_production_tool',
      args: { staging_version: 'v1', approval_token: REDACTED, nested: { deeper: { password: REDACTED } } },
    });
  });

  it('matches secret keys whatever their case or separators', () => {
    const input = {
      Authorization: 'Bearer x',
      'X-Api-Key': 'k',
      'set-cookie': 'sid=1',
      clientSecret: 's',
      db_password: 'p',
      accessToken: 'a',
      PRIVATE_KEY: 'pem',
    };
    const output = redactSecrets(input) as Record<string, unknown>;
    for (const key of Object.keys(input)) expect(output[key]).toBe(REDACTED);
  });

  it('leaves token counts and other look-alikes alone', () => {
    const input = { max_tokens: 512, usage: { total_tokens: 900, token_count: 3 }, tokenizer: 'bpe' };
    expect(redactSecrets(input)).toBe(input);
  });

  it('redacts a whole subtree under a secret key', () => {
    expect(redactSecrets({ credentials: { user: 'u', pass: 'p' } })).toEqual({ credentials: REDACTED });
  });

  it('redacts values at dotted paths with * wildcards', () => {
    const redact = createRedactor(['headers.x-session', 'args.*.ssn', 'items.*.owner.email']);
    const input = {
      headers: { 'x-session': 'abc', accept: 'json' },
      args: { alice: { ssn: '111', name: 'Alice' }, bob: { ssn: '222' } },
      items: [{ owner: { email: 'a@b.c', id: 1 } }, { owner: { id: 2 } }],
    };
    expect(redact(input)).toEqual({
      headers: { 'x-session': REDACTED, accept: 'json' },
      args: { alice: { ssn: REDACTED, name: 'Alice' }, bob: { ssn: REDACTED } },
      items: [{ owner: { email: REDACTED, id: 1 } }, { owner: { id: 2 } }],
    });
  });

  it('matches array indexes written as numbers in a path', () => {
    expect(createRedactor(['list.1'], { secretKeys: [] })({ list: ['a', 'b', 'c'] })).toEqual({
      list: ['a', REDACTED, 'c'],
    });
  });

  it('redacts by path only when secret keys are turned off', () => {
    const redact = createRedactor(['args.pin'], { secretKeys: [] });
    expect(redact({ args: { pin: '1234', password: 'kept' } })).toEqual({ args: { pin: REDACTED, password: 'kept' } });
  });

  it('uses the censor it is given', () => {
    expect(createRedactor([], { censor: '***' })({ token: 't' })).toEqual({ token: '***' });
  });

  it('never mutates its input', () => {
    const input = { a: { token: 't', list: [{ secret: 's' }] }, b: 1 };
    const before = structuredClone(input);
    const output = redactSecrets(input);
    expect(input).toEqual(before);
    expect(output).not.toBe(input);
  });

  it('returns the input itself when there is nothing to redact', () => {
    const input = { a: { b: [1, 2, { c: 'd' }] } };
    expect(redactSecrets(input)).toBe(input);
  });

  it('shares the subtrees it did not change', () => {
    const untouched = { deep: { list: [1, 2, 3] } };
    const output = redactSecrets({ untouched, token: 't' }) as { untouched: unknown };
    expect(output.untouched).toBe(untouched);
  });

  it('keeps the order of keys', () => {
    expect(Object.keys(redactSecrets({ a: 1, token: 't', z: 2 }) as object)).toEqual(['a', 'token', 'z']);
  });

  it('leaves null and undefined secrets as they are', () => {
    const input = { password: null, token: undefined };
    expect(redactSecrets(input)).toBe(input);
  });

  it('replaces cycles and leaves the input cyclic', () => {
    const input: Record<string, unknown> = { name: 'run' };
    input['self'] = input;
    const output = redactSecrets(input) as Record<string, unknown>;
    expect(output).toEqual({ name: 'run', self: CIRCULAR });
    expect(input['self']).toBe(input);
    expect(() => JSON.stringify(output)).not.toThrow();
  });

  it('does not call an object seen twice, outside a cycle, circular', () => {
    const shared = { id: 1 };
    expect(redactSecrets({ a: shared, b: [shared] })).toEqual({ a: { id: 1 }, b: [{ id: 1 }] });
  });

  it('cuts nesting deeper than the depth limit', () => {
    const redact = createRedactor([], { maxDepth: 2 });
    expect(redact({ one: { two: { three: 3 } }, flat: 1 })).toEqual({ one: { two: TOO_DEEP }, flat: 1 });
  });

  it('copies an error with a secret inside into a plain object that keeps its message', () => {
    const error = Object.assign(new Error('request failed'), { config: { headers: { authorization: 'Bearer x' } } });
    const output = redactSecrets({ error }) as { error: Record<string, unknown> };
    expect(output.error).toMatchObject({
      name: 'Error',
      message: 'request failed',
      config: { headers: { authorization: REDACTED } },
    });
    expect(error.config.headers.authorization).toBe('Bearer x');
  });

  it('treats a "__proto__" key as data, not as the prototype', () => {
    const input = JSON.parse('{"__proto__": {"token": "t"}, "a": 1}') as Record<string, unknown>;
    const output = redactSecrets(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(output, '__proto__')?.value).toEqual({ token: REDACTED });
  });

  it('keeps values it does not walk, such as dates and maps', () => {
    const when = new Date(0);
    const map = new Map([['token', 't']]);
    const output = redactSecrets({ when, map, token: 't' }) as Record<string, unknown>;
    expect(output['when']).toBe(when);
    expect(output['map']).toBe(map);
  });

  it('passes primitives through', () => {
    expect(redactSecrets('token')).toBe('token');
    expect(redactSecrets(42)).toBe(42);
    expect(redactSecrets(null)).toBeNull();
  });

  it('rejects a malformed path with a RetraceError', () => {
    expect(() => createRedactor(['headers..authorization'])).toThrow(/not a dotted path/);
    try {
      createRedactor(['']);
      expect.unreachable();
    } catch (error) {
      expect(isRetraceError(error)).toBe(true);
    }
  });
});
