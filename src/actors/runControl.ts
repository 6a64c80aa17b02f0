// Requests to the process that owns a run (cancel, resolve): one JSON file each in `<dataDir>/control/`.
import { randomUUID } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { WorkflowResolvedData } from '../events/workflowEvents.js';
import type { Clock } from '../common/clock.js';
import { runFileName } from './runOwnership.js';

export const ControlAction = z.enum(['cancel', 'resolve']);

/** What a `resolve` request decides: `workflow.resolved`'s data without the step (the owner knows which waits). */
export const ControlResolution = WorkflowResolvedData.omit({ stepActorId: true });
export type ControlResolution = z.infer<typeof ControlResolution>;
export type ControlAction = z.infer<typeof ControlAction>;

export const ControlRequest = z.object({
  v: z.literal(1),
  id: z.string(),
  runId: z.string(),
  action: ControlAction,
  /** Why (a cancel's reason, recorded in `workflow.cancelled`). */
  reason: z.string().optional(),
  /** What a `resolve` decides (retry | skip | abort | value, and the value): read by the resolving side. */
  resolution: ControlResolution.optional(),
  requestedAt: z.number(),
  from: z.object({ pid: z.number().int(), hostname: z.string() }),
});
export type ControlRequest = z.infer<typeof ControlRequest>;

export const controlDir = (dataDir: string): string => join(dataDir, 'control');

const REQUEST_SUFFIX = '.json';

/** Writes a request for the owner of `request.runId` to pick up: whole or not at all (written aside, then renamed). */
export async function sendControlRequest(
  dataDir: string,
  request: Omit<ControlRequest, 'v' | 'id' | 'from'>,
): Promise<{ request: ControlRequest; path: string }> {
  const full: ControlRequest = {
    v: 1,
    id: randomUUID(),
    ...request,
    from: { pid: process.pid, hostname: hostname() },
  };
  const dir = controlDir(dataDir);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${runFileName(full.runId)}.${full.id}${REQUEST_SUFFIX}`);
  // The temporary name does not end in `.json`: a watcher never reads a half-written request.
  await writeFile(`${path}.tmp`, `${JSON.stringify(full)}\n`);
  await rename(`${path}.tmp`, path);
  return { request: full, path };
}

export interface ControlWatcher {
  /** Looks for requests now (also done on every change notice and every `pollMs`). */
  scan(): Promise<void>;
  close(): void;
}

export interface ControlWatcherOptions {
  dataDir: string;
  clock: Clock;
  /** Whether a request's run is one this process executes (others' requests are left for their owner). */
  owns(runId: string): boolean;
  /** Acts on a request; true acknowledges it (its file is removed), false leaves it for a process that can act. */
  act(request: ControlRequest): boolean;
  /** A request file that is not a request (it is removed, so it is not reported again). */
  onInvalid(path: string, reason: string): void;
  /** The fallback when change notices are missed (some file systems give none); 500 ms by default. */
  pollMs?: number;
}

/** Watches `<dataDir>/control/` (fs.watch, and a slow poll in case a notice is missed) for requests to this process. */
export function watchControlRequests(options: ControlWatcherOptions): ControlWatcher {
  const { dataDir, clock } = options;
  const dir = controlDir(dataDir);
  const pollMs = options.pollMs ?? 500;
  let closed = false;
  let watcher: FSWatcher | undefined;
  let timer: unknown;
  let scanning: Promise<void> = Promise.resolve();

  async function scanOnce(): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (closed || !name.endsWith(REQUEST_SUFFIX)) continue;
      const path = join(dir, name);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch {
        continue; // Taken by another process meanwhile.
      }
      let request: ControlRequest;
      try {
        const parsed = ControlRequest.safeParse(JSON.parse(text));
        if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'not a control request');
        request = parsed.data;
      } catch (error) {
        options.onInvalid(path, error instanceof Error ? error.message : String(error));
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (!options.owns(request.runId)) continue;
      if (options.act(request)) await unlink(path).catch(() => undefined);
    }
  }

  function scan(): Promise<void> {
    const next = scanning.then(scanOnce, scanOnce);
    scanning = next.catch(() => undefined);
    return next;
  }

  function startWatching(): void {
    if (watcher || closed) return;
    try {
      watcher = watch(dir, { persistent: false }, () => void scan().catch(() => undefined));
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined; // The directory appears with the first request; the poll finds it.
    }
  }

  function poll(): void {
    if (closed) return;
    startWatching();
    void scan()
      .catch(() => undefined)
      .finally(() => {
        if (!closed) timer = clock.setTimeout(poll, pollMs);
      });
  }

  void mkdir(dir, { recursive: true })
    .catch(() => undefined)
    .then(startWatching);
  poll();
  return {
    scan,
    close() {
      closed = true;
      watcher?.close();
      clock.clearTimeout(timer);
    },
  };
}
