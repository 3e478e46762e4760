// The production topology on one machine: Temporal Server on PostgreSQL (`leafe cluster up`), one
// worker process per queue (two env workers), and `leafe run --wait` as a plain client.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Connection } from '@temporalio/client';
import { PROJECT_ROOT } from '../../infra/paths';
import { CLUSTER, clusterDown, clusterRunning, clusterUp } from '../../runtime/temporal-cluster';
import { PER_QUEUE_WORKER_PROCESSES } from '../../workers/task-queues';

const runDir = mkdtempSync(path.join(os.tmpdir(), 'leafe-cluster-test-'));
const env = { ...process.env, TEMPORAL_ADDRESS: CLUSTER.frontend, LEAFE_RUN_DIR: runDir, LEAFE_TASK_QUEUE_PREFIX: `cl${process.pid}` };
const workers: ChildProcess[] = [];
let startedCluster = false;

function leafeNode(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, script), ...args], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(async () => {
  startedCluster = !clusterRunning().server;
  await clusterUp((line) => process.stderr.write(`${line}\n`));
  for (const queue of PER_QUEUE_WORKER_PROCESSES) workers.push(leafeNode('runtime/worker-main.ts', ['--queues', queue]));
}, 1_800_000);

afterAll(async () => {
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));
  if (startedCluster) await clusterDown();
  rmSync(runDir, { recursive: true, force: true });
});

test('a study runs on the PostgreSQL-backed server through per-queue worker processes', async () => {
  const conn = await Connection.connect({ address: CLUSTER.frontend });
  const info = await conn.workflowService.getSystemInfo({});
  expect(info.serverVersion).toBe('1.32.0');
  await conn.close();

  const run = leafeNode('cli/leafe.ts', ['run', path.join(PROJECT_ROOT, 'examples', 'demo.yaml'), '--wait', '--workers', 'external', '--id', `cluster-${process.pid}`]);
  let stdout = '';
  let stderr = '';
  run.stdout!.on('data', (d) => (stdout += d));
  run.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((r) => run.once('exit', r));
  expect(code, stderr.slice(-3000)).toBe(0);
  expect(stdout).toMatch(/^leafe\s+2\s+/m);
  expect(stdout).toMatch(/^rft\s+2\s+/m);
  expect(stdout).toMatch(/^base\s+0\s+/m);
  // Each worker process served its own queue (none is an all-queue local worker).
  const ps = spawnSync('ps', ['-o', 'args=', '-p', workers.map((w) => w.pid).join(',')], { encoding: 'utf8' }).stdout;
  expect(ps.match(/--queues (workflows|env|llm|train)\b/g)?.length).toBe(5);
}, 1_200_000);
