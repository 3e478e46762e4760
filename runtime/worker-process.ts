// A worker process (runtime/worker-main.ts) as a user starts it, which its owner can SIGKILL and
// restart: the chaos runs, the cluster test's per-queue workers, the env worker crash test.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT } from '../infra/paths';

/** Children still alive when this process exits are SIGKILLed (e.g. a chaos run interrupted by Ctrl-C). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
export function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

export interface WorkerProcessParams {
  address: string;
  namespace?: string;
  /** Queue roles to serve, comma-separated (e.g. `env`); absent: all. */
  queues?: string;
  taskQueuePrefix: string;
  runDir: string;
  /** The process's stdout and stderr, appended. */
  logFile: string;
  /** How log lines name it (default `worker`). */
  name?: string;
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

  constructor(private readonly params: WorkerProcessParams) {}

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
    killOnExit(child);
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
      appendFileSync(logFile, `[leafe] ${this.name} ${child.pid} exited (code ${code}, signal ${signal})\n`);
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
