/**
 * Runs a trainer (TRL `trl sft`, `llamafactory-cli train`, a user script) as a child process
 * from an argv template. Not tied to Temporal: the activity wrapper injects `heartbeat` and the
 * cancellation `signal`, and maps the two error classes to retryable / non-retryable failures.
 *
 * - `{{name}}` placeholders are filled in every argv element; an unknown name is a config error.
 * - `{{output_dir}}` and `{{resume_from_checkpoint}}` are filled here. The latter is the newest
 *   complete `checkpoint-<step>` in outputDir, or "" when there is none. HF's
 *   `--resume_from_checkpoint` needs a value, so write the flag with an OPTIONAL placeholder in
 *   one element: `--resume_from_checkpoint={{resume_from_checkpoint?}}`. An element containing an
 *   optional placeholder whose value is empty is dropped as a whole.
 * - The process runs in its own process group; the whole group is killed on abort (SIGTERM,
 *   SIGKILL after a grace period) and any survivors after the leader exits (dataloader or
 *   torchrun workers must not keep holding the GPU for the retry).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { TrainerAbortedError, TrainerConfigError, TrainerCrashError, type Progress, type RunTrainerOptions, type TrainerFailureDetails, type TrainerRunResult } from '../contract/trainer-port';
import { findLatestCheckpoint } from './checkpoints';
import { ProgressTracker } from './progress-parser';
import { trainerEnvironment } from './trainer-environment';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)(\?)?\s*\}\}/g;

/**
 * Fills the argv template. Elements containing an optional placeholder (`{{name?}}`) whose
 * value is "" are dropped; an unknown name throws a TrainerConfigError naming it.
 */
export function fillCommand(template: string[], values: Record<string, string>): string[] {
  if (!Array.isArray(template) || template.length === 0 || template.some((a) => typeof a !== 'string')) {
    throw new TrainerConfigError(`trainer command = ${JSON.stringify(template)}, expected a non-empty array of strings (argv)`);
  }
  const argv: string[] = [];
  template.forEach((arg, i) => {
    let drop = false;
    const filled = arg.replace(PLACEHOLDER, (_, name: string, optional: string | undefined) => {
      if (!Object.prototype.hasOwnProperty.call(values, name)) {
        throw new TrainerConfigError(
          `trainer command[${i}] = ${JSON.stringify(arg)}: unknown placeholder {{${name}}}, expected one of ${Object.keys(values).sort().map((k) => `{{${k}}}`).join(', ')}`,
        );
      }
      const v = values[name];
      if (optional && v === '') drop = true;
      return v;
    });
    if (!drop) argv.push(filled);
  });
  if (argv.length === 0 || argv[0] === '') {
    throw new TrainerConfigError(`trainer command = ${JSON.stringify(template)}: the program (argv[0]) is empty after filling placeholders`);
  }
  return argv;
}

/** Output lines that mean the configuration is wrong whatever the retry. */
const CONFIG_PATTERNS: RegExp[] = [
  /error: unrecognized arguments/,
  /error: the following arguments are required/,
  /error: argument [^:]+: (invalid|expected|ambiguous)/,
  /Some specified arguments are not used by the HfArgumentParser/,
];

/**
 * True when a "file not found" line names one of the paths the template was given (data files,
 * a local base model). Only path-like values count: "3" (epochs) would match anything.
 */
function isMissingInputFile(line: string, values: Record<string, string>): boolean {
  if (!/No such file or directory|FileNotFoundError|Unable to find/.test(line)) return false;
  return Object.entries(values).some(
    ([k, v]) => k !== 'output_dir' && k !== 'resume_from_checkpoint' && v.length > 3 && /[/\\]/.test(v) && line.includes(v),
  );
}

/** Live, non-zombie members of a process group (Linux /proc; falls back to kill(-pgid, 0)). */
function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid pgrp ...
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) === pgid && rest[0] !== 'Z' && rest[0] !== 'X') return true;
    } catch {
      // the process went away while we looked
    }
  }
  return false;
}

function killGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group is already gone
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** SIGTERM the group (unless already sent), wait up to graceMs, then SIGKILL what is left. */
async function reapGroup(pgid: number, graceMs: number, termAlreadySentAt: number | null): Promise<void> {
  if (!groupAlive(pgid)) return;
  const start = termAlreadySentAt ?? Date.now();
  if (termAlreadySentAt === null) killGroup(pgid, 'SIGTERM');
  while (groupAlive(pgid)) {
    if (Date.now() - start >= graceMs) {
      killGroup(pgid, 'SIGKILL');
      for (let i = 0; i < 50 && groupAlive(pgid); i++) await sleep(20);
      return;
    }
    await sleep(50);
  }
}

export async function runTrainerCommand(opts: RunTrainerOptions): Promise<TrainerRunResult> {
  const heartbeatEveryMs = opts.heartbeatEveryMs ?? 10_000;
  const killGraceMs = opts.killGraceMs ?? 30_000;
  const tailLines = opts.logTailLines ?? 50;
  for (const reserved of ['output_dir', 'resume_from_checkpoint']) {
    if (Object.prototype.hasOwnProperty.call(opts.placeholders, reserved)) {
      throw new TrainerConfigError(`trainer placeholders.${reserved} = ${JSON.stringify(opts.placeholders[reserved])}: set by the runner, expected it to be absent`);
    }
  }
  if (!(Number.isFinite(heartbeatEveryMs) && heartbeatEveryMs > 0)) {
    throw new TrainerConfigError(`trainer heartbeatEveryMs = ${String(heartbeatEveryMs)}, expected a positive number of milliseconds`);
  }
  if (!(Number.isFinite(killGraceMs) && killGraceMs >= 0)) {
    throw new TrainerConfigError(`trainer killGraceMs = ${String(killGraceMs)}, expected a number of milliseconds >= 0`);
  }
  const notStarted = (): TrainerFailureDetails => ({ exitCode: null, signal: null, argv: [], resumedFrom: null, logTail: '', progress: null });
  if (opts.signal?.aborted) throw new TrainerAbortedError(notStarted(), opts.signal.reason);

  await mkdir(opts.outputDir, { recursive: true });
  await mkdir(path.dirname(opts.logFile), { recursive: true });
  const latest = await findLatestCheckpoint(opts.outputDir);
  const resumedFrom = latest?.path ?? null;
  const values = { ...opts.placeholders, output_dir: opts.outputDir, resume_from_checkpoint: resumedFrom ?? '' };
  const argv = fillCommand(opts.command, values);

  const log = createWriteStream(opts.logFile, { flags: 'a' });
  log.write(`\n=== leafe trainer run ${new Date().toISOString()} resume_from=${resumedFrom ?? '-'} argv=${JSON.stringify(argv)}\n`);
  const tracker = new ProgressTracker(resumedFrom);
  const tail: string[] = [];
  let configLine: string | null = null;
  const onLine = (line: string, progress: Progress) => {
    if (line.trim() === '') return;
    tail.push(line);
    if (tail.length > tailLines) tail.shift();
    if (configLine !== null) return;
    // A ValueError before the first training step (no bar yet, or 0/N) is a configuration
    // problem (HF validates its arguments up front); after that it is a crash like any other.
    if (CONFIG_PATTERNS.some((p) => p.test(line)) || isMissingInputFile(line, values) || (/^\s*ValueError:/.test(line) && !progress.step)) {
      configLine = line.trim();
    }
  };

  const child = spawn(argv[0], argv.slice(1), {
    cwd: opts.cwd,
    env: trainerEnvironment(process.env, opts.env),
    detached: true, // own process group: pgid = child.pid
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      log.write(chunk);
      tracker.push(chunk, onLine);
    });
  }

  let termSentAt: number | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    if (child.pid === undefined || termSentAt !== null) return;
    termSentAt = Date.now();
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), killGraceMs);
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // An abort that arrived while we were looking for checkpoints fired no event.
  if (opts.signal?.aborted) onAbort();
  const beat = () => opts.heartbeat(tracker.snapshot());
  beat();
  const timer = setInterval(beat, heartbeatEveryMs);

  let spawnError: NodeJS.ErrnoException | null = null;
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  clearInterval(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  if (child.pid !== undefined) await reapGroup(child.pid, killGraceMs, termSentAt);
  if (killTimer) clearTimeout(killTimer);
  // Grandchildren that escaped the group could keep the pipes open: stop reading now.
  child.stdout.destroy();
  child.stderr.destroy();
  tracker.end(onLine);
  log.write(`=== leafe trainer exit code=${exit.code} signal=${exit.signal}\n`);
  await new Promise<void>((r) => log.end(r));

  const progress = tracker.snapshot();
  opts.heartbeat(progress);
  const details: TrainerFailureDetails = { exitCode: exit.code, signal: exit.signal, argv, resumedFrom, logTail: tail.join('\n'), progress };
  const err = spawnError as NodeJS.ErrnoException | null;
  if (err) {
    // trainer.python leafe-real puts a venv first on PATH: name it when it is not on this worker.
    const venv = opts.env?.VIRTUAL_ENV;
    const missingVenv = venv !== undefined && !existsSync(venv) ? `; the Python environment ${venv} (trainer.python: leafe-real) is not on this worker: run \`npx leafe setup real\` here first` : '';
    throw new TrainerConfigError(`trainer command[0] = ${JSON.stringify(argv[0])}: cannot start it (${err.code ?? err.message}), expected an executable on PATH or a path${missingVenv}`, details);
  }
  if (opts.signal?.aborted) throw new TrainerAbortedError(details, opts.signal.reason);
  if (exit.code === 0) {
    const final = await findLatestCheckpoint(opts.outputDir);
    return { exitCode: 0, argv, resumedFrom, finalCheckpoint: final?.path ?? null, logTail: details.logTail, progress };
  }
  const where = `see ${opts.logFile}`;
  if (exit.code === 2 || configLine !== null) {
    throw new TrainerConfigError(`trainer configuration error (exit code ${exit.code}): ${configLine ?? 'exit code 2 is the argument parser rejecting the command'}; ${where}`, details);
  }
  throw new TrainerCrashError(
    `trainer crashed (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}) at step ${progress.step ?? '?'}/${progress.totalSteps ?? '?'}; a retry resumes from the newest checkpoint; ${where}`,
    details,
  );
}
