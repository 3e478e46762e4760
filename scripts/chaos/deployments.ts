/**
 * Where a chaos run runs its study, and what it can disturb there:
 *
 * - `dev`: its own dev server (temp SQLite file, free port) and ONE worker process serving every
 *   queue; the server disruption is a SIGKILL of the dev server and a restart on its SQLite file.
 * - `cluster`: the local production-shaped cluster (`npm run cluster:up`: Temporal Server on
 *   PostgreSQL) in a namespace of the run's own, and FIVE worker processes, one per queue role as
 *   in production (workflows, env ×2, llm, train); the server disruptions are a SIGKILL + restart of
 *   the Temporal server and a restart of PostgreSQL under it, in that order.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { startLocalStack } from '../../runtime/local-stack';
import { restartClusterPostgres, restartClusterServer } from '../../runtime/temporal-cluster';
import type { WorkerProcess } from '../../runtime/worker-process';
import { PER_QUEUE_WORKER_PROCESSES } from '../../contract/task-queues';

export type DeploymentKind = 'dev' | 'cluster';

/** One server-side disruption; `run` does it and returns the log line (kind, pids, timings). */
export interface ServerDisruption {
  run(downtimeMs: number): Promise<string>;
}

export interface Deployment {
  /** For reports, e.g. `dev server (SQLite) + 1 worker process (all queues)`. */
  description: string;
  /** A client of the deployment's Temporal, in the run's namespace. */
  client: Client;
  taskQueuePrefix: string;
  /** Not started yet; a chaos run kills them in turn (kill i: worker i mod n). */
  workers: WorkerProcess[];
  /** Server disruptions, used in turn (disruption j: j mod n). */
  disruptions: ServerDisruption[];
  /** Stops what the deployment started for this run, worker processes included (a cluster stays up). */
  stop(): Promise<void>;
}

const secondsSince = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

export async function startDeployment(
  kind: DeploymentKind,
  p: { label: string; dir: string; runDir: string; cli: string; log: (line: string) => void },
): Promise<Deployment> {
  return kind === 'dev' ? startDev(p) : startCluster(p);
}

async function startDev(p: { dir: string; runDir: string; cli: string }): Promise<Deployment> {
  // The stack's dev server keeps its port across restarts: the workers find it again.
  const stack = await startLocalStack({ temporal: { kind: 'dev-server', cli: p.cli, dbFile: path.join(p.dir, 'temporal.sqlite'), logFile: path.join(p.dir, 'server.log') } });
  const server = stack.devServer!;
  const taskQueuePrefix = 'chaos';
  return {
    description: 'dev server (SQLite) + 1 worker process (all queues)',
    client: stack.client,
    taskQueuePrefix,
    workers: [stack.workerProcess({ taskQueuePrefix, runDir: p.runDir, logFile: path.join(p.dir, 'worker.log') })],
    disruptions: [
      {
        run: async (downtimeMs) => {
          const pid = server.pid;
          await server.sigkill();
          await sleep(downtimeMs);
          await server.start();
          return `dev server SIGKILL (pid ${pid}); restarted on the same SQLite file after ${Math.round(downtimeMs)} ms (pid ${server.pid})`;
        },
      },
    ],
    stop: () => stack.stop(),
  };
}

/** The cluster's worker processes, as in production, named for the log (`env#1 worker`). */
const CLUSTER_WORKERS = PER_QUEUE_WORKER_PROCESSES.map((queues, i, all) => {
  const twins = all.filter((q) => q === queues).length;
  return { queues, name: twins > 1 ? `${queues}#${all.slice(0, i + 1).filter((q) => q === queues).length} worker` : `${queues} worker` };
});

async function startCluster(p: { label: string; dir: string; runDir: string; log: (line: string) => void }): Promise<Deployment> {
  // A namespace and task queues of the run's own: two runs on the one cluster cannot see each other.
  // A short retention: chaos namespaces collect the workflows of every chaos run.
  const slug = p.label.replace(/\W+/g, '-');
  const stack = await startLocalStack({ temporal: { kind: 'cluster', namespace: `leafe-chaos-${slug}`, retention: '24h' }, log: p.log });
  const taskQueuePrefix = `chaos-${slug}-${Date.now().toString(36)}`;
  const workers = CLUSTER_WORKERS.map(({ queues, name }) =>
    stack.workerProcess({ queues, taskQueuePrefix, runDir: p.runDir, logFile: path.join(p.dir, `worker-${name.split(' ')[0].replace('#', '')}.log`), name }),
  );
  return {
    description: `Temporal Server on PostgreSQL (${stack.address}, namespace ${stack.namespace}) + ${workers.length} worker processes (${CLUSTER_WORKERS.map((w) => w.queues).join(', ')})`,
    client: stack.client,
    taskQueuePrefix,
    workers,
    disruptions: [
      {
        run: async (downtimeMs) => {
          const started = Date.now();
          const { oldPid, newPid } = await restartClusterServer(downtimeMs);
          return `Temporal server SIGKILL (pid ${oldPid}); restarted on the same PostgreSQL database after ${Math.round(downtimeMs)} ms down (pid ${newPid}, answering ${secondsSince(started)} after the kill)`;
        },
      },
      {
        run: async () => {
          const started = Date.now();
          const { oldPid, newPid } = restartClusterPostgres();
          return `PostgreSQL restart under the running Temporal server (pg_ctl restart -m fast: postmaster pid ${oldPid} → ${newPid}, ${secondsSince(started)})`;
        },
      },
    ],
    stop: () => stack.stop(),
  };
}
