/**
 * Crash equivalence on the REAL model (`npm run chaos:real`, scripts/chaos-real.ts): a small
 * SmolLM2 study (./real-study.yaml: managed vLLM, TRL LoRA, hot-loaded adapters) run once per
 * label, each run on a dev server of its own (SQLite file) with ONE killable worker process for
 * every queue (./deployments, as `npm run chaos`), a fresh vLLM of its own (same port, same
 * seed) and a counting proxy in front of it (./counting-proxy: request counts survive vLLM
 * restarts, answers are journalled). With a kill plan, workers, the dev server, the trainer
 * and vLLM are SIGKILLed at moments paced by the study's progress (answers counted by the proxy,
 * a checkpoint in the trainer's output directory), never by wall time, so every planned kill
 * happens whatever the machine's speed.
 *
 * Every run writes `<dir>/<label>/result.json`; ./real-run-comparison compares two of them.
 * All runs use the SAME study id (record ids and adapter names hold it), so dataset files can
 * be compared byte for byte.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { waitForSummaries } from './wait-for-summaries';
import type { ExperimentSummary, Method } from '../../contract/experiment-config';
import { taskQueues } from '../../contract/task-queues';
import { ensureLocalVllm } from '../../cli/local-vllm';
import { startStudy } from '../../cli/study';
import { isListening } from '../../runtime/dev-server';
import { listServedModels, type VllmServer } from '../../runtime/vllm-server';
import type { WorkerProcess } from '../../runtime/worker-process';
import type { LoadedSpec } from '../../spec/load-spec';
import { startCountingProxy, type ProxiedRequest } from './counting-proxy';
import { startDeployment } from './deployments';
import { killTrainerGroups, trainerProcesses } from './trainer-processes';

/** What a kill waits for: `count` answers (HTTP 200) seen by the proxy, of `of` requests. */
export interface AnswerTrigger {
  count: number;
  /** `any`; `reflect`: reflections (only exploration reflects); `adapter`: requests to a trained adapter (final evaluation). */
  of: 'any' | 'reflect' | 'adapter';
}

export type PlannedKill =
  | { kind: 'worker'; when: AnswerTrigger }
  | { kind: 'server'; when: AnswerTrigger; downtimeMs: number }
  | { kind: 'vllm'; when: AnswerTrigger }
  /** SIGKILL of the trainer's process group once checkpoint-`afterCheckpoint` is complete. */
  | { kind: 'trainer'; method: Method; afterCheckpoint: number };

export interface KillRecord {
  kind: PlannedKill['kind'];
  /** ms since the proxy started (the journal's clock): requests in flight then are the ones a kill may cost. */
  at: number;
  line: string;
}

export interface RealRunSettings {
  label: string;
  /** Everything of this run: SQLite file, logs, run directory, result.json. */
  dir: string;
  loaded: LoadedSpec;
  studyId: string;
  cli: string;
  proxyPort: number;
  /** Forward one completion at a time (vLLM runs batches of one). */
  serialize: boolean;
  plan: PlannedKill[];
  log: (line: string) => void;
}

export interface RealRunResult {
  label: string;
  studyId: string;
  date: string;
  serialize: boolean;
  durationMs: number;
  datasets: Array<{ method: Method; iteration: number; records: number; cf: number; reh: number; summarySha256: string; files: Record<string, string> }>;
  adapters: Array<{
    method: Method;
    iteration: number;
    resumedFrom: string | null;
    /** sha256 of the final adapter files. */
    files: Record<string, string>;
    /** sha256 of adapter_model.safetensors in each checkpoint left (save_total_limit keeps the last ones). */
    checkpoints: Record<string, string>;
    /** Per-step training loss from the final checkpoint's trainer_state.json. */
    losses: Array<{ step: number; loss: number }>;
    /** `=== leafe trainer run` lines in trainer.log: one per attempt. */
    attempts: number;
  }>;
  evaluations: Array<{ method: Method; iteration: number; model: string; passAtK: Record<string, number>; counts: Array<{ taskId: string; n: number; c: number }> }>;
  explore: Array<{ method: Method; iteration: number; episodes: number; solved: number; budgetUsed: number; replayed: number; branches: number } | null>;
  /** Model requests the workflows recorded (IterationRecord.usage). */
  usage: Array<{ method: Method; iteration: number; requests: number; promptTokens: number; completionTokens: number }>;
  requests: ProxiedRequest[];
  otherRequests: Record<string, number>;
  kills: { planned: number; log: KillRecord[]; missed: string[]; postponedWorkerKills: number; unexpectedWorkerExits: number; recoveries: string[] };
  vllm: { restarts: string[] };
}

const DATASET_FILES = ['train.prompt-completion.jsonl', 'train.messages.jsonl', 'provenance.jsonl', 'stats.json'];
const ADAPTER_FILES = ['adapter_model.safetensors', 'adapter_config.json'];
/** A worker kill while one of these runs costs its 30 s–2 min timeout (and orphans a trainer): postponed, as in `npm run chaos`. */
const SLOW_RECOVERY_ACTIVITIES = ['distilDatasets', 'deployAdapter', 'trainAdapter'];

/** vLLM runs in a process group of its own: if this process exits mid-run (Ctrl-C), its group goes too. */
const liveVllms = new Set<VllmServer>();
process.once('exit', () => {
  for (const v of liveVllms) {
    try {
      process.kill(-v.pid()!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function describeKill(k: PlannedKill): string {
  if (k.kind === 'trainer') return `trainer of ${k.method} after checkpoint-${k.afterCheckpoint}`;
  return `${k.kind} after ${k.when.count} ${k.when.of === 'any' ? '' : `${k.when.of} `}answers`;
}

export async function runRealStudyOnce(s: RealRunSettings): Promise<RealRunResult> {
  mkdirSync(s.dir, { recursive: true });
  const runDir = path.join(s.dir, 'run');
  const local = s.loaded.localVllm;
  if (!local) throw new Error(`${s.loaded.file}: inference.kind must be "vllm" (the managed local vLLM)`);
  // A fresh vLLM per run: one left running would carry another run's adapters and caches.
  if (await isListening(`127.0.0.1:${local.port}`)) throw new Error(`inference.port ${local.port} is in use: stop what listens there (a vLLM of an earlier run?)`);
  if (await isListening(`127.0.0.1:${s.proxyPort}`)) throw new Error(`proxy port ${s.proxyPort} is in use`);

  const deployment = await startDeployment('dev', { label: s.label, dir: s.dir, runDir, cli: s.cli, log: s.log });
  const { client, workers } = deployment;
  const vllmLog: string[] = [];
  let vllm: VllmServer | null = null;
  let proxy: Awaited<ReturnType<typeof startCountingProxy>> | null = null;
  let done = false;
  try {
    vllm = await ensureLocalVllm(local, runDir, (line) => {
      vllmLog.push(line);
      s.log(`${s.label}: ${line}`);
    });
    if (!vllm) throw new Error('a vLLM already served the model: expected a fresh one');
    liveVllms.add(vllm);
    const vllmServer = vllm;
    proxy = await startCountingProxy({ port: s.proxyPort, upstream: vllm.baseUrl, serialize: s.serialize });
    const counting = proxy;
    const started = Date.now();
    const kills: RealRunResult['kills'] = { planned: s.plan.length, log: [], missed: [], postponedWorkerKills: 0, unexpectedWorkerExits: 0, recoveries: [] };

    await Promise.all(workers.map((w) => w.start()));
    // Inference and deploy go through the proxy; the proxy's port is fixed, so both runs send the same config.
    const config = { ...s.loaded.config, runDir, inference: { ...s.loaded.config.inference, baseUrl: counting.url }, deploy: { ...s.loaded.config.deploy, baseUrl: counting.url } };
    const { handles } = await startStudy(client, { ...s.loaded, config }, taskQueues(deployment.taskQueuePrefix), null, s.studyId);
    s.log(`${s.label}: study ${s.studyId} started (${[...handles.keys()].join(', ')}); vLLM pid ${vllmServer.pid()} at ${vllmServer.baseUrl}, proxy ${counting.url}${s.serialize ? ' (one request at a time)' : ''}; ${workers.map((w) => `${w.name} pid ${w.pid}`).join(', ')}`);

    const answered = (of: AnswerTrigger['of']) =>
      counting.requests().filter((r) => r.status === 200 && (of === 'any' || (of === 'reflect' ? r.kind === 'reflect' : r.model !== local.servedName))).length;
    const outputDir = (method: Method) => adapterDir(runDir, s.studyId, method, 0);
    const maxSteps = Number(s.loaded.config.trainer.hyperparameters.max_steps);
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const record = async (kind: PlannedKill['kind'], line: string, at = Date.now() - started) => {
      kills.log.push({ kind, at, line: `${elapsed()}: ${line} [${await stages()}]` });
      s.log(`${s.label}: KILL ${kills.log.length}/${kills.planned} ${kills.log.at(-1)!.line}`);
    };
    const counts = () => `answers so far: ${answered('any')} (reflections ${answered('reflect')}, adapter ${answered('adapter')})`;
    /** Each experiment's stage (search attributes), for the kill lines; `?` while the server does not answer. */
    const stages = async () =>
      (
        await Promise.all(
          [...handles].map(async ([method, h]) => {
            try {
              const a = (await withTimeout(h.describe(), 3000)).searchAttributes;
              return `${method} it${String(a?.Iteration?.[0] ?? '?')}/${String(a?.Stage?.[0] ?? '?')}`;
            } catch {
              return `${method} ?`;
            }
          }),
        )
      ).join(', ');

    const slowActivityPending = async (): Promise<string | null> => {
      for (const h of handles.values()) {
        const d = await withTimeout(h.describe(), 3000);
        const slow = (d.raw.pendingActivities ?? []).find((a) => SLOW_RECOVERY_ACTIVITIES.includes(a.activityType?.name ?? ''));
        if (slow) return slow.activityType!.name!;
      }
      return null;
    };

    const ready = (k: PlannedKill): boolean => {
      if (k.kind !== 'trainer') return answered(k.when.of) >= k.when.count;
      const dir = outputDir(k.method);
      return existsSync(path.join(dir, `checkpoint-${k.afterCheckpoint}`, 'trainer_state.json')) && !existsSync(path.join(dir, `checkpoint-${maxSteps}`)) && trainerProcesses(dir).length > 0;
    };

    const fire = async (k: PlannedKill): Promise<boolean> => {
      if (k.kind === 'worker') {
        // Postponed while a distil/train/deploy activity is pending (re-checked every 200 ms).
        for (;;) {
          let slow: string | null = 'describe';
          try {
            slow = await slowActivityPending();
          } catch {
            // the server is not answering yet
          }
          if (!slow || done) break;
          kills.postponedWorkerKills++;
          await sleep(200);
        }
        if (done) return false;
        const worker = workers[0];
        const pid = worker.pid;
        await worker.sigkill();
        await record('worker', `worker SIGKILL (pid ${pid}); ${counts()}`);
        const t0 = Date.now();
        await worker.start();
        kills.recoveries.push(`${elapsed()}: worker restarted: pid ${worker.pid}, serving ${((Date.now() - t0) / 1000).toFixed(1)} s after the kill`);
        s.log(`${s.label}: ${kills.recoveries.at(-1)}`);
        return true;
      }
      if (k.kind === 'server') {
        const at = Date.now() - started;
        const line = await deployment.disruptions[0].run(k.downtimeMs);
        await record('server', `${line}; ${counts()}`, at);
        return true;
      }
      if (k.kind === 'trainer') {
        const dir = outputDir(k.method);
        const checkpoints = readdirSync(dir).filter((n) => n.startsWith('checkpoint-')).sort();
        const killed = killTrainerGroups(dir);
        if (killed.length === 0) return false;
        await record('trainer', `trainer of ${k.method} SIGKILLed (process group ${[...new Set(killed.map((p) => p.pgid))].join(', ')}: pids ${killed.map((p) => p.pid).join(', ')}) with ${checkpoints.join(', ')} on disk; ${counts()}`);
        return true;
      }
      // vLLM: the whole process group (API server and engine core); runtime/vllm-server.ts restarts it.
      const pid = vllmServer.pid();
      const before = (await listServedModels(vllmServer.baseUrl)).map((m) => m.id).filter((id) => id !== local.servedName);
      const known = [...vllmServer.adapters().keys()];
      try {
        process.kill(-pid!, 'SIGKILL');
      } catch (err) {
        throw new Error(`vLLM group ${pid}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      await record('vllm', `vLLM SIGKILL (process group ${pid}); adapters loaded: [${before.join(', ')}], known to the vLLM manager for re-loading: [${known.join(', ')}]; ${counts()}`);
      // Wait (in the background) for the restart, and see which adapters it serves again.
      void (async () => {
        const t0 = Date.now();
        while (!done && (vllmServer.pid() === pid || (await listServedModels(vllmServer.baseUrl)).length === 0)) await sleep(500);
        const after = (await listServedModels(vllmServer.baseUrl)).map((m) => m.id).filter((id) => id !== local.servedName);
        const line = `vLLM serving again ${((Date.now() - t0) / 1000).toFixed(1)} s after the kill (pid ${vllmServer.pid()}); adapters listed: [${after.join(', ')}]${before.every((a) => after.includes(a)) ? '' : ' — MISSING some that were loaded before'}`;
        s.log(`${s.label}: ${line}`);
        kills.recoveries.push(`${elapsed()}: ${line}`);
      })();
      return true;
    };

    const chaos = async () => {
      const pending = [...s.plan];
      while (!done && pending.length > 0) {
        const i = pending.findIndex(ready);
        if (i >= 0) {
          const k = pending[i];
          if (await fire(k)) pending.splice(i, 1);
        }
        await sleep(i >= 0 ? 50 : 100);
      }
      kills.missed.push(...pending.map(describeKill));
    };

    /** Restarts a worker that died without being killed (counted; none is expected). */
    const watchdog = async () => {
      let seen = 0;
      while (!done) {
        await sleep(500);
        const w = workers[0];
        if (!done && !w.alive() && w.unexpectedExits > seen) {
          seen = w.unexpectedExits;
          s.log(`${s.label}: worker (pid ${w.pid}) exited on its own; restarting it`);
          await w.start().catch((err: unknown) => s.log(`${s.label}: worker did not start: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`));
        }
      }
    };

    const waitAll = () => waitForSummaries(handles as Map<Method, WorkflowHandle>, 1000);

    const background = [watchdog(), chaos()];
    let summaries: ExperimentSummary[];
    try {
      summaries = await waitAll();
    } finally {
      done = true;
      await Promise.all(background);
    }
    const durationMs = Date.now() - started;
    kills.unexpectedWorkerExits = workers.reduce((n: number, w: WorkerProcess) => n + w.unexpectedExits, 0);
    s.log(`${s.label}: study finished in ${(durationMs / 1000).toFixed(1)} s; ${counts()}; kills carried out ${kills.log.length}/${kills.planned}${kills.missed.length ? `, MISSED: ${kills.missed.join('; ')}` : ''}`);

    const byMethod = new Map(summaries.map((x) => [x.method, x]));
    const ordered = s.loaded.methods.map((m) => byMethod.get(m)!);
    const result: RealRunResult = {
      label: s.label,
      studyId: s.studyId,
      date: new Date().toISOString(),
      serialize: s.serialize,
      durationMs,
      datasets: ordered.flatMap((x) =>
        x.iterations.flatMap((it) =>
          it.dataset
            ? [{ method: x.method, iteration: it.iteration, records: it.dataset.records, cf: it.dataset.cf, reh: it.dataset.reh, summarySha256: it.dataset.sha256, files: Object.fromEntries(DATASET_FILES.map((f) => [f, sha256(readFileSync(path.join(it.dataset!.dir, f)))])) }]
            : [],
        ),
      ),
      adapters: ordered.flatMap((x) => x.iterations.flatMap((it) => (it.train ? [adapterFacts(x.method, it.iteration, it.train.adapterPath, it.train.resumedFrom)] : []))),
      evaluations: ordered.flatMap((x) => x.iterations.map((it) => ({ method: x.method, iteration: it.iteration, model: it.model, passAtK: it.evaluation.passAtK, counts: it.evaluation.counts }))),
      explore: ordered.flatMap((x) =>
        x.iterations.map((it) => {
          if (!it.explore) return null;
          const { treesRef: _t, ...rest } = it.explore;
          return { method: x.method, iteration: it.iteration, ...rest };
        }),
      ),
      usage: ordered.flatMap((x) => x.iterations.map((it) => ({ method: x.method, iteration: it.iteration, ...it.usage }))),
      requests: counting.requests(),
      otherRequests: counting.otherCounts(),
      kills,
      vllm: { restarts: vllmLog.filter((l) => /restart|re-loaded/i.test(l)) },
    };
    writeFileSync(path.join(s.dir, 'result.json'), `${JSON.stringify(result, null, 1)}\n`);
    return result;
  } finally {
    done = true;
    await Promise.all(workers.map((w) => w.stop()));
    await proxy?.close();
    await vllm?.stop();
    if (vllm) liveVllms.delete(vllm);
    await deployment.stop();
  }
}

/** Where a run's trainer wrote the adapter of `method`, iteration `iteration` (experimentWorkflow's outputDir). */
export function adapterDir(runDir: string, studyId: string, method: Method, iteration: number): string {
  return path.join(runDir, 'experiments', `${studyId}-${method}`, `it${iteration}`, 'train');
}

/**
 * PEFT writes `target_modules` from a Python set, in an order that changes from process to
 * process (string hashing is seeded per process): the same configuration, other bytes. Hashed
 * with that list sorted, equal configurations hash equal.
 */
function canonicalAdapterConfigSha256(file: string): string {
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (Array.isArray(config.target_modules)) config.target_modules = [...(config.target_modules as string[])].sort();
  return sha256(JSON.stringify(config, Object.keys(config).sort()));
}

export function adapterFacts(method: Method, iteration: number, adapterPath: string, resumedFrom: string | null): RealRunResult['adapters'][number] {
  const files = Object.fromEntries(ADAPTER_FILES.map((f) => [f, existsSync(path.join(adapterPath, f)) ? sha256(readFileSync(path.join(adapterPath, f))) : '(missing)']));
  const configFile = path.join(adapterPath, 'adapter_config.json');
  files['adapter_config.json (target_modules sorted)'] = existsSync(configFile) ? canonicalAdapterConfigSha256(configFile) : '(missing)';
  const checkpointNames = readdirSync(adapterPath).filter((n) => /^checkpoint-\d+$/.test(n)).sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
  const checkpoints = Object.fromEntries(checkpointNames.map((n) => [n, sha256(readFileSync(path.join(adapterPath, n, 'adapter_model.safetensors')))]));
  const last = checkpointNames.at(-1);
  let losses: Array<{ step: number; loss: number }> = [];
  if (last) {
    const state = JSON.parse(readFileSync(path.join(adapterPath, last, 'trainer_state.json'), 'utf8')) as { log_history: Array<{ step: number; loss?: number }> };
    losses = state.log_history.filter((h) => typeof h.loss === 'number').map((h) => ({ step: h.step, loss: h.loss! }));
  }
  const logFile = path.join(adapterPath, 'trainer.log');
  const attempts = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('=== leafe trainer run').length - 1 : 0;
  // Paths differ between runs (each has its own run directory): keep the checkpoint's name only.
  return { method, iteration, resumedFrom: resumedFrom ? path.basename(resumedFrom) : null, files, checkpoints, losses, attempts };
}
