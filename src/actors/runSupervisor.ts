// A runtime's runs as other processes see them: each run it executes is claimed (an owner file) while it runs or
// waits here on an escalation, and the control requests for it (`retrace cancel`, `retrace resolve`) are acted on.
import type { Clock } from '../common/clock.js';
import type { Logger } from './logger.js';
import { watchControlRequests, type ControlRequest, type ControlWatcher } from './runControl.js';
import { claimRun, releaseRun } from './runOwnership.js';
import type { WorkflowHandle } from './workflowHost.js';

export interface RunSupervisor {
  /** Claims the run for this process and starts listening for its control requests. */
  started(handle: WorkflowHandle): Promise<void>;
  /** Gives the run up (its owner file is removed), unless it waits on an escalation: a resolve continues it here. */
  ended(runId: string, waiting: boolean): Promise<void>;
  /** Gives up every run still claimed (those waiting here): their owner files are removed. */
  close(): Promise<void>;
}

export function createRunSupervisor(options: { dataDir: string; clock: Clock; logger: Logger }): RunSupervisor {
  const { dataDir, clock, logger } = options;
  const running = new Map<string, WorkflowHandle>();
  let watcher: ControlWatcher | undefined;

  function act(request: ControlRequest): boolean {
    const handle = running.get(request.runId);
    if (!handle) return false;
    switch (request.action) {
      case 'cancel': {
        logger.info({ runId: request.runId, from: request.from }, 'cancel requested by another process');
        const reason = request.reason ?? `cancelled by process ${request.from.pid}`;
        // A run waiting on an escalation has nothing in flight: cancelling it is aborting the waiting step
        // (its cleanup and its parents' run, the run fails as aborted).
        if (handle.snapshot().status === 'escalated') {
          handle.resolve({ action: 'abort', note: reason }).catch((error: unknown) => {
            logger.warn({ err: error, runId: request.runId }, 'a cancel requested by another process was refused');
          });
        } else {
          handle.cancel(reason);
        }
        return true;
      }
      case 'resolve': {
        const resolution = request.resolution;
        if (!resolution) {
          logger.warn({ runId: request.runId }, 'ignored a resolve request without a resolution');
          return true;
        }
        logger.info({ runId: request.runId, from: request.from }, 'resolve requested by another process');
        const { action, value, by, note } = resolution;
        handle
          .resolve({
            action,
            ...(value === undefined ? {} : { value }),
            ...(by === undefined ? {} : { by }),
            ...(note === undefined ? {} : { note }),
          })
          .catch((error: unknown) => {
            logger.warn({ err: error, runId: request.runId }, 'a resolve requested by another process was refused');
          });
        return true;
      }
    }
  }

  return {
    async started(handle) {
      running.set(handle.runId, handle);
      watcher ??= watchControlRequests({
        dataDir,
        clock,
        owns: (runId) => running.has(runId),
        act,
        onInvalid: (path, reason) => logger.warn({ path, reason }, 'ignored a control request that is not one'),
      });
      try {
        await claimRun(dataDir, handle.runId, clock.now());
      } catch (error) {
        logger.warn(
          { err: error, runId: handle.runId },
          'could not write the run owner file; status shows it interrupted',
        );
      }
      // A request written before the claim (a quick cancel) is picked up now.
      void watcher.scan().catch(() => undefined);
    },
    async ended(runId, waiting) {
      if (waiting) return;
      running.delete(runId);
      await releaseRun(dataDir, runId).catch(() => undefined);
    },
    async close() {
      watcher?.close();
      watcher = undefined;
      const left = [...running.keys()];
      running.clear();
      await Promise.all(left.map((runId) => releaseRun(dataDir, runId).catch(() => undefined)));
    },
  };
}
