/**
 * Crash equivalence: one seeded simulator study run twice with the same config and seeds,
 * (a) undisturbed and (b) with the worker processes SIGKILLed and restarted and the server
 * disrupted (dev server: SIGKILL + restart on its SQLite file; cluster: Temporal server SIGKILL +
 * restart, PostgreSQL restart; see ./deployments) at seeded points of the run's own progress
 * (./kill-plan: distinct LLM requests answered, out of the undisturbed run's total; ./kill-runner);
 * then the datasets, Pass@k and the requests the simulator answered are compared. Shared by
 * `npm run chaos` (scripts/chaos.ts) and test/crash-equivalence.test.ts.
 *
 * Ids: record ids in the datasets hash the experiment id and the workflow ids (core/distil.ts
 * `recordId`), and adapter (model) names hold the experiment id, so both runs use the SAME study
 * id, each on its own dev server (own SQLite file) or in its own cluster namespace, with its own
 * task queues, run directory and simulator (same seed, same port). The dataset files can then be
 * compared byte for byte (raw sha256, no canonicalisation), and the simulator's counters belong
 * to one run each.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TakeStepInput, TakeStepResult } from '../../contract/environment-activities';
import type { EvaluationResult, ExperimentSummary, IterationRecord, Method } from '../../contract/experiment-config';
import { freePort } from '../../runtime/dev-server';
import { passAtKTable, studySummary } from '../../report/study-summary';
import { startSimServer } from '../../sim/sim-server';
import { simPoliciesFor } from '../../sim/sim-policies';
import type { SimStatsSnapshot } from '../../sim/sim-stats';
import { startStudy } from '../../cli/study';
import type { LoadedSpec } from '../../spec/load-spec';
import { taskQueues } from '../../contract/task-queues';
import type { WorkerProcess } from '../../runtime/worker-process';
import { startDeployment, type DeploymentKind } from './deployments';
import { describeSchedule, planKills, validatePlan, type ChaosPlan, type KillSchedule } from './kill-plan';
import { carryOutKills, type KillRecord } from './kill-runner';
import { ProgressGate } from './progress-gate';
import { waitForSummaries } from './wait-for-summaries';

export interface RunSettings {
  label: string;
  /** Everything of this run: SQLite file (dev), logs, run directory. */
  dir: string;
  deployment: DeploymentKind;
  loaded: LoadedSpec;
  studyId: string;
  cli: string;
  simSeed: number;
  simPort: number;
  simLatencyMs: number;
  /** Kills paced by the run's progress (./kill-plan), from the undisturbed run's total. */
  chaos?: KillSchedule;
  log: (line: string) => void;
}

export interface DatasetHash {
  method: Method;
  iteration: number;
  records: number;
  /** `dataset.sha256` from the experiment summary (sha256 of train.prompt-completion.jsonl). */
  summarySha256: string;
  /** sha256 of each dataset file, recomputed from the files on disk. */
  files: Record<string, string>;
}

export interface RunResult {
  label: string;
  /** What ran it (./deployments `description`). */
  deployment: string;
  durationMs: number;
  summaries: ExperimentSummary[];
  datasets: DatasetHash[];
  evaluations: Array<{ method: Method; iteration: number; evaluation: EvaluationResult }>;
  /** Exploration numbers per method and iteration (tree refs left out: trees record re-opens). */
  explore: Array<{ method: Method; iteration: number; explore: Omit<NonNullable<IterationRecord['explore']>, 'treesRef'> | null }>;
  passAtKTable: string;
  sim: Pick<SimStatsSnapshot, 'totalRequests' | 'completedPerKey' | 'repeatedCompleted' | 'statusCounts'>;
  /** From the branch histories (see `branchHistoryStats`). */
  histories: { branches: number; llmActivities: number; lostLlmAttempts: number; reusedCompletions: number; reopens: number; workflowTaskTimeouts: number };
  /** `planned`: kills in the schedule (0 undisturbed); carried out: `worker` + `server`. */
  kills: { worker: number; server: number; planned: number; postponed: number; unexpectedWorkerExits: number; log: string[] };
}

const DATASET_FILES = ['train.prompt-completion.jsonl', 'train.messages.jsonl', 'provenance.jsonl', 'stats.json'];
/** Branch activities that ask the model: `takeStep` (act, env step, reflection when due) and, in older branches, `act` and `reflect`. */
const LLM_ACTIVITIES = new Set(['takeStep', 'act', 'reflect']);

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Runs the study once; with `chaos`, kills the worker and the dev server while it runs. */
export async function runStudyOnce(s: RunSettings): Promise<RunResult> {
  mkdirSync(s.dir, { recursive: true });
  const runDir = path.join(s.dir, 'run');
  const deployment = await startDeployment(s.deployment, { label: s.label, dir: s.dir, runDir, cli: s.cli, log: s.log });
  const { workers } = deployment;
  // The chaos run's simulator holds its answers at each kill point until the kill is done.
  const gate = s.chaos ? new ProgressGate() : undefined;
  const sim = await startSimServer({
    seed: s.simSeed,
    port: s.simPort,
    policies: await simPoliciesFor(s.loaded.config.env),
    skill: s.loaded.simulator.skill,
    latency: { meanMs: s.simLatencyMs, distribution: 'lognormal' },
    beforeAnswer: gate?.beforeAnswer,
  });
  const { client } = deployment;
  const kills: KillRecord = { worker: 0, server: 0, postponed: 0, log: [] };
  const started = Date.now();
  // Seconds into the run and the wall clock (UTC, to find the moment in the server's logs).
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s (${new Date().toISOString().slice(11, 19)}Z)`;
  const unexpectedExits = () => workers.reduce((n, w) => n + w.unexpectedExits, 0);
  let done = false;
  try {
    await Promise.all(workers.map((w) => w.start()));
    const loaded = { ...s.loaded, config: { ...s.loaded.config, runDir } };
    const { handles } = await startStudy(client, loaded, taskQueues(deployment.taskQueuePrefix), sim.url, s.studyId);
    s.log(`${s.label}: study ${s.studyId} started (${[...handles.keys()].join(', ')}) on ${deployment.description}; ${workers.map((w) => `${w.name} pid ${w.pid}`).join(', ')}`);

    /** Restarts a worker that died without being killed (counted; none is expected). */
    const watchdog = async () => {
      const seen = new Map<WorkerProcess, number>();
      while (!done) {
        await sleep(500);
        for (const worker of workers) {
          if (!done && !worker.alive() && worker.unexpectedExits > (seen.get(worker) ?? 0)) {
            seen.set(worker, worker.unexpectedExits);
            s.log(`${s.label}: ${worker.name} (pid ${worker.pid}) exited on its own; restarting it`);
            // A failed start is one more unexpected exit: tried again on the next round.
            await worker.start().catch((err: unknown) => s.log(`${s.label}: ${worker.name} did not start: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`));
          }
        }
      }
    };

    const waitAll = () => waitForSummaries(handles as Map<Method, WorkflowHandle>, 500);

    const background = [watchdog()];
    let killError: unknown;
    if (s.chaos && gate) {
      const schedule = s.chaos;
      const log = (line: string) => s.log(`${s.label}: ${line}`);
      // Caught here, not left to reject unawaited while the study runs; rethrown after it.
      background.push(carryOutKills({ schedule, gate, deployment, handles, kills, elapsed, log }).catch((err: unknown) => void (killError = err)));
    }
    let summaries: ExperimentSummary[];
    try {
      summaries = await waitAll();
    } finally {
      done = true;
      gate?.close();
      await Promise.all(background);
    }
    if (killError) throw killError;
    const durationMs = Date.now() - started;
    const planned = s.chaos?.kills.length ?? 0;
    s.log(`${s.label}: study finished in ${(durationMs / 1000).toFixed(1)} s${s.chaos ? `; ${kills.worker + kills.server}/${planned} planned kills carried out` : ''}`);

    const byMethod = new Map(summaries.map((x) => [x.method, x]));
    const ordered = s.loaded.methods.map((m) => byMethod.get(m)!);
    const datasets: DatasetHash[] = [];
    for (const summary of ordered) {
      for (const it of summary.iterations) {
        if (!it.dataset) continue;
        const files = Object.fromEntries(DATASET_FILES.map((f) => [f, sha256(readFileSync(path.join(it.dataset!.dir, f)))]));
        datasets.push({ method: summary.method, iteration: it.iteration, records: it.dataset.records, summarySha256: it.dataset.sha256, files });
      }
    }
    const stats = sim.stats();
    return {
      label: s.label,
      deployment: deployment.description,
      durationMs,
      summaries: ordered,
      datasets,
      evaluations: ordered.flatMap((x) => x.iterations.map((it) => ({ method: x.method, iteration: it.iteration, evaluation: it.evaluation }))),
      explore: ordered.flatMap((x) =>
        x.iterations.map((it) => {
          if (!it.explore) return { method: x.method, iteration: it.iteration, explore: null };
          const { treesRef: _treesRef, ...rest } = it.explore;
          return { method: x.method, iteration: it.iteration, explore: rest };
        }),
      ),
      passAtKTable: passAtKTable(studySummary(s.studyId, ordered, '', true)),
      sim: { totalRequests: stats.totalRequests, completedPerKey: stats.completedPerKey, repeatedCompleted: stats.repeatedCompleted, statusCounts: stats.statusCounts },
      histories: await branchHistoryStats(client, s.studyId),
      kills: { ...kills, planned, unexpectedWorkerExits: unexpectedExits() },
    };
  } finally {
    done = true;
    await Promise.all(workers.map((w) => w.stop()));
    await sim.close();
    await deployment.stop();
  }
}

/**
 * From every branch history: activities that ask the model (`takeStep`; `act`/`reflect` in older
 * branches), their attempts that were lost, completions reused from the journal, environment
 * re-opens (reset + replay) and workflow task timeouts (a worker died holding the task).
 *
 * A lost attempt started on a worker that died (or whose result never reached the server): it may
 * have had a model request in flight that the simulator answered but nobody recorded, and that a
 * later attempt asks again. `takeStep` asks its requests one after the other and journals each
 * completion before going on, so one lost attempt re-asks at most one request. Lost attempts show
 * in a history as: the attempt number on the started event of an activity that completed later
 * (attempt n: n − 1 lost), or an activity that timed out after it had started (the last attempt
 * was lost too), or, the usual takeStep case after a worker kill, an activity that timed out on
 * schedule-to-start (its retry went to the dead worker's session queue) with a heartbeat or
 * start-to-close timeout as its cause (the attempt before it was lost).
 */
async function branchHistoryStats(client: Client, studyId: string): Promise<RunResult['histories']> {
  const out = { branches: 0, llmActivities: 0, lostLlmAttempts: 0, reusedCompletions: 0, reopens: 0, workflowTaskTimeouts: 0 };
  // Workflow ids start with the experiment id, `<studyId>-<method>` (a cluster namespace keeps earlier runs).
  for await (const w of client.workflow.list({ query: `WorkflowType = 'branchWorkflow' AND WorkflowId STARTS_WITH '${studyId}-'` })) {
    out.branches++;
    const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    const llm = new Map<string, { type: string; started: boolean }>();
    let opens = 0;
    for (const e of history.events ?? []) {
      const sched = e.activityTaskScheduledEventAttributes;
      if (sched) {
        const type = sched.activityType?.name ?? '';
        if (LLM_ACTIVITIES.has(type)) {
          llm.set(String(e.eventId), { type, started: false });
          out.llmActivities++;
        }
        // A branch's first takeStep opens its session too (input.open); later opens are re-opens.
        const firstInput = sched.input?.payloads?.[0];
        const opensSession = type === 'takeStep' && firstInput ? (defaultPayloadConverter.fromPayload(firstInput) as TakeStepInput).open !== undefined : false;
        if (type === 'openEnvironment' || opensSession) opens++;
      }
      const startedAttrs = e.activityTaskStartedEventAttributes;
      const startedOf = startedAttrs ? llm.get(String(startedAttrs.scheduledEventId)) : undefined;
      if (startedAttrs && startedOf) {
        startedOf.started = true;
        out.lostLlmAttempts += Math.max(0, (startedAttrs.attempt ?? 1) - 1);
      }
      const timedOut = e.activityTaskTimedOutEventAttributes;
      const timedOutOf = timedOut ? llm.get(String(timedOut.scheduledEventId)) : undefined;
      if (timedOut && timedOutOf) {
        // The cause is the previous attempt's failure: a timeout there means that attempt was lost.
        const afterALostAttempt = Boolean(timedOut.failure?.cause?.timeoutFailureInfo);
        if (timedOutOf.started || afterALostAttempt) out.lostLlmAttempts++;
      }
      const completed = e.activityTaskCompletedEventAttributes;
      if (completed && llm.get(String(completed.scheduledEventId))?.type === 'takeStep') {
        const payload = completed.result?.payloads?.[0];
        const result = payload ? (defaultPayloadConverter.fromPayload(payload) as TakeStepResult) : undefined;
        out.reusedCompletions += result?.reusedCompletions ?? 0;
      }
      if (e.workflowTaskTimedOutEventAttributes) out.workflowTaskTimeouts++;
    }
    out.reopens += Math.max(0, opens - 1);
  }
  return out;
}

export interface Comparison {
  equal: boolean;
  /** One line per check, each ending in OK or DIFFERENT. */
  checks: string[];
  report: string;
}

/** Compares the undisturbed run (a) with the chaos run (b) and renders what `npm run chaos` prints. */
export function compareRuns(a: RunResult, b: RunResult): Comparison {
  const checks: string[] = [];
  let equal = true;
  const check = (ok: boolean, line: string) => {
    if (!ok) equal = false;
    checks.push(`${ok ? 'OK       ' : 'DIFFERENT'} ${line}`);
  };

  const lines: string[] = [];
  lines.push(`undisturbed run on: ${a.deployment}`);
  lines.push(`chaos run on:       ${b.deployment}`);
  lines.push(
    `kills in the chaos run: ${b.kills.worker} worker SIGKILLs (each followed by a restart), ${b.kills.server} server disruption(s) (each followed by a restart); ${b.kills.worker + b.kills.server} of ${b.kills.planned} planned`,
  );
  lines.push(
    `  (kill points are seeded and paced by the run's progress: kill i comes when p_i distinct LLM requests are answered, p_i < the ${answeredRequests(a)} of the undisturbed run, and the simulator holds its answers until the kill is done; a worker kill is postponed while an experiment's distil/train/deploy activity runs: Temporal notices a lost attempt of those only after their 30 s to 2 min timeouts)`,
  );
  for (const k of b.kills.log) lines.push(`  - ${k}`);
  lines.push(
    `recovery seen in the chaos run's branch histories: ${b.histories.lostLlmAttempts} attempts of model-asking activities (takeStep) lost and retried, ${b.histories.reusedCompletions} completions reused from the completion journal instead of asked again, ${b.histories.reopens} environment re-opens (reset + replay), ${b.histories.workflowTaskTimeouts} workflow task timeouts; worker exits not caused by the script: ${b.kills.unexpectedWorkerExits}`,
  );
  lines.push(`durations: undisturbed ${(a.durationMs / 1000).toFixed(1)} s, chaos ${(b.durationMs / 1000).toFixed(1)} s`);
  lines.push('');
  lines.push('dataset hashes (sha256 of train.prompt-completion.jsonl; same study id on two separate servers or namespaces and run dirs, so record ids match and the raw bytes are compared):');
  const key = (d: DatasetHash) => `${d.method}/it${d.iteration}`;
  const bByKey = new Map(b.datasets.map((d) => [key(d), d]));
  for (const da of a.datasets) {
    const db = bByKey.get(key(da));
    lines.push(`  ${key(da).padEnd(10)} undisturbed ${da.summarySha256}  (${da.records} records)`);
    lines.push(`  ${''.padEnd(10)} chaos       ${db?.summarySha256 ?? '(missing)'}  (${db?.records ?? '-'} records)`);
    check(da.files['train.prompt-completion.jsonl'] === da.summarySha256, `${key(da)} undisturbed: summary sha256 equals the recomputed file hash`);
    check(db !== undefined && db.files['train.prompt-completion.jsonl'] === db.summarySha256, `${key(da)} chaos: summary sha256 equals the recomputed file hash`);
    for (const f of DATASET_FILES) check(db !== undefined && da.files[f] === db.files[f], `${key(da)} ${f}: same sha256 in both runs`);
  }
  check(b.kills.planned > 0 && b.kills.worker + b.kills.server === b.kills.planned, `every planned kill was carried out (${b.kills.worker + b.kills.server}/${b.kills.planned})`);
  check(a.datasets.length === b.datasets.length && a.datasets.length > 0, `both runs produced the same number of datasets (${a.datasets.length} / ${b.datasets.length})`);
  lines.push('');
  lines.push('Pass@k, undisturbed run:');
  lines.push(a.passAtKTable);
  lines.push('');
  lines.push('Pass@k, chaos run:');
  lines.push(b.passAtKTable);
  check(a.passAtKTable === b.passAtKTable, 'Pass@k tables are identical');
  check(JSON.stringify(a.evaluations) === JSON.stringify(b.evaluations), 'evaluations (Pass@k and per-task successes c/n) are identical');
  check(JSON.stringify(a.explore) === JSON.stringify(b.explore), 'exploration numbers (episodes, solved, budget used, replayed steps, branches) are identical');

  // The simulator: did the chaos run ask for anything the undisturbed run did not, or more often?
  const keys = new Set([...Object.keys(a.sim.completedPerKey), ...Object.keys(b.sim.completedPerKey)]);
  let extra = 0;
  let missing = 0;
  for (const k of keys) {
    const na = a.sim.completedPerKey[k] ?? 0;
    const nb = b.sim.completedPerKey[k] ?? 0;
    extra += Math.max(0, nb - na);
    missing += Math.max(0, na - nb);
  }
  const answered = (r: RunResult) => Object.values(r.sim.completedPerKey).reduce((x, y) => x + y, 0);
  lines.push('');
  lines.push(
    `simulator (one per run, same seed and port): undisturbed answered ${answered(a)} requests (${answeredRequests(a)} distinct, repeatedCompleted ${a.sim.repeatedCompleted}), chaos answered ${answered(b)} (${answeredRequests(b)} distinct, repeatedCompleted ${b.sim.repeatedCompleted}); statuses chaos ${JSON.stringify(b.sim.statusCounts)}`,
  );
  if (a.sim.repeatedCompleted > 0) {
    lines.push(
      `  note: repeatedCompleted is not 0 even undisturbed: the methods of a study share the config, seeds and base model, so their iteration-0 evaluation (and leafe/rft exploration) send identical requests. The check is therefore per request key against the undisturbed run.`,
    );
  }
  check(missing === 0, `every request answered in the undisturbed run was answered in the chaos run (${missing} missing)`);
  check(
    extra <= b.histories.lostLlmAttempts,
    `answers beyond the undisturbed run: ${extra}, at most the ${b.histories.lostLlmAttempts} lost takeStep attempts (each re-asks at most the one request it had in flight: completed requests are journalled and reused)`,
  );
  check(a.histories.lostLlmAttempts === 0 && a.kills.unexpectedWorkerExits === 0, `the undisturbed run lost no LLM attempt (${a.histories.lostLlmAttempts}) and no worker (${a.kills.unexpectedWorkerExits})`);
  lines.push('');
  lines.push('checks:');
  lines.push(...checks.map((c) => `  ${c}`));
  lines.push('');
  lines.push(equal ? 'EQUAL' : 'DIFFERENT');
  return { equal, checks, report: lines.join('\n') };
}

/** Both runs, in sequence (two cores: running them side by side would slow both). */
export async function crashEquivalence(params: {
  dir: string;
  loaded: LoadedSpec;
  studyId: string;
  cli: string;
  simSeed: number;
  simLatencyMs: number;
  plan: ChaosPlan;
  /** Default `dev` (see ./deployments). */
  deployment?: DeploymentKind;
  log: (line: string) => void;
}): Promise<{ undisturbed: RunResult; chaos: RunResult; schedule: KillSchedule; comparison: Comparison }> {
  validatePlan(params.plan);
  const simPort = await freePort();
  const deployment = params.deployment ?? 'dev';
  const common = { deployment, loaded: params.loaded, studyId: params.studyId, cli: params.cli, simSeed: params.simSeed, simPort, simLatencyMs: params.simLatencyMs, log: params.log };
  const undisturbed = await runStudyOnce({ ...common, label: 'undisturbed', dir: path.join(params.dir, 'undisturbed') });
  // The undisturbed run's total paces the kills; a plan that cannot fit it fails here, before the chaos run.
  const schedule = planKills(params.plan, answeredRequests(undisturbed));
  params.log(describeSchedule(schedule));
  const chaos = await runStudyOnce({ ...common, label: 'chaos run', dir: path.join(params.dir, 'chaos'), chaos: schedule });
  return { undisturbed, chaos, schedule, comparison: compareRuns(undisturbed, chaos) };
}

/** Distinct requests the simulator answered in a run: the progress kills are paced by. */
export function answeredRequests(r: RunResult): number {
  return Object.keys(r.sim.completedPerKey).length;
}

