// Per-test access to the shared dev server: clients, unique task queues, in-process workers and
// worker processes (a local stack on the global setup's server and bundle).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import type { LeafeWorkers } from '../../runtime/create-workers';
import { quietRuntime, startLocalStack } from '../../runtime/local-stack';
import type { WorkerProcess } from '../../runtime/worker-process';
import { taskQueues, type QueueRole, type TaskQueues } from '../../contract/task-queues';

export interface TestTemporal {
  address: string;
  client: Client;
  queues: TaskQueues;
  runDir: string;
  bundlePath: string;
  startWorkers(options?: { roles?: QueueRole[]; concurrency?: Partial<Record<QueueRole, number>> }): Promise<LeafeWorkers>;
  /** A started `runtime/worker-main.ts` process on this test's queues (`queues`: e.g. `env`), output in the run dir. */
  startWorkerProcess(queues?: string): Promise<WorkerProcess>;
  close(): Promise<void>;
}

export async function testTemporal(name: string): Promise<TestTemporal> {
  quietRuntime();
  const bundlePath = inject('workflowBundlePath');
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  const runDir = path.join(inject('testRunDir'), id);
  mkdirSync(runDir, { recursive: true });
  const stack = await startLocalStack({ temporal: { kind: 'address', settings: { address: inject('temporalAddress'), namespace: 'default' } }, bundle: { codePath: bundlePath } });
  const prefix = `test-${id}`;
  const queues = taskQueues(prefix);
  let processes = 0;
  return {
    address: stack.address,
    client: stack.client,
    queues,
    runDir,
    bundlePath,
    async startWorkers(options = {}) {
      const { workers } = await stack.startWorkers({ queues, roles: options.roles, runDir, concurrency: options.concurrency, shutdownGraceTime: '1s' });
      return workers;
    },
    async startWorkerProcess(roles) {
      const n = ++processes;
      const worker = stack.workerProcess({ queues: roles, taskQueuePrefix: prefix, runDir, logFile: path.join(runDir, `worker-process-${n}.log`), name: `worker ${n}` });
      await worker.start();
      return worker;
    },
    close: () => stack.stop(),
  };
}
