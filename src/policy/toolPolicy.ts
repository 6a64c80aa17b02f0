// A tool's policy: the seed's TOOL_RETRY_CONFIG names in config (snake_case), resolved to one typed object in ms.
import { z } from 'zod';
import { Duration } from '../common/duration.js';
import { ClassificationRule } from './classificationRule.js';
import { EscalationLevel } from './escalationLevel.js';
import { FailureClass, FailureKind } from './failure.js';

export const Jitter = z.enum(['none', 'full', 'equal', 'decorrelated']);
export type Jitter = z.infer<typeof Jitter>;

const backoffFields = {
  max_retries: z.number().int().min(0).max(1000),
  base_delay: Duration,
  max_delay: Duration,
  exponential_base: z.number().min(1).max(100),
  jitter: Jitter,
};

export const BackoffConfig = z.object(backoffFields).partial().strict();
export type BackoffConfig = z.infer<typeof BackoffConfig>;

export const BreakerConfig = z
  .object({
    /** `count`: the last `window_size` calls; `time`: the calls of the last `window_duration`. */
    window: z.enum(['count', 'time']),
    window_size: z.number().int().min(1),
    window_duration: Duration,
    failure_threshold: z.number().gt(0).max(1),
    minimum_calls: z.number().int().min(1),
    cooldown: Duration,
    half_open_probes: z.number().int().min(1),
  })
  .partial()
  .strict();
export type BreakerConfig = z.infer<typeof BreakerConfig>;

export const EscalationConfig = z
  .object({
    level: EscalationLevel.optional(),
    recommended_action: z.string().optional(),
    by_kind: z
      .partialRecord(
        FailureKind,
        z.object({ level: EscalationLevel.optional(), recommended_action: z.string().optional() }).strict(),
      )
      .optional(),
  })
  .strict();
export type EscalationConfig = z.infer<typeof EscalationConfig>;

export const CacheConfig = z.union([
  z.boolean(),
  z.object({ enabled: z.boolean().optional(), ttl: Duration.optional() }).strict(),
]);

/** A policy as written in `retrace.config.yaml` under `defaults:` or `tools.NAME:`; every field optional. */
export const ToolPolicyConfig = z
  .object({
    ...backoffFields,
    /** Classes or kinds that may be retried, e.g. `[transient]` or `[timeout, unavailable]`. */
    retryable: z.array(z.union([FailureClass, FailureKind])),
    timeout: Duration,
    deadline: Duration,
    idempotent: z.boolean(),
    critical: z.boolean(),
    by_kind: z.partialRecord(FailureKind, BackoffConfig),
    /** TOOL_FALLBACKS: tool names (`tool` or `server/tool`) in order; `null` = an empty result with a warning. */
    fallbacks: z.array(z.string().min(1).nullable()),
    cache: CacheConfig,
    escalation: EscalationConfig,
    classify: z.array(ClassificationRule),
    sync_alternative: z.object({ tool: z.string().min(1), deadline: Duration.optional() }).strict(),
    breaker: BreakerConfig,
  })
  .partial()
  .strict();
export type ToolPolicyConfig = z.input<typeof ToolPolicyConfig>;
export type ParsedToolPolicyConfig = z.output<typeof ToolPolicyConfig>;

export interface BackoffSettings {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  exponentialBase: number;
  jitter: Jitter;
}

export interface BreakerSettings {
  window: 'count' | 'time';
  windowSize: number;
  windowDurationMs: number;
  failureThreshold: number;
  minimumCalls: number;
  cooldownMs: number;
  halfOpenProbes: number;
}

export interface EscalationSettings {
  level?: EscalationLevel;
  recommendedAction?: string;
  byKind: Partial<Record<FailureKind, { level?: EscalationLevel; recommendedAction?: string }>>;
}

/** The resolved policy one call runs under: every field present, durations in ms. */
export interface ToolPolicy extends BackoffSettings {
  retryable: Array<FailureClass | FailureKind>;
  timeoutMs: number;
  deadlineMs: number;
  idempotent: boolean;
  critical: boolean;
  byKind: Partial<Record<FailureKind, Partial<BackoffSettings>>>;
  fallbacks: Array<string | null>;
  cache: { enabled: boolean; ttlMs: number };
  escalation: EscalationSettings;
  /** Tool-specific rules, tried before the defaults. */
  rules: ClassificationRule[];
  syncAlternative?: { tool: string; deadlineMs: number };
  breaker: BreakerSettings;
}

export const DEFAULT_SYNC_DEADLINE_MS = 30_000;

/** Built-in defaults, following seed 000 (3 retries from 1 s, doubling, capped at 30 s; per-kind delays of its tables). */
export const defaultToolPolicy: ToolPolicy = {
  maxRetries: 3,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  exponentialBase: 2,
  jitter: 'equal',
  retryable: ['transient'],
  timeoutMs: 30_000,
  deadlineMs: 300_000,
  idempotent: true,
  critical: false,
  byKind: {
    lock: { baseDelayMs: 100, exponentialBase: 1 },
    unavailable: { baseDelayMs: 2000, exponentialBase: 1 },
    resource: { baseDelayMs: 1000, exponentialBase: 1 },
  },
  fallbacks: [],
  cache: { enabled: false, ttlMs: 300_000 },
  escalation: { byKind: {} },
  rules: [],
  breaker: {
    window: 'count',
    windowSize: 100,
    windowDurationMs: 60_000,
    failureThreshold: 0.5,
    minimumCalls: 50,
    cooldownMs: 30_000,
    halfOpenProbes: 1,
  },
};

/** MCP tool annotations (2025-06 spec); every hint optional. */
export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** What a tool's annotations say about its policy: read-only → cacheable and safe to repeat. */
export function policyFromAnnotations(annotations: ToolAnnotations | undefined): ParsedToolPolicyConfig {
  if (!annotations) return {};
  const layer: ParsedToolPolicyConfig = {};
  if (annotations.readOnlyHint === true) {
    layer.cache = { enabled: true };
    layer.idempotent = true;
  } else if (annotations.idempotentHint !== undefined) {
    layer.idempotent = annotations.idempotentHint;
  } else if (annotations.destructiveHint === true) {
    layer.idempotent = false;
  }
  return layer;
}

function backoffFrom(config: z.output<typeof BackoffConfig>): Partial<BackoffSettings> {
  const settings: Partial<BackoffSettings> = {};
  if (config.max_retries !== undefined) settings.maxRetries = config.max_retries;
  if (config.base_delay !== undefined) settings.baseDelayMs = config.base_delay;
  if (config.max_delay !== undefined) settings.maxDelayMs = config.max_delay;
  if (config.exponential_base !== undefined) settings.exponentialBase = config.exponential_base;
  if (config.jitter !== undefined) settings.jitter = config.jitter;
  return settings;
}

/**
 * A layer that sets a backoff field for the whole tool means it for every kind: inherited per-kind
 * values of that field (e.g. the seed's 100 ms for locks) give way, unless the layer names them again.
 */
function withoutInherited(byKind: ToolPolicy['byKind'], topLevel: Partial<BackoffSettings>): ToolPolicy['byKind'] {
  const overridden = Object.keys(topLevel) as Array<keyof BackoffSettings>;
  if (overridden.length === 0) return byKind;
  const next: ToolPolicy['byKind'] = {};
  for (const [kind, settings] of Object.entries(byKind) as Array<[FailureKind, Partial<BackoffSettings>]>) {
    const kept = { ...settings };
    for (const field of overridden) delete kept[field];
    if (Object.keys(kept).length > 0) next[kind] = kept;
  }
  return next;
}

/** Applies one parsed config layer on top of a resolved policy; later layers win field by field. */
export function applyPolicyLayer(
  base: ToolPolicy,
  layer: ParsedToolPolicyConfig,
  scope: 'tool' | 'defaults' = 'tool',
): ToolPolicy {
  const topLevel = backoffFrom(layer);
  // `defaults:` speak for tools in general and leave the per-kind values (the seed's 100 ms for locks) alone.
  const byKind = scope === 'tool' ? withoutInherited(base.byKind, topLevel) : base.byKind;
  const next: ToolPolicy = { ...base, ...topLevel, byKind };
  if (layer.retryable !== undefined) next.retryable = layer.retryable;
  if (layer.timeout !== undefined) next.timeoutMs = layer.timeout;
  if (layer.deadline !== undefined) next.deadlineMs = layer.deadline;
  if (layer.idempotent !== undefined) next.idempotent = layer.idempotent;
  if (layer.critical !== undefined) next.critical = layer.critical;
  if (layer.by_kind !== undefined) {
    const byKind = { ...next.byKind };
    for (const [kind, override] of Object.entries(layer.by_kind) as Array<
      [FailureKind, z.output<typeof BackoffConfig>]
    >) {
      byKind[kind] = { ...byKind[kind], ...backoffFrom(override) };
    }
    next.byKind = byKind;
  }
  if (layer.fallbacks !== undefined) next.fallbacks = layer.fallbacks;
  if (layer.cache !== undefined) {
    next.cache =
      typeof layer.cache === 'boolean'
        ? { ...base.cache, enabled: layer.cache }
        : { enabled: layer.cache.enabled ?? true, ttlMs: layer.cache.ttl ?? base.cache.ttlMs };
  }
  if (layer.escalation !== undefined) {
    const byKind = { ...base.escalation.byKind };
    for (const [kind, override] of Object.entries(layer.escalation.by_kind ?? {}) as Array<
      [FailureKind, { level?: EscalationLevel; recommended_action?: string }]
    >) {
      const entry = { ...byKind[kind] };
      if (override.level !== undefined) entry.level = override.level;
      if (override.recommended_action !== undefined) entry.recommendedAction = override.recommended_action;
      byKind[kind] = entry;
    }
    const escalation: EscalationSettings = { ...base.escalation, byKind };
    if (layer.escalation.level !== undefined) escalation.level = layer.escalation.level;
    if (layer.escalation.recommended_action !== undefined)
      escalation.recommendedAction = layer.escalation.recommended_action;
    next.escalation = escalation;
  }
  if (layer.classify !== undefined) next.rules = [...layer.classify, ...base.rules];
  if (layer.sync_alternative !== undefined) {
    next.syncAlternative = {
      tool: layer.sync_alternative.tool,
      deadlineMs: layer.sync_alternative.deadline ?? DEFAULT_SYNC_DEADLINE_MS,
    };
  }
  if (layer.breaker !== undefined) {
    const b = layer.breaker;
    const breaker = { ...base.breaker };
    if (b.window !== undefined) breaker.window = b.window;
    if (b.window_size !== undefined) breaker.windowSize = b.window_size;
    if (b.window_duration !== undefined) breaker.windowDurationMs = b.window_duration;
    if (b.failure_threshold !== undefined) breaker.failureThreshold = b.failure_threshold;
    if (b.minimum_calls !== undefined) breaker.minimumCalls = b.minimum_calls;
    if (b.cooldown !== undefined) breaker.cooldownMs = b.cooldown;
    if (b.half_open_probes !== undefined) breaker.halfOpenProbes = b.half_open_probes;
    next.breaker = breaker;
  }
  return next;
}

/** Resolves layers in order (built-in defaults first); later layers win. */
export function resolvePolicy(layers: ParsedToolPolicyConfig[], base: ToolPolicy = defaultToolPolicy): ToolPolicy {
  return layers.reduce((policy, layer) => applyPolicyLayer(policy, layer), base);
}

/** The backoff settings in force for one failure kind (the tool's per-kind override over its own settings). */
export function backoffFor(policy: ToolPolicy, kind: FailureKind): BackoffSettings {
  return {
    maxRetries: policy.maxRetries,
    baseDelayMs: policy.baseDelayMs,
    maxDelayMs: policy.maxDelayMs,
    exponentialBase: policy.exponentialBase,
    jitter: policy.jitter,
    ...policy.byKind[kind],
  };
}
