// Seed 000's deployment tools: promote a staging version, watch its health settle, roll it back (or fail to).
import { z } from 'zod';
import type { DeploymentHealth } from './examplePlan.js';
import type { Deployment } from './exampleState.js';
import { defineTool, type ExampleTool } from './exampleTool.js';
import { ToolFailure, type ExampleWorld } from './exampleWorld.js';

const ERROR_RATE_THRESHOLD = 0.05;
const REQUESTS_PER_CHECK = 1000;

/** Error rates seen while the deployment rolls out, and once it has settled, for each health it settles to. */
const errorRates: Record<DeploymentHealth, { rollingOut: number; settled: number }> = {
  healthy: { rollingOut: 0.002, settled: 0.001 },
  degraded: { rollingOut: 0.03, settled: 0.08 },
  failed: { rollingOut: 0.12, settled: 0.35 },
};

const settledStatus: Record<DeploymentHealth, Deployment['status']> = {
  healthy: 'success',
  degraded: 'degraded',
  failed: 'failure',
};

function targetHealth(world: ExampleWorld, deployment: Deployment): DeploymentHealth {
  return world.deployments.versions[deployment.version] ?? world.deployments.health;
}

/** The rollout checks are 30 s apart (the seed's monitor); a rollout nobody checks settles after as long. */
const CHECK_INTERVAL_MS = 30_000;

/** When a rollout settles on the clock, whether or not anyone checks it (undefined for a state without `started_at`). */
function settlesAt(world: ExampleWorld, deployment: Deployment): number | undefined {
  if (deployment.started_at === undefined) return undefined;
  return deployment.started_at + world.deployments.checks * CHECK_INTERVAL_MS;
}

/** Settles a rollout that has run its course on the clock, whether or not anyone checked it. */
function settleIfDue(world: ExampleWorld, deployment: Deployment): void {
  const dueAt = settlesAt(world, deployment);
  if (deployment.status !== 'in_progress' || dueAt === undefined) return;
  if (world.clock.now() >= dueAt) deployment.status = settledStatus[targetHealth(world, deployment)];
}

/**
 * The refusal of a promotion while `running` rolls out: a lock conflict that says when to try again — the whole
 * seconds until the rollout settles on the clock, as a deployment service answering 409 with Retry-After would —
 * so a caller waits for it instead of spending its retries on a wait it cannot shorten.
 */
function rolloutConflict(world: ExampleWorld, running: Deployment): ToolFailure {
  const message = `Deployment ${running.deployment_id} is still rolling out: concurrent deployment conflict`;
  const dueAt = settlesAt(world, running);
  if (dueAt === undefined) return new ToolFailure(message, { type: 'conflict' });
  const retryAfterSeconds = Math.max(1, Math.ceil((dueAt - world.clock.now()) / 1000));
  return new ToolFailure(`${message}; retry after ${retryAfterSeconds} s, when it settles`, {
    type: 'conflict',
    retryAfterSeconds,
  });
}

function findDeployment(world: ExampleWorld, deploymentId: string): Deployment {
  const deployment = world.state.deployments.find((candidate) => candidate.deployment_id === deploymentId);
  if (!deployment) throw new ToolFailure(`Deployment ${deploymentId} not found`);
  return deployment;
}

function view(world: ExampleWorld, deployment: Deployment): Record<string, unknown> {
  const target = targetHealth(world, deployment);
  const rollingOut = deployment.status === 'in_progress';
  const errorRate = rollingOut ? errorRates[target].rollingOut : errorRates[target].settled;
  const health: DeploymentHealth = rollingOut && target !== 'healthy' ? 'degraded' : target;
  const requests = REQUESTS_PER_CHECK * Math.max(1, deployment.checks);
  const { started_at: _startedAt, ...shown } = deployment;
  return {
    deployment: {
      ...shown,
      health: deployment.status === 'rolled_back' ? 'healthy' : health,
      error_rate: errorRate,
      error_rate_threshold: ERROR_RATE_THRESHOLD,
      requests,
      errors: Math.round(requests * errorRate),
    },
  };
}

export const deploymentTools: ExampleTool[] = [
  defineTool({
    name: 'promote_to_production_tool',
    description:
      'Promotes a staging version to production (a new deployment per call; dry_run only reports what would happen).',
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    input: z.object({
      staging_version: z.string().min(1),
      approval_token: z.string().min(1),
      dry_run: z.boolean().default(false),
    }),
    run: ({ staging_version, approval_token, dry_run }, { world }) => {
      const { approval_tokens, staging_versions } = world.state;
      if (approval_tokens.length > 0 && !approval_tokens.includes(approval_token)) {
        throw new ToolFailure('Authentication failed: the approval token is invalid or expired');
      }
      if (!staging_versions.includes(staging_version)) {
        throw new ToolFailure(`Staging version ${staging_version} not found (staged: ${staging_versions.join(', ')})`);
      }
      for (const deployment of world.state.deployments) settleIfDue(world, deployment);
      const running = world.state.deployments.find(
        (deployment) => deployment.environment === 'production' && deployment.status === 'in_progress',
      );
      if (running && !dry_run) throw rolloutConflict(world, running);
      const previous = world.state.production_version;
      if (dry_run) return { status: 'dry_run', staging_version, current_version: previous, would_replace: previous };
      const deployment: Deployment = {
        deployment_id: world.nextId('dep'),
        environment: 'production',
        version: staging_version,
        previous_version: previous,
        status: 'in_progress',
        checks: 0,
        started_at: world.clock.now(),
      };
      world.state.deployments.push(deployment);
      world.state.production_version = staging_version;
      world.recordEffect('promote_to_production_tool', deployment.deployment_id);
      const { started_at: _startedAt, ...shown } = deployment;
      return shown;
    },
  }),
  defineTool({
    name: 'get_deployment_status_tool',
    description:
      'A deployment’s status (in_progress, success, degraded, failure, rolled_back), its health and error rate against the threshold.',
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    input: z.object({ deployment_id: z.string().min(1) }),
    run: ({ deployment_id }, { world }) => {
      const deployment = findDeployment(world, deployment_id);
      if (deployment.status === 'in_progress') {
        deployment.checks += 1;
        if (deployment.checks >= world.deployments.checks) {
          deployment.status = settledStatus[targetHealth(world, deployment)];
        }
      }
      return view(world, deployment);
    },
  }),
  defineTool({
    name: 'rollback_deployment_tool',
    description:
      'Rolls the latest deployment of an environment back to the version before it (dry_run only reports what would happen).',
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    input: z.object({
      environment: z.enum(['production', 'staging']).default('production'),
      reason: z.string().min(1),
      dry_run: z.boolean().default(false),
    }),
    run: ({ environment, reason, dry_run }, { world }) => {
      const deployment = world.state.deployments.findLast(
        (candidate) => candidate.environment === environment && candidate.status !== 'rolled_back',
      );
      if (!deployment) throw new ToolFailure(`Nothing to roll back in ${environment}: no deployment found`);
      const restored = deployment.previous_version;
      if (restored === null) {
        throw new ToolFailure(
          `Nothing to roll back to: ${deployment.deployment_id} has no previous version (not found)`,
        );
      }
      if (dry_run)
        return { status: 'dry_run', deployment_id: deployment.deployment_id, would_restore_version: restored };
      if (world.deployments.rollback === 'fail') throw new ToolFailure(world.deployments.rollback_error);
      deployment.status = 'rolled_back';
      if (environment === 'production') world.state.production_version = restored;
      world.recordEffect('rollback_deployment_tool', deployment.deployment_id);
      return {
        status: 'rolled_back',
        environment,
        deployment_id: deployment.deployment_id,
        rolled_back_version: deployment.version,
        restored_version: restored,
        reason,
      };
    },
  }),
];
