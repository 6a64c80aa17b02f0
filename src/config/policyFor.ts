// The policy one call runs under: built-in defaults < config defaults < MCP annotations < tool < server/tool < call.
import { resolvePolicy } from '../policy/toolPolicy.js';
import type { ParsedToolPolicyConfig, ToolAnnotations, ToolPolicy } from '../policy/toolPolicy.js';
import { applyPolicyLayer, defaultToolPolicy, policyFromAnnotations } from '../policy/toolPolicy.js';
import type { RuntimeConfig } from './runtimeConfig.js';

interface ToolMemo {
  withoutAnnotations?: ToolPolicy;
  byAnnotations: WeakMap<ToolAnnotations, ToolPolicy>;
}

/** Resolved once per (config, server, tool, annotations object): this runs before every call. */
const memo = new WeakMap<RuntimeConfig, Map<string, ToolMemo>>();

/**
 * The resolved policy for `server/tool`. The result is shared between calls: treat it as read-only.
 * `overrides` (a per-call policy, already parsed) come last and are never memoised.
 */
export function policyFor(
  config: RuntimeConfig,
  server: string,
  tool: string,
  annotations?: ToolAnnotations,
  overrides?: ParsedToolPolicyConfig,
): ToolPolicy {
  const policy = memoised(config, server, tool, annotations);
  return overrides === undefined ? policy : applyPolicyLayer(policy, overrides);
}

function memoised(config: RuntimeConfig, server: string, tool: string, annotations?: ToolAnnotations): ToolPolicy {
  let tools = memo.get(config);
  if (!tools) memo.set(config, (tools = new Map()));
  const key = `${server}\u0000${tool}`;
  let entry = tools.get(key);
  if (!entry) tools.set(key, (entry = { byAnnotations: new WeakMap() }));
  const cached = annotations === undefined ? entry.withoutAnnotations : entry.byAnnotations.get(annotations);
  if (cached) return cached;
  const base = config.defaults ? applyPolicyLayer(defaultToolPolicy, config.defaults, 'defaults') : defaultToolPolicy;
  const policy = resolvePolicy(layersFor(config, server, tool, annotations), base);
  if (annotations === undefined) entry.withoutAnnotations = policy;
  else entry.byAnnotations.set(annotations, policy);
  return policy;
}

/** The tool's own layers, lowest first, over built-in defaults and `defaults:` (the base `resolvePolicy` starts from). */
export function layersFor(
  config: RuntimeConfig,
  server: string,
  tool: string,
  annotations?: ToolAnnotations,
): ParsedToolPolicyConfig[] {
  const layers: ParsedToolPolicyConfig[] = [policyFromAnnotations(annotations)];
  for (const name of [tool, `${server}/${tool}`]) {
    const entry = Object.hasOwn(config.tools, name) ? config.tools[name] : undefined;
    if (entry) layers.push(entry);
  }
  return layers;
}
