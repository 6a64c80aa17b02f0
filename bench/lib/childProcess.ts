// Runs a benchmark script in a fresh Node process (`--expose-gc --import tsx`) and reads the JSON it prints last.
import { spawn } from 'node:child_process';

/** Starts `node --expose-gc --import tsx <script> …args`; resolves with the parsed last line of its stdout. */
export function runChild(script: string, args: readonly string[] = []): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`${script} ${args.join(' ')} ended with ${signal ?? `code ${code}`}`));
        return;
      }
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(last) as unknown);
      } catch {
        reject(new Error(`${script} did not print JSON on its last line: ${last.slice(0, 200)}`));
      }
    });
  });
}
