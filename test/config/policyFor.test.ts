import { describe, expect, it } from 'vitest';
import { parseRuntimeConfig, policyFor } from '../../src/config/index.js';
import { defaultToolPolicy } from '../../src/policy/toolPolicy.js';

const config = parseRuntimeConfig({
  servers: { scheduler: { command: 'node' }, backup: { command: 'node' } },
  defaults: { max_retries: 4, timeout: '10s' },
  tools: {
    read_schedule: { cache: false, max_retries: 2 },
    promote: { max_retries: 1, idempotent: true },
    'scheduler/promote': { max_retries: 0, critical: true },
  },
});

describe('policyFor', () => {
  it('starts from the built-in defaults, under the config defaults', () => {
    const policy = policyFor(parseRuntimeConfig({}), 'scheduler', 'anything');
    expect(policy).toEqual(defaultToolPolicy);
    expect(policyFor(config, 'scheduler', 'anything')).toMatchObject({
      maxRetries: 4,
      timeoutMs: 10_000,
      baseDelayMs: 1000,
    });
  });

  it("keeps the seed's per-kind delays under a defaults: base_delay, but not under a tool's own", () => {
    const withDefaults = parseRuntimeConfig({
      servers: { s: { command: 'node' } },
      defaults: { base_delay: 3 },
      tools: { slow_tool: { base_delay: 5 } },
    });
    const general = policyFor(withDefaults, 's', 'any_tool');
    expect(general.baseDelayMs).toBe(3000);
    expect(general.byKind.lock).toMatchObject({ baseDelayMs: 100, exponentialBase: 1 });
    expect(general.byKind.unavailable).toMatchObject({ baseDelayMs: 2000 });
    const own = policyFor(withDefaults, 's', 'slow_tool');
    expect(own.baseDelayMs).toBe(5000);
    expect(own.byKind.lock?.baseDelayMs).toBeUndefined();
    expect(own.byKind.lock?.exponentialBase).toBe(1);
  });

  it('caches and repeats a tool its annotations call read-only', () => {
    const policy = policyFor(config, 'scheduler', 'list_things', { readOnlyHint: true });
    expect(policy.cache.enabled).toBe(true);
    expect(policy.idempotent).toBe(true);
  });

  it('does not repeat blindly a tool its annotations call destructive', () => {
    expect(policyFor(config, 'scheduler', 'delete_things', { destructiveHint: true }).idempotent).toBe(false);
  });

  it('lets the config entry of a tool override what its annotations say', () => {
    const policy = policyFor(config, 'scheduler', 'read_schedule', { readOnlyHint: true });
    expect(policy.cache.enabled).toBe(false);
    expect(policy.maxRetries).toBe(2);
    expect(policyFor(config, 'scheduler', 'promote', { destructiveHint: true }).idempotent).toBe(true);
  });

  it('lets a server/tool entry win over the tool entry, on that server only', () => {
    expect(policyFor(config, 'scheduler', 'promote')).toMatchObject({
      maxRetries: 0,
      critical: true,
      idempotent: true,
    });
    expect(policyFor(config, 'backup', 'promote')).toMatchObject({ maxRetries: 1, critical: false });
  });

  it('applies per-call overrides last', () => {
    const policy = policyFor(config, 'scheduler', 'promote', { readOnlyHint: true }, { max_retries: 7, cache: false });
    expect(policy.maxRetries).toBe(7);
    expect(policy.cache.enabled).toBe(false);
    expect(policy.critical).toBe(true);
  });

  it('resolves each tool once per annotations object, and never remembers overrides', () => {
    const annotations = { readOnlyHint: true };
    const first = policyFor(config, 'scheduler', 'list_things', annotations);
    expect(policyFor(config, 'scheduler', 'list_things', annotations)).toBe(first);
    expect(policyFor(config, 'scheduler', 'list_things')).not.toBe(first);
    expect(policyFor(config, 'scheduler', 'list_things', annotations, { max_retries: 9 }).maxRetries).toBe(9);
    expect(policyFor(config, 'scheduler', 'list_things', annotations).maxRetries).toBe(4);
  });

  it('does not mistake inherited object properties for tool entries', () => {
    expect(policyFor(config, 'scheduler', 'constructor')).toMatchObject({ maxRetries: 4 });
  });
});
