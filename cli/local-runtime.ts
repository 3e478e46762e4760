import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { EnvSpec } from '../core/env-spec';
import { connectClient, connectWorker, DEFAULT_ADDRESS, temporalSettings, type TemporalSettings } from '../infra/connection';
import type { DevServer } from '../infra/dev-server';
import { ensureTemporal } from '../infra/embedded-server';
import { startSimServer, type SimServer, type SimServerOptions } from '../sim/sim-server';
import { simPoliciesFor } from '../sim/sim-policies';
import { createWorkers, type LeafeWorkers } from '../workers/create-workers';
import { QUEUE_ROLES, taskQueues, type TaskQueues } from '../workers/task-queues';

export interface RuntimeOptions {
  runDir: string;
  address?: string;
  namespace?: string;
  /** 'auto': in-process workers when Temporal is the local default; 'yes'/'no' force it. */
  workers?: 'auto' | 'yes' | 'no';
  taskQueuePrefix?: string;
  /** Start the simulator for this environment (tests and dry runs only). */
  sim?: { env: EnvSpec } & Partial<Omit<SimServerOptions, 'policies'>>;
  log?: (line: string) => void;
}

export interface LocalRuntime {
  settings: TemporalSettings;
  client: Client;
  queues: TaskQueues;
  runDir: string;
  uiUrl: string | null;
  sim: SimServer | null;
  /** True when this process runs workers or the simulator (the work stops when it exits). */
  ownsWork: boolean;
  close(): Promise<void>;
}

/**
 * What a `leafe` command that runs work needs: a reachable Temporal (the embedded dev server
 * when the address is the local default and nothing answers), workers (in-process for local
 * runs) and, with --sim, the simulator. Everything started here stops in `close()`.
 */
export async function startLocalRuntime(options: RuntimeOptions): Promise<LocalRuntime> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const runDir = path.resolve(options.runDir);
  mkdirSync(runDir, { recursive: true });
  const settings = temporalSettings({ address: options.address, namespace: options.namespace });
  const server: DevServer | null = await ensureTemporal(settings, runDir, log);
  const client = await connectClient(settings);
  const local = settings.address === DEFAULT_ADDRESS;
  const wantWorkers = options.workers === 'yes' || ((options.workers ?? 'auto') === 'auto' && local);
  // In-process workers serve queues named after the run directory: two local commands on
  // different run dirs must not pick up each other's tasks (their artifact stores differ), and
  // a restarted command on the same run dir finds its experiments' queues again.
  const defaultPrefix = wantWorkers ? `leafe-${createHash('sha256').update(runDir).digest('hex').slice(0, 8)}` : 'leafe';
  const queues = taskQueues(options.taskQueuePrefix ?? process.env.LEAFE_TASK_QUEUE_PREFIX ?? defaultPrefix);

  let workers: LeafeWorkers | null = null;
  let workerRun: Promise<void> | null = null;
  let nativeClose: (() => Promise<void>) | null = null;
  if (wantWorkers) {
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // installed already
    }
    const connection = await connectWorker(settings);
    workers = await createWorkers({ connection, namespace: settings.namespace, queues, roles: QUEUE_ROLES, runDir });
    workerRun = workers.run();
    nativeClose = () => connection.close();
    log(`leafe: in-process workers serving ${Object.values(queues).join(', ')}`);
  } else if (options.workers !== 'no') {
    log(`leafe: using external workers on ${settings.address} (task queue prefix ${queues.workflows.replace(/-workflows$/, '')})`);
  }

  let sim: SimServer | null = null;
  if (options.sim) {
    const { env, ...simOptions } = options.sim;
    sim = await startSimServer({ ...simOptions, policies: await simPoliciesFor(env) });
    log(`leafe: simulator (scripted stand-in for an LLM; not a model) at ${sim.url}`);
  }

  return {
    settings,
    client,
    queues,
    runDir,
    uiUrl: server?.uiUrl ?? (local ? 'http://localhost:8233' : null),
    sim,
    ownsWork: workers !== null || sim !== null,
    async close() {
      try {
        workers?.shutdown();
      } catch {
        // already stopped by the runtime's own SIGINT/SIGTERM handling
      }
      await workerRun?.catch(() => undefined);
      await nativeClose?.();
      await client.connection.close();
      await sim?.close();
      await server?.stop();
    },
  };
}
