// A runtime's runs as other processes see them: each run it executes is claimed (an owner file) while it runs, and
// the control requests for it (`retrace cancel`) are acted on.
import type { Clock } from '../common/clock.js';
import type { Logger } from './logger.js';
import { watchControlRequests, type ControlRequest, type ControlWatcher } from './runControl.js';
import { claimRun, releaseRun } from './runOwnership.js';
import type { WorkflowHandle } from './workflowHost.js';

export interface RunSupervisor {
  /** Claims the run for this process and starts listening for its control requests. */
  started(handle: WorkflowHandle): Promise<void>;
  /** Gives the run up: its owner file is removed. */
  ended(runId: string): Promise<void>;
  close(): void;
}

export function createRunSupervisor(options: { dataDir: string; clock: Clock; logger: Logger }): RunSupervisor {
  const { dataDir, clock, logger } = options;
  const running = new Map<string, WorkflowHandle>();
  let watcher: ControlWatcher | undefined;

  function act(request: ControlRequest): boolean {
    const handle = running.get(request.runId);
    if (!handle) return false;
    switch (request.action) {
      case 'cancel':
        logger.info({ runId: request.runId, from: request.from }, 'cancel requested by another process');
        handle.cancel(request.reason ?? `cancelled by process ${request.from.pid}`);
        return true;
      case 'resolve':
        // Not acted on here yet: left for a process that can resolve (the resume work adds it).
        return false;
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
    async ended(runId) {
      running.delete(runId);
      await releaseRun(dataDir, runId).catch(() => undefined);
    },
    close() {
      watcher?.close();
      watcher = undefined;
    },
  };
}
