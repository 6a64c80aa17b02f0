// Small file systems for storage-fault tests: a size-limited tmpfs (a full disk) and a read-only bind mount (root only).
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';

function mount(args: string[], what: string): void {
  try {
    execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `${what} failed (mount ${args.join(' ')}): ${stderr || String(error)}. The storage-fault tests mount small ` +
        'file systems and need root (or CAP_SYS_ADMIN) for it.',
      { cause: error },
    );
  }
}

/** Mounts a tmpfs of `bytes` at `dir` (made if missing): writes past its size fail with ENOSPC. */
export async function mountTmpfs(dir: string, bytes: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  mount(['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], `mounting a ${bytes}-byte tmpfs at ${dir}`);
}

/** Grows (or shrinks) the tmpfs at `dir` to `bytes`, keeping its files. */
export function resizeTmpfs(dir: string, bytes: number): void {
  mount(['-o', `remount,size=${bytes}`, dir], `resizing the tmpfs at ${dir}`);
}

/** Makes `source` visible read-only at `target` (made if missing): every write there fails with EROFS. */
export async function bindReadOnly(source: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  mount(['--bind', source, target], `bind-mounting ${source} at ${target}`);
  mount(['-o', 'remount,ro,bind', target], `making the bind mount at ${target} read-only`);
}

/** Unmounts `dir`; lazily when something still holds it, so a failed test cannot leave the mount busy. */
export function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    } catch {
      // Not mounted (setup failed before mounting).
    }
  }
}
