import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A private PostgreSQL instance for the local cluster, from Debian's `postgresql` package: its own
 * data folder and port, so it never touches a system database. initdb refuses to run as root, so a
 * root user runs every PostgreSQL command as the `postgres` account (which owns the data folder).
 */
export interface PostgresInstance {
  dataDir: string;
  port: number;
}

/** pg_ctl's log, inside the data folder because the postgres account must be able to write it. */
export const postgresLogFile = (db: PostgresInstance) => path.join(db.dataDir, 'server.log');

/** initdb, pg_ctl and psql of the newest installed major version. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) {
    throw new Error(`PostgreSQL is not installed (no ${root}/<version>/bin/initdb); expected Debian's package: sudo apt-get install postgresql`);
  }
  versions.sort((a, b) => Number(b) - Number(a));
  return path.join(root, versions[0], 'bin');
}

const asRoot = () => process.getuid?.() === 0;

function pg(tool: string, args: string[]): SpawnSyncReturns<string> {
  const bin = path.join(postgresBinDir(), tool);
  // Run from / so the postgres account never needs access to the caller's working folder.
  return asRoot()
    ? spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8', cwd: '/' })
    : spawnSync(bin, args, { encoding: 'utf8', cwd: '/' });
}

function check(what: string, result: SpawnSyncReturns<string>): string {
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

export function isPostgresRunning(db: PostgresInstance): boolean {
  return existsSync(path.join(db.dataDir, 'PG_VERSION')) && pg('pg_ctl', ['-D', db.dataDir, 'status']).status === 0;
}

/** Creates the data folder on first use, then starts the server on loopback and waits for it. */
export function startPostgres(db: PostgresInstance): void {
  if (!existsSync(path.join(db.dataDir, 'PG_VERSION'))) {
    mkdirSync(db.dataDir, { recursive: true, mode: 0o700 });
    if (asRoot()) {
      const ids = check('id postgres', spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })).trim();
      const gid = check('id -g postgres', spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })).trim();
      chownSync(db.dataDir, Number(ids), Number(gid));
    }
    // trust on loopback only: the instance listens on 127.0.0.1 and is private to this machine.
    check(`initdb ${db.dataDir}`, pg('initdb', ['-D', db.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']));
  }
  if (isPostgresRunning(db)) return;
  const options = `-p ${db.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${db.dataDir} -c max_connections=200`;
  check(`pg_ctl start (port ${db.port})`, pg('pg_ctl', ['-D', db.dataDir, '-l', postgresLogFile(db), '-o', options, '-w', '-t', '60', 'start']));
}

/** The postmaster's pid (first line of postmaster.pid), or null when it is not running. */
export function postgresPid(db: PostgresInstance): number | null {
  const file = path.join(db.dataDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export function stopPostgres(db: PostgresInstance): void {
  if (!isPostgresRunning(db)) return;
  check('pg_ctl stop', pg('pg_ctl', ['-D', db.dataDir, '-m', 'fast', '-w', 'stop']));
}

/** A restart as an operator would do it (chaos: the database goes away under a running cluster). */
export function restartPostgres(db: PostgresInstance): void {
  // -l as in startPostgres: without it the new postmaster writes to pg_ctl's stdout, which is our
  // pipe, so spawnSync waits for its EOF, i.e. for PostgreSQL to exit (the caller hangs).
  check('pg_ctl restart', pg('pg_ctl', ['-D', db.dataDir, '-l', postgresLogFile(db), '-m', 'fast', '-w', '-t', '60', 'restart']));
}

/** Runs SQL as the superuser over loopback TCP. */
export function psql(db: PostgresInstance, sql: string): string {
  return check(`psql: ${sql}`, pg('psql', ['-h', '127.0.0.1', '-p', String(db.port), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-tAc', sql]));
}

/** Creates a login role with CREATEDB if missing (Temporal's SQL tool creates its databases itself). */
export function ensureRole(db: PostgresInstance, user: string, password: string): void {
  if (psql(db, `SELECT 1 FROM pg_roles WHERE rolname = '${user}'`).trim() === '1') return;
  psql(db, `CREATE ROLE ${user} LOGIN CREATEDB PASSWORD '${password}'`);
}
