/**
 * Crash equivalence: one seeded simulator study run twice with the same config and seeds,
 * (a) undisturbed and (b) with the worker processes SIGKILLed and restarted at seeded random
 * moments and the server disrupted (dev server: SIGKILL + restart on its SQLite file; cluster:
 * Temporal server SIGKILL + restart, PostgreSQL restart; see ./deployments); then the datasets,
 * Pass@k and the requests the simulator answered are compared. Shared by `npm run chaos`
 * (scripts/chaos.ts) and test/crash-equivalence.test.ts.
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
import { createRandom } from '../../core/random';
import { freePort } from '../../runtime/dev-server';
import { passAtKTable, studySummary } from '../../report/study-summary';
import { startSimServer } from '../../sim/sim-server';
import { simPoliciesFor } from '../../sim/sim-policies';
import type { SimStatsSnapshot } from '../../sim/sim-stats';
import { startStudy } from '../../cli/study';
import type { LoadedSpec } from '../../spec/load-spec';
import { taskQueues } from '../../contract/task-queues';
import { startDeployment, type DeploymentKind } from './deployments';
import type { WorkerProcess } from '../../runtime/worker-process';

export interface ChaosPlan {
  /** Seed of the kill moments. */
  seed: number;
  workerKills: number;
  serverKills: number;
  /**
   * When the next kill comes. `[min, max]`: after an uptime of the (re)started worker uniform in
   * [min, max] ms (seeded). `{ stages, delayMs }`: kill i (of N worker kills) is aimed at stage
   * `stages[⌊i·S/N⌋]` (S stages: the kills go through them in order, evenly); it waits until a
   * running experiment is in that stage (`it<iteration>/<stage>`, e.g. `it0/explore`) or all
   * are past it, then a seeded delay uniform in `delayMs`. Kill moments then follow the run's
   * own progress whatever the machine's speed (with uptimes, a quiet machine put every kill in
   * the first stage). The dev server kill is aimed at the stage of the worker kill after it.
   */
  workerUptimeMs: [number, number] | { stages: string[]; delayMs: [number, number] };
  /** How long the dev server stays dead before it is restarted: uniform in [min, max] ms. */
  serverDowntimeMs: [number, number];
}

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
  chaos?: ChaosPlan;
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
  kills: { worker: number; server: number; postponed: number; unexpectedWorkerExits: number; log: string[] };
}

const DATASET_FILES = ['train.prompt-completion.jsonl', 'train.messages.jsonl', 'provenance.jsonl', 'stats.json'];
/**
 * Experiment-level activities whose lost attempt Temporal notices only after 30 s to 2 min
 * (timeouts fixed in experimentWorkflow: distil 30 s heartbeat, train 1 min heartbeat, deploy
 * 2 min start-to-close): a worker kill is postponed while one is pending. The experiments of a
 * study run side by side, so one may be in such a stage whatever stage a kill is aimed at.
 */
const SLOW_RECOVERY_ACTIVITIES = ['distilDatasets', 'deployAdapter', 'trainAdapter'];

/** Branch activities that ask the model: `takeStep` (act, env step, reflection when due) and, in older branches, `act` and `reflect`. */
const LLM_ACTIVITIES = new Set(['takeStep', 'act', 'reflect']);

/** Stages of one iteration in the order experimentWorkflow runs them; `done` ends the last one. */
const STAGE_ORDER = ['evaluate', 'explore', 'distil', 'train', 'deploy'];

/** Position of `it<n>/<stage>` in a run (for "has an experiment reached it yet"). */
function stageRank(iteration: number, stage: string): number {
  const i = STAGE_ORDER.indexOf(stage);
  if (i < 0) throw new Error(`unknown stage ${JSON.stringify(stage)} (expected one of ${STAGE_ORDER.join(', ')})`);
  return iteration * STAGE_ORDER.length + i;
}

function parseStageTarget(target: string): number {
  const m = /^it(\d+)\/(\w+)$/.exec(target);
  if (!m) throw new Error(`chaos plan: stage ${JSON.stringify(target)} is not of the form it<iteration>/<stage>, e.g. it0/explore`);
  return stageRank(Number(m[1]), m[2]);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function uniform(rand: () => number, [min, max]: [number, number]): number {
  return min + (max - min) * rand();
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the study once; with `chaos`, kills the worker and the dev server while it runs. */
export async function runStudyOnce(s: RunSettings): Promise<RunResult> {
  mkdirSync(s.dir, { recursive: true });
  const runDir = path.join(s.dir, 'run');
  const deployment = await startDeployment(s.deployment, { label: s.label, dir: s.dir, runDir, cli: s.cli, log: s.log });
  const { workers } = deployment;
  const sim = await startSimServer({ seed: s.simSeed, port: s.simPort, policies: await simPoliciesFor(s.loaded.config.env), skill: s.loaded.simulator.skill, latency: { meanMs: s.simLatencyMs, distribution: 'lognormal' } });
  const { client } = deployment;
  const kills = { worker: 0, server: 0, postponed: 0, unexpectedWorkerExits: 0, log: [] as string[] };
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

    /** Status, stage and iteration of every experiment (search attributes Stage and Iteration); status '?' = not answering. */
    const experimentStages = async () =>
      Promise.all(
        [...handles].map(async ([method, h]) => {
          try {
            const d = await withTimeout(h.describe(), 3000);
            const stage = d.searchAttributes?.Stage?.[0];
            const iteration = d.searchAttributes?.Iteration?.[0];
            return { method, running: d.status.name === 'RUNNING', status: d.status.name.toLowerCase(), stage: typeof stage === 'string' ? stage : null, iteration: typeof iteration === 'number' ? iteration : 0 };
          } catch {
            return { method, running: false, status: '?', stage: null, iteration: 0 };
          }
        }),
      );

    const stages = async (): Promise<string> =>
      (await experimentStages()).map((e) => `${e.method}:${!e.running ? e.status : e.stage ? `it${e.iteration}/${e.stage}` : 'starting'}`).join(' ');

    /**
     * Waits (polling every 200 ms) until a running experiment is in stage `rank`, or every running
     * experiment is past it (a kill aimed at a stage that is over comes at once, not never).
     */
    const untilStage = async (rank: number): Promise<void> => {
      while (!done) {
        const known = (await experimentStages()).filter((e) => e.running && e.stage !== null);
        const rankOf = (e: (typeof known)[number]) => (e.stage === 'done' ? Number.POSITIVE_INFINITY : STAGE_ORDER.includes(e.stage!) ? stageRank(e.iteration, e.stage!) : -1);
        if (known.some((e) => rankOf(e) === rank) || (known.length > 0 && known.every((e) => rankOf(e) > rank))) return;
        await sleep(200);
      }
    };

    /** The slow-recovery activity pending on an experiment, if any (a kill then costs minutes). */
    const slowActivityPending = async (): Promise<string | null> => {
      for (const h of handles.values()) {
        const d = await withTimeout(h.describe(), 3000);
        const slow = (d.raw.pendingActivities ?? []).find((a) => SLOW_RECOVERY_ACTIVITIES.includes(a.activityType?.name ?? ''));
        if (slow) return slow.activityType!.name!;
      }
      return null;
    };

    const chaos = async (plan: ChaosPlan) => {
      const rand = createRandom(plan.seed);
      const uptime = plan.workerUptimeMs;
      const targets = Array.isArray(uptime) ? [] : uptime.stages.map((t) => ({ name: t, rank: parseStageTarget(t) }));
      if (!Array.isArray(uptime) && targets.length === 0) throw new Error('chaos plan: workerUptimeMs.stages is empty');
      // Restarts under way, in the background: while a killed worker restarts, the next worker in
      // turn can die (with one worker, as in the dev deployment, kills stay strictly sequential).
      const restarts = new Map<WorkerProcess, Promise<void>>();
      try {
        while (!done && (kills.worker < plan.workerKills || kills.server < plan.serverKills)) {
          await restarts.get(workers[kills.worker % workers.length]);
          await killOnce(plan, rand, targets, restarts);
        }
      } finally {
        await Promise.all(restarts.values());
      }
    };

    /** Waits for the moment of the next kill and does it (one worker SIGKILL or one server disruption). */
    const killOnce = async (plan: ChaosPlan, rand: () => number, targets: Array<{ name: string; rank: number }>, restarts: Map<WorkerProcess, Promise<void>>) => {
      const uptime = plan.workerUptimeMs;
      let aimedAt = '';
      if (Array.isArray(uptime)) {
        const until = Date.now() + uniform(rand, uptime);
        while (!done && Date.now() < until) await sleep(50);
      } else {
        // The stage of the next worker kill (the last one once all worker kills are done).
        const target = targets[Math.min(targets.length - 1, Math.floor((Math.min(kills.worker, Math.max(0, plan.workerKills - 1)) * targets.length) / Math.max(1, plan.workerKills)))];
        aimedAt = ` (aimed at ${target.name})`;
        await untilStage(target.rank);
        const until = Date.now() + uniform(rand, uptime.delayMs);
        while (!done && Date.now() < until) await sleep(50);
      }
      if (done) return;
      // Server disruption j (of D) comes once ⌈(j+1)·W/(D+1)⌉ of the W worker kills are done (one
      // server kill: after more than half of them), so workers die before, between and after
      // them; with stage-aimed kills, after a worker kill in the same stage.
      if (kills.server < plan.serverKills && kills.worker >= Math.ceil(((kills.server + 1) * plan.workerKills) / (plan.serverKills + 1))) {
        // Not while a worker restarts: worker-main exits when it cannot connect.
        await Promise.all(restarts.values());
        const at = `${elapsed()} [${await stages()}]`;
        const disruption = deployment.disruptions[kills.server % deployment.disruptions.length];
        const what = await disruption.run(uniform(rand, plan.serverDowntimeMs));
        kills.server++;
        kills.log.push(`server disruption #${kills.server} at ${at}${aimedAt}: ${what}`);
        s.log(`${s.label}: ${kills.log.at(-1)}`);
        return;
      }
      if (kills.worker >= plan.workerKills) return;
      // Postpone (re-check every 200 ms) while a minutes-long experiment activity is pending.
      let postponedHere = 0;
      let postponedFor = '';
      while (!done) {
        let slow: string | null = 'describe';
        try {
          slow = await slowActivityPending();
        } catch {
          // the server is not answering yet: try again
        }
        if (!slow) break;
        postponedFor = slow;
        postponedHere++;
        await sleep(200);
      }
      if (done) return;
      kills.postponed += postponedHere;
      const at = `${elapsed()} [${await stages()}]`;
      const worker = workers[kills.worker % workers.length];
      const pid = worker.pid;
      await worker.sigkill();
      const n = ++kills.worker;
      kills.log.push(`${worker.name} SIGKILL #${n} (pid ${pid}) at ${at}${aimedAt}${postponedHere ? ` (postponed ${postponedHere}×200 ms past ${postponedFor})` : ''}`);
      s.log(`${s.label}: ${kills.log.at(-1)}`);
      const restartedAt = Date.now();
      const restart = worker.start().then(
        () => `restarted after SIGKILL #${n}: pid ${worker.pid}, serving ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after the kill`,
        // Its exit counts as unexpected: the watchdog starts it again.
        (err: unknown) => `restart after SIGKILL #${n} failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
      );
      restarts.set(
        worker,
        restart.then((line) => {
          kills.log.push(`${worker.name} ${line}`);
          s.log(`${s.label}: ${kills.log.at(-1)}`);
        }),
      );
    };

    /** Restarts a worker that died without being killed (counted; none is expected). */
    const watchdog = async () => {
      const seen = new Map<WorkerProcess, number>();
      while (!done) {
        await sleep(500);
        for (const worker of workers) {
          if (!done && !worker.alive() && worker.unexpectedExits > (seen.get(worker) ?? 0)) {
            seen.set(worker, worker.unexpectedExits);
            kills.unexpectedWorkerExits = unexpectedExits();
            s.log(`${s.label}: ${worker.name} (pid ${worker.pid}) exited on its own; restarting it`);
            // A failed start is one more unexpected exit: tried again on the next round.
            await worker.start().catch((err: unknown) => s.log(`${s.label}: ${worker.name} did not start: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`));
          }
        }
      }
    };

    const waitAll = async (): Promise<ExperimentSummary[]> => {
      const out: ExperimentSummary[] = [];
      for (const [method, h] of handles as Map<Method, WorkflowHandle>) {
        for (;;) {
          try {
            const d = await withTimeout(h.describe(), 5000);
            if (d.status.name === 'RUNNING') {
              await sleep(500);
              continue;
            }
            if (d.status.name !== 'COMPLETED') {
              const reason = await h.result().then(
                () => '',
                (e: unknown) => `: ${e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e)}`,
              );
              throw new Error(`${method} experiment ${h.workflowId} ended ${d.status.name}${reason}`);
            }
            out.push((await withTimeout(h.result(), 30_000)) as ExperimentSummary);
            break;
          } catch (err) {
            if (err instanceof Error && / ended [A-Z_]+/.test(err.message)) throw err;
            await sleep(500); // server restarting
          }
        }
      }
      return out;
    };

    const background = [watchdog()];
    if (s.chaos) background.push(chaos(s.chaos));
    let summaries: ExperimentSummary[];
    try {
      summaries = await waitAll();
    } finally {
      done = true;
      await Promise.all(background);
    }
    const durationMs = Date.now() - started;
    if (s.chaos && (kills.worker < s.chaos.workerKills || kills.server < s.chaos.serverKills)) {
      throw new Error(
        `${s.label}: the study finished after ${kills.worker} worker and ${kills.server} server kills; the plan asked for ${s.chaos.workerKills} and ${s.chaos.serverKills} (make the study bigger or the uptimes shorter)`,
      );
    }
    s.log(`${s.label}: study finished in ${(durationMs / 1000).toFixed(1)} s`);

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
      kills: { ...kills, unexpectedWorkerExits: unexpectedExits() },
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
  lines.push(`kills in the chaos run: ${b.kills.worker} worker SIGKILLs (each followed by a restart), ${b.kills.server} server disruption(s) (each followed by a restart)`);
  lines.push(
    `  (kill moments are seeded random, aimed at stages of the run when the plan names them; a worker kill is postponed while an experiment's distil/train/deploy activity runs: Temporal notices a lost attempt of those only after their 30 s to 2 min timeouts)`,
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
    `simulator (one per run, same seed and port): undisturbed answered ${answered(a)} requests (repeatedCompleted ${a.sim.repeatedCompleted}), chaos answered ${answered(b)} (repeatedCompleted ${b.sim.repeatedCompleted}); statuses chaos ${JSON.stringify(b.sim.statusCounts)}`,
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
}): Promise<{ undisturbed: RunResult; chaos: RunResult; comparison: Comparison }> {
  const simPort = await freePort();
  const deployment = params.deployment ?? 'dev';
  const common = { deployment, loaded: params.loaded, studyId: params.studyId, cli: params.cli, simSeed: params.simSeed, simPort, simLatencyMs: params.simLatencyMs, log: params.log };
  const undisturbed = await runStudyOnce({ ...common, label: 'undisturbed', dir: path.join(params.dir, 'undisturbed') });
  const chaos = await runStudyOnce({ ...common, label: 'chaos run', dir: path.join(params.dir, 'chaos'), chaos: params.plan });
  return { undisturbed, chaos, comparison: compareRuns(undisturbed, chaos) };
}

