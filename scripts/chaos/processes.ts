// Real processes the chaos runs kill: worker processes (all queues, or the queues of one role), the
// Temporal dev server, and the local cluster's Temporal server and PostgreSQL.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { startDevServer, type DevServer } from '../../runtime/dev-server';
import { PROJECT_ROOT } from '../../infra/paths';
import { CLUSTER, clusterUp, ensureClusterNamespace, restartClusterPostgres, restartClusterServer, type Restarted } from '../../runtime/temporal-cluster';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Children still alive when this process exits are SIGKILLed (a chaos run interrupted by Ctrl-C). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/**
 * `node --import tsx runtime/worker-main.ts` serving every queue of one task queue prefix (or only
 * `queues`, e.g. `env`, as in production), as a user would start it. Output goes to `logFile`;
 * `start()` returns once it polls.
 */
export class WorkerProcess {
  child: ChildProcess | null = null;
  /** Starts, including restarts. */
  starts = 0;
  /** Exits this class did not cause (a worker that gave up on its own would show here). */
  unexpectedExits = 0;
  private expectingExit = false;

  constructor(private readonly params: { address: string; namespace?: string; queues?: string; taskQueuePrefix: string; runDir: string; logFile: string; name?: string }) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How log lines name it: `worker` (all queues) or e.g. `env#2 worker`. */
  get name(): string {
    return this.params.name ?? 'worker';
  }

  async start(): Promise<void> {
    const { address, namespace, queues, taskQueuePrefix, runDir, logFile } = this.params;
    const args = ['--address', address, '--task-queue-prefix', taskQueuePrefix, '--run-dir', runDir];
    if (namespace) args.push('--namespace', namespace);
    if (queues) args.push('--queues', queues);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'runtime', 'worker-main.ts'), ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    track(child);
    this.starts++;
    this.expectingExit = false;
    let out = '';
    const onData = (d: Buffer) => {
      const s = d.toString();
      out += s;
      appendFileSync(logFile, s);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      appendFileSync(logFile, `[chaos] ${this.name} ${child.pid} exited (code ${code}, signal ${signal})\n`);
      if (!this.expectingExit && this.child === child) this.unexpectedExits++;
    });
    const deadline = Date.now() + 180_000;
    while (!out.includes('serving')) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`worker process exited before serving (code ${child.exitCode}); see ${logFile}:\n${out.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`worker process did not start serving within 180 s; see ${logFile}`);
      await sleep(50);
    }
  }

  /** True when the current process is alive. */
  alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async sigkill(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive()) return;
    this.expectingExit = true;
    child.kill('SIGKILL');
    await exited(child);
    if (child.signalCode !== 'SIGKILL') throw new Error(`worker ${child.pid} ended with ${child.signalCode ?? child.exitCode}, not SIGKILL`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive()) return;
    this.expectingExit = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited(child);
    clearTimeout(timer);
  }
}

/** The dev server on one SQLite file and one port, so it can be SIGKILLed and restarted in place. */
export class DevServerProcess {
  server: DevServer | null = null;
  starts = 0;

  constructor(private readonly params: { cli: string; dbFile: string; port: number; logFile: string }) {}

  get address(): string {
    return `127.0.0.1:${this.params.port}`;
  }

  get pid(): number | undefined {
    return this.server?.process.pid;
  }

  async start(): Promise<void> {
    const { cli, dbFile, port, logFile } = this.params;
    this.server = await startDevServer({ cli, dbFile, port, ui: false, logFile });
    track(this.server.process);
    this.starts++;
  }

  async sigkill(): Promise<void> {
    const child = this.server?.process;
    if (!child) return;
    child.kill('SIGKILL');
    await exited(child);
    if (child.signalCode !== 'SIGKILL') throw new Error(`dev server ${child.pid} ended with ${child.signalCode ?? child.exitCode}, not SIGKILL`);
    this.server = null;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = null;
  }
}

/**
 * The local cluster (`npm run cluster:up`: Temporal Server on PostgreSQL) seen from a chaos run:
 * one namespace of it, and the two restarts an operator sees (runtime/temporal-cluster.ts). It is
 * shared by the machine and stays up after the run.
 */
export class ClusterServerProcess {
  constructor(private readonly params: { namespace: string; log: (line: string) => void }) {}

  get address(): string {
    return CLUSTER.frontend;
  }

  get namespace(): string {
    return this.params.namespace;
  }

  /** Brings the cluster up if it is not (a no-op when it is) and creates the namespace. */
  async start(): Promise<void> {
    await clusterUp(this.params.log);
    // A short retention: chaos namespaces collect the workflows of every chaos run.
    await ensureClusterNamespace(this.params.namespace, '24h', this.params.log);
  }

  /** SIGKILL of the Temporal server, `downtimeMs` without one, a new one on the same database. */
  restartServer(downtimeMs: number): Promise<Restarted> {
    return restartClusterServer(downtimeMs);
  }

  /** `pg_ctl restart -m fast` under the running Temporal server. */
  restartPostgres(): Restarted {
    return restartClusterPostgres();
  }
}
