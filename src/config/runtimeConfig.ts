// The schema of `retrace.config.yaml`: servers, tool policies, cache, escalation triggers, logging, NATS and the store.
import { z } from 'zod';
import { ServerConfig } from '../actors/serverConfig.js';
import { Duration } from '../common/duration.js';
import { ErrorCode } from '../common/errors.js';
import { DEFAULT_NATS_SERVERS } from '../events/natsConnect.js';
import { DEFAULT_EVENT_SUBJECT_PREFIX } from '../events/natsSubjects.js';
import { DEFAULT_EVENT_STREAM } from '../store/jetStreamStore.js';
import { ToolPolicyConfig } from '../policy/toolPolicy.js';
import { validate } from './validate.js';
import { SourceProblemsError, locate } from './yamlErrors.js';
import type { PathSegment, SourceProblem, YamlSource } from './yamlErrors.js';

/** MCP tool and server names (the spec's recommended characters); `/` separates them in `server/tool`. */
const namePattern = /^[A-Za-z0-9_.-]{1,128}$/;

export const ServerName = z
  .string()
  .regex(namePattern, { error: 'a server name may contain only letters, digits, "_", "-" and "."' });

export const CacheSettings = z.strictObject({
  max_entries: z.number().int().min(0).default(1000),
});

/** Seed 000's triggers: the same tool fails more than 5 times in 5 minutes; a tool's error rate exceeds 50%. */
export const EscalationTriggers = z.strictObject({
  repeated_failures: z
    .strictObject({
      /** Escalate when one tool fails more than `count` times within `window`. */
      count: z.number().int().min(1).default(5),
      window: Duration.default(300_000),
    })
    .prefault({}),
  error_rate: z
    .strictObject({
      /** Escalate when more than this share of a tool's calls within `window` fail, once it has `minimum_calls`. */
      threshold: z.number().gt(0).max(1).default(0.5),
      minimum_calls: z.number().int().min(1).default(10),
      window: Duration.default(300_000),
    })
    .prefault({}),
});

export const LogSettings = z.strictObject({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Dotted paths whose values are replaced before anything is logged or recorded, e.g. `args.token`. */
  redact: z.array(z.string().min(1)).default([]),
});

/** `nats:`: where the bus publishes (and, with `store: jetstream`, where the log lives). */
export const NatsSettings = z.strictObject({
  url: z
    .string()
    .regex(/^(nats|tls|ws|wss):\/\/\S+$/, { error: 'expected a NATS URL such as nats://127.0.0.1:4222' })
    .default(DEFAULT_NATS_SERVERS),
  /** The JetStream stream that is the log when `store: jetstream`. */
  stream: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, { error: 'a stream name may contain only letters, digits, "_" and "-"' })
    .default(DEFAULT_EVENT_STREAM),
  /** Events go to `<subject_prefix>.<runId>.<type>` on the bus (`<subject_prefix>.<runId>` in JetStream). */
  subject_prefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, { error: "expected dotted tokens of letters, digits, '-' and '_'" })
    .default(DEFAULT_EVENT_SUBJECT_PREFIX),
  /** Events the bus holds in memory while NATS is down; past it, it re-reads the file log when NATS returns. */
  max_backlog: z.number().int().min(1).default(100_000),
});

/** Where events are stored: the embedded file log (default), or the JetStream stream of `nats:`. */
export const StoreKind = z.enum(['file', 'jetstream']);
export type StoreKind = z.infer<typeof StoreKind>;

export const RuntimeConfig = z.strictObject({
  servers: z.record(ServerName, ServerConfig).default({}),
  /** Applies to every tool, under the tool's own entries. */
  defaults: ToolPolicyConfig.optional(),
  /** Keyed `tool` (any server) or `server/tool` (that server only, which wins). */
  tools: z.record(z.string().min(1), ToolPolicyConfig).default({}),
  cache: CacheSettings.prefault({}),
  escalation: EscalationTriggers.prefault({}),
  log: LogSettings.prefault({}),
  /** Absent: no bus (unless `--nats`). Present: every recorded event is also published on NATS. */
  nats: NatsSettings.optional(),
  /** Absent: the file log, also when `nats:` is set; `--store` overrides it. */
  store: StoreKind.optional(),
});
export type RuntimeConfig = z.output<typeof RuntimeConfig>;
export type RuntimeConfigInput = z.input<typeof RuntimeConfig>;

export interface ParseConfigOptions {
  /** Named in every problem. */
  file?: string | undefined;
  /** The parsed YAML the value came from, so problems carry line and column. */
  source?: YamlSource | undefined;
}

/** Configs that went through validation; durations in them are already milliseconds, so they must not be parsed twice. */
const validated = new WeakSet<object>();

/** Marks a config derived from a validated one (e.g. with paths made absolute) as validated too. */
export function markValidated(config: RuntimeConfig): RuntimeConfig {
  validated.add(config);
  return config;
}

export function isValidatedConfig(value: unknown): value is RuntimeConfig {
  return typeof value === 'object' && value !== null && validated.has(value);
}

/** Validates a config value; throws a `RetraceError` (E_CONFIG) listing every problem with its position. */
export function parseRuntimeConfig(value: unknown, options: ParseConfigOptions = {}): RuntimeConfig {
  const { config, problems } = checkRuntimeConfig(value, options);
  if (!config) throw new SourceProblemsError(ErrorCode.config, problems);
  return config;
}

/** Like `parseRuntimeConfig`, but returns the problems so a loader can add its own before throwing. */
export function checkRuntimeConfig(
  value: unknown,
  options: ParseConfigOptions = {},
): { config?: RuntimeConfig; problems: SourceProblem[] } {
  const input = withoutEmptySections(value);
  const result = validate(RuntimeConfig, input, options);
  const problems = [
    ...result.problems,
    ...referenceProblems(input).map(({ path, target, message }) => ({
      location: locate(options.source, options.file, path, target),
      message,
    })),
  ];
  if (problems.length > 0 || !result.data) return { problems };
  validated.add(result.data);
  return { config: result.data, problems };
}

/** `tools:` with every entry commented out is YAML null; treat an empty top-level section as absent. */
function withoutEmptySections(value: unknown): unknown {
  if (value === null || value === undefined) return {};
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, section]) => section !== null));
}

interface ReferenceProblem {
  path: PathSegment[];
  target: 'value' | 'key';
  message: string;
}

/**
 * What a schema cannot say: tool references (`tools` keys, fallbacks, sync alternatives) name a tool or
 * `server/tool` of a configured server, and classification patterns compile. Works on the raw value, so
 * these are reported even when other fields are wrong.
 */
function referenceProblems(input: unknown): ReferenceProblem[] {
  if (!isRecord(input)) return [];
  const servers = new Set(isRecord(input.servers) ? Object.keys(input.servers) : []);
  const problems: ReferenceProblem[] = [];
  const checkTool = (name: unknown, path: PathSegment[], what: string, target: 'value' | 'key' = 'value') => {
    if (typeof name !== 'string') return;
    const message = toolReferenceProblem(name, servers, what);
    if (message) problems.push({ path, target, message });
  };
  const checkPolicy = (policy: unknown, path: PathSegment[]) => {
    if (!isRecord(policy)) return;
    if (Array.isArray(policy.fallbacks)) {
      policy.fallbacks.forEach((fallback, index) => checkTool(fallback, [...path, 'fallbacks', index], 'fallback'));
    }
    if (isRecord(policy.sync_alternative)) {
      checkTool(policy.sync_alternative.tool, [...path, 'sync_alternative', 'tool'], 'sync alternative');
    }
    if (Array.isArray(policy.classify)) {
      policy.classify.forEach((rule, index) => {
        if (!isRecord(rule) || !isRecord(rule.when)) return;
        const rulePath = [...path, 'classify', index, 'when'];
        const label = typeof rule.name === 'string' ? `rule "${rule.name}"` : `rule ${index + 1}`;
        const patterns: Array<[unknown, PathSegment[]]> = [[rule.when.message, [...rulePath, 'message']]];
        if (isRecord(rule.when.field)) patterns.push([rule.when.field.matches, [...rulePath, 'field', 'matches']]);
        for (const [pattern, patternPath] of patterns) {
          const message = patternProblem(pattern);
          if (message) problems.push({ path: patternPath, target: 'value', message: `${label}: ${message}` });
        }
      });
    }
  };
  checkPolicy(input.defaults, ['defaults']);
  if (isRecord(input.tools)) {
    for (const [name, policy] of Object.entries(input.tools)) {
      checkTool(name, ['tools', name], 'tool entry', 'key');
      checkPolicy(policy, ['tools', name]);
    }
  }
  return problems;
}

function toolReferenceProblem(reference: string, servers: ReadonlySet<string>, what: string): string | undefined {
  const parts = reference.split('/');
  const [first, second] = parts;
  const tool = parts.length === 2 ? second : first;
  if (parts.length > 2 || tool === undefined || !namePattern.test(tool) || (parts.length === 2 && !first)) {
    return `${what} ${JSON.stringify(reference)} is not a tool name: expected "tool" or "server/tool" (letters, digits, "_", "-", ".")`;
  }
  if (parts.length === 2 && first !== undefined && !servers.has(first)) {
    const known = servers.size > 0 ? `configured: ${[...servers].join(', ')}` : 'no servers are configured';
    return `${what} ${JSON.stringify(reference)} names server "${first}", which is not under servers (${known})`;
  }
  return undefined;
}

/** Patterns are matched case-insensitively by the classifier; compile them the same way. */
function patternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string') return undefined;
  try {
    new RegExp(pattern, 'i');
    return undefined;
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(/^.*: /s, '');
    return `invalid regular expression ${JSON.stringify(pattern)}: ${reason}`;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
