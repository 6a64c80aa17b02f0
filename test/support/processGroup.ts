// Processes by /proc (Linux): whether a process group still runs, which processes carry a marker variable. No vitest
// here, so the benchmarks use it too.
import { readdirSync, readFileSync } from 'node:fs';

/** One line of /proc/PID/stat: the state and the process group (fields after the parenthesised command name). */
function readStat(pid: string): { state: string; group: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', , group = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, group: Number(group) };
  } catch {
    return undefined;
  }
}

function processIds(): string[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
}

/**
 * Whether a process of the group `pid` leads (the CLI and the servers it spawned) is still running. Zombies do
 * not count: tsx's esbuild service outlives the CLI briefly and lands on a pid 1 that may never reap it.
 */
export function processGroupAlive(pid: number): boolean {
  return processIds().some((entry) => {
    const stat = readStat(entry);
    return stat !== undefined && stat.group === pid && stat.state !== 'Z';
  });
}

/** Pids of live processes whose environment carries `marker` (Linux /proc; a zombie's environment reads empty). */
export function processesMarked(marker: Record<string, string>): number[] {
  const wanted = Object.entries(marker).map(([key, value]) => `${key}=${value}`);
  const pids: number[] = [];
  for (const entry of processIds()) {
    try {
      const environment = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (wanted.every((pair) => environment.includes(pair))) pids.push(Number(entry));
    } catch {
      // Ended while we looked, or not ours to read.
    }
  }
  return pids;
}
