import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { EnvSpec } from '../core/env-spec';
import { DEFAULT_ADDRESS, temporalSettings, type TemporalSettings } from '../runtime/connection';
import { startLocalStack, type InProcessWorkers } from '../runtime/local-stack';
import { startSimServer, type SimServer, type SimServerOptions } from '../sim/sim-server';
import { simPoliciesFor } from '../sim/sim-policies';
import { taskQueues, type QueueRole, type TaskQueues } from '../contract/task-queues';
import { requirePollers } from './queue-pollers';

export interface RuntimeOptions {
  runDir: string;
  address?: string;
  namespace?: string;
  /** 'auto': in-process workers when Temporal is the local default; 'yes'/'no' force it. */
  workers?: 'auto' | 'yes' | 'no';
  /** Queue roles the command's workflows need: without in-process workers, live pollers on them are required. */
  needs?: QueueRole[];
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
  const stack = await startLocalStack({ temporal: { kind: 'address', settings, embeddedRunDir: runDir }, log });
  const { client } = stack;
  const local = settings.address === DEFAULT_ADDRESS;
  const wantWorkers = workersRunHere(options.workers, settings.address);
  // In-process workers serve queues named after the run directory: two local commands on
  // different run dirs must not pick up each other's tasks (their artifact stores differ), and
  // a restarted command on the same run dir finds its experiments' queues again.
  const defaultPrefix = wantWorkers ? `leafe-${createHash('sha256').update(runDir).digest('hex').slice(0, 8)}` : 'leafe';
  const prefix = options.taskQueuePrefix ?? process.env.LEAFE_TASK_QUEUE_PREFIX ?? defaultPrefix;
  const queues = taskQueues(prefix);

  let workers: InProcessWorkers | null = null;
  if (wantWorkers) {
    workers = await stack.startWorkers({ queues, runDir }).catch(async (err: unknown) => {
      await stack.stop();
      throw err;
    });
    log(`leafe: in-process workers serving ${Object.values(queues).join(', ')}`);
  } else if (options.workers !== 'no' || options.needs) {
    log(`leafe: using external workers on ${settings.address} (task queue prefix ${prefix})`);
  }
  if (!wantWorkers && options.needs) {
    // Without workers the command's workflows would wait forever, silently: fail within seconds instead.
    await requirePollers(client, { namespace: settings.namespace, address: settings.address, queues, roles: options.needs, prefix }).catch(async (err: unknown) => {
      await stack.stop();
      throw err;
    });
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
    uiUrl: stack.devServer?.uiUrl ?? (local ? 'http://localhost:8233' : null),
    sim,
    ownsWork: workers !== null || sim !== null,
    async close() {
      await stack.stop();
      await sim?.close();
    },
  };
}

export const WORKERS_FLAG = '--workers <mode>';
export const WORKERS_FLAG_HELP =
  'local: run the workers inside this command; external: use workers started with `npm run worker` (checked before starting). Default: local with the embedded/default local server, external when TEMPORAL_ADDRESS names another server';

/** `--workers local|external` (absent: decided by the address). */
/** Whether a command's workers run in this process: asked for, or by default with the local server. */
export function workersRunHere(mode: 'auto' | 'yes' | 'no' | undefined, address = temporalSettings({}).address): boolean {
  return mode === 'yes' || ((mode ?? 'auto') === 'auto' && address === DEFAULT_ADDRESS);
}

export function workersMode(value: string | undefined): 'auto' | 'yes' | 'no' {
  if (value === undefined) return 'auto';
  if (value === 'local') return 'yes';
  if (value === 'external') return 'no';
  throw new Error(`--workers: ${JSON.stringify(value)} is not a mode; expected local or external`);
}
