/**
 * One local stack: a Temporal service, the workflow bundle and workers (in this process, or worker
 * processes per queue). The tests, the history recorder, the benchmarks, the CLI and the chaos
 * runs all start theirs here; `stop()` ends everything the stack started (a cluster stays up).
 */
import type { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { QUEUE_ROLES, type QueueRole, type TaskQueues } from '../contract/task-queues';
import { connectClient, connectWorker, type TemporalSettings } from './connection';
import { createWorkers, type LeafeWorkers } from './create-workers';
import { DevServerProcess } from './dev-server-process';
import { ensureTemporal } from './embedded-server';
import { resolveTemporalCli } from './temporal-cli';
import { CLUSTER, clusterUp, ensureClusterNamespace } from './temporal-cluster';
import { buildWorkflowBundle } from './workflow-bundle';
import { WorkerProcess, type WorkerProcessParams } from './worker-process';

/** Where the stack's Temporal runs. */
export type TemporalPlace =
  /** A dev server of the stack's own on a SQLite file (a free port unless given), without UI; restartable in place. */
  | { kind: 'dev-server'; dbFile: string; cli?: string; port?: number; logFile?: string }
  /**
   * A running Temporal (dev server, cluster, Temporal Cloud). With `embeddedRunDir`, a dev server
   * on that directory's SQLite file is started when the address is the local default and nothing
   * answers there (runtime/embedded-server.ts).
   */
  | { kind: 'address'; settings: TemporalSettings; embeddedRunDir?: string }
  /** The local cluster (`leafe cluster up`), brought up when it is down; `namespace` is created if missing. It stays up. */
  | { kind: 'cluster'; namespace?: string; retention?: string };

export interface LocalStackOptions {
  temporal: TemporalPlace;
  /**
   * The workflow bundle of in-process workers: built now into this file (tests, benchmarks: the
   * code in the tree), or one already built. Absent: the cached bundle (runtime/workflow-bundle.ts).
   */
  bundle?: { buildInto: string } | { codePath: string };
  log?: (line: string) => void;
}

export interface InProcessWorkerOptions {
  queues: TaskQueues;
  /** Default: every queue role. */
  roles?: QueueRole[];
  runDir: string;
  concurrency?: Partial<Record<QueueRole, number>>;
  shutdownGraceTime?: Duration;
}

export interface InProcessWorkers {
  workers: LeafeWorkers;
  /** Shuts the workers down and waits for them; rejects with a worker's failure, if one failed. */
  stop(): Promise<void>;
}

export interface LocalStack {
  settings: TemporalSettings;
  address: string;
  namespace: string;
  client: Client;
  /** The dev server this stack started (its own, or the embedded default), else null. */
  devServer: DevServerProcess | null;
  /** The bundle built or given at start; undefined: workers use the cached one. */
  bundle: { codePath: string } | undefined;
  /** Workers in this process on their own worker connection. */
  startWorkers(options: InProcessWorkerOptions): Promise<InProcessWorkers>;
  /** A worker process on this stack's Temporal, not started yet (its owner starts, kills and restarts it). */
  workerProcess(params: Omit<WorkerProcessParams, 'address' | 'namespace'>): WorkerProcess;
  stop(): Promise<void>;
}

let runtimeInstalled = false;
/** Workers and replays in this process log errors only (the Temporal runtime is installed once per process, before its first use). */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // installed already by other code in this process
  }
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { temporal } = options;
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  let devServer: DevServerProcess | null = null;
  let settings: TemporalSettings;
  if (temporal.kind === 'dev-server') {
    const cli = temporal.cli ?? resolveTemporalCli({ log: options.log });
    devServer = await DevServerProcess.start({ cli, dbFile: temporal.dbFile, port: temporal.port, logFile: temporal.logFile, ui: false, log: options.log });
    settings = { address: devServer.address, namespace: devServer.namespace };
  } else if (temporal.kind === 'address') {
    if (temporal.embeddedRunDir) devServer = await ensureTemporal(temporal.settings, temporal.embeddedRunDir, log);
    settings = temporal.settings;
  } else {
    await clusterUp(log);
    const namespace = temporal.namespace ?? CLUSTER.namespace;
    if (namespace !== CLUSTER.namespace) await ensureClusterNamespace(namespace, temporal.retention ?? CLUSTER.retention, log);
    settings = { address: CLUSTER.frontend, namespace };
  }

  const stopServer = async (err: unknown): Promise<never> => {
    await devServer?.stop();
    throw err;
  };
  const client = await connectClient(settings).catch(stopServer);
  let bundle = options.bundle && 'codePath' in options.bundle ? options.bundle : undefined;
  if (options.bundle && 'buildInto' in options.bundle) {
    bundle = await buildWorkflowBundle(options.bundle.buildInto).catch(async (err: unknown) => {
      await client.connection.close();
      return stopServer(err);
    });
  }

  const inProcess = new Set<InProcessWorkers>();
  const processes: WorkerProcess[] = [];
  return {
    settings,
    address: settings.address,
    namespace: settings.namespace,
    client,
    devServer,
    bundle,
    async startWorkers(o) {
      quietRuntime();
      const connection = await connectWorker(settings);
      const workers = await createWorkers({
        connection,
        namespace: settings.namespace,
        queues: o.queues,
        roles: o.roles ?? QUEUE_ROLES,
        runDir: o.runDir,
        workflowBundle: bundle,
        concurrency: o.concurrency,
        shutdownGraceTime: o.shutdownGraceTime,
      }).catch(async (err: unknown) => {
        await connection.close();
        throw err;
      });
      const running = workers.run();
      const handle: InProcessWorkers = {
        workers,
        async stop() {
          inProcess.delete(handle);
          try {
            workers.shutdown();
          } catch {
            // already stopped (a worker failed, or the runtime's own SIGINT/SIGTERM handling)
          }
          try {
            await running;
          } finally {
            await connection.close();
          }
        },
      };
      inProcess.add(handle);
      return handle;
    },
    workerProcess(params) {
      const p = new WorkerProcess({ ...params, address: settings.address, namespace: settings.namespace });
      processes.push(p);
      return p;
    },
    async stop() {
      await Promise.all([...inProcess].map((w) => w.stop().catch(() => undefined)));
      await Promise.all(processes.map((p) => p.stop()));
      await client.connection.close();
      await devServer?.stop();
    },
  };
}
