import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import { activitiesFor, type ActivityDeps } from './activities-for-role';
import { cachedWorkflowBundle } from './workflow-bundle';
import type { QueueRole, TaskQueues } from '../contract/task-queues';
import { keyPolicyFrom } from '../inference/inference-keys';

export interface CreateWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  queues: TaskQueues;
  roles: QueueRole[];
  runDir: string;
  /** A pre-built bundle (tests bundle once); otherwise workflows are bundled from source. */
  workflowBundle?: { codePath: string };
  /** Concurrent activities per queue role (llm: bounds load on the inference server). */
  concurrency?: Partial<Record<QueueRole, number>>;
  /** In-flight activities get this long to finish on shutdown. */
  shutdownGraceTime?: Duration;
  identity?: string;
}

export interface LeafeWorkers {
  workers: Worker[];
  /** The worker-specific env queue of this process (sessions are stepped through it). */
  sessionQueue: string;
  /** Runs until shutdown (SIGINT/SIGTERM are handled by the Temporal runtime) or a worker fails. */
  run(): Promise<void>;
  shutdown(): void;
}

const SESSION_QUEUE_SLOTS = 1000;
const DEFAULT_CONCURRENCY: Record<QueueRole, number> = { workflows: 200, llm: 64, env: 8, train: 1 };

export async function createWorkers(options: CreateWorkersOptions): Promise<LeafeWorkers> {
  keyPolicyFrom(); // a malformed LEAFE_INFERENCE_KEYS stops the worker here, not at its first request
  const identity = options.identity ?? `${os.hostname()}:${process.pid}`;
  const sessionQueue = `${options.queues.env}@${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const concurrency = { ...DEFAULT_CONCURRENCY, ...definedOnly(options.concurrency ?? {}) };
  // takeStep (on the session queue) asks the model and steps the env: both are bounded per process.
  const deps: ActivityDeps = { runDir: options.runDir, sessionQueue, limits: { envSteps: concurrency.env, inferenceRequests: concurrency.llm } };
  const common: Partial<WorkerOptions> = {
    connection: options.connection,
    namespace: options.namespace,
    identity,
    shutdownGraceTime: options.shutdownGraceTime ?? '10s',
    // Heartbeats (and so cancellations) reach the server within seconds, not up to a minute.
    maxHeartbeatThrottleInterval: '5s',
  };
  const workers: Worker[] = [];
  for (const role of options.roles) {
    if (role === 'workflows') {
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: options.queues.workflows,
          activities: activitiesFor('workflows', deps),
          workflowBundle: options.workflowBundle ?? (await cachedWorkflowBundle()),
          maxConcurrentWorkflowTaskExecutions: concurrency.workflows,
          maxCachedWorkflows: 1000,
        }),
      );
      continue;
    }
    const activities = activitiesFor(role, deps);
    workers.push(
      await Worker.create({ ...common, taskQueue: options.queues[role], activities, maxConcurrentActivityTaskExecutions: concurrency[role] }),
    );
    if (role === 'env') {
      // Worker-specific queue: steps of a session opened here must come back to this process.
      // Its activities mostly wait (on the model), and the limiters bound the real work, so
      // slots are plentiful: a step must never wait for a slot long enough to look like a lost worker.
      workers.push(
        await Worker.create({ ...common, taskQueue: sessionQueue, activities, maxConcurrentActivityTaskExecutions: SESSION_QUEUE_SLOTS }),
      );
    }
  }
  return {
    workers,
    sessionQueue,
    run: async () => {
      await Promise.all(workers.map((w) => w.run()));
    },
    shutdown: () => workers.forEach((w) => w.shutdown()),
  };
}

/** Drops unset options (`--llm-concurrency` not given) so they do not override the defaults. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
