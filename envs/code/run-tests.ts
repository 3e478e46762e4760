/**
 * Runs a candidate program against a task's tests: the trusted Python harness (harness.py)
 * runs the tests outside the sandbox and calls the candidate's functions in a sandboxed
 * process (candidate-server.py) over a pipe, so the verdict is out of the candidate's reach.
 * The harness's result lines become per-test outcomes.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { SandboxLimits } from '../../core/env-spec';
import type { CodeTask } from './code-tasks';
import { DEFAULT_LIMITS, runAt, runSandboxed, type Isolation, type IsolationLevel, type SandboxResult } from './sandbox';

export type TestStatus = 'pass' | 'fail' | 'error' | 'timeout' | 'memory' | 'cpu' | 'skipped' | 'not-run';

export interface TestOutcome {
  /** Source text of the test (an assert, or a statement of check()'s body). */
  source: string;
  status: TestStatus;
  message: string;
}

export type LoadFailure = { kind: 'syntax' | 'missing' | 'error' | 'timeout' | 'memory' | 'cpu'; message: string };

/**
 * Why the candidate's process ended before all tests ran (or the whole run before the harness
 * said "done"). `unresponsive`: a call ran past its time limit and could not be interrupted.
 */
export type Killed = { kind: 'wall' } | { kind: 'signal'; signal: string } | { kind: 'exit'; code: number } | { kind: 'unresponsive' };

export interface TestRun {
  tests: TestOutcome[];
  passed: number;
  total: number;
  load?: LoadFailure;
  killed?: Killed;
  isolation: Isolation;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface RunOptions {
  limits?: SandboxLimits;
  /** Per-test timeout, ms (default: min(3000, wall limit / 4)). */
  perTestMs?: number;
  /** After this many timed-out tests the rest are skipped (keeps runs under the wall limit). */
  maxTimeouts?: number;
  /** Run at this isolation level instead of the detected one (tests of the weaker levels). */
  level?: IsolationLevel;
}

const HARNESS = readFileSync(join(__dirname, 'harness.py'), 'utf8');
const CANDIDATE_SERVER = readFileSync(join(__dirname, 'candidate-server.py'), 'utf8');

export async function runTests(task: CodeTask, program: string, opts: RunOptions = {}): Promise<TestRun> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const perTestMs = opts.perTestMs ?? Math.min(3000, Math.floor(limits.wallMs / 4));
  const nonce = `@@leafe-${randomBytes(8).toString('hex')}@@`;
  const config = {
    nonce,
    program,
    prelude: task.prelude ?? '',
    mode: task.tests.kind,
    ...(task.tests.kind === 'check'
      ? { test: task.tests.test, entryPoint: task.tests.entryPoint }
      : { setup: task.tests.setup, asserts: task.tests.asserts }),
    perTestMs,
    maxTimeouts: opts.maxTimeouts ?? 2,
    memoryMb: limits.memoryMb,
    wallMs: limits.wallMs,
  };
  const req = { args: ['-I', '-c', CANDIDATE_SERVER], supervisor: HARNESS, stdin: JSON.stringify(config), limits };
  const res = opts.level ? await runAt(opts.level, req) : await runSandboxed(req);

  let plan: string[] | undefined;
  let load: LoadFailure | undefined;
  let done = false;
  let harnessError: string | undefined;
  let candidateGone: Killed | undefined;
  const byIndex = new Map<number, { status: TestStatus; message: string }>();
  for (const line of res.side.split('\n')) {
    if (!line.startsWith(nonce)) continue;
    let ev: Record<string, unknown>;
    try {
      ev = JSON.parse(line.slice(nonce.length)) as Record<string, unknown>;
    } catch {
      continue; // a line cut by a kill
    }
    switch (ev.event) {
      case 'plan':
        plan = ev.tests as string[];
        break;
      case 'load':
        if (!ev.ok) load = { kind: ev.kind as LoadFailure['kind'], message: String(ev.message) };
        break;
      case 'test':
        byIndex.set(Number(ev.index), { status: ev.status as TestStatus, message: String(ev.message ?? '') });
        break;
      case 'candidate-exit':
        candidateGone = ev.kind === 'unresponsive' ? { kind: 'unresponsive' } : endOf(res.program);
        break;
      case 'done':
        done = true;
        break;
      case 'harness-error':
        harnessError = String(ev.message);
        break;
    }
  }
  if (harnessError || !plan) {
    // The harness itself failed (bad test code, or the sandbox could not start python).
    throw new Error(
      `code tests for task ${task.id}: harness failed: ${harnessError ?? `no plan (exit ${res.exitCode}, signal ${res.signal}, stderr: ${res.stderr.slice(0, 300)})`}`,
    );
  }
  let killed: Killed | undefined = candidateGone;
  if (!done) {
    if (res.wallTimeout) killed = { kind: 'wall' };
    else {
      const sig = res.signal ?? signalFromStatus(res.exitCode);
      killed = sig ? { kind: 'signal', signal: sig } : { kind: 'exit', code: res.exitCode ?? -1 };
    }
  }
  const tests: TestOutcome[] = plan.map((source, i) => {
    const r = byIndex.get(i);
    if (r) return { source, ...r };
    return { source, status: load || !killed ? 'skipped' : 'not-run', message: '' };
  });
  const passed = tests.filter((t) => t.status === 'pass').length;
  return {
    tests,
    passed,
    total: tests.length,
    load,
    killed,
    isolation: res.isolation,
    stdout: res.stdout,
    stderr: res.stderr,
    durationMs: res.durationMs,
  };
}

/** How the candidate's process ended, as its parent saw it. */
function endOf(p: SandboxResult['program']): Killed {
  const sig = p?.signal ?? signalFromStatus(p?.exitCode ?? null);
  return sig ? { kind: 'signal', signal: sig } : { kind: 'exit', code: p?.exitCode ?? -1 };
}

/** bwrap and unshare report a child killed by signal N as exit status 128+N. */
function signalFromStatus(code: number | null): string | undefined {
  if (code === null || code <= 128 || code > 128 + 64) return undefined;
  const n = code - 128;
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0];
}
