import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../infra/paths';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time of the whole command, node and tsx start included. */
  ms: number;
}

/** Node's arguments that start the `leafe` CLI. */
const LEAFE = ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'leafe.ts')];

/** Runs the real `leafe` CLI as a user would (a child process), with extra environment variables. */
export function runLeafe(args: string[], options: { env?: Record<string, string | undefined>; timeoutMs: number }): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...LEAFE, ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...options.env }, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/** Starts the real `leafe` CLI and leaves it running: its stderr so far, and its exit code once it exits. */
export function spawnLeafe(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [...LEAFE, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}
