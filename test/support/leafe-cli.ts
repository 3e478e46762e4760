import { execFile } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../infra/paths';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time of the whole command, node and tsx start included. */
  ms: number;
}

/** Runs the real `leafe` CLI as a user would (a child process), with extra environment variables. */
export function runLeafe(args: string[], options: { env?: Record<string, string | undefined>; timeoutMs: number }): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'leafe.ts'), ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...options.env }, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}
