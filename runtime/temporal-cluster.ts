import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isListening, isServingTemporal } from './dev-server';
import { ensureGoBinary, goModuleDir } from './go-binary';
import { PROJECT_ROOT } from '../infra/paths';
import { ensureRole, isPostgresRunning, postgresPid, psql, restartPostgres, startPostgres, stopPostgres, type PostgresInstance } from './postgres';
import { SEARCH_ATTRIBUTES } from './search-attributes';
import { resolveTemporalCli, TEMPORAL_SERVER_VERSION } from './temporal-cli';

/**
 * The local production-shaped stack: Temporal Server (built from its Go module, the same version
 * as the dev server in the pinned CLI) on PostgreSQL, 8 history shards, and the Web UI, all on
 * loopback. One per machine: fixed ports, state outside any clone (docs/deploy.md).
 */
export const CLUSTER = {
  frontend: '127.0.0.1:7533',
  uiPort: 8533,
  postgresPort: 5440,
  namespace: 'default',
  retention: '8760h',
  dbUser: 'temporal',
  dbPassword: 'temporal',
} as const;

export const TEMPORAL_UI_VERSION = '2.54.1'; // the UI bundled with the pinned CLI 1.9.1
const SERVER = { pkg: 'go.temporal.io/server/cmd/server', version: `v${TEMPORAL_SERVER_VERSION}`, name: 'temporal-server' };
const SQL_TOOL = { pkg: 'go.temporal.io/server/cmd/tools/sql', version: `v${TEMPORAL_SERVER_VERSION}`, name: 'temporal-sql-tool' };
const UI_SERVER = { pkg: 'github.com/temporalio/ui-server/v2/cmd/server', version: `v${TEMPORAL_UI_VERSION}`, name: 'temporal-ui-server' };
const CONFIG_DIR = path.join(PROJECT_ROOT, 'runtime', 'cluster');

/** Cluster state (PostgreSQL data, logs, pid files). As root it must be reachable by the postgres account. */
export function clusterStateDir(): string {
  if (process.env.LEAFE_CLUSTER_DIR) return path.resolve(process.env.LEAFE_CLUSTER_DIR);
  return process.getuid?.() === 0 ? '/var/lib/leafe-cluster' : path.join(os.homedir(), '.local', 'state', 'leafe', 'cluster');
}

export const clusterPostgres = (): PostgresInstance => ({ dataDir: path.join(clusterStateDir(), 'pg'), port: CLUSTER.postgresPort });

type Log = (line: string) => void;
const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

/** Builds (once) the server, its SQL tool and the UI server; returns their paths. */
export function ensureClusterBinaries(log: Log = stderrLog) {
  return { server: ensureGoBinary(SERVER, log), sqlTool: ensureGoBinary(SQL_TOOL, log), ui: ensureGoBinary(UI_SERVER, log) };
}

export async function clusterUp(log: Log = stderrLog): Promise<{ address: string; uiUrl: string }> {
  const state = clusterStateDir();
  mkdirSync(state, { recursive: true });
  const bins = ensureClusterBinaries(log);
  const db = clusterPostgres();
  startPostgres(db);
  log(`leafe: PostgreSQL on 127.0.0.1:${db.port} (data ${db.dataDir})`);
  ensureRole(db, CLUSTER.dbUser, CLUSTER.dbPassword);
  setUpSchemas(bins.sqlTool, db, log);

  if (!(await isListening(CLUSTER.frontend))) {
    for (const file of ['temporal-server.yaml', 'dynamicconfig.yaml']) copyFileSync(path.join(CONFIG_DIR, file), path.join(state, file));
    startServer(bins.server, state);
  }
  await waitForFrontend(state);
  await ensureClusterNamespace(CLUSTER.namespace, CLUSTER.retention, log);

  const uiUrl = `http://127.0.0.1:${CLUSTER.uiPort}`;
  if (!(await isListening(`127.0.0.1:${CLUSTER.uiPort}`))) {
    const uiDir = path.join(state, 'ui-config');
    mkdirSync(uiDir, { recursive: true });
    copyFileSync(path.join(CONFIG_DIR, 'ui.yaml'), path.join(uiDir, 'leafe.yaml'));
    startDetached('temporal-ui', bins.ui, ['--root', state, '--config', 'ui-config', '--env', 'leafe', 'start'], state);
  }
  log(`leafe: Temporal Server ${TEMPORAL_SERVER_VERSION} on ${CLUSTER.frontend} (PostgreSQL, 8 history shards); Web UI ${uiUrl}`);
  log(`leafe: use it with TEMPORAL_ADDRESS=${CLUSTER.frontend}; logs and state in ${state}`);
  return { address: CLUSTER.frontend, uiUrl };
}

/** Stops the UI, the server and PostgreSQL; `wipe` also deletes every workflow (the database). */
export async function clusterDown(options: { wipe?: boolean } = {}, log: Log = stderrLog): Promise<void> {
  const state = clusterStateDir();
  for (const name of ['temporal-ui', 'temporal-server']) await stopDetached(name, state);
  stopPostgres(clusterPostgres());
  if (options.wipe) rmSync(state, { recursive: true, force: true });
  log(`leafe: cluster stopped${options.wipe ? ` and ${state} deleted` : ` (state kept in ${state})`}`);
}

/** Pids before and after a chaos restart. */
export interface Restarted {
  oldPid: number | null;
  newPid: number | null;
}

/** Chaos: SIGKILL the Temporal server, wait `downtimeMs`, start it again on the same database. */
export async function restartClusterServer(downtimeMs = 0): Promise<Restarted> {
  const state = clusterStateDir();
  const oldPid = readPid(state, 'temporal-server');
  await stopDetached('temporal-server', state, 'SIGKILL');
  await new Promise((r) => setTimeout(r, downtimeMs));
  startServer(ensureGoBinary(SERVER), state);
  await waitForFrontend(state);
  return { oldPid, newPid: readPid(state, 'temporal-server') };
}

/** Chaos: restart PostgreSQL under the running server (pg_ctl restart, fast mode). */
export function restartClusterPostgres(): Restarted {
  const db = clusterPostgres();
  const oldPid = postgresPid(db);
  restartPostgres(db);
  return { oldPid, newPid: postgresPid(db) };
}

/** The running Temporal server's pid (benchmarks account its CPU). */
export function clusterServerPid(): number | null {
  return readPid(clusterStateDir(), 'temporal-server');
}

export function clusterRunning(): { postgres: boolean; server: boolean; ui: boolean } {
  const state = clusterStateDir();
  return { postgres: isPostgresRunning(clusterPostgres()), server: pidAlive(state, 'temporal-server'), ui: pidAlive(state, 'temporal-ui') };
}

/** Temporal's own SQL tool: databases and base schema once, then every versioned update (idempotent). */
function setUpSchemas(sqlTool: string, db: PostgresInstance, log: Log): void {
  const schemaRoot = path.join(goModuleDir('go.temporal.io/server', `v${TEMPORAL_SERVER_VERSION}`), 'schema', 'postgresql', 'v12');
  for (const [database, folder] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
    const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(db.port), '-u', CLUSTER.dbUser, '--db', database];
    const env = { ...process.env, SQL_PASSWORD: CLUSTER.dbPassword };
    const exists = psql(db, `SELECT 1 FROM pg_database WHERE datname = '${database}'`).trim() === '1';
    const steps: string[][] = exists ? [] : [['create-database'], ['setup-schema', '-v', '0.0']];
    steps.push(['update-schema', '-d', path.join(schemaRoot, folder, 'versioned')]);
    for (const step of steps) {
      const out = spawnSync(sqlTool, [...base, ...step], { encoding: 'utf8', env });
      if (out.status !== 0) throw new Error(`temporal-sql-tool ${step[0]} on ${database} failed: ${(out.stderr || out.stdout).trim().slice(-2000)}`);
    }
    if (!exists) log(`leafe: created database ${database} with Temporal's schema`);
  }
}

/** A namespace (created if missing) with leafe's search attributes (SQL visibility: per namespace). */
export async function ensureClusterNamespace(namespace: string, retention: string, log: Log = stderrLog): Promise<void> {
  const cli = resolveTemporalCli({ log });
  const run = (args: string[]) => spawnSync(cli, [...args, '--address', CLUSTER.frontend], { encoding: 'utf8' });
  if (run(['operator', 'namespace', 'describe', '--namespace', namespace]).status !== 0) {
    const created = run(['operator', 'namespace', 'create', '--namespace', namespace, '--retention', retention]);
    if (created.status !== 0) throw new Error(`creating namespace ${namespace} failed: ${created.stderr.trim()}`);
  }
  const listed = run(['operator', 'search-attribute', 'list', '--namespace', namespace, '-o', 'json']);
  const present = listed.status === 0 ? listed.stdout : '';
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
    if (present.includes(`"${name}"`)) continue;
    // A new namespace reaches the server's namespace cache within ~10 s: retry until it does.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const added = run(['operator', 'search-attribute', 'create', '--namespace', namespace, '--name', name, '--type', type]);
      if (added.status === 0) break;
      if (Date.now() > deadline) throw new Error(`adding search attribute ${name} failed: ${added.stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** The Temporal server on the config copied into `state` (relative paths in it resolve there). */
function startServer(binary: string, state: string): void {
  startDetached('temporal-server', binary, ['--config-file', path.join(state, 'temporal-server.yaml'), '--allow-no-auth', 'start'], state);
}

/** Waits until the cluster's frontend serves; the error points at the server's log in `state`. */
async function waitForFrontend(state: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await isServingTemporal(CLUSTER.frontend)) return;
    if (Date.now() > deadline) throw new Error(`Temporal server did not answer on ${CLUSTER.frontend} within ${timeoutMs / 1000} s; see ${path.join(state, 'temporal-server.log')}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function startDetached(name: string, binary: string, args: string[], state: string): void {
  const out = openSync(path.join(state, `${name}.log`), 'a');
  const child = spawn(binary, args, { cwd: state, detached: true, stdio: ['ignore', out, out] });
  child.unref();
  writeFileSync(path.join(state, `${name}.pid`), String(child.pid));
}

function readPid(state: string, name: string): number | null {
  const file = path.join(state, `${name}.pid`);
  return existsSync(file) ? Number(readFileSync(file, 'utf8')) : null;
}

function pidAlive(state: string, name: string): boolean {
  const pid = readPid(state, name);
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopDetached(name: string, state: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const pid = readPid(state, name);
  if (!pid) return;
  if (pidAlive(state, name)) process.kill(pid, signal);
  const deadline = Date.now() + 20_000;
  while (pidAlive(state, name)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
  }
  rmSync(path.join(state, `${name}.pid`), { force: true });
}
