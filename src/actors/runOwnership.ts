// Which process executes a run: `<dataDir>/runs/<runId>.owner` (pid, hostname, started), live while that pid is.
import { hostname } from 'node:os';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { isProcessAlive } from '../common/processAlive.js';

export const RunOwner = z.object({
  pid: z.number().int().positive(),
  hostname: z.string(),
  /** Clock time the process took the run. */
  started: z.number(),
});
export type RunOwner = z.infer<typeof RunOwner>;

/** A run id as a file name: any character a path would read differently is escaped. */
export const runFileName = (runId: string): string => encodeURIComponent(runId).replace(/\./g, '%2E');

export const ownerFile = (dataDir: string, runId: string): string =>
  join(dataDir, 'runs', `${runFileName(runId)}.owner`);

/** Writes this process's owner file for `runId` (whole or not at all: written beside it, then renamed). */
export async function claimRun(dataDir: string, runId: string, started: number): Promise<void> {
  const path = ownerFile(dataDir, runId);
  await mkdir(join(dataDir, 'runs'), { recursive: true });
  const owner: RunOwner = { pid: process.pid, hostname: hostname(), started };
  await writeFile(`${path}.${process.pid}.tmp`, `${JSON.stringify(owner)}\n`);
  await rename(`${path}.${process.pid}.tmp`, path);
}

/** Removes the owner file of `runId` if this process wrote it. */
export async function releaseRun(dataDir: string, runId: string): Promise<void> {
  const owner = await readOwner(dataDir, runId);
  if (owner?.pid === process.pid && owner.hostname === hostname()) {
    await unlink(ownerFile(dataDir, runId)).catch(() => undefined);
  }
}

/** The owner file's content, or undefined when there is none (or it is not one). */
export async function readOwner(dataDir: string, runId: string): Promise<RunOwner | undefined> {
  try {
    const parsed = RunOwner.safeParse(JSON.parse(await readFile(ownerFile(dataDir, runId), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the owner is a live process of this host. An owner on another host cannot be checked from here and counts
 * as not live (the file log is a local store); a stale file (its process died) is ignored.
 */
export function isOwnerAlive(owner: RunOwner): boolean {
  return owner.hostname === hostname() && isProcessAlive(owner.pid);
}

/** The live owner of `runId`, if any. */
export async function liveOwner(dataDir: string, runId: string): Promise<RunOwner | undefined> {
  const owner = await readOwner(dataDir, runId);
  return owner && isOwnerAlive(owner) ? owner : undefined;
}
