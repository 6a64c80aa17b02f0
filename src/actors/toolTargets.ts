// Where a tool call goes: its server checked, and each target's policy from the config, overrides and annotations.
import { ErrorCode, RetraceError } from '../common/errors.js';
import { policyFor } from '../config/policyFor.js';
import type { RuntimeConfig } from '../config/runtimeConfig.js';
import type { ToolTarget } from '../machines/toolCallTypes.js';
import type { ParsedToolPolicyConfig } from '../policy/toolPolicy.js';
import { ANNOTATION_WAIT_MS, type AnnotationLookup } from './annotationLookup.js';
import type { ServerConfig } from './serverConfig.js';

/** `server/tool`, or a tool of `defaultServer`. */
export function splitRef(ref: string, defaultServer: string): { server: string; tool: string } {
  const slash = ref.indexOf('/');
  return slash < 0 ? { server: defaultServer, tool: ref } : { server: ref.slice(0, slash), tool: ref.slice(slash + 1) };
}

export interface ToolTargets {
  /** A target on what is known now: fallbacks are resolved when the call starts, without waiting for lookups. */
  targetNow(
    ref: { server: string; tool: string },
    policies?: Readonly<Record<string, ParsedToolPolicyConfig>>,
  ): ToolTarget;
  /** The call's own target: its policy waits (briefly) for the server's tool annotations. */
  primaryTarget(
    ref: { server: string; tool: string },
    overrides: ParsedToolPolicyConfig | undefined,
    signal: AbortSignal | undefined,
  ): Promise<ToolTarget>;
}

export function createToolTargets(options: {
  config: RuntimeConfig;
  annotations: AnnotationLookup;
  /** The servers calls may name (the config's and running workflows'). */
  servers: Readonly<Record<string, ServerConfig>>;
  /** A connector given by the caller knows its own servers: any name goes. */
  connectorKnowsServers: boolean;
}): ToolTargets {
  const { config, annotations, servers: table, connectorKnowsServers } = options;

  function checkServer(server: string): void {
    if (!Object.hasOwn(table, server) && !connectorKnowsServers) {
      throw new RetraceError(
        ErrorCode.unknownServer,
        `unknown server "${server}" (configured: ${Object.keys(table).join(', ') || 'none'})`,
      );
    }
  }

  function targetNow(
    ref: { server: string; tool: string },
    policies?: Readonly<Record<string, ParsedToolPolicyConfig>>,
  ): ToolTarget {
    checkServer(ref.server);
    const known = annotations.known(ref.server);
    if (!known) void annotations.start(ref.server);
    const overrides = policies?.[`${ref.server}/${ref.tool}`] ?? policies?.[ref.tool];
    return { ...ref, policy: policyFor(config, ref.server, ref.tool, known?.get(ref.tool), overrides) };
  }

  async function primaryTarget(
    ref: { server: string; tool: string },
    overrides: ParsedToolPolicyConfig | undefined,
    signal: AbortSignal | undefined,
  ): Promise<ToolTarget> {
    checkServer(ref.server);
    const configured = policyFor(config, ref.server, ref.tool, undefined, overrides);
    const byName = await annotations.wait(ref.server, Math.min(configured.timeoutMs, ANNOTATION_WAIT_MS), signal);
    const toolAnnotations = byName?.get(ref.tool);
    return {
      ...ref,
      policy: toolAnnotations ? policyFor(config, ref.server, ref.tool, toolAnnotations, overrides) : configured,
    };
  }

  return { targetNow, primaryTarget };
}
