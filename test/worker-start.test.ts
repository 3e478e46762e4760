// A worker process started before its Temporal server waits with backoff and then serves, instead
// of exiting at once; a concurrency of 0 is refused naming the flag (issue 25: "also known").
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, inject, test } from 'vitest';
import { freePort, startDevServer } from '../runtime/dev-server';
import { PROJECT_ROOT } from '../infra/paths';

const WORKER = ['--import', 'tsx', path.join(PROJECT_ROOT, 'runtime', 'worker-main.ts')];

test('--llm-concurrency 0 and --env-concurrency 0 are refused, naming the flag', () => {
  for (const flag of ['--llm-concurrency', '--env-concurrency']) {
    const r = spawnSync(process.execPath, [...WORKER, flag, '0', '--address', '127.0.0.1:1'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(`${flag}: got "0"; expected a positive integer`);
  }
});

test('a worker started while its server is down retries with backoff, then serves once the server is up', async () => {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leafe-worker-start-'));
  const child = spawn(process.execPath, [...WORKER, '--queues', 'workflows', '--address', `127.0.0.1:${port}`, '--run-dir', dir], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const until = async (what: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; !what(); await new Promise((r) => setTimeout(r, 200))) if (Date.now() > end) throw new Error(`timed out; worker stderr:\n${stderr}`);
  };
  let server: Awaited<ReturnType<typeof startDevServer>> | undefined;
  try {
    await until(() => (stderr.match(/cannot reach Temporal at 127\.0\.0\.1:\d+ \(attempt \d+: .*\); retrying in/g) ?? []).length >= 2, 60_000);
    expect(exited).toBeUndefined();
    server = await startDevServer({ cli: inject('temporalCli'), dbFile: path.join(dir, 'temporal.sqlite'), port, ui: false });
    await until(() => /serving workflows on 127\.0\.0\.1:\d+/.test(stderr), 90_000);
    expect(exited).toBeUndefined();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (exited !== undefined ? r(null) : child.once('exit', r)));
    await server?.stop();
  }
}, 180_000);
