// Per-test access to the shared dev server: clients, unique task queues, in-process workers.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { createWorkers, type LeafeWorkers } from '../../runtime/create-workers';
import { QUEUE_ROLES, taskQueues, type QueueRole, type TaskQueues } from '../../workers/task-queues';

let runtimeInstalled = false;
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed by another helper in this process
  }
}

export interface TestTemporal {
  address: string;
  client: Client;
  queues: TaskQueues;
  runDir: string;
  bundlePath: string;
  startWorkers(options?: { roles?: QueueRole[]; concurrency?: Partial<Record<QueueRole, number>> }): Promise<LeafeWorkers>;
  close(): Promise<void>;
}

export async function testTemporal(name: string): Promise<TestTemporal> {
  quietRuntime();
  const address = inject('temporalAddress');
  const bundlePath = inject('workflowBundlePath');
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  const runDir = path.join(inject('testRunDir'), id);
  mkdirSync(runDir, { recursive: true });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const queues = taskQueues(`test-${id}`);
  const running: Array<{ workers: LeafeWorkers; done: Promise<void>; native: NativeConnection }> = [];
  return {
    address,
    client,
    queues,
    runDir,
    bundlePath,
    async startWorkers(options = {}) {
      const native = await NativeConnection.connect({ address });
      const workers = await createWorkers({
        connection: native,
        namespace: 'default',
        queues,
        roles: options.roles ?? QUEUE_ROLES,
        runDir,
        workflowBundle: { codePath: bundlePath },
        concurrency: options.concurrency,
        shutdownGraceTime: '1s',
      });
      running.push({ workers, native, done: workers.run() });
      return workers;
    },
    async close() {
      for (const r of running) r.workers.shutdown();
      await Promise.all(running.map((r) => r.done.catch(() => undefined)));
      await Promise.all(running.map((r) => r.native.close()));
      await connection.close();
    },
  };
}
