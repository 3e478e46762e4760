import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from './search-attributes';

export interface DevServerOptions {
  cli: string;
  /** SQLite file: restarting on the same file keeps every workflow. */
  dbFile: string;
  ip?: string;
  port?: number;
  uiPort?: number;
  /** false disables the Web UI. */
  ui?: boolean;
  namespace?: string;
  /** Closed-workflow retention; the dev server default (24 h) would delete the audit trail. */
  retention?: string;
  /** Server log file (default: next to the SQLite file). */
  logFile?: string;
  log?: (line: string) => void;
  /** SQLite settings (the CLI accepts journal_mode and synchronous). */
  sqlitePragmas?: Record<string, string>;
}

/**
 * Write-ahead log, synced at checkpoints: SQLite's recommended setting for WAL. Without it every
 * transaction is an fsync'd rollback journal, and on 2 cores the single SQLite writer becomes the
 * bottleneck of the whole run (docs/benchmarks.md: 19.8 → 28.3 steps/s, server CPU per step 38 →
 * 23 ms). A killed server loses nothing (the WAL is in the page cache); a power cut can lose the
 * last transactions but not corrupt the file, and Temporal then re-runs what it forgot.
 */
export const DEFAULT_SQLITE_PRAGMAS: Record<string, string> = { journal_mode: 'wal', synchronous: 'normal' };

/**
 * The dev server has one history shard, and the shard reads its transfer queue (which hands new
 * activity and workflow tasks to matching) at most 20 times a second by default: under load every
 * dispatch waited ~25 ms for the next read (bench: activity schedule-to-start p50 29 ms at 32
 * concurrent branches, 3 ms with this). Reads still happen only when there are new tasks.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, unknown> = { 'history.transferProcessorMaxPollRPS': 1000 };

export interface DevServer {
  address: string;
  uiUrl: string | null;
  namespace: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export const DEFAULT_RETENTION = '8760h'; // one year

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections at host:port. */
export async function isListening(address: string, timeoutMs = 1000): Promise<boolean> {
  const [host, portText] = splitAddress(address);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(portText) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when a Temporal frontend at `address` accepts connections and answers GetSystemInfo. */
export async function isServingTemporal(address: string): Promise<boolean> {
  if (!(await isListening(address, 500))) return false;
  try {
    const conn = await Connection.connect({ address, connectTimeout: 2000 });
    try {
      await conn.workflowService.getSystemInfo({});
      return true;
    } finally {
      await conn.close();
    }
  } catch {
    return false; // listening, not serving yet
  }
}

function splitAddress(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), address.slice(i + 1)];
}

/**
 * Starts `temporal server start-dev` on a SQLite file with the project's search attributes and
 * a long retention, and waits until it answers. The returned `stop()` ends it with SIGTERM
 * (SQLite is left consistent; a SIGKILL is survivable too, which the chaos tests rely on).
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const ui = options.ui ?? true;
  const uiPort = ui ? (options.uiPort ?? (await freePort())) : undefined;
  const namespace = options.namespace ?? 'default';
  mkdirSync(path.dirname(options.dbFile), { recursive: true });
  const args = ['server', 'start-dev', '--db-filename', options.dbFile, '--ip', ip, '--port', String(port), '--log-level', 'warn'];
  if (ui) args.push('--ui-port', String(uiPort));
  else args.push('--headless');
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  for (const [name, value] of Object.entries(options.sqlitePragmas ?? DEFAULT_SQLITE_PRAGMAS)) args.push('--sqlite-pragma', `${name}=${value}`);
  for (const [key, value] of Object.entries(DEV_SERVER_DYNAMIC_CONFIG)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);

  const logFile = options.logFile ?? `${options.dbFile}.server.log`;
  const out = openSync(logFile, 'a');
  const child = spawn(options.cli, args, { stdio: ['ignore', out, out] });
  const address = `${ip}:${port}`;
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) throw new Error(`temporal server start-dev exited with code ${exited}; see ${logFile}`);
    if (await isServingTemporal(address)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal dev server did not answer on ${address} within 60 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  const retention = options.retention ?? DEFAULT_RETENTION;
  const update = spawnSync(
    options.cli,
    ['operator', 'namespace', 'update', '--address', address, '--namespace', namespace, '--retention', retention],
    { encoding: 'utf8' },
  );
  if (update.status !== 0) options.log?.(`leafe: could not set retention ${retention} on ${namespace}: ${update.stderr.trim()}`);

  return {
    address,
    uiUrl: ui ? `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${uiPort}` : null,
    namespace,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
