// The production topology on one machine: Temporal Server on PostgreSQL (`leafe cluster up`), one
// worker process per queue (two env workers), and `leafe run --wait` as a plain client.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths';
import { startLocalStack, type LocalStack } from '../../runtime/local-stack';
import { clusterDown, clusterRunning } from '../../runtime/temporal-cluster';
import type { WorkerProcess } from '../../runtime/worker-process';
import { PER_QUEUE_WORKER_PROCESSES } from '../../contract/task-queues';
import { runLeafe } from '../support/leafe-cli';

const runDir = mkdtempSync(path.join(os.tmpdir(), 'leafe-cluster-test-'));
const taskQueuePrefix = `cl${process.pid}`;
let stack: LocalStack | undefined;
let workers: WorkerProcess[] = [];
let startedCluster = false;

beforeAll(async () => {
  startedCluster = !clusterRunning().server;
  stack = await startLocalStack({ temporal: { kind: 'cluster' }, log: (line) => process.stderr.write(`${line}\n`) });
  workers = PER_QUEUE_WORKER_PROCESSES.map((queues, i) => stack!.workerProcess({ queues, taskQueuePrefix, runDir, logFile: path.join(runDir, `worker-${i}-${queues}.log`), name: `${queues} worker` }));
  await Promise.all(workers.map((w) => w.start()));
}, 1_800_000);

afterAll(async () => {
  await stack?.stop();
  if (startedCluster) await clusterDown();
  rmSync(runDir, { recursive: true, force: true });
});

test('a study runs on the PostgreSQL-backed server through per-queue worker processes', async () => {
  const info = await stack!.client.workflowService.getSystemInfo({});
  expect(info.serverVersion).toBe('1.32.0');

  const env = { TEMPORAL_ADDRESS: stack!.address, LEAFE_RUN_DIR: runDir, LEAFE_TASK_QUEUE_PREFIX: taskQueuePrefix };
  const { code, stdout, stderr } = await runLeafe(['run', path.join(PROJECT_ROOT, 'examples', 'demo.yaml'), '--wait', '--workers', 'external', '--id', `cluster-${process.pid}`], { env, timeoutMs: 1_200_000 });
  expect(code, stderr.slice(-3000)).toBe(0);
  expect(stdout).toMatch(/^leafe\s+2\s+/m);
  expect(stdout).toMatch(/^rft\s+2\s+/m);
  expect(stdout).toMatch(/^base\s+0\s+/m);
  // Each worker process served its own queue (none is an all-queue local worker).
  const ps = spawnSync('ps', ['-o', 'args=', '-p', workers.map((w) => w.pid).join(',')], { encoding: 'utf8' }).stdout;
  expect(ps.match(/--queues (workflows|env|llm|train)\b/g)?.length).toBe(5);
}, 1_200_000);
