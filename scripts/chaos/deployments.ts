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
import { freePort } from '../../runtime/dev-server';
import { PER_QUEUE_WORKER_PROCESSES } from '../../workers/task-queues';
import { ClusterServerProcess, DevServerProcess, sleep, WorkerProcess } from './processes';

export type DeploymentKind = 'dev' | 'cluster';

/** One server-side disruption; `run` does it and returns the log line (kind, pids, timings). */
export interface ServerDisruption {
  run(downtimeMs: number): Promise<string>;
}

export interface Deployment {
  /** For reports, e.g. `dev server (SQLite) + 1 worker process (all queues)`. */
  description: string;
  address: string;
  namespace: string;
  taskQueuePrefix: string;
  /** Not started yet; a chaos run kills them in turn (kill i: worker i mod n). */
  workers: WorkerProcess[];
  /** Server disruptions, used in turn (disruption j: j mod n). */
  disruptions: ServerDisruption[];
  /** Stops what the deployment started for this run (a cluster stays up). */
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
  const server = new DevServerProcess({ cli: p.cli, dbFile: path.join(p.dir, 'temporal.sqlite'), port: await freePort(), logFile: path.join(p.dir, 'server.log') });
  await server.start();
  const taskQueuePrefix = 'chaos';
  return {
    description: 'dev server (SQLite) + 1 worker process (all queues)',
    address: server.address,
    namespace: 'default',
    taskQueuePrefix,
    workers: [new WorkerProcess({ address: server.address, taskQueuePrefix, runDir: p.runDir, logFile: path.join(p.dir, 'worker.log') })],
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
    stop: () => server.stop(),
  };
}

/** The cluster's worker processes, as in production, named for the log (`env#1 worker`). */
const CLUSTER_WORKERS = PER_QUEUE_WORKER_PROCESSES.map((queues, i, all) => {
  const twins = all.filter((q) => q === queues).length;
  return { queues, name: twins > 1 ? `${queues}#${all.slice(0, i + 1).filter((q) => q === queues).length} worker` : `${queues} worker` };
});

async function startCluster(p: { label: string; dir: string; runDir: string; log: (line: string) => void }): Promise<Deployment> {
  // A namespace and task queues of the run's own: two runs on the one cluster cannot see each other.
  const slug = p.label.replace(/\W+/g, '-');
  const server = new ClusterServerProcess({ namespace: `leafe-chaos-${slug}`, log: p.log });
  await server.start();
  const taskQueuePrefix = `chaos-${slug}-${Date.now().toString(36)}`;
  const workers = CLUSTER_WORKERS.map(
    ({ queues, name }) =>
      new WorkerProcess({ address: server.address, namespace: server.namespace, queues, taskQueuePrefix, runDir: p.runDir, logFile: path.join(p.dir, `worker-${name.split(' ')[0].replace('#', '')}.log`), name }),
  );
  return {
    description: `Temporal Server on PostgreSQL (${server.address}, namespace ${server.namespace}) + ${workers.length} worker processes (${CLUSTER_WORKERS.map((w) => w.queues).join(', ')})`,
    address: server.address,
    namespace: server.namespace,
    taskQueuePrefix,
    workers,
    disruptions: [
      {
        run: async (downtimeMs) => {
          const started = Date.now();
          const { oldPid, newPid } = await server.restartServer(downtimeMs);
          return `Temporal server SIGKILL (pid ${oldPid}); restarted on the same PostgreSQL database after ${Math.round(downtimeMs)} ms down (pid ${newPid}, answering ${secondsSince(started)} after the kill)`;
        },
      },
      {
        run: async () => {
          const started = Date.now();
          const { oldPid, newPid } = server.restartPostgres();
          return `PostgreSQL restart under the running Temporal server (pg_ctl restart -m fast: postmaster pid ${oldPid} → ${newPid}, ${secondsSince(started)})`;
        },
      },
    ],
    stop: async () => undefined,
  };
}
