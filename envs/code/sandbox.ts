/**
 * Runs a Python program in a sandboxed subprocess, optionally beside a trusted supervisor
 * that talks to it over pipes (the code tests' harness). What is enforced, by which
 * mechanism, and what is not: docs/sandbox.md. The isolation level is probed once per process
 * (strongest first) and reported with every result; a level that does not hide the host's
 * filesystem is refused unless LEAFE_ALLOW_WEAK_SANDBOX opts in.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import type { SandboxLimits } from '../../core/env-spec';
import { SANDBOX_REFUSED } from '../../contract/failure-types';

/** Strongest first. */
export const ISOLATION_LEVELS = ['bwrap', 'unshare', 'setpriv', 'rlimit'] as const;
export type IsolationLevel = (typeof ISOLATION_LEVELS)[number];

export interface Isolation {
  level: IsolationLevel;
  /** Only the temp dir and read-only system dirs are visible. */
  filesystem: boolean;
  /** No network interfaces except a private loopback. */
  network: boolean;
  /** Own pid namespace: killing its init kills every descendant. */
  pidNamespace: boolean;
  /** Runs as a throwaway non-root uid, so RLIMIT_NPROC bounds fork bombs. */
  unprivilegedUid: boolean;
}

export const DEFAULT_LIMITS: Required<SandboxLimits> = {
  wallMs: 20_000,
  cpuSeconds: 15,
  memoryMb: 512,
  outputBytes: 64 * 1024,
};

/** Processes (and threads) per sandbox uid. */
const NPROC_LIMIT = 64;
/** Bytes per file the program may write. */
const FILE_SIZE_LIMIT = 16 * 1024 * 1024;
/** Cap on the harness result channel (fd 3). */
const SIDE_CHANNEL_BYTES = 4 * 1024 * 1024;
/** How long the program may take to end by itself after its supervisor (the harness) ended. */
const LEFTOVER_GRACE_MS = 2_000;
/** Size of each writable tmpfs in a bwrap sandbox (/tmp and the working dir). */
const TMPFS_BYTES = 32 * 1024 * 1024;
/** Where the temp dir appears inside a bwrap sandbox: fixed, so paths are deterministic. */
const SANDBOX_DIR = '/sandbox';

export interface SandboxRequest {
  /** Arguments after the interpreter, e.g. ['-I', '-c', code]. */
  args: string[];
  stdin?: string;
  limits?: SandboxLimits;
  /**
   * Python source of a trusted supervisor (the test harness). When set, it runs beside the
   * sandboxed program (`args`), outside the sandbox, under the resource limits only, and gets
   * `stdin`. Its fds 4 and 5 are the other ends of the program's fds 3 and 4; its fd 3 is the
   * result channel (`side`), which the program never holds.
   */
  supervisor?: string;
}

export interface SandboxResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Killed by us after the wall-clock limit. */
  wallTimeout: boolean;
  stdout: string;
  stderr: string;
  /** Bytes the program wrote to stdout+stderr, including the discarded ones. */
  outputBytes: number;
  outputTruncated: boolean;
  /** What the program wrote on fd 3 (the harness result channel). */
  side: string;
  durationMs: number;
  isolation: Isolation;
  /** The host path of the temp dir (already removed when the result is returned). */
  dir: string;
  /** With a supervisor: how the sandboxed program ended (exitCode and signal are the supervisor's). */
  program?: { exitCode: number | null; signal: NodeJS.Signals | null };
}

const ISOLATION: Record<IsolationLevel, Isolation> = {
  bwrap: { level: 'bwrap', filesystem: true, network: true, pidNamespace: true, unprivilegedUid: true },
  unshare: { level: 'unshare', filesystem: false, network: true, pidNamespace: true, unprivilegedUid: true },
  setpriv: { level: 'setpriv', filesystem: false, network: false, pidNamespace: false, unprivilegedUid: true },
  rlimit: { level: 'rlimit', filesystem: false, network: false, pidNamespace: false, unprivilegedUid: false },
};

const isRoot = process.getuid?.() === 0;

/** The opt-in for running untrusted code at a level that does not hide the filesystem. */
export const ALLOW_WEAK_SANDBOX_ENV = 'LEAFE_ALLOW_WEAK_SANDBOX';

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = resolve(dir || '.', cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Absolute path of a tool, looked up on the worker's PATH (the sandbox's own PATH is minimal). */
function tool(cmd: string): string {
  const found = which(cmd);
  if (!found) throw new Error(`sandbox: '${cmd}' was not found on PATH (${process.env.PATH ?? ''})`);
  return found;
}

/**
 * The interpreter. A system python under /usr is preferred: it is visible inside bwrap and
 * readable by the throwaway uid (a pyenv under /root is not). LEAFE_SANDBOX_PYTHON overrides.
 */
export function sandboxPython(): string {
  const env = process.env.LEAFE_SANDBOX_PYTHON;
  if (env) return env;
  if (existsSync('/usr/bin/python3')) return '/usr/bin/python3';
  const found = which('python3');
  if (!found) throw new Error('sandbox: no python3 found (set LEAFE_SANDBOX_PYTHON to an interpreter path)');
  return found;
}

// Throwaway uids: distinct per process and per concurrent run, so per-uid RLIMIT_NPROC
// counts one sandbox only. Collisions across processes are possible but only share a limit.
let uidCounter = 0;
function nextUid(): number {
  const slot = uidCounter++ % 64;
  return 200_000 + ((process.pid % 8192) * 64 + slot);
}

interface Plan {
  command: string;
  args: string[];
  /** Extra cleanup after the run (kill leftovers that may have left our process group). */
  uid?: number;
}

function rlimitArgs(l: Required<SandboxLimits>, nproc: boolean): string[] {
  const as = l.memoryMb * 1024 * 1024;
  return [
    `--as=${as}:${as}`,
    // soft limit raises SIGXCPU (the harness reports it), the hard one kills.
    `--cpu=${l.cpuSeconds}:${l.cpuSeconds + 1}`,
    `--fsize=${FILE_SIZE_LIMIT}:${FILE_SIZE_LIMIT}`,
    '--core=0:0',
    ...(nproc ? [`--nproc=${NPROC_LIMIT}:${NPROC_LIMIT}`] : []),
  ];
}

function buildPlan(level: IsolationLevel, dir: string, python: string, req: SandboxRequest, l: Required<SandboxLimits>): Plan {
  const useUid = isRoot && level !== 'rlimit';
  const uid = useUid ? nextUid() : undefined;
  // NPROC only when it counts our own throwaway uid (root is exempt; a shared user uid would
  // count unrelated processes).
  const prlimit = [tool('prlimit'), ...rlimitArgs(l, uid !== undefined)];
  const setpriv = uid !== undefined ? [tool('setpriv'), `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--inh-caps=-all', '--no-new-privs'] : [];
  const py = [python, ...req.args];
  let argv: string[];
  switch (level) {
    case 'bwrap': {
      const binds = ['/usr', '/lib', '/lib64', '/bin', '/sbin']
        .filter((p) => existsSync(p))
        .flatMap((p) => ['--ro-bind', p, p]);
      argv = [
        ...prlimit, ...setpriv,
        tool('bwrap'), '--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
        ...binds,
        // Writable space is two size-limited tmpfs (host RAM otherwise unbounded: 1.5 GiB in 0.6 s).
        '--proc', '/proc', '--dev', '/dev', '--size', String(TMPFS_BYTES), '--tmpfs', '/tmp',
        '--size', String(TMPFS_BYTES), '--tmpfs', SANDBOX_DIR, '--chdir', SANDBOX_DIR,
        '--setenv', 'HOME', SANDBOX_DIR, '--setenv', 'TMPDIR', SANDBOX_DIR,
        ...py,
      ];
      break;
    }
    case 'unshare':
      // unshare needs root for the namespaces; the uid is dropped after them.
      argv = [tool('unshare'), '--net', '--pid', '--fork', '--kill-child', '--mount-proc', ...prlimit, ...setpriv, ...py];
      break;
    case 'setpriv':
      argv = [...prlimit, ...setpriv, ...py];
      break;
    case 'rlimit':
      argv = [...prlimit, ...py];
      break;
  }
  return { command: argv[0], args: argv.slice(1), uid };
}

let detected: Promise<IsolationLevel> | undefined;
/** Why stronger levels were passed over by the probe (for the refusal message). */
const passedOver: string[] = [];

/**
 * The strongest isolation that works here, probed once per process by running python under
 * each level. LEAFE_SANDBOX_ISOLATION forces a level (tests of the weaker paths use it).
 */
export function detectIsolation(): Promise<IsolationLevel> {
  if (!detected) detected = probe();
  return detected;
}

async function probe(): Promise<IsolationLevel> {
  const forced = process.env.LEAFE_SANDBOX_ISOLATION;
  if (forced) {
    if (!(ISOLATION_LEVELS as readonly string[]).includes(forced)) {
      throw new Error(`LEAFE_SANDBOX_ISOLATION: '${forced}' is not one of ${ISOLATION_LEVELS.join(', ')}`);
    }
    passedOver.push(`LEAFE_SANDBOX_ISOLATION=${forced} forces it`);
    return forced as IsolationLevel;
  }
  if (!which('prlimit')) throw new Error('sandbox: prlimit (util-linux) is required and was not found on PATH');
  for (const level of ISOLATION_LEVELS) {
    if (level === 'bwrap' && !which('bwrap')) {
      passedOver.push('bwrap: not found on PATH');
      continue;
    }
    if ((level === 'unshare' || level === 'setpriv') && !isRoot) continue;
    try {
      const r = await runUnchecked(level, { args: ['-I', '-c', 'print("ok")'], limits: { wallMs: 10_000 } });
      if (r.exitCode === 0 && r.stdout.trim() === 'ok') return level;
      passedOver.push(`${level}: probe failed (exit ${r.exitCode}: ${r.stderr.trim().slice(0, 200)})`);
    } catch (err) {
      passedOver.push(`${level}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return 'rlimit';
}

/** Whether a level keeps the run directory, the project, task files and host paths from candidate code. */
export function isStrong(level: IsolationLevel): boolean {
  return ISOLATION[level].filesystem && ISOLATION[level].network && ISOLATION[level].pidNamespace;
}

export function weakSandboxAllowed(): boolean {
  const v = process.env[ALLOW_WEAK_SANDBOX_ENV];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** A configuration problem of the worker, not of the task: retrying elsewhere or later does not help. */
export class SandboxRefusedError extends Error {
  override name = SANDBOX_REFUSED;
}

/** Throws, saying what to install or which opt-in to give, unless `level` may run untrusted code. */
export function assertIsolationAllowed(level: IsolationLevel): void {
  if (isStrong(level) || weakSandboxAllowed()) return;
  const why = passedOver.length > 0 ? ` (${passedOver.join('; ')})` : '';
  throw new SandboxRefusedError(
    `code sandbox: refusing to run untrusted code at isolation level '${level}'${why}: at this level candidate code can read ` +
      `the files of the host (the run directory with the Temporal database, the project, the task files with hidden tests) ` +
      `and write to its world-writable paths. Install bubblewrap (apt-get install -y bubblewrap; any bwrap on PATH is used), ` +
      `or set ${ALLOW_WEAK_SANDBOX_ENV}=1 on the worker to accept weaker isolation (docs/sandbox.md says what it does not protect).`,
  );
}

/** One line for logs and reports: the level, what it enforces, and whether it may run code. */
export async function describeSandbox(): Promise<string> {
  const level = await detectIsolation();
  const i = ISOLATION[level];
  const holds = (['filesystem', 'network', 'pidNamespace', 'unprivilegedUid'] as const).filter((k) => i[k]);
  const verdict = isStrong(level) ? '' : weakSandboxAllowed() ? ` — WEAK, allowed by ${ALLOW_WEAK_SANDBOX_ENV}` : ` — WEAK: code tasks are refused (install bubblewrap or set ${ALLOW_WEAK_SANDBOX_ENV}=1)`;
  return `code sandbox isolation: ${level} (${holds.join(', ') || 'resource limits only'})${verdict}`;
}

/** Runs untrusted code at the detected level; refuses a weak level without the opt-in. */
export async function runSandboxed(req: SandboxRequest): Promise<SandboxResult> {
  return runAt(await detectIsolation(), req);
}

/** Runs at a given level, bypassing detection (for tests of the weaker levels); same refusal. */
export async function runAt(level: IsolationLevel, req: SandboxRequest): Promise<SandboxResult> {
  assertIsolationAllowed(level);
  return runUnchecked(level, req);
}

async function runUnchecked(level: IsolationLevel, req: SandboxRequest): Promise<SandboxResult> {
  const limits = { ...DEFAULT_LIMITS, ...req.limits };
  const dir = await mkdtemp(join(tmpdir(), 'leafe-sbx-'));
  try {
    const python = sandboxPython();
    const plan = buildPlan(level, resolve(dir), python, req, limits);
    if (plan.uid !== undefined) await chown(dir, plan.uid, plan.uid);
    // -S: the supervisor needs only the standard library, and skipping site saves ~6 ms per run.
    const supervisor = req.supervisor === undefined ? undefined : { command: tool('prlimit'), args: [...rlimitArgs(supervisorLimits(limits), false), python, '-I', '-S', '-c', req.supervisor] };
    const result = await execute(plan, dir, req.stdin ?? '', limits, level, supervisor);
    if (plan.uid !== undefined && !ISOLATION[level].pidNamespace) killUid(plan.uid);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** The supervisor handles only plain data, but decodes up to 16 MiB replies: more room than the program. */
function supervisorLimits(l: Required<SandboxLimits>): Required<SandboxLimits> {
  return { ...l, memoryMb: Math.max(l.memoryMb, 1024), cpuSeconds: l.cpuSeconds + 5 };
}

function sandboxEnv(dir: string): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    TMPDIR: dir,
    LANG: 'C.UTF-8',
    PYTHONHASHSEED: '0', // set/dict-of-str order identical across runs (replay determinism)
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONIOENCODING: 'utf-8',
  };
}

/** Without a pid namespace, descendants that called setsid() escape the process group. */
function killUid(uid: number): void {
  spawnSync(tool('setpriv'), [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'kill', '-KILL', '-1'], { stdio: 'ignore' });
}

/**
 * Spawns the program (alone, or beside its trusted supervisor) and collects its output. With a
 * supervisor both start at once: the supervisor gets the other ends of the program's fds 3
 * (requests) and 4 (replies) as its fds 4 and 5, and holds stdin and the result channel (fd 3).
 */
function execute(plan: Plan, dir: string, stdin: string, limits: Required<SandboxLimits>, level: IsolationLevel, supervisor?: Plan): Promise<SandboxResult> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const env = sandboxEnv(dir);
    const program = spawn(plan.command, plan.args, {
      cwd: dir,
      detached: true, // own process group, killed as a whole
      stdio: supervisor ? ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe', 'pipe'],
      env,
    });
    let sup: ChildProcess | undefined;
    if (supervisor) {
      const [toProgram, fromProgram] = [program.stdio[3], program.stdio[4]] as Socket[];
      sup = spawn(supervisor.command, supervisor.args, { cwd: dir, detached: true, stdio: ['pipe', 'pipe', 'pipe', 'pipe', toProgram, fromProgram], env });
      // Only the supervisor talks to the program.
      toProgram.destroy();
      fromProgram.destroy();
    }
    const main = sup ?? program; // holds stdin and the result channel
    const procs = sup ? [program, sup] : [program];
    let wallTimeout = false;
    let outputBytes = 0;
    let keptBytes = 0;
    const outs: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
    const side: Buffer[] = [];
    let sideBytes = 0;

    // Keep the first outputBytes across all streams, count and drop the rest: never buffer it.
    const collect = (name: 'stdout' | 'stderr') => (chunk: Buffer) => {
      outputBytes += chunk.length;
      const room = limits.outputBytes - keptBytes;
      if (room > 0) {
        const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
        outs[name].push(part);
        keptBytes += part.length;
      }
    };
    const ignore = () => {};
    const outputs: Socket[] = [];
    for (const p of procs) {
      p.stdout!.on('data', collect('stdout'));
      p.stderr!.on('data', collect('stderr'));
      outputs.push(p.stdout as Socket, p.stderr as Socket);
    }
    const sideStream = main.stdio[3] as Socket;
    sideStream.on('data', (chunk: Buffer) => {
      const room = SIDE_CHANNEL_BYTES - sideBytes;
      if (room > 0) {
        side.push(chunk.length <= room ? chunk : chunk.subarray(0, room));
        sideBytes += Math.min(room, chunk.length);
      }
    });
    const streams = [...outputs, sideStream];
    for (const st of streams) st.on('error', ignore);
    main.stdin!.on('error', ignore); // EPIPE when the program exits without reading stdin
    main.stdin!.end(stdin);

    const killAll = () => {
      for (const p of procs) {
        try {
          process.kill(-p.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    const timer = setTimeout(() => {
      wallTimeout = true;
      killAll();
    }, limits.wallMs);

    let leftoverTimer: NodeJS.Timeout | undefined;
    let failed = false;
    const exits = new Map<ChildProcess, { code: number | null; signal: NodeJS.Signals | null }>();
    for (const p of procs) {
      p.on('error', (err) => {
        if (failed) return;
        failed = true;
        clearTimeout(timer);
        killAll();
        reject(new Error(`sandbox: could not start '${p === program ? plan.command : supervisor!.command}': ${err.message}`));
      });
      p.on('exit', (code, signal) => {
        exits.set(p, { code, signal });
        // The run is over when the main process ends: leftovers (the program after its
        // supervisor, strays without a pid namespace) would hold the pipes open. A program that
        // is ending by itself gets a moment first: killing it at once raced its own exit, so the
        // same program was reported as "exited with code 0" or "terminated by SIGKILL".
        if (p === main && exits.size < procs.length) leftoverTimer = setTimeout(killAll, LEFTOVER_GRACE_MS);
        if (exits.size === procs.length && !failed) finish();
      });
    }

    const finish = () => {
      clearTimeout(timer);
      clearTimeout(leftoverTimer);
      const done = () => {
        const m = exits.get(main)!;
        const prog = exits.get(program)!;
        resolvePromise({
          exitCode: m.code,
          signal: m.signal,
          wallTimeout,
          stdout: Buffer.concat(outs.stdout).toString('utf8'),
          stderr: Buffer.concat(outs.stderr).toString('utf8'),
          outputBytes,
          outputTruncated: outputBytes > limits.outputBytes,
          side: Buffer.concat(side).toString('utf8'),
          durationMs: Date.now() - started,
          isolation: ISOLATION[level],
          dir,
          ...(sup ? { program: { exitCode: prog.code, signal: prog.signal } } : {}),
        });
      };
      // Let the pipes drain; a stray holder of them must not hang us.
      const closed = Promise.all(streams.map((st) => (st.closed ? undefined : new Promise((r) => st.once('close', r)))));
      let grace: NodeJS.Timeout | undefined;
      const timeout = new Promise((r) => (grace = setTimeout(r, 500)));
      void Promise.race([closed, timeout]).then(() => {
        clearTimeout(grace);
        for (const st of streams) st.destroy();
        done();
      });
    };
  });
}
