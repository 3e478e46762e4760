import cliProgress from 'cli-progress';
import { rawStderr } from './terminal-guard';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { ExperimentSummary } from '../contract/experiment-config';
import { passAtKTable, studySummary } from '../report/study-summary';
import { statusQuery, type ExperimentStatus } from '../contract/experiment-messages';
import { withEvaluationProgress } from './evaluation-progress';
import { failureText } from './failure-cause';
import { DEFAULT_STALLED_AFTER_MS, inferenceHealth, renderInferenceHealth, STALLED_AFTER_ENV, stalledAfterFrom, type InferenceHealth } from './inference-health';
import { addInspectionOptions, withInspection, type InspectionFlags } from './inspection-options';

/** One look at an experiment: live progress while it runs, its result (or failure) once closed. */
export type ExperimentSnapshot =
  | { experimentId: string; state: 'running'; workflowStatus: 'RUNNING'; runId: string; startTime: string; status: ExperimentStatus | null; inference: InferenceHealth | null }
  | { experimentId: string; state: 'closed'; workflowStatus: string; runId: string; startTime: string; closeTime: string | null; result: ExperimentSummary | null; failure: string | null };

/** `leafe status` exit code for an experiment that closed FAILED, TERMINATED, CANCELED or TIMED_OUT. */
export const EXIT_NOT_COMPLETED = 2;

const QUERY_RETRIES = 10;
const HEALTH_INTERVAL_MS = 5000;
const QUERY_RETRY_MS = 300;

/** The `status` query; null while the new run after a continue-as-new has not answered yet. */
async function queryStatus(client: Client, experimentId: string): Promise<ExperimentStatus | null> {
  for (let attempt = 0; attempt < QUERY_RETRIES; attempt++) {
    try {
      return await client.workflow.getHandle(experimentId).query(statusQuery);
    } catch {
      await new Promise((r) => setTimeout(r, QUERY_RETRY_MS));
    }
  }
  return null;
}

/**
 * `stalledAfterMs`: when the running experiment's failing inference counts as stalled;
 * `inference: false` skips that look (describes of its running children).
 */
export async function experimentSnapshot(client: Client, experimentId: string, options: { stalledAfterMs?: number; inference?: boolean } = {}): Promise<ExperimentSnapshot> {
  const handle = client.workflow.getHandle(experimentId);
  const d = await handle.describe().catch((err: unknown) => {
    throw new Error(`experiment id: ${JSON.stringify(experimentId)} is not a workflow on this server (${err instanceof Error ? err.message : String(err)}); expected an id listed by \`leafe runs\``);
  });
  if (d.type !== 'experimentWorkflow') throw new Error(`experiment id: ${JSON.stringify(experimentId)} is a ${d.type}; expected an experimentWorkflow (see \`leafe runs\`)`);
  const base = { experimentId, runId: d.runId, startTime: d.startTime.toISOString() };
  if (d.status.name === 'RUNNING') {
    const [status, inference] = await Promise.all([
      queryStatus(client, experimentId).then((s) => s && withEvaluationProgress(client.workflow, s)),
      // Failing requests of its running episodes: a failed look leaves the line out, not the status.
      options.inference === false ? null : inferenceHealth(client, [experimentId], options.stalledAfterMs ?? DEFAULT_STALLED_AFTER_MS).catch(() => null),
    ]);
    return { ...base, state: 'running', workflowStatus: 'RUNNING', status, inference };
  }
  let result: ExperimentSummary | null = null;
  let failure: string | null = null;
  if (d.status.name === 'COMPLETED') result = (await handle.result()) as ExperimentSummary;
  else failure = await handle.result().then(() => null, failureText);
  return { ...base, state: 'closed', workflowStatus: d.status.name, closeTime: d.closeTime?.toISOString() ?? null, result, failure };
}

function passAtKLine(p: Record<string, number> | null): string {
  if (!p) return '-';
  return Object.entries(p).map(([k, v]) => `pass@${k} ${v.toFixed(3)}`).join('  ');
}

/** One line of live progress (also what a non-TTY follow prints when something changed). */
export function statusLine(s: ExperimentStatus): string {
  return `${s.experimentId} (${s.method})  iteration ${s.iteration}/${s.iterations}  stage ${s.stage}${s.paused ? '  PAUSED' : ''}  episodes ${s.tasksDone}/${s.tasksTotal}  budget used ${s.budgetUsed}  concurrency ${s.concurrency}  last Pass@k: ${passAtKLine(s.lastPassAtK)}`;
}

export function renderSnapshot(snap: ExperimentSnapshot): string {
  if (snap.state === 'running') {
    const health = snap.inference ? renderInferenceHealth(snap.inference) : null;
    const head = snap.status
      ? `${statusLine(snap.status)}\n  started ${snap.startTime}`
      : `${snap.experimentId}  RUNNING (started ${snap.startTime}); no answer to the status query yet (between iterations, or no worker polling the workflows queue)`;
    return health ? `${head}\n${health}` : head;
  }
  const head = `${snap.experimentId}  ${snap.workflowStatus}  (started ${snap.startTime}, closed ${snap.closeTime ?? '-'})`;
  if (!snap.result) return `${head}\n  ${snap.failure ?? 'no result'}`;
  const r = snap.result;
  const rows = r.iterations.map((it) => {
    const parts = [`  it ${it.iteration} ${it.model}: ${passAtKLine(it.evaluation.passAtK)}`];
    if (it.explore) parts.push(`explored ${it.explore.solved}/${it.explore.episodes} solved, budget ${it.explore.budgetUsed}, ${it.explore.branches} branches`);
    if (it.dataset) parts.push(`dataset ${it.dataset.cf} cf + ${it.dataset.reh} reh`);
    return parts.join('; ');
  });
  return [head, passAtKTable(studySummary(r.experimentId, [r], r.summaryPath, false)), ...rows, `  summary: ${r.summaryPath}`].join('\n');
}

/** Polls the status query until the experiment closes, with a progress bar on a TTY. */
export async function followExperiment(client: Client, experimentId: string, intervalMs: number, out: NodeJS.WriteStream = process.stderr, stalledAfterMs = DEFAULT_STALLED_AFTER_MS): Promise<ExperimentSnapshot> {
  const tty = out.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar({ format: ' {method} [{bar}] {value}/{total} episodes | it {iteration}/{iterations} {stage} | budget {budget} | {pass}', hideCursor: true, stream: out === process.stderr ? rawStderr : out }, cliProgress.Presets.shades_classic)
    : null;
  let started = false;
  let lastLine = '';
  let lastHealth = '';
  let healthAt = 0;
  try {
    for (;;) {
      // The inference look costs up to ~50 requests: every 5 s at most, not every refresh.
      const lookAtInference = Date.now() - healthAt >= HEALTH_INTERVAL_MS;
      if (lookAtInference) healthAt = Date.now();
      const snap = await experimentSnapshot(client, experimentId, { stalledAfterMs, inference: lookAtInference });
      if (snap.state === 'closed') return snap;
      const health = (snap.inference && renderInferenceHealth(snap.inference)) ?? '';
      const healthKey = snap.inference?.last ? `${snap.inference.last.message}\u0000${snap.inference.last.attempt}\u0000${snap.inference.stalled}` : '';
      if (lookAtInference && healthKey !== lastHealth && health) out.write(`${tty ? '\n' : ''}${health}\n`);
      if (lookAtInference) lastHealth = healthKey;
      const s = snap.status;
      if (s && bar) {
        const payload = { method: s.method, iteration: s.iteration, iterations: s.iterations, stage: `${s.stage}${s.paused ? ' (paused)' : ''}`, budget: s.budgetUsed, pass: passAtKLine(s.lastPassAtK) };
        if (!started) bar.start(Math.max(1, s.tasksTotal), s.tasksDone, payload);
        started = true;
        bar.setTotal(Math.max(1, s.tasksTotal));
        bar.update(s.tasksDone, payload);
      } else if (s && statusLine(s) !== lastLine) {
        lastLine = statusLine(s);
        out.write(`${lastLine}\n`);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  } finally {
    if (started) bar?.stop();
  }
}

/** `leafe status <id>`: live progress from the status query; the result summary once closed. */
export function registerStatusCommand(program: Command): void {
  addInspectionOptions(
    program
      .command('status')
      .description('live progress of an experiment (stage, episodes, budget, last Pass@k) until it closes; its result once closed. Exit code 2 when it closed without completing (failed, terminated, cancelled, timed out)')
      .argument('<experimentId>', 'experiment workflow id (see `leafe runs`)')
      .option('--once', 'print one snapshot and exit')
      .option('--json', 'print one snapshot as JSON and exit')
      .option('--interval <ms>', 'refresh interval in milliseconds', '1000')
      .option('--stalled-after <duration>', `show the run as stalled when every pending inference request has failed for this long (default: ${STALLED_AFTER_ENV} or 10m)`),
  ).action(async (experimentId: string, opts: InspectionFlags & { once?: boolean; json?: boolean; interval: string; stalledAfter?: string }) => {
    const intervalMs = Number(opts.interval);
    if (!Number.isInteger(intervalMs) || intervalMs < 100) throw new Error(`--interval: ${JSON.stringify(opts.interval)}; expected an integer number of milliseconds >= 100`);
    const stalledAfterMs = stalledAfterFrom(opts.stalledAfter);
    await withInspection(opts, async (ctx) => {
      const snap = opts.once || opts.json ? await experimentSnapshot(ctx.client, experimentId, { stalledAfterMs }) : await followExperiment(ctx.client, experimentId, intervalMs, process.stderr, stalledAfterMs);
      process.stdout.write(opts.json ? `${JSON.stringify(snap, null, 2)}\n` : `${renderSnapshot(snap)}\n`);
      // Scripts can tell: 0 running or completed, 2 closed without completing (1: the command itself failed).
      if (snap.state === 'closed' && snap.workflowStatus !== 'COMPLETED') process.exitCode = EXIT_NOT_COMPLETED;
    });
  });
}
